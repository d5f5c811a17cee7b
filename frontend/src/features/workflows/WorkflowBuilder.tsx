// The builder canvas at /o/:slug/workflows/:workflowId: palette of node types (drag onto the
// canvas, or press to add), React Flow canvas with a handle per port, configuration panel from
// the type's JSON Schema, problems on the offending nodes, undo/redo, autosave with conflict
// notice, Run and Publish.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type DragEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useClient, useMutation, useQuery } from 'urql';
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import {
  ExecuteWorkflowDocument,
  PublishWorkflowVersionDocument,
  SaveWorkflowAsTemplateDocument,
  UpdateWorkflowDocument,
  ValidateWorkflowDocument,
  WorkflowBuilderDocument,
  type WorkflowBuilderQuery,
} from '../../gql/graphql';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import {
  canRedo,
  canUndo,
  canvasReducer,
  graphFromJson,
  initialCanvas,
  uniqueNodeId,
  type Graph,
  type GraphNode,
} from './canvasReducer';
import {
  CATEGORY_COLOR,
  CATEGORY_LABEL,
  CATEGORY_ORDER,
  ErrorNotice,
  Loading,
  apiError,
  useNodeTypes,
  type NodeTypeInfo,
  type Problem,
} from './common';
import { flowNodeTypes, type FlowNodeType } from './FlowNode';
import { NodeConfigForm } from './NodeConfigForm';
import { defaultsFor, serverFieldErrors } from './jsonSchema';
import { useAutosave, type SaveStatus } from './useAutosave';
import './workflows.css';

const DND_TYPE = 'application/x-zygo-node-type';

export default function WorkflowBuilderPage() {
  const { workflowId = '' } = useParams();
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: WorkflowBuilderDocument,
    variables: { id: workflowId },
    requestPolicy: 'network-only',
  });
  const catalog = useNodeTypes();
  // The canvas is built once from the first answer; later cache updates (revision, problems)
  // must not replace what is being edited.
  const [initial, setInitial] = useState<WorkflowBuilderQuery['workflow'] | null>(null);
  useEffect(() => {
    if (data?.workflow && (!initial || initial.id !== data.workflow.id)) setInitial(data.workflow);
  }, [data, initial]);

  if (error && !data) return <section className="wf-page"><ErrorNotice error={error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} /></section>;
  if (catalog.error) return <section className="wf-page"><ErrorNotice error={catalog.error} onRetry={catalog.retry} /></section>;
  if (!initial || initial.id !== workflowId || catalog.fetching || fetching && !data) return <section className="wf-page"><Loading label="Loading workflow…" /></section>;
  return (
    <ReactFlowProvider>
      <Builder key={initial.id} workflow={initial} types={catalog.types} />
    </ReactFlowProvider>
  );
}

