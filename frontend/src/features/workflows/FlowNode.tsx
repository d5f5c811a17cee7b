// One node on the canvas (builder and execution viewer): a handle per input port (left) and
// per output port (right) as its type declares, its name and type, validation problems and,
// in the viewer, its execution state.
import { memo } from 'react';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { GraphNode } from './canvasReducer';
import { statusLabel, type NodeTypeInfo, type Problem } from './common';

export interface FlowNodeData extends Record<string, unknown> {
  node: GraphNode;
  meta?: NodeTypeInfo;
  problems?: Problem[];
  /** Execution state in the viewer. */
  status?: string | null;
  attempt?: number;
}

export type FlowNodeType = Node<FlowNodeData, 'zygo'>;

function portTop(i: number, n: number) {
  return `${((i + 1) * 100) / (n + 1)}%`;
}

function FlowNodeView({ data, selected, isConnectable }: NodeProps<FlowNodeType>) {
  const { node, meta, problems, status } = data;
  const inputs = meta?.inputPorts ?? ['main'];
  const outputs = meta?.outputPorts ?? ['main'];
  const category = meta?.category ?? 'unknown';
  const invalid = (problems?.length ?? 0) > 0;
  const classes = [
    'wf-node',
    `wf-cat-${category}`,
    invalid ? 'wf-node-invalid' : '',
    status ? `wf-node-status wf-status-${status.toLowerCase()}` : '',
    selected ? 'wf-node-selected' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const rows = Math.max(inputs.length, outputs.length);
  return (
    <div
      className={classes}
      data-node-id={node.id}
      data-status={status ?? undefined}
      data-invalid={invalid || undefined}
      style={{ minHeight: 56 + Math.max(0, rows - 1) * 18 }}
      title={invalid ? problems!.map((p) => p.message).join('\n') : undefined}
    >
      {inputs.map((p, i) => (
        <Handle
          key={`in-${p}`}
          type="target"
          position={Position.Left}
          id={p}
          isConnectable={isConnectable}
          style={{ top: portTop(i, inputs.length) }}
          className="wf-handle"
          aria-label={`Input ${p} of ${node.name || node.id}`}
          title={`input: ${p}`}
        />
      ))}
      <div className="wf-node-head">
        <span className="wf-node-type">{meta?.name ?? node.type}</span>
        {status && (
          <span className="wf-node-state" data-testid="node-status">
            {statusLabel(status)}
            {data.attempt && data.attempt > 1 ? ` (#${data.attempt})` : ''}
          </span>
        )}
      </div>
      <div className="wf-node-name">{node.name || node.id}</div>
      {invalid && (
        <div className="wf-node-problem" role="note">
          ⚠ {problems!.length === 1 ? problems![0].message : `${problems!.length} problems`}
        </div>
      )}
      {outputs.map((p, i) => (
        <Handle
          key={`out-${p}`}
          type="source"
          position={Position.Right}
          id={p}
          isConnectable={isConnectable}
          style={{ top: portTop(i, outputs.length) }}
          className={`wf-handle wf-handle-${p}`}
          aria-label={`Output ${p} of ${node.name || node.id}`}
          title={`output: ${p}`}
        >
          {(outputs.length > 1 || p !== 'main') && <span className="wf-port-label">{p}</span>}
        </Handle>
      ))}
    </div>
  );
}

export const FlowNode = memo(FlowNodeView);
export const flowNodeTypes = { zygo: FlowNode };
