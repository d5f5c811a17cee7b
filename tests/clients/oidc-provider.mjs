// A small but real OpenID Connect provider (authorization code + PKCE S256) for zygo's
// integration tests, plus a GitHub-style OAuth2 (non-OIDC) mode on the same server.
//
// Usage:   node oidc-provider.mjs [--port N]        (N = 0 or absent: random port)
// Env:     OIDC_CLIENT_SECRET  when set, the client secret must equal it (else any non-empty one)
//          OIDC_DEBUG=1        log each request to stderr (off by default so an undrained
//                              stderr pipe can never block the server)
// Stdout:  exactly one line once listening, then nothing else:
//            {"issuer":"http://127.0.0.1:PORT"}
// Exits on SIGTERM/SIGINT or when stdin closes (spawn it with stdin piped and keep it open).
//
// There is no login UI: the test, acting as the user, appends the identity to the authorize
// URL: sub (required), email, email_verified ("true"/"false", default false), name, and for
// GitHub mode login. Misbehaviour knobs, applied when the ID token is minted:
//   bad_signature=1  sign with an unrelated key but keep the good kid
//   aud=V / iss=V    override the audience / issuer claim
//   expired=1        iat and exp in the past
//   nonce_override=V put V in the nonce claim instead of the request's nonce
//   deny=1           redirect with error=access_denied instead of a code
//   hide_email=1     (GitHub mode) /api/user reports email null; /api/user/emails still has it
//
// Endpoints (OIDC): GET /.well-known/openid-configuration, GET /jwks, GET /authorize,
//   POST /token, GET /userinfo.  GitHub mode: GET /login/oauth/authorize,
//   POST /login/oauth/access_token, GET /api/user, GET /api/user/emails.
//   Test helper: GET /test/stats -> {"tokenRequests","githubTokenRequests","userinfoRequests"}.
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const portArg = process.argv.indexOf('--port');
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 0;
const expectedSecret = process.env.OIDC_CLIENT_SECRET;
const debug = !!process.env.OIDC_DEBUG;

const good = await generateKeyPair('RS256', { extractable: true });
const bad = await generateKeyPair('RS256'); // only for bad_signature=1
const kid = `test-${randomBytes(6).toString('hex')}`;
const publicJwk = { ...(await exportJWK(good.publicKey)), kid, alg: 'RS256', use: 'sig' };

const CODE_TTL_MS = 60_000;
const TOKEN_TTL_S = 3600;
const codes = new Map(); // code -> { mode, clientId, redirectUri, scope, nonce, challenge, user, knobs, expiresAt }
const accessTokens = new Map(); // token -> { user, expiresAt }
const stats = { tokenRequests: 0, githubTokenRequests: 0, userinfoRequests: 0 };
let issuer;

const random = () => randomBytes(24).toString('base64url');
const s256 = (verifier) => createHash('sha256').update(verifier).digest('base64url');

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(text);
}
const fail = (res, status, error, description, headers) =>
  send(res, status, { error, error_description: description }, headers);
function redirect(res, uri, params) {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  res.writeHead(302, { location: url.toString(), 'cache-control': 'no-store' });
  res.end();
}

