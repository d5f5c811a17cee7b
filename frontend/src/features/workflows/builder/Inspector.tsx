// The inspector part of the builder: the selected node's settings (name, configuration from its
// type's JSON Schema, timeout, connections) and the workflow's problems, each leading to its node.
import { useMemo, useRef, type Dispatch, type ReactNode } from 'react';
import type { CanvasAction, Graph, GraphNode } from '../canvasReducer';
import type { NodeTypeInfo, Problem } from '../common';
import { serverFieldErrors } from '../jsonSchema';
import { NodeConfigForm } from '../NodeConfigForm';
import { Connections } from './Connections';

export function Inspector({
  graph,
  selectedIds,
  types,
  problems,
  problemsByNode,
  canEdit,
  dispatch,
  onSelect,
}: {
  graph: Graph;
  selectedIds: string[];
  types: Map<string, NodeTypeInfo>;
  problems: Problem[];
  problemsByNode: Map<string, Problem[]>;
  canEdit: boolean;
  dispatch: Dispatch<CanvasAction>;
  onSelect: (nodeId: string) => void;
}) {
  const selectedNode = selectedIds.length === 1 ? graph.nodes.find((n) => n.id === selectedIds[0]) : undefined;

  // Typing in one field of a node makes one undo step per pause of a second.
  const burst = useRef<{ key: string; at: number; n: number }>({ key: '', at: 0, n: 0 });
  const coalesceKey = (key: string) => {
    const now = Date.now();
    const b = burst.current;
    if (b.key !== key || now - b.at > 1000) burst.current = { key, at: now, n: b.n + 1 };
    else b.at = now;
    return `${key}#${burst.current.n}`;
  };

  return (
    <aside className="wf-inspector" aria-label="Node settings">
      {selectedNode ? (
        <NodeInspector
          key={selectedNode.id}
          node={selectedNode}
          meta={types.get(selectedNode.type)}
          problems={problemsByNode.get(selectedNode.id) ?? []}
          canEdit={canEdit}
          onRename={(v) => dispatch({ type: 'updateNode', id: selectedNode.id, patch: { name: v }, coalesce: coalesceKey(`name:${selectedNode.id}`) })}
          onConfig={(config) => dispatch({ type: 'updateNode', id: selectedNode.id, patch: { config }, coalesce: coalesceKey(`config:${selectedNode.id}`) })}
          onTimeout={(ms) => dispatch({ type: 'updateNode', id: selectedNode.id, patch: { timeoutMs: ms ?? null }, coalesce: coalesceKey(`timeout:${selectedNode.id}`) })}
          onDelete={() => dispatch({ type: 'removeNodes', ids: [selectedNode.id] })}
        >
          <Connections
            node={selectedNode}
            graph={graph}
            types={types}
            canEdit={canEdit}
            onConnect={(sourcePort, target, targetPort) => dispatch({ type: 'connect', source: selectedNode.id, sourcePort, target, targetPort })}
            onDisconnect={(edgeId) => dispatch({ type: 'removeEdges', ids: [edgeId] })}
          />
        </NodeInspector>
      ) : (
        <div className="wf-inspector-empty">
          <h2 className="wf-panel-title">Settings</h2>
          <p className="wf-muted">
            {selectedIds.length > 1 ? `${selectedIds.length} nodes selected.` : 'Select a node to change its settings.'}
          </p>
        </div>
      )}
      <ProblemList problems={problems} nodes={graph.nodes} onSelect={onSelect} />
    </aside>
  );
}

function ProblemList({ problems, nodes, onSelect }: { problems: Problem[]; nodes: GraphNode[]; onSelect: (id: string) => void }) {
  if (problems.length === 0) {
    return (
      <section className="wf-problems" aria-label="Problems">
        <h2 className="wf-panel-title">Problems</h2>
        <p className="wf-muted">None: the workflow can run.</p>
      </section>
    );
  }
  return (
    <section className="wf-problems" aria-label="Problems">
      <h2 className="wf-panel-title">
        Problems <span className="wf-count">{problems.length}</span>
      </h2>
      <ul>
        {problems.map((p, i) => {
          const node = p.nodeId ? nodes.find((n) => n.id === p.nodeId) : undefined;
          return (
            <li key={i} className="wf-problem">
              {node ? (
                <button type="button" className="wf-linklike" onClick={() => onSelect(node.id)}>
                  {node.name || node.id}
                </button>
              ) : p.nodeId ? (
                <strong>{p.nodeId}</strong>
              ) : null}{' '}
              <span>{p.message}</span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function NodeInspector({
  node,
  meta,
  problems,
  canEdit,
  onRename,
  onConfig,
  onTimeout,
  onDelete,
  children,
}: {
  children?: ReactNode;
  node: GraphNode;
  meta?: NodeTypeInfo;
  problems: Problem[];
  canEdit: boolean;
  onRename: (name: string) => void;
  onConfig: (config: Record<string, unknown>) => void;
  onTimeout: (ms: number | undefined) => void;
  onDelete: () => void;
}) {
  const fieldErrors = useMemo(() => serverFieldErrors(problems.map((p) => p.message)), [problems]);
  const timeoutMs = typeof node.timeoutMs === 'number' ? node.timeoutMs : undefined;
  return (
    <div className="wf-inspector-body">
      <h2 className="wf-panel-title">{meta?.name ?? node.type}</h2>
      {meta?.description && <p className="wf-help">{meta.description}</p>}
      <div className="wf-field">
        <label className="wf-label" htmlFor="wf-node-name">
          Name
        </label>
        <input id="wf-node-name" value={node.name} disabled={!canEdit} maxLength={200} onChange={(e) => onRename(e.target.value)} />
        <p className="wf-help">
          Key <code>{node.id}</code> — expressions refer to it as <code>{`{{ nodes.${node.id}.output }}`}</code>
        </p>
      </div>
      {meta ? (
        <NodeConfigForm
          idPrefix={`node-${node.id}`}
          schema={meta.configSchema}
          value={node.config}
          onChange={onConfig}
          errors={fieldErrors}
          disabled={!canEdit}
        />
      ) : (
        <p className="wf-alert wf-alert-error">Unknown node type {node.type}.</p>
      )}
      <details className="wf-advanced">
        <summary>Advanced</summary>
        <NodeConfigForm
          idPrefix={`node-${node.id}-adv`}
          schema={{
            type: 'object',
            properties: {
              timeoutMs: {
                type: 'integer',
                minimum: 1,
                title: 'Timeout (ms)',
                description: `Default ${meta?.defaultTimeoutMs ?? '—'} ms`,
              },
            },
          }}
          value={timeoutMs === undefined ? {} : { timeoutMs }}
          onChange={(v) => onTimeout(v.timeoutMs as number | undefined)}
          disabled={!canEdit}
        />
      </details>
      {children}
      {canEdit && (
        <button type="button" className="wf-btn wf-btn-danger" onClick={onDelete}>
          Delete node
        </button>
      )}
    </div>
  );
}
