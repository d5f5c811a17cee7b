// The live execution viewer at /o/:slug/executions/:executionId: the graph the run used with
// every node coloured by its state as `executionUpdated` reports it (no reload), each node's
// input/output/error on click, log lines streaming from `executionLogs`, Cancel and Retry.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, applyNodeChanges, type Edge, type NodeChange } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import {
  CancelExecutionDocument,
  ExecutionLogsDocument,
  ExecutionUpdatedDocument,
  ExecutionViewDocument,
  RetryExecutionDocument,
  type ExecutionLogsSubscription,
  type ExecutionUpdatedSubscription,
} from '../../gql/graphql';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { graphFromJson } from './canvasReducer';
import {
  ErrorNotice,
  Loading,
  STATUS_COLOR,
  StatusBadge,
  TERMINAL,
  apiError,
  formatDate,
  formatDuration,
  statusLabel,
  useNodeTypes,
} from './common';
import { flowNodeTypes, type FlowNodeType } from './FlowNode';
import './workflows.css';

type Update = ExecutionUpdatedSubscription['executionUpdated'];
type LogLine = ExecutionLogsSubscription['executionLogs'];

interface LiveState {
  status: string | null;
  error: string | null;
  /** Latest state per node (any iteration). */
  nodes: Record<string, { status: string; attempt: number; error?: string | null; port?: string | null }>;
  events: number;
}

const RANK: Record<string, number> = { QUEUED: 0, RUNNING: 1, RETRYING: 1, SKIPPED: 2, SUCCEEDED: 2, FAILED: 2, CANCELLED: 2 };

/** The fresher of two states: a final state beats a running one; otherwise the live one wins. */
function fresher(fromQuery: string | null | undefined, live: string | null | undefined) {
  if (!live) return fromQuery ?? null;
  if (!fromQuery) return live;
  return (RANK[fromQuery] ?? 0) > (RANK[live] ?? 0) ? fromQuery : live;
}

export default function ExecutionViewerPage() {
  const { executionId = '' } = useParams();
  return (
    <ReactFlowProvider>
      <ExecutionViewer key={executionId} executionId={executionId} />
    </ReactFlowProvider>
  );
}

