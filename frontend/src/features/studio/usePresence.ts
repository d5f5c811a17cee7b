// Live presence of one document: who is here (the PRESENT snapshot, then JOINED / LEFT /
// UPDATED from `documentPresence`), and this tab's own cursor sent as `updatePresence` on the
// subscription's own WebSocket — a light message the server ties to this tab's participant.
// Sends are paced to at most five a second (the server coalesces to twenty), the latest winning;
// a heartbeat repeats the last state while the tab is open, and a hidden tab turns IDLE.
import { useCallback, useEffect, useRef } from 'react';
import { print } from 'graphql';
import { useClient, useSubscription } from 'urql';
import {
  DocumentPresenceDocument,
  UpdatePresenceDocument,
  type DocumentPresenceSubscription,
  type PresenceStatus,
} from '../../gql/graphql';
import type { ZygoClient } from '../../app/client';

export type Participant = DocumentPresenceSubscription['documentPresence']['participants'][number];

/** What this tab tells the others. */
export interface PresenceState {
  sectionId: string | null;
  cursor: { anchor: number; head: number } | null;
  status: PresenceStatus;
}

/** Sends at most this often (ms): five a second keeps a fast typist well inside the API's
 * per-user rate limit (ZYGO_RATE_LIMIT_PER_MINUTE, 600 by default) with room for autosaves. */
const PACE = 200;
/** Repeats the last state this often (ms): well within the server's 30 s TTL. */
const HEARTBEAT = 10_000;

type Present = Map<string, Participant>;

function apply(prev: Present | undefined, data: DocumentPresenceSubscription): Present {
  const e = data.documentPresence;
  if (e.kind === 'PRESENT') return new Map(e.participants.map((p) => [p.id, p]));
  const next = new Map(prev ?? []);
  for (const p of e.participants) {
    if (e.kind === 'LEFT') next.delete(p.id);
    else next.set(p.id, p);
  }
  return next;
}

export function usePresence(documentId: string) {
  const client = useClient() as ZygoClient;
  const [res] = useSubscription({ query: DocumentPresenceDocument, variables: { documentId } }, apply);
  const present = res.data ?? new Map<string, Participant>();
  const participants = [...present.values()];
  const connected = res.data != null;

  const last = useRef<PresenceState>({ sectionId: null, cursor: null, status: 'ACTIVE' });
  const pending = useRef(false);
  const lastSent = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const flush = useCallback(() => {
    timer.current = null;
    pending.current = false;
    lastSent.current = Date.now();
    const s = last.current;
    void client.overSocket(print(UpdatePresenceDocument), {
      documentId,
      input: { sectionId: s.sectionId, cursor: s.cursor, status: s.status },
    });
  }, [client, documentId]);

  /** Sets this tab's presence (paced; the latest state wins). */
  const update = useCallback(
    (s: Partial<PresenceState>) => {
      last.current = { ...last.current, ...s };
      if (!last.current.sectionId) last.current.cursor = null;
      pending.current = true;
      if (timer.current) return;
      const wait = Math.max(0, lastSent.current + PACE - Date.now());
      timer.current = setTimeout(flush, wait);
    },
    [flush],
  );

  useEffect(() => {
    if (!connected) return;
    const beat = setInterval(() => {
      if (!pending.current) flush();
    }, HEARTBEAT);
    const visibility = () => update({ status: document.visibilityState === 'hidden' ? 'IDLE' : 'ACTIVE' });
    document.addEventListener('visibilitychange', visibility);
    return () => {
      clearInterval(beat);
      document.removeEventListener('visibilitychange', visibility);
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [connected, flush, update]);

  return { participants, connected, error: res.error, update };
}
