// A local stand-in for PayPal's REST API, approval page and webhooks, speaking the request,
// answer and webhook shapes of the calls Zygo makes. Only Node built-ins.
//
// Usage:  node paypal-fake.mjs [--port N] --client-id ID --client-secret S --webhook-id WH
// Stdout: one line once listening: {"port":N}; exits when stdin closes.
//
//   POST /v1/oauth2/token                  Basic ID:S, grant_type=client_credentials -> {access_token, token_type, expires_in}
//   POST /v3/vault/setup-tokens            {customer:{id}, payment_source:{paypal:{usage_type, experience_context:
//                                          {return_url, cancel_url}}}} -> 201 {id, customer, status:"PAYER_ACTION_REQUIRED",
//                                          links:[{rel:"approve", href}]}
//   POST /v3/vault/payment-tokens          {payment_source:{token:{id, type:"SETUP_TOKEN"}}} -> 201 {id, customer:{id},
//                                          payment_source:{paypal:{email_address}}}; 422 UNPROCESSABLE_ENTITY
//                                          (SETUP_TOKEN_NOT_APPROVED) before approval. `PayPal-Request-Id` replays.
//   POST /v2/checkout/orders               {intent:"CAPTURE", purchase_units:[{custom_id, amount:{currency_code, value}}],
//                                          payment_source:{paypal:{vault_id}}} -> 201 {id, status:"COMPLETED",
//                                          purchase_units:[{payments:{captures:[{id, status:"COMPLETED", custom_id, amount}]}}]}
//                                          or 422 {name:"UNPROCESSABLE_ENTITY", details:[{issue:"INSTRUMENT_DECLINED"}]}.
//                                          `PayPal-Request-Id`: the same id answers the same order, nothing captured twice.
//   POST /v1/notifications/verify-webhook-signature  {auth_algo, cert_url, transmission_id, transmission_sig,
//                                          transmission_time, webhook_id, webhook_event} -> {verification_status:
//                                          "SUCCESS"} only for an event this fake delivered, unchanged, to webhook WH.
// Approval page: GET /approve/:token (a form), POST /approve/:token account=<email> approves and redirects 303 to
//   return_url with approval_token_id=<token>; an account containing "declines" makes later captures decline.
// Controls: POST /_config {webhookUrl}; POST /_deliver {event_type, resource} delivers a signed event and answers
//   {status, id}; POST /_redeliver sends the last delivery again, unchanged; GET /_requests.
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const CLIENT = arg('--client-id') ?? 'client';
const SECRET = arg('--client-secret') ?? 'secret';
const WEBHOOK_ID = arg('--webhook-id') ?? 'WH-FAKE';
const port = Number(arg('--port') ?? 0);
const rid = (p) => `${p}${randomBytes(8).toString('hex').toUpperCase()}`;

const state = { webhookUrl: null, tokens: new Set(), setups: new Map(), vault: new Map(), orders: new Map(), replays: new Map(), transmissions: new Map(), requests: [] };
let base = '';

const readBody = (req) =>
  new Promise((resolve) => {
    let d = '';
    req.on('data', (c) => (d += c));
    req.on('end', () => resolve(d));
  });
const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const unprocessable = (issue) => [422, { name: 'UNPROCESSABLE_ENTITY', message: 'The requested action could not be performed.', details: [{ issue }] }];

function api(path, body, requestId) {
  const replayKey = requestId && `${path} ${requestId}`;
  if (replayKey && state.replays.has(replayKey)) return state.replays.get(replayKey);
  let out;
  if (path === '/v3/vault/setup-tokens') {
    const t = { id: rid('5C'), customer: { id: body.customer?.id ?? rid('C') }, status: 'PAYER_ACTION_REQUIRED', ctx: body.payment_source?.paypal?.experience_context ?? {} };
    state.setups.set(t.id, t);
    out = [201, { id: t.id, customer: t.customer, status: t.status, payment_source: { paypal: {} }, links: [{ rel: 'approve', href: `${base}/approve/${t.id}`, method: 'GET' }, { rel: 'self', href: `${base}/v3/vault/setup-tokens/${t.id}`, method: 'GET' }] }];
  } else if (path === '/v3/vault/payment-tokens') {
    const s = state.setups.get(body.payment_source?.token?.id);
    if (!s) out = [404, { name: 'RESOURCE_NOT_FOUND', details: [{ issue: 'INVALID_RESOURCE_ID' }] }];
    else if (s.status !== 'APPROVED') out = unprocessable('SETUP_TOKEN_NOT_APPROVED');
    else {
      const v = { id: rid('8K'), customer: s.customer, declines: s.declines, email: s.email };
      state.vault.set(v.id, v);
      out = [201, { id: v.id, customer: v.customer, payment_source: { paypal: { email_address: v.email } } }];
    }
  } else if (path === '/v2/checkout/orders') {
    const unit = body.purchase_units?.[0] ?? {};
    const v = state.vault.get(body.payment_source?.paypal?.vault_id);
    if (!v) out = unprocessable('PAYMENT_SOURCE_INFO_CANNOT_BE_VERIFIED');
    else if (v.declines) out = unprocessable('INSTRUMENT_DECLINED');
    else {
      const capture = { id: rid('3C'), status: 'COMPLETED', custom_id: unit.custom_id ?? null, amount: unit.amount };
      const o = { id: rid('5O'), status: 'COMPLETED', intent: body.intent, purchase_units: [{ reference_id: unit.reference_id ?? 'default', custom_id: unit.custom_id ?? null, amount: unit.amount, payments: { captures: [capture] } }] };
      state.orders.set(o.id, o);
      out = [201, o];
    }
  } else if (path === '/v1/notifications/verify-webhook-signature') {
    const t = state.transmissions.get(body.transmission_id);
    const ok = t && t.sig === body.transmission_sig && body.webhook_id === WEBHOOK_ID && JSON.stringify(body.webhook_event) === t.body;
    out = [200, { verification_status: ok ? 'SUCCESS' : 'FAILURE' }];
  } else out = [404, { name: 'RESOURCE_NOT_FOUND', message: `No route ${path}` }];
  if (replayKey && out[0] < 500) state.replays.set(replayKey, out);
  return out;
}