function ExecutionViewer({ executionId }: { executionId: string }) {
  const tenant = useTenant();
  const navigate = useNavigate();
  const canExecute = tenant.can('workflow.execute');
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: ExecutionViewDocument,
    variables: { id: executionId },
    requestPolicy: 'network-only',
  });
  const { types } = useNodeTypes();
  const execution = data?.execution;
  useDocumentTitle(execution ? `Run of ${execution.workflow?.name ?? 'workflow'}` : 'Execution');

  // Node states and the status as they happen.
  const [live] = useSubscription<Update, LiveState>(
    { query: ExecutionUpdatedDocument, variables: { executionId } },
    (prev = { status: null, error: null, nodes: {}, events: 0 }, event) => {
      const u = (event as unknown as ExecutionUpdatedSubscription).executionUpdated;
      const next: LiveState = { ...prev, status: u.status, error: u.error ?? prev.error, events: prev.events + 1 };
      if (u.node) {
        next.nodes = {
          ...prev.nodes,
          [u.node.nodeId]: { status: u.node.status, attempt: u.node.attempt, error: u.node.error, port: u.node.port },
        };
      }
      return next;
    },
  );
  const liveState = live.data;

  // Refetch the details (inputs, outputs, times) shortly after nodes finish and at the end.
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refetch = useCallback(() => {
    if (refetchTimer.current) clearTimeout(refetchTimer.current);
    refetchTimer.current = setTimeout(() => reexecute({ requestPolicy: 'network-only' }), 300);
  }, [reexecute]);
  useEffect(() => () => {
    if (refetchTimer.current) clearTimeout(refetchTimer.current);
  }, []);
  useEffect(() => {
    // The first event tells the subscription is live: refetch so that nothing that happened
    // before it is missed; later events refresh inputs, outputs and times.
    if (liveState && liveState.events >= 1) refetch();
  }, [liveState?.events, refetch, liveState]);

  // Log lines: those loaded plus those streamed, in order, without duplicates.
  const [streamed] = useSubscription<LogLine, LogLine[]>(
    { query: ExecutionLogsDocument, variables: { executionId } },
    (prev = [], event) => [...prev, (event as unknown as ExecutionLogsSubscription).executionLogs],
  );
  const logs = useMemo(() => {
    const seen = new Set<string>();
    const out: LogLine[] = [];
    const loaded = (execution?.logs as { edges: { node: LogLine }[] } | null | undefined)?.edges.map((e) => e.node) ?? [];
    for (const l of [...loaded, ...(streamed.data ?? [])]) {
      if (seen.has(l.id)) continue;
      seen.add(l.id);
      out.push(l);
    }
    return out.sort((a, b) => a.at.localeCompare(b.at));
  }, [execution?.logs, streamed.data]);

  const status = fresher(execution?.status, liveState?.status) ?? 'QUEUED';
  const finished = TERMINAL.has(status);
  const graph = useMemo(() => graphFromJson(execution?.graph.json), [execution?.graph.json]);

  const nodeState = useMemo(() => {
    const m = new Map<string, { status: string | null; attempt: number; port: string | null; inferred?: boolean }>();
    for (const n of graph.nodes) {
      const rows = execution?.nodes.filter((r) => r.nodeId === n.id) ?? [];
      const last = rows[rows.length - 1];
      const l = liveState?.nodes[n.id];
      let s = fresher(last?.status, l?.status);
      if (!s) s = finished ? null : 'QUEUED';
      m.set(n.id, { status: s, attempt: Math.max(last?.attempt ?? 1, l?.attempt ?? 1), port: l?.port ?? last?.port ?? null });
    }
    // A node starting before the live updates were subscribed is not in `Execution.nodes` (only
    // finished states are stored): while the run goes on, a node whose input was reached is running.
    if (status === 'RUNNING') {
      for (const n of graph.nodes) {
        const st = m.get(n.id)!;
        if (st.status !== 'QUEUED') continue;
        const reached = graph.edges.some((e) => {
          if (e.target !== n.id) return false;
          const src = m.get(e.source);
          return src?.status === 'SUCCEEDED' && (src.port ?? 'main') === e.sourcePort;
        });
        if (reached) m.set(n.id, { ...st, status: 'RUNNING', inferred: true });
      }
    }
    return m;
  }, [graph.nodes, graph.edges, execution?.nodes, liveState?.nodes, finished, status]);

  const [selectedId, setSelectedId] = useState<string | null>(null);
  const computedNodes = useMemo<FlowNodeType[]>(
    () =>
      graph.nodes.map((n) => ({
        id: n.id,
        type: 'zygo' as const,
        position: n.position,
        selected: n.id === selectedId,
        draggable: false,
        connectable: false,
        data: { node: n, meta: types.get(n.type), status: nodeState.get(n.id)?.status ?? null, attempt: nodeState.get(n.id)?.attempt },
      })),
    [graph.nodes, types, nodeState, selectedId],
  );
  // Kept as state so React Flow's measurements stay on the nodes (the mini-map needs them).
  const [rfNodes, setRfNodes] = useState<FlowNodeType[]>([]);
  useEffect(() => {
    setRfNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      return computedNodes.map((n) => ({ ...old.get(n.id), ...n }));
    });
  }, [computedNodes]);
  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNodeType>[]) => setRfNodes((nds) => applyNodeChanges(changes.filter((c) => c.type === 'dimensions'), nds)),
    [],
  );
  const rfEdges = useMemo<Edge[]>(
    () =>
      graph.edges.map((e) => {
        const s = nodeState.get(e.source)?.status;
        const taken = s === 'SUCCEEDED' && execution?.nodes.some((r) => r.nodeId === e.source && (r.port ?? 'main') === e.sourcePort);
        return {
          id: e.id,
          source: e.source,
          sourceHandle: e.sourcePort,
          target: e.target,
          targetHandle: e.targetPort,
          animated: nodeState.get(e.target)?.status === 'RUNNING',
          className: taken ? 'wf-edge-taken' : undefined,
          label: e.sourcePort !== 'main' ? e.sourcePort : undefined,
        };
      }),
    [graph.edges, nodeState, execution?.nodes],
  );

  const [, cancel] = useMutation(CancelExecutionDocument);
  const [, retry] = useMutation(RetryExecutionDocument);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'cancel' | 'retry' | null>(null);
  const [fromFailedNode, setFromFailedNode] = useState(true);
  const [useLatestVersion, setUseLatestVersion] = useState(false);

  if (error && !data) return <section className="wf-page"><ErrorNotice error={error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} /></section>;
  if (!execution) return <section className="wf-page"><Loading label={fetching ? 'Loading execution…' : 'Execution not found'} /></section>;

  const doCancel = async () => {
    setBusy('cancel');
    setActionError(null);
    const r = await cancel({ id: execution.id });
    setBusy(null);
    if (r.error) setActionError(apiError(r.error)!.message);
    refetch();
  };
  const doRetry = async () => {
    setBusy('retry');
    setActionError(null);
    const r = await retry({ input: { id: execution.id, fromFailedNode: status === 'FAILED' && fromFailedNode, useLatestVersion } });
    setBusy(null);
    if (r.error) return setActionError(apiError(r.error)!.message);
    navigate(`/o/${tenant.slug}/executions/${r.data!.retryExecution.execution.id}`);
  };

  const selectedRows = selectedId ? execution.nodes.filter((r) => r.nodeId === selectedId) : [];
  const selectedNode = selectedId ? graph.nodes.find((n) => n.id === selectedId) : undefined;
  const base = `/o/${tenant.slug}`;
  return (
    <div className="wf-viewer">
      <header className="wf-toolbar">
        {execution.workflow && (
          <Link to={`${base}/workflows/${execution.workflow.id}/executions`} className="wf-back">
            ← Runs of {execution.workflow.name}
          </Link>
        )}
        <h1 className="wf-title">Execution</h1>
        <span data-testid="execution-status" data-status={status} aria-live="polite">
          <StatusBadge status={status} />
        </span>
        <div className="wf-toolbar-actions">
          {execution.workflow && (
            <Link className="wf-btn" to={`${base}/workflows/${execution.workflow.id}`}>
              Open workflow
            </Link>
          )}
          {canExecute && !finished && (
            <button type="button" className="wf-btn wf-btn-danger" onClick={doCancel} disabled={busy !== null}>
              {busy === 'cancel' ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
          {canExecute && finished && (
            <>
              {status === 'FAILED' && (
                <label className="wf-check">
                  <input type="checkbox" checked={fromFailedNode} onChange={(e) => setFromFailedNode(e.target.checked)} /> From failed node
                </label>
              )}
              <label className="wf-check">
                <input type="checkbox" checked={useLatestVersion} onChange={(e) => setUseLatestVersion(e.target.checked)} /> Latest version
              </label>
              <button type="button" className="wf-btn wf-btn-primary" onClick={doRetry} disabled={busy !== null}>
                {busy === 'retry' ? 'Retrying…' : 'Retry'}
              </button>
            </>
          )}
        </div>
      </header>
      <ErrorNotice error={actionError} />
      {live.error && <ErrorNotice error={`Live updates stopped: ${apiError(live.error)?.message}`} onRetry={() => location.reload()} />}

      <dl className="wf-facts">
        <div>
          <dt>Trigger</dt>
          <dd>{execution.trigger}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{execution.version ?? 'draft'}</dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd>{formatDate(execution.createdAt)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatDate(execution.startedAt)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatDate(execution.finishedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(execution.startedAt, execution.finishedAt)}</dd>
        </div>
        {execution.retryOf && (
          <div>
            <dt>Retry of</dt>
            <dd>
              <Link to={`${base}/executions/${execution.retryOf}`}>earlier run</Link>
            </dd>
          </div>
        )}
      </dl>
      {(liveState?.error ?? execution.error) && (
        <div className={`wf-alert ${status === 'CANCELLED' ? 'wf-alert-warning' : 'wf-alert-error'}`} role="alert">
          {liveState?.error ?? execution.error}
        </div>
      )}

      <div className="wf-viewer-body">
        <div className="wf-canvas wf-canvas-viewer" data-testid="execution-canvas">
          <ReactFlow<FlowNodeType, Edge>
            nodes={rfNodes}
            edges={rfEdges}
            nodeTypes={flowNodeTypes}
            onNodesChange={onNodesChange}
            nodesDraggable={false}
            nodesConnectable={false}
            elementsSelectable
            nodesFocusable
            onNodeClick={(_, n) => setSelectedId(n.id)}
            onPaneClick={() => setSelectedId(null)}
            onSelectionChange={({ nodes }) => nodes.length === 1 && setSelectedId(nodes[0].id)}
            fitView
            fitViewOptions={{ maxZoom: 1, padding: 0.3 }}
            deleteKeyCode={null}
          >
            <Background gap={16} />
            <MiniMap pannable zoomable ariaLabel="Mini map" style={{ width: 150, height: 100 }} nodeColor={(n) => STATUS_COLOR[(n.data as { status?: string | null }).status ?? ''] ?? '#94a3b8'} />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
        <aside className="wf-inspector" aria-label="Node details">
          <h2 className="wf-panel-title">Nodes</h2>
          <ul className="wf-node-list">
            {graph.nodes.map((n) => (
              <li key={n.id}>
                <button
                  type="button"
                  className={`wf-node-row${selectedId === n.id ? ' wf-node-row-selected' : ''}`}
                  onClick={() => setSelectedId(n.id)}
                  aria-pressed={selectedId === n.id}
                  data-node-id={n.id}
                  data-status={nodeState.get(n.id)?.status ?? 'NONE'}
                >
                  <span>{n.name || n.id}</span>
                  <StatusBadge status={nodeState.get(n.id)?.status} />
                </button>
              </li>
            ))}
          </ul>
          {selectedNode && (
            <section className="wf-node-details" aria-label={`Details of ${selectedNode.name || selectedNode.id}`}>
              <h3>{selectedNode.name || selectedNode.id}</h3>
              {selectedRows.length === 0 && <p className="wf-muted">{finished ? 'This node did not run.' : 'Not started yet.'}</p>}
              {selectedRows.map((r, i) => (
                <div key={i} className="wf-node-run">
                  <p>
                    <StatusBadge status={r.status} />
                    {r.iteration && <span className="wf-muted"> iteration {r.iteration}</span>}
                    {r.attempt > 1 && <span className="wf-muted"> attempt {r.attempt}</span>}
                    {r.reused && <span className="wf-muted"> (reused)</span>}
                    {r.port && <span className="wf-muted"> → {r.port}</span>}
                    <span className="wf-muted"> {formatDuration(r.startedAt, r.finishedAt)}</span>
                  </p>
                  {r.error && (
                    <>
                      <h4>Error</h4>
                      <pre className="wf-pre wf-pre-error">{r.error}</pre>
                    </>
                  )}
                  <h4>Input</h4>
                  <pre className="wf-pre">{r.input === undefined || r.input === null ? '—' : JSON.stringify(r.input, null, 2)}</pre>
                  <h4>Output</h4>
                  <pre className="wf-pre">{r.output === undefined || r.output === null ? '—' : JSON.stringify(r.output, null, 2)}</pre>
                </div>
              ))}
            </section>
          )}
        </aside>
      </div>

      <section className="wf-logs" aria-label="Logs">
        <h2 className="wf-panel-title">
          Logs <span className="wf-count">{logs.length}</span>
        </h2>
        {logs.length === 0 ? (
          <p className="wf-muted">{finished ? 'No log lines.' : 'Waiting for log lines…'}</p>
        ) : (
          <ol className="wf-log-lines" aria-live="polite">
            {logs.map((l) => (
              <li key={l.id} className={`wf-log wf-log-${l.level.toLowerCase()}`}>
                <time dateTime={l.at}>{new Date(l.at).toLocaleTimeString()}</time>
                <span className="wf-log-level">{l.level}</span>
                {l.nodeId && <span className="wf-log-node">{l.nodeId}</span>}
                <span className="wf-log-msg">{l.message}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
      <p className="wf-sr-only" aria-live="polite">
        Execution {statusLabel(status)}
      </p>
    </div>
  );
}
