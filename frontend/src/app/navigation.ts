// Where to go after signing in: the `next` parameter, when it is a path of this app.
export function safeNext(next: string | null | undefined, fallback = '/'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}

const OAUTH_NEXT = 'zygo.oauth.next';
export function rememberOAuthNext(next: string) {
  sessionStorage.setItem(OAUTH_NEXT, next);
}
export function takeOAuthNext(): string {
  const n = sessionStorage.getItem(OAUTH_NEXT);
  sessionStorage.removeItem(OAUTH_NEXT);
  return safeNext(n);
}
