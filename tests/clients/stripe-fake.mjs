// A local stand-in for Stripe's API, hosted Checkout page and webhooks, speaking Stripe's
// real request and answer shapes for the calls Zygo makes. Only Node built-ins.
//
// Usage:  node stripe-fake.mjs [--port N] --key sk_test_x --webhook-secret whsec_x
// Stdout: one line once listening: {"port":N}; exits when stdin closes.
//
// API (form-encoded bodies with Stripe's bracket notation, `Authorization: Bearer <key>`;
// a wrong key is 401 {"error":{"type":"invalid_request_error","code":"api_key_invalid"}}):
//   POST /v1/customers            -> {id:"cus_…", object:"customer", name, metadata}
//   POST /v1/checkout/sessions    mode=setup only -> {id:"cs_…", object:"checkout.session",
//                                   mode, status:"open", customer, url, metadata, setup_intent:null}
//   GET  /v1/setup_intents/:id    -> {id:"seti_…", object:"setup_intent", status, customer, payment_method}
//                                 with `expand[]=payment_method`: payment_method is the object
//                                 {id:"pm_…", object:"payment_method", type:"card", customer,
//                                 card:{brand, last4, exp_month, exp_year, funding, country}}
//   POST /v1/payment_intents      off_session+confirm -> 200 {id:"pi_…", object:"payment_intent",
//                                   status:"succeeded", amount, currency, customer, metadata}
//                                 or, for a card that declines, 402 {error:{type:"card_error",
//                                   code:"card_declined", decline_code:"generic_decline", message,
//                                   payment_intent:{…status:"requires_payment_method"}}}
//   POST /v1/refunds              payment_intent, amount (default: what is left) -> 200 {id:"re_…",
//                                   object:"refund", amount, currency, payment_intent, status:"succeeded"};
//                                 400 {error:{type:"invalid_request_error", code:"charge_already_refunded"}}
//                                   when nothing is left, code "amount_too_large" beyond what is left
//   `Idempotency-Key`: a repeated POST with the same key answers the first answer again, and
//   does nothing twice (Stripe's idempotency).
// Hosted page:
//   GET  /pay/:session            an HTML form asking for a card number
//   POST /pay/:session            card=<number>, expiry=MM/YY (default 12/30): saves the card (pm_…, seti_… succeeded), completes
//                                 the session, delivers `checkout.session.completed` to the webhook
//                                 URL signed `Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`,
//                                 waits for the answer, then 303 to success_url. Cards:
//                                 4242424242424242 charges succeed; 4000000000000341 attaches but
//                                 every charge declines.
// Test controls:
//   POST /_config   {"webhookUrl": "..."}    where events are delivered
//   POST /_decline  {"customer": "cus_…"}    later charges of this customer's cards decline
//   POST /_outage   {"requests": n}          the next n API requests answer 500 {error:{type:"api_error"}}
//                                            (recorded, nothing done: Stripe's own outage answer)
//   GET  /_requests                          every API request: {method, path, idempotencyKey, body}
//   GET  /_events                            every delivered event with the answer's status
//   GET  /_refunds                           every refund made
//   POST /_lose_next {"path": "/v1/refunds"} the next request to that path is performed but its
//                                            connection dropped instead of answered (a lost answer)
import { createServer } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const KEY = arg('--key') ?? 'sk_test_fake';
const SECRET = arg('--webhook-secret') ?? 'whsec_fake';
const port = Number(arg('--port') ?? 0);

const rid = (prefix) => `${prefix}_${randomBytes(12).toString('hex')}`;
const state = {
  webhookUrl: null,
  customers: new Map(),
  sessions: new Map(),
  setupIntents: new Map(),
  paymentMethods: new Map(),
  paymentIntents: new Map(),
  idempotent: new Map(),
  declining: new Set(),
  outage: 0,
  requests: [],
  events: [],
  refunds: [],
  lose: new Set(),
};

/** Stripe's bracket notation: a[b]=1&c[0]=x -> {a:{b:"1"}, c:{0:"x"}}. */
function parseForm(text) {
  const out = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const parts = k.split('[').map((p) => p.replace(/]$/, ''));
    let o = out;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) o[p] = v;
      else o = o[p] ??= {};
    });
  }
  return out;
}

const readBody = (req) =>
  new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data));
  });

