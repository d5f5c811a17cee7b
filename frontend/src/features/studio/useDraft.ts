// The editor's draft of one document: the sections' text as typed here, autosave (each save
// carries the revision it was made from), conflicts (a stale save whose section changed
// elsewhere opens the conflict dialog; one whose section did not is replayed on the new
// revision silently), section locks (taken on focus, renewed while held, released on blur),
// and the live `documentEvents` that bring others' edits and locks in.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  AcquireSectionLockDocument,
  DocumentDocument,
  DocumentEventsDocument,
  ReleaseSectionLockDocument,
  RenewSectionLockDocument,
  UpdateSectionDocument,
  type DocumentQuery,
} from '../../gql/graphql';
import { errorCode, errorMessage } from '../../app/client';
import { sectionContent, sectionText, textOf } from './text';

export type Doc = NonNullable<DocumentQuery['document']>;
export type Section = Doc['pages'][number]['sections'][number];

/** What the autosave indicator says. */
export type SaveStatus = 'saved' | 'unsaved' | 'saving' | 'conflict' | 'error';

/** A stale save whose section changed elsewhere: the user picks a side. */
export interface Conflict {
  sectionId: string;
  mine: string;
  theirs: string;
  currentRevision: number;
}

/** Typing pauses this long (ms) before a save. */
const SAVE_AFTER = 600;
/** Held locks are renewed this often (ms); they hold 60 s by default. */
const RENEW_EVERY = 20_000;

interface SnapshotSection {
  id: string;
  content: unknown;
}

/** The text of `sectionId` in a CONFLICT's `current` snapshot. */
function textIn(current: unknown, sectionId: string): string | null {
  const pages = (current as { pages?: { sections?: (SnapshotSection & { kind?: string })[] }[] })?.pages ?? [];
  for (const p of pages)
    for (const s of p.sections ?? []) if (s.id === sectionId) return sectionText(s.kind ?? 'TEXT', s.content) ?? textOf(s.content);
  return null;
}

