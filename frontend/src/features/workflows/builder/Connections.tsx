// The selected node's connections, and a keyboard way to add and remove them.
import { useState } from 'react';
import type { Graph, GraphNode } from '../canvasReducer';
import type { NodeTypeInfo } from '../common';

/** The node's connections, and a keyboard way to add and remove them. */
export function Connections({
  node,
  graph,
  types,
  canEdit,
  onConnect,
  onDisconnect,
}: {
  node: GraphNode;
  graph: Graph;
  types: Map<string, NodeTypeInfo>;
  canEdit: boolean;
  onConnect: (sourcePort: string, target: string, targetPort: string) => void;
  onDisconnect: (edgeId: string) => void;
}) {
  const outputs = types.get(node.type)?.outputPorts ?? ['main'];
  const targets = graph.nodes.filter((n) => n.id !== node.id && (types.get(n.type)?.inputPorts.length ?? 1) > 0);
  const [port, setPort] = useState(outputs[0] ?? 'main');
  const [target, setTarget] = useState('');
  const targetInputs = types.get(graph.nodes.find((n) => n.id === target)?.type ?? '')?.inputPorts ?? ['main'];
  const [targetPort, setTargetPort] = useState('main');
  const nameOf = (id: string) => {
    const n = graph.nodes.find((x) => x.id === id);
    return n ? n.name || n.id : id;
  };
  const edges = graph.edges.filter((e) => e.source === node.id || e.target === node.id);
  return (
    <details className="wf-advanced">
      <summary>Connections ({edges.length})</summary>
      {edges.length === 0 ? (
        <p className="wf-muted wf-small">Not connected.</p>
      ) : (
        <ul className="wf-conn-list">
          {edges.map((e) => (
            <li key={e.id}>
              <span className="wf-small">
                {e.source === node.id ? `${e.sourcePort} → ${nameOf(e.target)}` : `${nameOf(e.source)} (${e.sourcePort}) →`}
                {e.targetPort !== 'main' ? ` [${e.targetPort}]` : ''}
              </span>
              {canEdit && (
                <button type="button" className="wf-btn wf-btn-small" onClick={() => onDisconnect(e.id)} aria-label={`Remove connection ${e.source} ${e.sourcePort} to ${e.target}`}>
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canEdit && outputs.length > 0 && targets.length > 0 && (
        <form
          className="wf-conn-form"
          aria-label="Add a connection"
          onSubmit={(e) => {
            e.preventDefault();
            if (target) onConnect(port, target, targetInputs.includes(targetPort) ? targetPort : targetInputs[0] ?? 'main');
          }}
        >
          <label className="wf-label" htmlFor="wf-conn-port">
            From output
          </label>
          <select id="wf-conn-port" value={port} onChange={(e) => setPort(e.target.value)}>
            {outputs.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
          <label className="wf-label" htmlFor="wf-conn-target">
            To node
          </label>
          <select id="wf-conn-target" value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">Choose…</option>
            {targets.map((n) => (
              <option key={n.id} value={n.id}>
                {n.name || n.id}
              </option>
            ))}
          </select>
          {targetInputs.length > 1 && (
            <>
              <label className="wf-label" htmlFor="wf-conn-target-port">
                Input
              </label>
              <select id="wf-conn-target-port" value={targetPort} onChange={(e) => setTargetPort(e.target.value)}>
                {targetInputs.map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </select>
            </>
          )}
          <button type="submit" className="wf-btn wf-btn-small" disabled={!target}>
            Connect
          </button>
        </form>
      )}
    </details>
  );
}
