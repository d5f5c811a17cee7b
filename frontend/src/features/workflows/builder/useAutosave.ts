// Canvas autosave: the whole draft graph goes to `saveWorkflowGraph` a moment after the last
// edit, with the revision it was edited from. One save at a time; edits made while a save is in
// flight are saved right after it. A CONFLICT stops autosaving until the page reloads the draft.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { SaveCanvasDocument } from '../../../gql/graphql';
import type { CanvasState, Graph } from '../canvasReducer';
import { apiError, type ApiError, type Problem } from '../common';

export type SaveStatus = 'saved' | 'pending' | 'saving' | 'error' | 'conflict';

export interface Autosave {
  status: SaveStatus;
  error: ApiError | null;
  /** Problems of the draft as of the last save. */
  problems: Problem[] | null;
  revision: number;
  /** Saves now (if anything is unsaved); resolves true once the draft on the server is current. */
  flush: () => Promise<boolean>;
  /** After a reload: the draft on the server is `revision`, and the canvas shows it. */
  reset: (revision: number, changes: number) => void;
}

export function useAutosave(
  workflowId: string,
  initialRevision: number,
  canvas: CanvasState,
  { delayMs = 800, enabled = true }: { delayMs?: number; enabled?: boolean } = {},
): Autosave {
  const [, save] = useMutation(SaveCanvasDocument);
  const [status, setStatus] = useState<SaveStatus>('saved');
  const [error, setError] = useState<ApiError | null>(null);
  const [problems, setProblems] = useState<Problem[] | null>(null);
  const [revision, setRevision] = useState(initialRevision);

  const revisionRef = useRef(initialRevision);
  const savedChanges = useRef(canvas.changes);
  const latest = useRef<{ graph: Graph; changes: number }>({ graph: canvas.present, changes: canvas.changes });
  latest.current = { graph: canvas.present, changes: canvas.changes };
  const inflight = useRef<Promise<boolean> | null>(null);
  const blocked = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const run = useCallback(async (): Promise<boolean> => {
    if (blocked.current) return false;
    if (inflight.current) {
      await inflight.current;
      if (blocked.current) return false;
    }
    const { graph, changes } = latest.current;
    if (changes === savedChanges.current) return true;
    setStatus('saving');
    const p = (async () => {
      const result = await save({ input: { id: workflowId, expectedRevision: revisionRef.current, graph } });
      const err = apiError(result.error);
      if (err) {
        setError(err);
        if (err.code === 'CONFLICT') {
          blocked.current = true;
          setStatus('conflict');
        } else setStatus('error');
        return false;
      }
      const w = result.data!.saveWorkflowGraph.workflow;
      revisionRef.current = w.revision;
      setRevision(w.revision);
      savedChanges.current = changes;
      setProblems(w.problems);
      setError(null);
      return true;
    })();
    inflight.current = p;
    const ok = await p;
    inflight.current = null;
    if (ok) {
      if (latest.current.changes !== savedChanges.current) return run();
      setStatus('saved');
    }
    return ok;
  }, [save, workflowId]);

  useEffect(() => {
    if (!enabled || blocked.current) return;
    if (canvas.changes === savedChanges.current) return;
    setStatus((s) => (s === 'saving' ? s : 'pending'));
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      void run();
    }, delayMs);
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, [canvas.changes, delayMs, enabled, run]);

  // Leaving the page with unsaved edits: save them (best effort) and warn the browser.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (latest.current.changes !== savedChanges.current && !blocked.current) {
        void run();
        e.preventDefault();
      }
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => {
      window.removeEventListener('beforeunload', onBeforeUnload);
      if (enabled && latest.current.changes !== savedChanges.current && !blocked.current) void run();
    };
  }, [enabled, run]);

  const flush = useCallback(() => {
    if (timer.current) {
      clearTimeout(timer.current);
      timer.current = null;
    }
    return run();
  }, [run]);

  const reset = useCallback((rev: number, changes: number) => {
    if (timer.current) clearTimeout(timer.current);
    blocked.current = false;
    revisionRef.current = rev;
    savedChanges.current = changes;
    setRevision(rev);
    setError(null);
    setProblems(null);
    setStatus('saved');
  }, []);

  return { status, error, problems, revision, flush, reset };
}