// GET /authorize and GET /login/oauth/authorize.
function authorize(res, q, mode) {
  const p = Object.fromEntries(q);
  if (p.response_type !== 'code') return fail(res, 400, 'unsupported_response_type', 'response_type must be code');
  if (!p.client_id) return fail(res, 400, 'invalid_request', 'client_id is required');
  try {
    if (!/^https?:$/.test(new URL(p.redirect_uri).protocol)) throw new Error();
  } catch {
    return fail(res, 400, 'invalid_request', 'redirect_uri must be an absolute http(s) URL');
  }
  if (!p.state) return fail(res, 400, 'invalid_request', 'state is required');
  const scope = p.scope ?? '';
  if (mode === 'oidc') {
    if (!scope.split(' ').includes('openid')) return fail(res, 400, 'invalid_scope', 'scope must include openid');
    if (!p.nonce) return fail(res, 400, 'invalid_request', 'nonce is required');
  }
  // PKCE is mandatory for OIDC; in GitHub mode it is optional but enforced when sent.
  if (mode === 'oidc' || p.code_challenge || p.code_challenge_method) {
    if (p.code_challenge_method !== 'S256') return fail(res, 400, 'invalid_request', 'code_challenge_method must be S256');
    if (!/^[A-Za-z0-9_-]{43}$/.test(p.code_challenge ?? '')) return fail(res, 400, 'invalid_request', 'code_challenge must be a base64url SHA-256');
  }
  if (p.deny === '1') return redirect(res, p.redirect_uri, { error: 'access_denied', state: p.state });
  if (!p.sub) return fail(res, 400, 'invalid_request', 'sub (the test user) is required');
  if (p.email_verified !== undefined && !['true', 'false'].includes(p.email_verified))
    return fail(res, 400, 'invalid_request', 'email_verified must be true or false');
  const code = random();
  codes.set(code, {
    mode,
    clientId: p.client_id,
    redirectUri: p.redirect_uri,
    scope,
    nonce: p.nonce,
    challenge: p.code_challenge,
    user: { sub: p.sub, email: p.email, email_verified: p.email_verified === 'true', name: p.name, login: p.login },
    knobs: {
      badSignature: p.bad_signature === '1',
      aud: p.aud,
      iss: p.iss,
      expired: p.expired === '1',
      nonceOverride: p.nonce_override,
      hideEmail: p.hide_email === '1',
    },
    expiresAt: Date.now() + CODE_TTL_MS,
  });
  redirect(res, p.redirect_uri, { code, state: p.state });
}

// Client authentication: client_secret_basic (RFC 6749 §2.3.1: form-urlencoded id and secret
// inside Basic) or client_secret_post. Returns { clientId } or { error }.
function authenticateClient(req, form) {
  let clientId = form.get('client_id');
  let secret = form.get('client_secret');
  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return { error: 'malformed Basic credentials' };
    try {
      const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
      const basicId = dec(decoded.slice(0, i));
      if (clientId && clientId !== basicId) return { error: 'client_id in body and Basic header differ' };
      clientId = basicId;
      secret = dec(decoded.slice(i + 1));
    } catch {
      return { error: 'Basic credentials are not form-urlencoded' };
    }
  }
  if (!clientId) return { error: 'client_id is required' };
  if (!secret) return { error: 'client secret is required' };
  if (expectedSecret !== undefined && secret !== expectedSecret) return { error: 'wrong client secret' };
  return { clientId };
}

// Shared checks of POST /token and POST /login/oauth/access_token.
// Returns { entry } or { status, error, description }.
function redeem(req, form, mode) {
  if (form.get('grant_type') !== 'authorization_code' && !(mode === 'github' && !form.has('grant_type')))
    return { status: 400, error: 'unsupported_grant_type', description: 'grant_type must be authorization_code' };
  const client = authenticateClient(req, form);
  if (client.error) return { status: 401, error: 'invalid_client', description: client.error };
  const code = form.get('code');
  const entry = code && codes.get(code);
  if (!entry || entry.mode !== mode) return { status: 400, error: 'invalid_grant', description: 'unknown or already used code' };
  codes.delete(code); // single use: any attempt with an authenticated client consumes the code
  if (Date.now() > entry.expiresAt) return { status: 400, error: 'invalid_grant', description: 'code expired' };
  if (entry.clientId !== client.clientId) return { status: 400, error: 'invalid_grant', description: 'code was issued to another client' };
  if (form.get('redirect_uri') !== entry.redirectUri && !(mode === 'github' && !form.has('redirect_uri')))
    return { status: 400, error: 'invalid_grant', description: 'redirect_uri does not match' };
  if (entry.challenge) {
    const verifier = form.get('code_verifier') ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || s256(verifier) !== entry.challenge)
      return { status: 400, error: 'invalid_grant', description: 'PKCE verification failed' };
  }
  return { entry };
}

function issueAccessToken(user) {
  const token = random();
  accessTokens.set(token, { user, expiresAt: Date.now() + TOKEN_TTL_S * 1000 });
  return token;
}

async function mintIdToken({ clientId, nonce, user, knobs }) {
  const now = Math.floor(Date.now() / 1000);
  const iat = knobs.expired ? now - 600 : now;
  const exp = knobs.expired ? now - 300 : now + 300;
  const claims = { nonce: knobs.nonceOverride ?? nonce, email_verified: user.email_verified };
  if (user.email !== undefined) claims.email = user.email;
  if (user.name !== undefined) claims.name = user.name;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(knobs.iss ?? issuer)
    .setSubject(user.sub)
    .setAudience(knobs.aud ?? clientId)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(knobs.badSignature ? bad.privateKey : good.privateKey);
}

