// A local stand-in for Revolut's Merchant API, hosted checkout page and webhooks, speaking the
// request, answer and webhook shapes of the calls Zygo makes. Only Node built-ins.
//
// Usage:  node revolut-fake.mjs [--port N] --key sk_x --webhook-secret wsk_x
// Stdout: one line once listening: {"port":N}; exits when stdin closes.
//
// API (JSON bodies, `Authorization: Bearer <key>`, and `Revolut-Api-Version` on /api/orders…;
// a wrong key is 401 {"code":"unauthenticated","message":…}; a missing version header is 400):
//   POST /api/1.0/customers                {full_name, email} -> {id, full_name, email, created_at}
//   POST /api/orders                       {amount, currency, capture_mode, customer:{id}, description,
//                                           redirect_url, save_payment_method_for, metadata}
//                                          -> {id, token, type:"payment", state:"pending", amount, currency,
//                                              capture_mode, customer:{id}, metadata, checkout_url, payments:[]}
//   GET  /api/orders/:id                   -> the order, with `payments` [{id, state, payment_method:{id, type:"card",
//                                              card_brand, card_last_four, card_expiry:"MM/YY", card_bin, card_country_code}}]
//   POST /api/orders/:id/cancel            an authorised (manual capture) order -> state "cancelled"
//   POST /api/orders/:id/payments          {saved_payment_method:{type:"card", id, initiator:"merchant"}}
//                                          -> {id, order_id, state:"completed"} or, for a card that
//                                             declines, {id, order_id, state:"declined", decline_reason:"do_not_honour"}
//   POST /api/orders/:id/refund            {amount, currency, description, metadata} on a completed order
//                                          -> 201 {id, type:"refund", state:"completed", amount, currency,
//                                             related_order_id}; 422 {code:"invalid_amount"} beyond what is left
//   `Idempotency-Key` on POST /api/orders and …/refund: a repeated request answers the same order.
// Hosted page:
//   GET  /pay/:order   an HTML form asking for a card number
//   POST /pay/:order   card=<number>: pays (authorised for capture_mode manual, else completed), saves the
//                      card for the merchant when asked, delivers ORDER_AUTHORISED or ORDER_COMPLETED
//                      ({"event":…,"order_id":…}) signed `Revolut-Signature: v1=HMAC-SHA256(secret,
//                      "v1.<ms timestamp>.<body>")` with `Revolut-Request-Timestamp`, waits for the answer,
//                      then 303 to redirect_url. 4000000000000002 saves but every later payment declines.
// Test controls: POST /_config {"webhookUrl"}, GET /_requests, GET /_events, GET /_orders, GET /_refunds,
//   POST /_lose_next {"path"}: the next request to that path is performed, its connection dropped unanswered.
import { createServer } from 'node:http';
import { createHmac, randomUUID } from 'node:crypto';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const KEY = arg('--key') ?? 'sk_fake';
const SECRET = arg('--webhook-secret') ?? 'wsk_fake';
const port = Number(arg('--port') ?? 0);

const state = { webhookUrl: null, customers: new Map(), orders: new Map(), methods: new Map(), idempotent: new Map(), requests: [], events: [], refunds: [], lose: new Set() };
let base = '';
/** Whether a lost answer was asked for this path (`_lose_next` names a path or its prefix); forgets it. */
const loses = (path) => {
  const hit = [...state.lose].find((p) => path.startsWith(p));
  return hit !== undefined && state.lose.delete(hit);
};

const readBody = (req) =>
  new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data));
  });
const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function deliver(event, orderId) {
  const body = JSON.stringify({ event, order_id: orderId, merchant_order_ext_ref: null });
  const ts = String(Date.now());
  const sig = 'v1=' + createHmac('sha256', SECRET).update(`v1.${ts}.${body}`).digest('hex');
  let status = 0;
  if (state.webhookUrl) {
    try {
      const r = await fetch(state.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'revolut-signature': sig, 'revolut-request-timestamp': ts },
        body,
      });
      status = r.status;
    } catch {
      status = -1;
    }
  }
  state.events.push({ event, orderId, status });
}

