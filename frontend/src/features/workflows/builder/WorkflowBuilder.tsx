// The builder at /o/:slug/workflows/:workflowId, put together from its parts: the toolbar (Run,
// Publish, Validate, undo/redo; `Toolbar.tsx`), the palette of node types (`Palette.tsx`), the
// React Flow canvas (`Canvas.tsx`), the inspector with the node's settings and the problems
// (`Inspector.tsx`), and autosave with its conflict notice (`autosave.tsx`). The graph being
// edited is the canvas reducer's state (`../canvasReducer.ts`), with its undo history.
import { useEffect, useReducer, useState } from 'react';
import { useParams } from 'react-router';
import { useQuery } from 'urql';
import { ReactFlowProvider } from '@xyflow/react';
import { WorkflowBuilderDocument, type WorkflowBuilderQuery } from '../../../gql/graphql';
import { useTenant } from '../../../app/tenant';
import { useDocumentTitle } from '../../../app/theme';
import { canvasReducer, graphFromJson, initialCanvas } from '../canvasReducer';
import { ErrorNotice, Loading, useNodeTypes, type NodeTypeInfo } from '../common';
import { SaveAlerts, useBuilderSave } from './autosave';
import { BuilderCanvas, useFlowCanvas, useUndoKeys } from './Canvas';
import { Inspector } from './Inspector';
import { Palette } from './Palette';
import { Toolbar } from './Toolbar';
import '../workflows.css';

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
  const canEdit = tenant.can('workflow.edit') && !workflow.archived;
  const canRun = tenant.can('workflow.execute') && !workflow.archived;
  const [name, setName] = useState(workflow.name);
  useDocumentTitle(name);

  const [canvas, dispatch] = useReducer(canvasReducer, workflow.graph.json, (json) => initialCanvas(graphFromJson(json)));
  const save = useBuilderSave({ workflow, canvas, dispatch, enabled: canEdit, onReloaded: (w) => setName(w.name) });
  const flow = useFlowCanvas({ canvas, dispatch, types, problemsByNode: save.problemsByNode, canEdit });
  useUndoKeys(dispatch);

  return (
    <div className="wf-builder">
      <Toolbar workflow={workflow} name={name} setName={setName} canEdit={canEdit} canRun={canRun} canvas={canvas} dispatch={dispatch} save={save}>
        <SaveAlerts save={save} />
      </Toolbar>
      <div className={`wf-builder-body${canEdit ? '' : ' wf-readonly'}`}>
        {canEdit && <Palette types={types} onAdd={flow.addAtCentre} />}
        <BuilderCanvas flow={flow} empty={canvas.present.nodes.length === 0} canEdit={canEdit} dispatch={dispatch} />
        <Inspector
          graph={canvas.present}
          selectedIds={flow.selectedIds}
          types={types}
          problems={save.problems}
          problemsByNode={save.problemsByNode}
          canEdit={canEdit}
          dispatch={dispatch}
          onSelect={flow.selectNode}
        />
      </div>
    </div>
  );
}
