// The signed-in session: tokens kept in localStorage (this tab and the next), refreshed
// silently shortly before the access token expires or when the API answers UNAUTHENTICATED.
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
}

export function onTokens(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** True when the access token expires within `marginMs`. */
export function expiresSoon(t: Tokens, marginMs = 30_000): boolean {
  return new Date(t.accessTokenExpiresAt).getTime() - Date.now() < marginMs;
}

let inflight: Promise<Tokens | null> | null = null;

/** Exchanges the refresh token for new tokens (one request at a time); null when the session is over. */
export function refreshTokens(): Promise<Tokens | null> {
  if (inflight) return inflight;
  const current = loadTokens();
  if (!current) return Promise.resolve(null);
  inflight = fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({
      query: print(RefreshSessionDocument),
      variables: { refreshToken: current.refreshToken },
    }),
  })
    .then((r) => r.json())
    .then((body) => {
      const t = body?.data?.refreshSession;
      const next: Tokens | null = t
        ? {
            accessToken: t.accessToken,
            accessTokenExpiresAt: t.accessTokenExpiresAt,
            refreshToken: t.refreshToken,
            refreshTokenExpiresAt: t.refreshTokenExpiresAt,
          }
        : null;
      saveTokens(next);
      return next;
    })
    .catch(() => loadTokens())
    .finally(() => {
      inflight = null;
    });
  return inflight;
}