function api(method, path, body, idem) {
  let m;
  if (method === 'POST' && path === '/api/1.0/customers') {
    const c = { id: randomUUID(), full_name: body.full_name ?? null, email: body.email ?? null, created_at: new Date().toISOString(), payment_methods: [] };
    state.customers.set(c.id, c);
    return [201, c];
  }
  if (method === 'POST' && path === '/api/orders') {
    const key = idem && `order ${idem}`;
    if (key && state.idempotent.has(key)) return [201, state.orders.get(state.idempotent.get(key))];
    if (!Number.isInteger(body.amount) || body.amount <= 0) return [400, { code: 'validation', message: 'amount must be a positive integer' }];
    if (body.customer && !state.customers.has(body.customer.id)) return [404, { code: 'not_found', message: 'Customer not found' }];
    const o = {
      id: randomUUID(),
      token: randomUUID(),
      type: 'payment',
      state: 'pending',
      amount: body.amount,
      currency: body.currency,
      capture_mode: body.capture_mode ?? 'automatic',
      customer: body.customer ?? null,
      description: body.description ?? null,
      redirect_url: body.redirect_url ?? null,
      save_payment_method_for: body.save_payment_method_for ?? null,
      metadata: body.metadata ?? {},
      payments: [],
    };
    o.checkout_url = `${base}/pay/${o.id}`;
    state.orders.set(o.id, o);
    if (key) state.idempotent.set(key, o.id);
    return [201, o];
  }
  if ((m = path.match(/^\/api\/orders\/([\w-]+)$/)) && method === 'GET') {
    const o = state.orders.get(m[1]);
    return o ? [200, o] : [404, { code: 'not_found', message: 'Order not found' }];
  }
  if ((m = path.match(/^\/api\/orders\/([\w-]+)\/cancel$/)) && method === 'POST') {
    const o = state.orders.get(m[1]);
    if (!o) return [404, { code: 'not_found', message: 'Order not found' }];
    if (o.state !== 'authorised' && o.state !== 'pending') return [422, { code: 'invalid_state', message: `Order in state ${o.state}` }];
    o.state = 'cancelled';
    return [200, o];
  }
  if ((m = path.match(/^\/api\/orders\/([\w-]+)\/payments$/)) && method === 'POST') {
    const o = state.orders.get(m[1]);
    if (!o) return [404, { code: 'not_found', message: 'Order not found' }];
    if (o.state === 'completed') return [422, { code: 'invalid_state', message: 'Order already completed' }];
    const saved = body.saved_payment_method ?? {};
    const pm = state.methods.get(saved.id);
    if (!pm || !o.customer || pm.customer !== o.customer.id) return [404, { code: 'not_found', message: 'Payment method not found' }];
    if (saved.initiator === 'merchant' && pm.saved_for !== 'MERCHANT') return [422, { code: 'not_allowed', message: 'saved for the customer only' }];
    const p = { id: randomUUID(), order_id: o.id, payment_method: { id: pm.id, type: 'card', ...pm.card } };
    if (pm.declines) {
      Object.assign(p, { state: 'declined', decline_reason: 'do_not_honour' });
    } else {
      p.state = 'completed';
      o.state = 'completed';
    }
    o.payments.push(p);
    return [200, p];
  }
  if ((m = path.match(/^\/api\/orders\/([\w-]+)\/refund$/)) && method === 'POST') {
    const key = idem && `refund ${idem}`;
    if (key && state.idempotent.has(key)) return [201, state.orders.get(state.idempotent.get(key))];
    const o = state.orders.get(m[1]);
    if (!o) return [404, { code: 'not_found', message: 'Order not found' }];
    if (o.state !== 'completed') return [422, { code: 'invalid_state', message: `Order in state ${o.state}` }];
    const left = o.amount - (o.refunded_amount ?? 0);
    if (!Number.isInteger(body.amount) || body.amount <= 0 || body.amount > left) {
      return [422, { code: 'invalid_amount', message: `Refund amount must be 1 to ${left}` }];
    }
    o.refunded_amount = (o.refunded_amount ?? 0) + body.amount;
    const r = { id: randomUUID(), token: randomUUID(), type: 'refund', state: 'completed', created_at: new Date().toISOString(), amount: body.amount, currency: body.currency ?? o.currency, description: body.description ?? null, metadata: body.metadata ?? {}, related_order_id: o.id };
    state.orders.set(r.id, r);
    state.refunds.push(r);
    if (key) state.idempotent.set(key, r.id);
    return [201, r];
  }
  return [404, { code: 'not_found', message: `No route ${method} ${path}` }];
}