const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

const now = () => Math.floor(Date.now() / 1000);

async function deliver(type, object) {
  const event = { id: rid('evt'), object: 'event', type, created: now(), livemode: false, data: { object } };
  const body = JSON.stringify(event);
  const t = now();
  const sig = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
  let status = 0;
  if (state.webhookUrl) {
    try {
      const r = await fetch(state.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${sig}` },
        body,
      });
      status = r.status;
    } catch {
      status = -1;
    }
  }
  state.events.push({ id: event.id, type, status });
  return status;
}

function api(method, path, form, query = new URLSearchParams()) {
  let m;
  if (method === 'POST' && path === '/v1/customers') {
    const c = { id: rid('cus'), object: 'customer', name: form.name ?? null, metadata: form.metadata ?? {} };
    state.customers.set(c.id, c);
    return [200, c];
  }
  if (method === 'POST' && path === '/v1/checkout/sessions') {
    if (form.mode !== 'setup') return [400, { error: { type: 'invalid_request_error', message: 'only mode=setup is faked', param: 'mode' } }];
    if (!state.customers.has(form.customer)) return [400, { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'customer', message: `No such customer: '${form.customer}'` } }];
    const s = {
      id: rid('cs_test'),
      object: 'checkout.session',
      mode: 'setup',
      status: 'open',
      customer: form.customer,
      currency: form.currency ?? null,
      client_reference_id: form.client_reference_id ?? null,
      metadata: form.metadata ?? {},
      success_url: form.success_url,
      cancel_url: form.cancel_url,
      setup_intent: null,
      url: null,
    };
    s.url = `${base}/pay/${s.id}`;
    state.sessions.set(s.id, s);
    return [200, s];
  }
  if (method === 'GET' && (m = path.match(/^\/v1\/setup_intents\/([\w-]+)$/))) {
    const si = state.setupIntents.get(m[1]);
    if (si && query.getAll('expand[]').includes('payment_method')) {
      const { declines, ...pm } = state.paymentMethods.get(si.payment_method);
      return [200, { ...si, payment_method: pm }];
    }
    return si ? [200, si] : [404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such setupintent: '${m[1]}'` } }];
  }
  if (method === 'POST' && path === '/v1/payment_intents') {
    const pm = state.paymentMethods.get(form.payment_method);
    const pi = {
      id: rid('pi'),
      object: 'payment_intent',
      amount: Number(form.amount),
      currency: form.currency,
      customer: form.customer,
      payment_method: form.payment_method,
      description: form.description ?? null,
      metadata: form.metadata ?? {},
      status: 'succeeded',
    };
    if (!pm || pm.customer !== form.customer) {
      return [400, { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method', message: 'No such PaymentMethod' } }];
    }
    if (pm.declines || state.declining.has(form.customer)) {
      pi.status = 'requires_payment_method';
      pi.last_payment_error = { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' };
      state.paymentIntents.set(pi.id, pi);
      return [402, { error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', payment_intent: pi } }];
    }
    state.paymentIntents.set(pi.id, pi);
    return [200, pi];
  }
  if (method === 'POST' && path === '/v1/refunds') {
    const pi = state.paymentIntents.get(form.payment_intent);
    if (!pi || pi.status !== 'succeeded') {
      return [400, { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_intent', message: `No such payment_intent: '${form.payment_intent}'` } }];
    }
    const left = pi.amount - (pi.amount_refunded ?? 0);
    const amount = form.amount ? Number(form.amount) : left;
    if (left <= 0) return [400, { error: { type: 'invalid_request_error', code: 'charge_already_refunded', message: 'Charge has already been refunded.' } }];
    if (!(amount > 0) || amount > left) return [400, { error: { type: 'invalid_request_error', code: 'amount_too_large', param: 'amount', message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})` } }];
    pi.amount_refunded = (pi.amount_refunded ?? 0) + amount;
    const r = { id: rid('re'), object: 'refund', amount, currency: pi.currency, payment_intent: pi.id, reason: form.reason ?? null, metadata: form.metadata ?? {}, status: 'succeeded', created: now() };
    state.refunds.push(r);
    return [200, r];
  }
  return [404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } }];
}

/** The card network Stripe names for a test number. */
const brandOf = (n) => (/^3[47]/.test(n) ? 'amex' : /^(5[1-5]|2[2-7])/.test(n) ? 'mastercard' : /^4/.test(n) ? 'visa' : 'unknown');
const page = (s) => `<!doctype html><html><head><title>Stripe Checkout (fake)</title><link rel="icon" href="data:,"></head><body>
<h1>Save a card</h1><p>Session ${s.id}</p>
<form method="post" action="/pay/${s.id}"><label>Card number <input name="card" value="4242424242424242"></label>
<label>Expiry <input name="expiry" value="12/30"></label>
<button type="submit">Save card</button></form><a href="${s.cancel_url}">Cancel</a></body></html>`;

let base = '';
/** Whether a lost answer was asked for this path (`_lose_next` names a path or its prefix); forgets it. */
const loses = (path) => {
  const hit = [...state.lose].find((p) => path.startsWith(p));
  return hit !== undefined && state.lose.delete(hit);
};
const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const text = await readBody(req);
  let m;
  if (url.pathname === '/_config' && req.method === 'POST') {
    Object.assign(state, { webhookUrl: JSON.parse(text).webhookUrl });
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_decline' && req.method === 'POST') {
    state.declining.add(JSON.parse(text).customer);
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_outage' && req.method === 'POST') {
    state.outage = JSON.parse(text).requests;
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_requests') return send(res, 200, state.requests);
  if (url.pathname === '/_events') return send(res, 200, state.events);
  if (url.pathname === '/_refunds') return send(res, 200, state.refunds);
  if (url.pathname === '/_lose_next' && req.method === 'POST') {
    state.lose.add(JSON.parse(text).path);
    return send(res, 200, { ok: true });
  }
  if ((m = url.pathname.match(/^\/pay\/([\w-]+)$/))) {
    const s = state.sessions.get(m[1]);
    if (!s) return send(res, 404, { error: 'no such session' });
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(s));
    }
    const entered = new URLSearchParams(text);
    const card = (entered.get('card') ?? '').replace(/\s/g, '');
    const [expMonth, expYear] = (entered.get('expiry') ?? '12/30').split('/').map(Number);
    if (s.status !== 'open') return send(res, 400, { error: 'session already completed' });
    const details = { brand: brandOf(card), last4: card.slice(-4), exp_month: expMonth, exp_year: 2000 + expYear, funding: 'credit', country: 'US' };
    const pm = { id: rid('pm'), object: 'payment_method', type: 'card', customer: s.customer, card: details, declines: card === '4000000000000341' };
    state.paymentMethods.set(pm.id, pm);
    const si = { id: rid('seti'), object: 'setup_intent', status: 'succeeded', customer: s.customer, payment_method: pm.id, usage: 'off_session' };
    state.setupIntents.set(si.id, si);
    Object.assign(s, { status: 'complete', setup_intent: si.id });
    await deliver('checkout.session.completed', { ...s, url: null });
    res.writeHead(303, { location: s.success_url });
    return res.end();
  }
  if (url.pathname.startsWith('/v1/')) {
    const form = req.method === 'POST' ? parseForm(text) : {};
    const idem = req.headers['idempotency-key'] ?? null;
    state.requests.push({ method: req.method, path: url.pathname, idempotencyKey: idem, body: form });
    if (req.headers.authorization !== `Bearer ${KEY}`) {
      return send(res, 401, { error: { type: 'invalid_request_error', code: 'api_key_invalid', message: 'Invalid API Key provided' } });
    }
    if (state.outage > 0) {
      state.outage -= 1;
      return send(res, 500, { error: { type: 'api_error', message: 'An unknown error occurred' } });
    }
    const cacheKey = idem && `${req.method} ${url.pathname} ${idem}`;
    if (cacheKey && state.idempotent.has(cacheKey)) {
      const [status, body] = state.idempotent.get(cacheKey);
      return send(res, status, body, { 'idempotent-replayed': 'true' });
    }
    const [status, body] = api(req.method, url.pathname, form, url.searchParams);
    if (cacheKey) state.idempotent.set(cacheKey, [status, body]);
    // Done, and the answer lost on the way back.
    if (loses(url.pathname)) return req.socket.destroy();
    return send(res, status, body);
  }
  send(res, 404, { error: 'not found' });
});

server.listen(port, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