function bearer(req) {
  const m = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const entry = m && accessTokens.get(m[1]);
  return entry && Date.now() < entry.expiresAt ? entry.user : null;
}
const unauthorized = (res) =>
  fail(res, 401, 'invalid_token', 'missing, unknown or expired access token', { 'www-authenticate': 'Bearer error="invalid_token"' });

// GitHub's numeric user id: sub itself when numeric, else a stable number derived from it.
const githubId = (sub) => (/^\d{1,15}$/.test(sub) ? Number(sub) : createHash('sha256').update(sub).digest().readUIntBE(0, 6));

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return null;
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function handle(req, res) {
  const url = new URL(req.url, issuer);
  const route = `${req.method} ${url.pathname}`;
  if (debug) process.stderr.write(`oidc-provider: ${route}${url.search}\n`);
  switch (route) {
    case 'GET /.well-known/openid-configuration':
      return send(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        userinfo_endpoint: `${issuer}/userinfo`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: ['openid', 'email', 'profile'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        grant_types_supported: ['authorization_code'],
        claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'email', 'email_verified', 'name'],
      });
    case 'GET /jwks':
      return send(res, 200, { keys: [publicJwk] });
    case 'GET /authorize':
      return authorize(res, url.searchParams, 'oidc');
    case 'GET /login/oauth/authorize':
      return authorize(res, url.searchParams, 'github');
    case 'POST /token': {
      stats.tokenRequests += 1;
      const form = await readForm(req);
      if (!form) return fail(res, 400, 'invalid_request', 'body must be application/x-www-form-urlencoded');
      const r = redeem(req, form, 'oidc');
      if (r.error) return fail(res, r.status, r.error, r.description);
      return send(res, 200, {
        access_token: issueAccessToken(r.entry.user),
        token_type: 'Bearer',
        expires_in: TOKEN_TTL_S,
        id_token: await mintIdToken(r.entry),
        scope: r.entry.scope,
      });
    }
    case 'POST /login/oauth/access_token': {
      // Like GitHub: errors are HTTP 200 with an "error" field; JSON only when asked for.
      stats.githubTokenRequests += 1;
      const json = (req.headers.accept ?? '').includes('application/json');
      const reply = (body) => send(res, 200, json ? body : new URLSearchParams(body).toString());
      const form = await readForm(req);
      if (!form) return reply({ error: 'invalid_request', error_description: 'body must be application/x-www-form-urlencoded' });
      const r = redeem(req, form, 'github');
      if (r.error) {
        const error = { invalid_client: 'incorrect_client_credentials', invalid_grant: 'bad_verification_code' }[r.error] ?? r.error;
        return reply({ error, error_description: r.description });
      }
      return reply({ access_token: issueAccessToken({ ...r.entry.user, ...r.entry.knobs }), token_type: 'bearer', scope: r.entry.scope });
    }
    case 'GET /userinfo': {
      stats.userinfoRequests += 1;
      const user = bearer(req);
      if (!user) return unauthorized(res);
      return send(res, 200, { sub: user.sub, email: user.email, email_verified: user.email_verified, name: user.name });
    }
    case 'GET /api/user': {
      const user = bearer(req);
      if (!user) return unauthorized(res);
      return send(res, 200, {
        id: githubId(user.sub),
        login: user.login ?? user.sub,
        name: user.name ?? null,
        email: user.hideEmail ? null : (user.email ?? null),
      });
    }
    case 'GET /api/user/emails': {
      const user = bearer(req);
      if (!user) return unauthorized(res);
      const emails = user.email ? [{ email: user.email, primary: true, verified: user.email_verified, visibility: 'public' }] : [];
      return send(res, 200, emails);
    }
    case 'GET /test/stats':
      return send(res, 200, stats);
    default:
      return fail(res, 404, 'not_found', route);
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) fail(res, 500, 'server_error', String(err?.message ?? err));
    else res.destroy();
  });
});
server.listen(port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

const exit = () => process.exit(0);
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
process.stdin.on('end', exit);
process.stdin.on('close', exit);
process.stdin.on('error', exit);
process.stdin.resume();