/** The card network Revolut names (upper case) for a test number. */
const brandOf = (n) => (/^3[47]/.test(n) ? 'AMERICAN_EXPRESS' : /^(5[1-5]|2[2-7])/.test(n) ? 'MASTERCARD' : /^4/.test(n) ? 'VISA' : 'UNKNOWN');
const page = (o) => `<!doctype html><html><head><title>Revolut Pay (fake)</title></head><body>
<h1>Pay ${o.amount} ${o.currency}</h1><form method="post" action="/pay/${o.id}">
<label>Card number <input name="card" value="4929420573595709"></label><label>Expiry <input name="expiry" value="12/30"></label><button type="submit">Pay</button></form></body></html>`;

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const text = await readBody(req);
  let m;
  if (url.pathname === '/_config' && req.method === 'POST') {
    state.webhookUrl = JSON.parse(text).webhookUrl;
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_requests') return send(res, 200, state.requests);
  if (url.pathname === '/_events') return send(res, 200, state.events);
  if (url.pathname === '/_orders') return send(res, 200, [...state.orders.values()].filter((o) => o.type !== 'refund'));
  if (url.pathname === '/_refunds') return send(res, 200, state.refunds);
  if (url.pathname === '/_lose_next' && req.method === 'POST') {
    state.lose.add(JSON.parse(text).path);
    return send(res, 200, { ok: true });
  }
  if ((m = url.pathname.match(/^\/pay\/([\w-]+)$/))) {
    const o = state.orders.get(m[1]);
    if (!o) return send(res, 404, { code: 'not_found' });
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(o));
    }
    if (o.state !== 'pending') return send(res, 422, { code: 'invalid_state' });
    const entered = new URLSearchParams(text);
    const card = (entered.get('card') ?? '').replace(/\s/g, '');
    const pm = {
      id: randomUUID(), customer: o.customer?.id ?? null, saved_for: o.save_payment_method_for === 'merchant' ? 'MERCHANT' : 'CUSTOMER', declines: card === '4000000000000002',
      card: { card_brand: brandOf(card), card_last_four: card.slice(-4), card_expiry: entered.get('expiry') ?? '12/30', card_bin: card.slice(0, 6), card_country_code: 'GB' },
    };
    state.methods.set(pm.id, pm);
    const manual = o.capture_mode === 'manual';
    o.state = manual ? 'authorised' : 'completed';
    o.payments.push({ id: randomUUID(), state: manual ? 'authorised' : 'completed', payment_method: { id: pm.id, type: 'card', ...pm.card } });
    await deliver(manual ? 'ORDER_AUTHORISED' : 'ORDER_COMPLETED', o.id);
    res.writeHead(303, { location: o.redirect_url ?? '/' });
    return res.end();
  }
  if (url.pathname.startsWith('/api/')) {
    const body = text ? JSON.parse(text) : {};
    const idem = req.headers['idempotency-key'] ?? null;
    state.requests.push({ method: req.method, path: url.pathname, idempotencyKey: idem, apiVersion: req.headers['revolut-api-version'] ?? null, body });
    if (req.headers.authorization !== `Bearer ${KEY}`) return send(res, 401, { code: 'unauthenticated', message: 'Authentication failed' });
    if (url.pathname.startsWith('/api/orders') && !req.headers['revolut-api-version']) {
      return send(res, 400, { code: 'missing_header', message: 'Revolut-Api-Version header is required' });
    }
    const [status, out] = api(req.method, url.pathname, body, idem);
    // Done, and the answer lost on the way back.
    if (loses(url.pathname)) return req.socket.destroy();
    return send(res, status, out);
  }
  send(res, 404, { code: 'not_found' });
});

server.listen(port, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