export function useDraft(documentId: string, myUserId: string | null) {
  const [res, reexecute] = useQuery({ query: DocumentDocument, variables: { id: documentId }, requestPolicy: 'network-only' });
  const doc = res.data?.document ?? null;
  const reload = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);

  const revision = useRef(0);
  /** Server text of each section as of `revision`. */
  const base = useRef(new Map<string, string>());
  const [texts, setTexts] = useState(new Map<string, string>());
  const dirty = useRef(new Set<string>());
  /** The sections as last read (their kind and content shape). */
  const sections = useRef(new Map<string, Section>());
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const [status, setStatus] = useState<SaveStatus>('saved');
  const [problem, setProblem] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [mine, setMine] = useState(new Set<string>());

  // A fresh read of the document: take every section nobody is typing in here.
  useEffect(() => {
    if (!doc) return;
    revision.current = Math.max(revision.current, doc.revision);
    setTexts((prev) => {
      const next = new Map(prev);
      for (const p of doc.pages)
        for (const s of p.sections) {
          const t = sectionText(s.kind, s.content);
          if (t === null) continue;
          sections.current.set(s.id, s);
          base.current.set(s.id, t);
          if (!dirty.current.has(s.id)) next.set(s.id, t);
        }
      return next;
    });
  }, [doc]);

  // Others' edits and lock changes: read the document again.
  const [events] = useSubscription({ query: DocumentEventsDocument, variables: { documentId } });
  useEffect(() => {
    const e = events.data?.documentEvents;
    if (!e) return;
    if (e.kind === 'EDITED' && e.userId === myUserId && e.revision <= revision.current) return;
    reload();
  }, [events.data, myUserId, reload]);

  const [, updateSection] = useMutation(UpdateSectionDocument);
  const save = useCallback(
    async (sectionId: string, text: string, baseRevision = revision.current): Promise<void> => {
      setStatus('saving');
      const s = sections.current.get(sectionId);
      const content = sectionContent(s?.kind ?? 'TEXT', text, s?.content);
      const r = await updateSection({ input: { id: sectionId, baseRevision, content } });
      if (r.data) {
        revision.current = Math.max(revision.current, r.data.updateSection.document.revision);
        base.current.set(sectionId, text);
        if (textsRef.current.get(sectionId) === text) dirty.current.delete(sectionId);
        setStatus(dirty.current.size ? 'unsaved' : 'saved');
        setProblem(null);
        return;
      }
      const err = r.error?.graphQLErrors?.[0];
      if (errorCode(r.error) === 'CONFLICT') {
        const ext = err?.extensions as { currentRevision: number; current: unknown };
        const theirs = textIn(ext.current, sectionId);
        if (theirs === null) {
          setStatus('error');
          setProblem('This section was deleted by someone else.');
          return;
        }
        if (theirs === base.current.get(sectionId)) {
          // Only other sections changed: replay this edit on the new revision.
          revision.current = ext.currentRevision;
          return save(sectionId, text, ext.currentRevision);
        }
        setStatus('conflict');
        setConflict({ sectionId, mine: text, theirs, currentRevision: ext.currentRevision });
        return;
      }
      setStatus('error');
      setProblem(errorMessage(r.error) ?? 'The section could not be saved.');
    },
    [updateSection],
  );
  const textsRef = useRef(texts);
  textsRef.current = texts;

  /** The user typed: keep the text and save it once typing pauses. */
  const edit = useCallback(
    (sectionId: string, text: string) => {
      dirty.current.add(sectionId);
      setTexts((prev) => new Map(prev).set(sectionId, text));
      setStatus('unsaved');
      const old = timers.current.get(sectionId);
      if (old) clearTimeout(old);
      timers.current.set(
        sectionId,
        setTimeout(() => {
          timers.current.delete(sectionId);
          void save(sectionId, textsRef.current.get(sectionId) ?? text);
        }, SAVE_AFTER),
      );
    },
    [save],
  );

  /** Saves a section's pending text now (before its lock is given up). */
  const flush = useCallback(
    async (sectionId: string) => {
      const t = timers.current.get(sectionId);
      if (!t) return;
      clearTimeout(t);
      timers.current.delete(sectionId);
      await save(sectionId, textsRef.current.get(sectionId) ?? '');
    },
    [save],
  );

  /** Settles a conflict: keep this tab's text (saved on the current revision) or take theirs. */
  const resolve = useCallback(
    async (choice: 'mine' | 'theirs') => {
      if (!conflict) return;
      setConflict(null);
      revision.current = conflict.currentRevision;
      base.current.set(conflict.sectionId, conflict.theirs);
      if (choice === 'mine') {
        await save(conflict.sectionId, conflict.mine, conflict.currentRevision);
      } else {
        dirty.current.delete(conflict.sectionId);
        setTexts((prev) => new Map(prev).set(conflict.sectionId, conflict.theirs));
        setStatus('saved');
        reload();
      }
    },
    [conflict, save, reload],
  );

  const [, acquire] = useMutation(AcquireSectionLockDocument);
  const [, release] = useMutation(ReleaseSectionLockDocument);
  const [, renew] = useMutation(RenewSectionLockDocument);

  /** Takes the section's lock; the refusal's message when someone else holds it. */
  const lock = useCallback(
    async (sectionId: string): Promise<string | null> => {
      const r = await acquire({ sectionId });
      if (r.error) return errorMessage(r.error) ?? 'The section is locked.';
      setMine((m) => new Set(m).add(sectionId));
      return null;
    },
    [acquire],
  );

  /** Saves what is pending and gives the lock up. */
  const unlock = useCallback(
    async (sectionId: string) => {
      await flush(sectionId);
      setMine((m) => {
        const next = new Set(m);
        next.delete(sectionId);
        return next;
      });
      await release({ sectionId });
    },
    [flush, release],
  );

  useEffect(() => {
    if (mine.size === 0) return;
    const t = setInterval(() => mine.forEach((id) => void renew({ sectionId: id })), RENEW_EVERY);
    return () => clearInterval(t);
  }, [mine, renew]);

  /** The revision the next structural edit (a new page or section) is based on. */
  const currentRevision = useCallback(() => revision.current, []);

  return { doc, currentRevision, error: res.error, fetching: res.fetching, texts, status, problem, conflict, mine, edit, lock, unlock, resolve, reload };
}
