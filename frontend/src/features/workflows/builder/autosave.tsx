// The autosave part of the builder: the draft goes to the server a moment after each edit
// (`useAutosave`), the problems it answers with are shown on the nodes, a CONFLICT offers to
// reload the draft, and the toolbar shows where saving stands.
import { useEffect, useMemo, useState, type Dispatch } from 'react';
import { useClient } from 'urql';
import { WorkflowBuilderDocument, type WorkflowBuilderQuery } from '../../../gql/graphql';
import { graphFromJson, type CanvasAction, type CanvasState } from '../canvasReducer';
import type { Problem } from '../common';
import { useAutosave, type Autosave, type SaveStatus } from './useAutosave';

export interface BuilderSave {
  autosave: Autosave;
  /** The workflow's problems: from the last save, validation or run, and a failed save's own. */
  problems: Problem[];
  problemsByNode: Map<string, Problem[]>;
  setProblems: (problems: Problem[]) => void;
  /** After a conflict: loads the draft from the server, dropping unsaved edits. */
  reload: () => Promise<void>;
  reloading: boolean;
}

export function useBuilderSave({
  workflow,
  canvas,
  dispatch,
  enabled,
  onReloaded,
}: {
  workflow: WorkflowBuilderQuery['workflow'];
  canvas: CanvasState;
  dispatch: Dispatch<CanvasAction>;
  enabled: boolean;
  /** The workflow as reloaded (its name may have changed too). */
  onReloaded: (workflow: WorkflowBuilderQuery['workflow']) => void;
}): BuilderSave {
  const client = useClient();
  const autosave = useAutosave(workflow.id, workflow.revision, canvas, { enabled });
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
    onReloaded(w);
  };

  return { autosave, problems: allProblems, problemsByNode, setProblems, reload, reloading };
}

export function SaveIndicator({ status, readOnly }: { status: SaveStatus; readOnly: boolean }) {
  const text = readOnly
    ? 'Read only'
    : { saved: 'All changes saved', pending: 'Unsaved changes', saving: 'Saving…', error: 'Not saved', conflict: 'Conflict' }[status];
  return (
    <span className={`wf-save wf-save-${status}`} role="status" aria-live="polite" data-save-status={readOnly ? 'readonly' : status}>
      {text}
    </span>
  );
}

/** A conflict (with the way out: reload) or a failed save (with a retry). */
export function SaveAlerts({ save }: { save: BuilderSave }) {
  const { autosave, reload, reloading } = save;
  return (
    <>
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
    </>
  );
}