let last = null;
async function post(body, headers) {
  try {
    const r = await fetch(state.webhookUrl, { method: 'POST', headers, body });
    return r.status;
  } catch {
    return -1;
  }
}

async function deliver(eventType, resource) {
  const event = { id: rid('WH-'), event_version: '1.0', create_time: new Date().toISOString(), resource_type: 'capture', event_type: eventType, summary: eventType, resource };
  const body = JSON.stringify(event);
  const transmissionId = rid('T');
  const sig = createHash('sha256').update(`${transmissionId}|${body}`).digest('base64');
  state.transmissions.set(transmissionId, { sig, body });
  const headers = {
    'content-type': 'application/json',
    'paypal-auth-algo': 'SHA256withRSA',
    'paypal-cert-url': `${base}/v1/notifications/certs/CERT-FAKE`,
    'paypal-transmission-id': transmissionId,
    'paypal-transmission-sig': sig,
    'paypal-transmission-time': new Date().toISOString(),
  };
  last = { body, headers };
  return { status: await post(body, headers), id: event.id };
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const text = await readBody(req);
  let m;
  if (url.pathname === '/_config') {
    state.webhookUrl = JSON.parse(text).webhookUrl;
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_requests') return send(res, 200, state.requests);
  if (url.pathname === '/_deliver') {
    const { event_type, resource } = JSON.parse(text);
    return send(res, 200, await deliver(event_type, resource));
  }
  if (url.pathname === '/_redeliver') {
    // PayPal retries a delivery with the same event and transmission.
    return send(res, 200, { status: last ? await post(last.body, last.headers) : 0 });
  }
  if ((m = url.pathname.match(/^\/approve\/([\w-]+)$/))) {
    const s = state.setups.get(m[1]);
    if (!s) return send(res, 404, { name: 'RESOURCE_NOT_FOUND' });
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><title>PayPal (fake)</title><h1>Log in to PayPal</h1><form method="post"><label>Email <input name="account" value="payer@example.com"></label><button>Agree and continue</button></form><a href="${s.ctx.cancel_url}">Cancel</a>`);
    }
    const account = new URLSearchParams(text).get('account') ?? 'payer@example.com';
    Object.assign(s, { status: 'APPROVED', email: account, declines: account.includes('declines') });
    const back = new URL(s.ctx.return_url);
    back.searchParams.set('approval_token_id', s.id);
    back.searchParams.set('approval_session_id', rid('S'));
    res.writeHead(303, { location: back.toString() });
    return res.end();
  }
  if (url.pathname === '/v1/oauth2/token') {
    const expected = 'Basic ' + Buffer.from(`${CLIENT}:${SECRET}`).toString('base64');
    if (req.headers.authorization !== expected) return send(res, 401, { error: 'invalid_client', error_description: 'Client Authentication failed' });
    const token = rid('A21AA');
    state.tokens.add(token);
    return send(res, 200, { scope: 'https://uri.paypal.com/services/vault', access_token: token, token_type: 'Bearer', app_id: 'APP-FAKE', expires_in: 32400 });
  }
  if (url.pathname.startsWith('/v1/') || url.pathname.startsWith('/v2/') || url.pathname.startsWith('/v3/')) {
    const body = text ? JSON.parse(text) : {};
    const requestId = req.headers['paypal-request-id'] ?? null;
    state.requests.push({ method: req.method, path: url.pathname, requestId, body });
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!state.tokens.has(token)) return send(res, 401, { error: 'invalid_token', error_description: 'Token signature verification failed' });
    const [status, out] = api(url.pathname, body, requestId);
    return send(res, status, out);
  }
  send(res, 404, { name: 'RESOURCE_NOT_FOUND' });
});
server.listen(port, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
