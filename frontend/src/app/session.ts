// The signed-in session: tokens kept in localStorage (this tab and the next), refreshed
// silently shortly before the access token expires or when the API answers UNAUTHENTICATED.
//
// Refresh tokens are single-use and presenting a used one ends the session, so refreshes are
// serialised across tabs (Web Locks when available): a tab that waited re-reads the stored
// tokens and uses what another tab already obtained.
import { RefreshSessionDocument } from '../gql/graphql';
import { print } from 'graphql';

export interface Tokens {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
}

const KEY = 'zygo.session';
type Listener = (t: Tokens | null) => void;
const listeners = new Set<Listener>();

export function loadTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

export function saveTokens(t: Tokens | null) {
  if (t) localStorage.setItem(KEY, JSON.stringify(t));
  else localStorage.removeItem(KEY);
  listeners.forEach((l) => l(t));
  scheduleRefresh(t);
}

/** Picks the four token fields out of an `AuthPayload`-like object. */
export function tokensFrom(p: Tokens): Tokens {
  return {
    accessToken: p.accessToken,
    accessTokenExpiresAt: p.accessTokenExpiresAt,
    refreshToken: p.refreshToken,
    refreshTokenExpiresAt: p.refreshTokenExpiresAt,
  };
}

export function onTokens(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** True when a session is stored (it may still need a refresh). */
export function isSignedIn(): boolean {
  const t = loadTokens();
  return t != null && new Date(t.refreshTokenExpiresAt).getTime() > Date.now();
}

/** True when the access token expires within `marginMs`. */
export function expiresSoon(t: Tokens, marginMs = 30_000): boolean {
  return new Date(t.accessTokenExpiresAt).getTime() - Date.now() < marginMs;
}

// Other tabs sign in, refresh and sign out too.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key !== KEY) return;
    const t = loadTokens();
    listeners.forEach((l) => l(t));
    scheduleRefresh(t);
  });
}

// Refresh a minute before the access token expires, so long-lived pages (and their
// WebSockets) keep working without a request failing first.
let timer: ReturnType<typeof setTimeout> | undefined;
function scheduleRefresh(t: Tokens | null) {
  if (typeof window === 'undefined') return;
  clearTimeout(timer);
  if (!t) return;
  const due = new Date(t.accessTokenExpiresAt).getTime() - Date.now() - 60_000;
  timer = setTimeout(() => void refreshTokens(), Math.max(due, 1_000));
}
scheduleRefresh(loadTokens());

let inflight: Promise<Tokens | null> | null = null;

async function doRefresh(seen: string | undefined): Promise<Tokens | null> {
  const current = loadTokens();
  if (!current) return null;
  // Another tab refreshed while we waited for the lock.
  if (current.refreshToken !== seen) return current;
  try {
    const r = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        query: print(RefreshSessionDocument),
        variables: { refreshToken: current.refreshToken },
      }),
    });
    const body = await r.json();
    const t = body?.data?.refreshSession;
    if (!t) {
      const code = body?.errors?.[0]?.extensions?.code;
      // Rate limiting or a server hiccup: keep the session and try again later.
      if (code === 'RATE_LIMITED' || code === 'INTERNAL' || r.status >= 500) return loadTokens();
      saveTokens(null);
      return null;
    }
    const next = tokensFrom(t);
    saveTokens(next);
    return next;
  } catch {
    return loadTokens(); // offline: keep the session
  }
}

/** Exchanges the refresh token for new tokens (one request at a time); null when the session is over. */
export function refreshTokens(): Promise<Tokens | null> {
  if (inflight) return inflight;
  const seen = loadTokens()?.refreshToken;
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  const run = locks ? locks.request('zygo.session.refresh', () => doRefresh(seen)) : doRefresh(seen);
  inflight = (run as Promise<Tokens | null>).finally(() => {
    inflight = null;
  });
  return inflight;
}