function Builder({ workflow, types }: { workflow: WorkflowBuilderQuery['workflow']; types: Map<string, NodeTypeInfo> }) {
  const tenant = useTenant();
  const navigate = useNavigate();
  const client = useClient();
  const canEdit = tenant.can('workflow.edit') && !workflow.archived;
  const canRun = tenant.can('workflow.execute') && !workflow.archived;
  const [name, setName] = useState(workflow.name);
  useDocumentTitle(name);

  const [canvas, dispatch] = useReducer(canvasReducer, workflow.graph.json, (json) => initialCanvas(graphFromJson(json)));
  const autosave = useAutosave(workflow.id, workflow.revision, canvas, { enabled: canEdit });
  const [problems, setProblems] = useState<Problem[]>(workflow.problems);
  useEffect(() => {
    if (autosave.problems) setProblems(autosave.problems);
  }, [autosave.problems]);
  // A BAD_USER_INPUT answer of the autosave names a node by its index in the saved graph.
  const saveProblem = useMemo<Problem | null>(() => {
    const e = autosave.error;
    if (!e || autosave.status !== 'error') return null;
    const m = e.field?.match(/^input\.graph\.nodes\.(\d+)/);
    const node = m ? canvas.present.nodes[Number(m[1])] : undefined;
    return { kind: 'save', nodeId: node?.id ?? null, message: e.message };
  }, [autosave.error, autosave.status, canvas.present.nodes]);
  const allProblems = useMemo(() => (saveProblem ? [saveProblem, ...problems] : problems), [problems, saveProblem]);
  const problemsByNode = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of allProblems) if (p.nodeId) m.set(p.nodeId, [...(m.get(p.nodeId) ?? []), p]);
    return m;
  }, [allProblems]);

  // ---- React Flow nodes: local copy (measurements, selection, drag positions) of the model.
  const [rfNodes, setRfNodes] = useState<FlowNodeType[]>([]);
  const selectNext = useRef<string | null>(null);
  useEffect(() => {
    const pick = selectNext.current;
    selectNext.current = null;
    setRfNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      return canvas.present.nodes.map((n) => {
        const o = old.get(n.id);
        return {
          ...(o ?? {}),
          id: n.id,
          type: 'zygo' as const,
          position: n.position,
          selected: pick ? n.id === pick : (o?.selected ?? false),
          data: { node: n, meta: types.get(n.type), problems: problemsByNode.get(n.id) },
        };
      });
    });
  }, [canvas.present.nodes, types, problemsByNode]);
  const [selectedEdges, setSelectedEdges] = useState<Set<string>>(new Set());
  const rfEdges = useMemo<Edge[]>(
    () =>
      canvas.present.edges.map((e) => ({
        id: e.id,
        source: e.source,
        sourceHandle: e.sourcePort,
        target: e.target,
        targetHandle: e.targetPort,
        selected: selectedEdges.has(e.id),
        label: e.sourcePort !== 'main' ? e.sourcePort : undefined,
        className: e.sourcePort === 'error' ? 'wf-edge-error' : undefined,
        ariaLabel: `Connection from ${e.source} ${e.sourcePort} to ${e.target} ${e.targetPort}`,
      })),
    [canvas.present.edges, selectedEdges],
  );

  const onNodesChange = useCallback((changes: NodeChange<FlowNodeType>[]) => {
    // Removals go through onDelete (one undo step for nodes and their edges).
    setRfNodes((nds) => applyNodeChanges(changes.filter((c) => c.type !== 'remove'), nds));
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    setSelectedEdges((sel) => {
      let next = sel;
      for (const c of changes) {
        if (c.type === 'select') {
          if (next === sel) next = new Set(sel);
          if (c.selected) next.add(c.id);
          else next.delete(c.id);
        }
      }
      return next;
    });
  }, []);
  const onConnect = useCallback(
    (c: Connection) =>
      dispatch({ type: 'connect', source: c.source, sourcePort: c.sourceHandle ?? 'main', target: c.target, targetPort: c.targetHandle ?? 'main' }),
    [],
  );
  const isValidConnection = useCallback(
    (c: Connection | Edge) =>
      c.source !== c.target &&
      !canvas.present.edges.some(
        (e) =>
          e.source === c.source &&
          e.target === c.target &&
          e.sourcePort === (c.sourceHandle ?? 'main') &&
          e.targetPort === (c.targetHandle ?? 'main'),
      ),
    [canvas.present.edges],
  );

  // ---- Adding nodes: drop from the palette, or press a palette entry.
  const flow = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const addNode = useCallback(
    (typeKey: string, position: { x: number; y: number }) => {
      const meta = types.get(typeKey);
      if (!meta) return;
      const base = typeKey.split('.').pop() ?? 'node';
      const id = uniqueNodeId(canvas.present, base);
      const node: GraphNode = {
        id,
        type: typeKey,
        name: meta.name,
        position: { x: Math.round(position.x), y: Math.round(position.y) },
        config: defaultsFor(meta.configSchema),
      };
      selectNext.current = id;
      dispatch({ type: 'addNode', node });
    },
    [canvas.present, types],
  );
  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DND_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);
  const onDrop = useCallback(
    (e: DragEvent) => {
      const key = e.dataTransfer.getData(DND_TYPE);
      if (!key || !canEdit) return;
      e.preventDefault();
      const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(key, { x: p.x - 90, y: p.y - 30 });
    },
    [addNode, canEdit, flow],
  );
  const addAtCentre = useCallback(
    (key: string) => {
      const box = wrapper.current?.getBoundingClientRect();
      const centre = box
        ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 })
        : { x: 0, y: 0 };
      // Step aside (to the right) from nodes already there.
      let { x, y } = { x: centre.x - 96, y: centre.y - 30 };
      const taken = (px: number, py: number) =>
        canvas.present.nodes.some((n) => Math.abs(n.position.x - px) < 220 && Math.abs(n.position.y - py) < 90);
      for (let i = 0; i < 50 && taken(x, y); i++) x += 240;
      addNode(key, { x: Math.round(x), y: Math.round(y) });
      // Keep the new node in view.
      setTimeout(() => flow.fitView({ padding: 0.3, maxZoom: 1, duration: 200 }), 50);
    },
    [addNode, canvas.present.nodes, flow],
  );

  // ---- Undo/redo keys (outside of text fields, which keep their own undo).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        dispatch({ type: 'undo' });
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        dispatch({ type: 'redo' });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // ---- Selection → inspector.
  const selected = rfNodes.filter((n) => n.selected);
  const selectedNode = selected.length === 1 ? canvas.present.nodes.find((n) => n.id === selected[0].id) : undefined;
  const selectNode = (id: string) => {
    setRfNodes((nds) => nds.map((n) => ({ ...n, selected: n.id === id })));
    const n = canvas.present.nodes.find((x) => x.id === id);
    if (n) flow.setCenter(n.position.x + 80, n.position.y + 30, { duration: 300, zoom: flow.getZoom() });
  };

  // ---- Reload after a conflict.
  const [reloading, setReloading] = useState(false);
  const reload = async () => {
    setReloading(true);
    const r = await client.query(WorkflowBuilderDocument, { id: workflow.id }, { requestPolicy: 'network-only' }).toPromise();
    setReloading(false);
    const w = r.data?.workflow;
    if (!w) return;
    dispatch({ type: 'load', graph: graphFromJson(w.graph.json) });
    // `load` resets the change counter to 0.
    autosave.reset(w.revision, 0);
    setProblems(w.problems);
    setName(w.name);
  };

  // ---- Toolbar actions.
  const [, execute] = useMutation(ExecuteWorkflowDocument);
  const [, publish] = useMutation(PublishWorkflowVersionDocument);
  const [notice, setNotice] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState<'run' | 'publish' | 'validate' | null>(null);
  const [latestVersion, setLatestVersion] = useState(workflow.latestVersion ?? null);

  const run = async () => {
    setBusy('run');
    setNotice(null);
    const saved = await autosave.flush();
    if (!saved && canEdit) {
      setBusy(null);
      setNotice({ kind: 'error', text: 'Save the workflow before running it (see the notice above).' });
      return;
    }
    const r = await execute({ input: { workflowId: workflow.id } });
    setBusy(null);
    const err = apiError(r.error);
    if (err) {
      if (err.problems.length) setProblems(err.problems);
      setNotice({
        kind: 'error',
        text: err.code === 'WORKFLOW_INVALID' ? `The workflow cannot run yet: ${err.problems.length} problem(s), listed below.` : err.message,
      });
      return;
    }
    navigate(`/o/${tenant.slug}/executions/${r.data!.executeWorkflow.execution.id}`);
  };

  const doValidate = async () => {
    setBusy('validate');
    await autosave.flush();
    const r = await client.query(ValidateWorkflowDocument, { id: workflow.id }, { requestPolicy: 'network-only' }).toPromise();
    setBusy(null);
    if (r.error) return setNotice({ kind: 'error', text: apiError(r.error)!.message });
    const v = r.data!.validateWorkflow;
    setProblems(v.problems);
    setNotice(v.valid ? { kind: 'info', text: 'No problems: the workflow can run.' } : { kind: 'error', text: `${v.problems.length} problem(s) found.` });
  };

  const [publishOpen, setPublishOpen] = useState(false);
  const [publishNote, setPublishNote] = useState('');
  const doPublish = async () => {
    setBusy('publish');
    const saved = await autosave.flush();
    if (!saved) {
      setBusy(null);
      return;
    }
    const r = await publish({ input: { workflowId: workflow.id, note: publishNote } });
    setBusy(null);
    const err = apiError(r.error);
    if (err) {
      if (err.problems.length) setProblems(err.problems);
      setNotice({ kind: 'error', text: err.code === 'WORKFLOW_INVALID' ? `Cannot publish: ${err.problems.length} problem(s), listed below.` : err.message });
      return;
    }
    setPublishOpen(false);
    setPublishNote('');
    setLatestVersion(r.data!.publishWorkflowVersion.version.version);
    setNotice({ kind: 'info', text: `Published version ${r.data!.publishWorkflowVersion.version.version}.` });
  };

  const [templateOpen, setTemplateOpen] = useState(false);
  const [templateName, setTemplateName] = useState('');
  const [templateCategory, setTemplateCategory] = useState('');
  const [, saveAsTemplate] = useMutation(SaveWorkflowAsTemplateDocument);
  const doSaveTemplate = async () => {
    const saved = await autosave.flush();
    if (!saved) return;
    const r = await saveAsTemplate({ input: { workflowId: workflow.id, name: templateName.trim() || name, category: templateCategory.trim() } });
    const err = apiError(r.error);
    if (err) return setNotice({ kind: 'error', text: err.message });
    setTemplateOpen(false);
    setNotice({ kind: 'info', text: `Saved as the template “${r.data!.saveWorkflowAsTemplate.template.name}”.` });
  };

  const [, updateWorkflow] = useMutation(UpdateWorkflowDocument);
  const saveName = async () => {
    const n = name.trim();
    if (!n || n === workflow.name) return;
    const r = await updateWorkflow({ input: { id: workflow.id, name: n } });
    if (r.error) setNotice({ kind: 'error', text: apiError(r.error)!.message });
  };

  // Typing in one field of a node makes one undo step per pause of a second.
  const burst = useRef<{ key: string; at: number; n: number }>({ key: '', at: 0, n: 0 });
  const coalesceKey = (key: string) => {
    const now = Date.now();
    const b = burst.current;
    if (b.key !== key || now - b.at > 1000) burst.current = { key, at: now, n: b.n + 1 };
    else b.at = now;
    return `${key}#${burst.current.n}`;
  };

  const palette = useMemo(() => {
    const groups = new Map<string, NodeTypeInfo[]>();
    for (const t of types.values()) groups.set(t.category, [...(groups.get(t.category) ?? []), t]);
    return [...groups.entries()].sort(
      ([a], [b]) => (CATEGORY_ORDER.indexOf(a) + 1 || 99) - (CATEGORY_ORDER.indexOf(b) + 1 || 99),
    );
  }, [types]);
  const [paletteFilter, setPaletteFilter] = useState('');

  const base = `/o/${tenant.slug}`;
  return (
    <div className="wf-builder">
      <header className="wf-toolbar">
        <Link to={`${base}/workflows`} className="wf-back">
          ← Workflows
        </Link>
        <label className="wf-sr-only" htmlFor="wf-name">
          Workflow name
        </label>
        <input
          id="wf-name"
          className="wf-title-input"
          value={name}
          disabled={!canEdit}
          maxLength={200}
          onChange={(e) => setName(e.target.value)}
          onBlur={saveName}
          onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
        />
        {workflow.archived && <span className="wf-badge">Archived</span>}
        <SaveIndicator status={canEdit ? autosave.status : 'saved'} readOnly={!canEdit} />
        <div className="wf-toolbar-actions">
          {canEdit && (
            <>
              <button type="button" className="wf-btn" onClick={() => dispatch({ type: 'undo' })} disabled={!canUndo(canvas)} title="Undo (Ctrl+Z)" aria-keyshortcuts="Control+Z Meta+Z">
                Undo
              </button>
              <button type="button" className="wf-btn" onClick={() => dispatch({ type: 'redo' })} disabled={!canRedo(canvas)} title="Redo (Ctrl+Shift+Z)" aria-keyshortcuts="Control+Shift+Z Meta+Shift+Z">
                Redo
              </button>
            </>
          )}
          <button type="button" className="wf-btn" onClick={doValidate} disabled={busy !== null}>
            {busy === 'validate' ? 'Checking…' : 'Validate'}
          </button>
          <Link className="wf-btn" to={`${base}/workflows/${workflow.id}/executions`}>
            Executions
          </Link>
          {canEdit && (
            <button type="button" className="wf-btn" onClick={() => setPublishOpen((o) => !o)} aria-expanded={publishOpen}>
              Publish{latestVersion ? ` (v${latestVersion})` : ''}
            </button>
          )}
          {canEdit && (
            <button type="button" className="wf-btn" onClick={() => setTemplateOpen((o) => !o)} aria-expanded={templateOpen}>
              Save as template
            </button>
          )}
          {canRun && (
            <button type="button" className="wf-btn wf-btn-primary" onClick={run} disabled={busy !== null}>
              {busy === 'run' ? 'Starting…' : '▶ Run'}
            </button>
          )}
        </div>
      </header>

      {autosave.status === 'conflict' && (
        <div className="wf-alert wf-alert-warning" role="alert">
          <span>
            Someone else changed this workflow since you opened it, so your latest edits were not saved. Reload to see
            their version (your unsaved edits are lost).
          </span>
          <button type="button" className="wf-btn" onClick={reload} disabled={reloading}>
            {reloading ? 'Reloading…' : 'Reload workflow'}
          </button>
        </div>
      )}
      {autosave.status === 'error' && autosave.error && (
        <div className="wf-alert wf-alert-error" role="alert">
          <span>Not saved: {autosave.error.message}</span>
          <button type="button" className="wf-btn wf-btn-small" onClick={() => void autosave.flush()}>
            Try again
          </button>
        </div>
      )}
      {notice && (
        <div className={`wf-alert ${notice.kind === 'error' ? 'wf-alert-error' : 'wf-alert-info'}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
          <span>{notice.text}</span>
          <button type="button" className="wf-btn wf-btn-small" onClick={() => setNotice(null)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      {publishOpen && (
        <form
          className="wf-inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void doPublish();
          }}
        >
          <label htmlFor="wf-publish-note">Version note</label>
          <input id="wf-publish-note" value={publishNote} onChange={(e) => setPublishNote(e.target.value)} placeholder="What changed (optional)" />
          <button type="submit" className="wf-btn wf-btn-primary" disabled={busy !== null}>
            {busy === 'publish' ? 'Publishing…' : `Publish version ${(latestVersion ?? 0) + 1}`}
          </button>
          <button type="button" className="wf-btn" onClick={() => setPublishOpen(false)}>
            Cancel
          </button>
        </form>
      )}

      {templateOpen && (
        <form
          className="wf-inline-form"
          aria-label="Save as template"
          onSubmit={(e) => {
            e.preventDefault();
            void doSaveTemplate();
          }}
        >
          <label htmlFor="wf-template-name">Template name</label>
          <input id="wf-template-name" value={templateName} placeholder={name} onChange={(e) => setTemplateName(e.target.value)} />
          <label htmlFor="wf-template-category">Category</label>
          <input id="wf-template-category" value={templateCategory} placeholder="e.g. integration" onChange={(e) => setTemplateCategory(e.target.value)} />
          <button type="submit" className="wf-btn wf-btn-primary">
            Save template
          </button>
          <button type="button" className="wf-btn" onClick={() => setTemplateOpen(false)}>
            Cancel
          </button>
        </form>
      )}

      <div className={`wf-builder-body${canEdit ? '' : ' wf-readonly'}`}>
        {canEdit && (
          <aside className="wf-palette" aria-label="Node types">
            <h2 className="wf-panel-title">Add a node</h2>
            <p className="wf-help">Drag onto the canvas, or press to add.</p>
            <label className="wf-sr-only" htmlFor="wf-palette-filter">
              Filter node types
            </label>
            <input id="wf-palette-filter" type="search" placeholder="Filter…" value={paletteFilter} onChange={(e) => setPaletteFilter(e.target.value)} />
            {palette.map(([category, list]) => {
              const shown = list.filter((t) => !paletteFilter || t.name.toLowerCase().includes(paletteFilter.toLowerCase()));
              if (shown.length === 0) return null;
              return (
                <section key={category} className="wf-palette-group">
                  <h3>{CATEGORY_LABEL[category] ?? category}</h3>
                  <ul>
                    {shown.map((t) => (
                      <li key={t.key}>
                        <button
                          type="button"
                          className={`wf-palette-item wf-cat-${t.category}`}
                          draggable
                          data-node-type={t.key}
                          title={t.description}
                          onDragStart={(e) => {
                            e.dataTransfer.setData(DND_TYPE, t.key);
                            e.dataTransfer.setData('text/plain', t.key);
                            e.dataTransfer.effectAllowed = 'copy';
                          }}
                          onClick={() => addAtCentre(t.key)}
                          aria-label={`Add ${t.name}`}
                        >
                          <span className="wf-palette-name">{t.name}</span>
                          <span className="wf-palette-desc">{t.description}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                </section>
              );
            })}
          </aside>
        )}

        <div className="wf-canvas" ref={wrapper} onDragOver={onDragOver} onDrop={onDrop} data-testid="workflow-canvas">
          <ReactFlow<FlowNodeType, Edge>
            nodes={rfNodes}
            edges={rfEdges}
            nodeTypes={flowNodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={canEdit ? onConnect : undefined}
            isValidConnection={isValidConnection}
            onNodeDragStop={(_, __, nodes) =>
              dispatch({ type: 'moveNodes', positions: Object.fromEntries(nodes.map((n) => [n.id, { x: Math.round(n.position.x), y: Math.round(n.position.y) }])) })
            }
            onDelete={({ nodes, edges }) => dispatch({ type: 'remove', nodeIds: nodes.map((n) => n.id), edgeIds: edges.map((e) => e.id) })}
            nodesDraggable={canEdit}
            nodesConnectable={canEdit}
            edgesFocusable
            nodesFocusable
            deleteKeyCode={canEdit ? ['Backspace', 'Delete'] : null}
            fitView
            fitViewOptions={{ maxZoom: 1, padding: 0.3 }}
            minZoom={0.2}
          >
            <Background gap={16} />
            <MiniMap pannable zoomable ariaLabel="Mini map" style={{ width: 150, height: 100 }} nodeColor={(n) => CATEGORY_COLOR[(n.data as { meta?: NodeTypeInfo }).meta?.category ?? ''] ?? '#94a3b8'} />
            <Controls showInteractive={false} />
          </ReactFlow>
          {canvas.present.nodes.length === 0 && (
            <div className="wf-canvas-empty">The canvas is empty: add a trigger from the palette to start.</div>
          )}
        </div>

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
                graph={canvas.present}
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
                {selected.length > 1 ? `${selected.length} nodes selected.` : 'Select a node to change its settings.'}
              </p>
            </div>
          )}
          <ProblemList problems={allProblems} nodes={canvas.present.nodes} onSelect={selectNode} />
        </aside>
      </div>
    </div>
  );
}

function SaveIndicator({ status, readOnly }: { status: SaveStatus; readOnly: boolean }) {
  const text = readOnly
    ? 'Read only'
    : { saved: 'All changes saved', pending: 'Unsaved changes', saving: 'Saving…', error: 'Not saved', conflict: 'Conflict' }[status];
  return (
    <span className={`wf-save wf-save-${status}`} role="status" aria-live="polite" data-save-status={readOnly ? 'readonly' : status}>
      {text}
    </span>
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

/** The node's connections, and a keyboard way to add and remove them. */
function Connections({
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
