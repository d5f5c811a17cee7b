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
//   POST /v2/payments/captures/:id/refund  {amount:{value, currency_code}} -> 201 {id, status:"COMPLETED", amount};
//                                          422 REFUND_AMOUNT_EXCEEDED beyond what is left. `PayPal-Request-Id` replays.
// Subscriptions v1 (ZYGO_PAYPAL_MODE=subscriptions):
//   POST /v1/catalogs/products             {name, type, category} -> 201 {id:"PROD-…", name, type, category}
//   POST /v1/billing/plans                 {product_id, name, status, billing_cycles:[{frequency:{interval_unit,
//                                          interval_count}, tenure_type, sequence, total_cycles, pricing_scheme:
//                                          {fixed_price:{value, currency_code}}}], payment_preferences}
//                                          -> 201 {id:"P-…", product_id, name, status:"ACTIVE", billing_cycles, …}
//   POST /v1/billing/subscriptions         {plan_id, custom_id, application_context:{return_url, cancel_url, …},
//                                          plan?:{taxes:{percentage, inclusive}}} -> 201 {id:"I-…",
//                                          status:"APPROVAL_PENDING", plan_id, custom_id, links:[{rel:"approve"}, …]}
//   GET  /v1/billing/subscriptions/:id     -> {id, plan_id, status, custom_id, subscriber:{email_address, payer_id},
//                                          billing_info:{last_payment, next_billing_time, failed_payments_count, …}}
//   POST /v1/billing/subscriptions/:id/revise   {plan_id} -> 200 {plan_id, plan_overridden:false, links:[{rel:"approve"}]}
//                                          (this fake applies the new plan at once, as if the payer consented)
//   POST /v1/billing/subscriptions/:id/suspend|cancel|activate  {reason} -> 204; 422 SUBSCRIPTION_STATUS_INVALID
//                                          when the subscription is not in a state that allows it
//   POST /v1/payments/sale/:id/refund      {amount:{total, currency}} -> 201 {id, state:"completed", amount, sale_id}
// Approval page: GET /approve/:token (a form), POST /approve/:token account=<email> approves and redirects 303 to
//   return_url with approval_token_id=<token>; an account containing "declines" makes later captures decline.
//   GET|POST /approve-subscription/:id likewise approves a subscription: it becomes ACTIVE, its first period is
//   collected (a sale), BILLING.SUBSCRIPTION.ACTIVATED and PAYMENT.SALE.COMPLETED are queued (not sent: POST
//   /_flush sends them, in the order a test wants), and the payer goes back to return_url with
//   subscription_id, ba_token and token. A payer whose account contains "declines" fails later collections.
// Controls: POST /_config {webhookUrl}; POST /_deliver {event_type, resource} delivers a signed event and answers
//   {status, id}; POST /_redeliver [{id}] sends the last (or that) delivery again, unchanged; GET /_requests;
//   POST /_flush {event_type} sends the first queued event of that type; POST /_bill {subscription_id} collects a
//   period (PAYMENT.SALE.COMPLETED, or BILLING.SUBSCRIPTION.PAYMENT.FAILED for a declining payer);
//   POST /_payer_cancels {subscription_id} cancels it as the payer would (BILLING.SUBSCRIPTION.CANCELLED);
//   GET /_subscriptions, GET /_refunds; POST /_lose_next {path} performs the next request to that path but drops
//   the connection instead of answering (an answer lost on the way back).
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

const state = { webhookUrl: null, tokens: new Set(), setups: new Map(), vault: new Map(), orders: new Map(), replays: new Map(), transmissions: new Map(), requests: [], captures: new Map(), products: new Map(), plans: new Map(), subscriptions: new Map(), sales: new Map(), refunds: [], queue: [], deliveries: new Map(), lose: new Set() };
const cents = (v) => Math.round(Number(v) * 100);
const money = (c) => (c / 100).toFixed(2);
const now = () => new Date().toISOString();
const statusInvalid = () => unprocessable('SUBSCRIPTION_STATUS_INVALID');

/** A subscription as PayPal's GET shows it. */
function subView(sub) {
  const { approveCtx, declines, ...v } = sub;
  return { ...v, links: [{ rel: 'self', href: `${base}/v1/billing/subscriptions/${sub.id}`, method: 'GET' }] };
}

/** PayPal collects one period of `sub`: a completed sale of the plan's price with the subscription's taxes. */
function collect(sub) {
  const plan = state.plans.get(sub.plan_id);
  const price = plan.billing_cycles[0].pricing_scheme.fixed_price;
  const base_ = cents(price.value);
  const tax = sub.taxes ? Math.round((base_ * Math.round(Number(sub.taxes.percentage) * 100)) / 10000) : 0;
  const sale = { id: rid('SALE'), state: 'completed', amount: { total: money(base_ + tax), currency: price.currency_code, details: { subtotal: money(base_) } }, payment_mode: 'INSTANT_TRANSFER', protection_eligibility: 'ELIGIBLE', billing_agreement_id: sub.id, create_time: now(), update_time: now(), refunded: 0 };
  state.sales.set(sale.id, sale);
  sub.billing_info.last_payment = { amount: { currency_code: price.currency_code, value: sale.amount.total }, time: now() };
  sub.billing_info.cycle_executions[0].cycles_completed += 1;
  const { refunded, ...view } = sale;
  return view;
}

/** Refunds `amount` cents of `paid` (an object with `refunded`), or the issue that refuses it. */
function refundOf(paid, amount) {
  if (!Number.isFinite(amount) || amount <= 0) return 'INVALID_PARAMETER_VALUE';
  if (amount > paid.total - paid.refunded) return 'REFUND_AMOUNT_EXCEEDED';
  paid.refunded += amount;
  return null;
}
let base = '';
/** Whether a lost answer was asked for this path (`_lose_next` names a path or its prefix); forgets it. */
const loses = (path) => {
  const hit = [...state.lose].find((p) => path.startsWith(p));
  return hit !== undefined && state.lose.delete(hit);
};

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

function api(method, path, body, requestId) {
  let m;
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
      state.captures.set(capture.id, { id: capture.id, total: cents(unit.amount?.value ?? 0), currency: unit.amount?.currency_code, refunded: 0 });
      const o = { id: rid('5O'), status: 'COMPLETED', intent: body.intent, purchase_units: [{ reference_id: unit.reference_id ?? 'default', custom_id: unit.custom_id ?? null, amount: unit.amount, payments: { captures: [capture] } }] };
      state.orders.set(o.id, o);
      out = [201, o];
    }
  } else if ((m = path.match(/^\/v2\/payments\/captures\/([\w-]+)\/refund$/))) {
    const c = state.captures.get(m[1]);
    if (!c) out = [404, { name: 'RESOURCE_NOT_FOUND', details: [{ issue: 'INVALID_RESOURCE_ID' }] }];
    else {
      const amount = body.amount ? cents(body.amount.value) : c.total - c.refunded;
      const issue = refundOf(c, amount);
      if (issue) out = unprocessable(issue);
      else {
        const r = { id: rid('1R'), status: 'COMPLETED', amount: { value: money(amount), currency_code: c.currency }, capture_id: c.id, custom_id: body.custom_id ?? null };
        state.refunds.push(r);
        out = [201, { id: r.id, status: r.status, amount: r.amount, links: [{ rel: 'up', href: `${base}/v2/payments/captures/${c.id}`, method: 'GET' }] }];
      }
    }
  } else if ((m = path.match(/^\/v1\/payments\/sale\/([\w-]+)\/refund$/))) {
    const sale = state.sales.get(m[1]);
    if (!sale) out = [404, { name: 'INVALID_RESOURCE_ID', message: 'Requested resource ID was not found.' }];
    else {
      const paid = { total: cents(sale.amount.total), refunded: sale.refunded };
      const amount = body.amount ? cents(body.amount.total) : paid.total - paid.refunded;
      const issue = refundOf(paid, amount);
      if (issue) out = [400, { name: issue, message: 'Refund amount exceeds the sale amount.' }];
      else {
        sale.refunded = paid.refunded;
        const r = { id: rid('4R'), state: 'completed', amount: { total: money(amount), currency: sale.amount.currency }, sale_id: sale.id, parent_payment: rid('PAYID-'), create_time: now() };
        state.refunds.push(r);
        out = [201, r];
      }
    }
  } else if (path === '/v1/catalogs/products') {
    const p = { id: rid('PROD-'), name: body.name, type: body.type ?? 'SERVICE', category: body.category ?? null, create_time: now() };
    state.products.set(p.id, p);
    out = [201, { ...p, links: [{ rel: 'self', href: `${base}/v1/catalogs/products/${p.id}`, method: 'GET' }] }];
  } else if (path === '/v1/billing/plans') {
    const price = body.billing_cycles?.[0]?.pricing_scheme?.fixed_price;
    if (!state.products.has(body.product_id)) out = unprocessable('INVALID_PRODUCT_ID');
    else if (!price?.value || !price?.currency_code) out = [400, { name: 'INVALID_REQUEST', details: [{ field: '/billing_cycles/0/pricing_scheme/fixed_price', issue: 'MISSING_REQUIRED_PARAMETER' }] }];
    else {
      const p = { id: rid('P-'), product_id: body.product_id, name: body.name, status: body.status ?? 'ACTIVE', billing_cycles: body.billing_cycles, payment_preferences: body.payment_preferences ?? {}, create_time: now() };
      state.plans.set(p.id, p);
      out = [201, { ...p, links: [{ rel: 'self', href: `${base}/v1/billing/plans/${p.id}`, method: 'GET' }] }];
    }
  } else if (path === '/v1/billing/subscriptions' && method === 'POST') {
    if (!state.plans.has(body.plan_id)) out = unprocessable('INVALID_PLAN_ID');
    else {
      const sub = { id: rid('I-'), plan_id: body.plan_id, status: 'APPROVAL_PENDING', status_update_time: now(), custom_id: body.custom_id ?? null, quantity: '1', create_time: now(), taxes: body.plan?.taxes ?? null, subscriber: null, billing_info: { outstanding_balance: { currency_code: 'EUR', value: '0.00' }, cycle_executions: [{ tenure_type: 'REGULAR', sequence: 1, cycles_completed: 0, cycles_remaining: 0, total_cycles: 0 }], last_payment: null, next_billing_time: null, failed_payments_count: 0 }, approveCtx: body.application_context ?? {} };
      state.subscriptions.set(sub.id, sub);
      out = [201, { id: sub.id, status: sub.status, status_update_time: sub.status_update_time, plan_id: sub.plan_id, custom_id: sub.custom_id, create_time: sub.create_time, links: [{ rel: 'approve', href: `${base}/approve-subscription/${sub.id}`, method: 'GET' }, { rel: 'edit', href: `${base}/v1/billing/subscriptions/${sub.id}`, method: 'PATCH' }, { rel: 'self', href: `${base}/v1/billing/subscriptions/${sub.id}`, method: 'GET' }] }];
    }
  } else if ((m = path.match(/^\/v1\/billing\/subscriptions\/([\w-]+)$/)) && method === 'GET') {
    const sub = state.subscriptions.get(m[1]);
    out = sub ? [200, subView(sub)] : [404, { name: 'RESOURCE_NOT_FOUND', details: [{ issue: 'INVALID_RESOURCE_ID' }] }];
  } else if ((m = path.match(/^\/v1\/billing\/subscriptions\/([\w-]+)\/(revise|suspend|cancel|activate)$/))) {
    const sub = state.subscriptions.get(m[1]);
    const action = m[2];
    if (!sub) out = [404, { name: 'RESOURCE_NOT_FOUND', details: [{ issue: 'INVALID_RESOURCE_ID' }] }];
    else if (action === 'revise') {
      if (sub.status !== 'ACTIVE' && sub.status !== 'SUSPENDED') out = statusInvalid();
      else if (!state.plans.has(body.plan_id)) out = unprocessable('INVALID_PLAN_ID');
      else {
        sub.plan_id = body.plan_id;
        out = [200, { plan_id: sub.plan_id, plan_overridden: false, links: [{ rel: 'approve', href: `${base}/approve-subscription/${sub.id}?revise=1`, method: 'GET' }, { rel: 'edit', href: `${base}/v1/billing/subscriptions/${sub.id}`, method: 'PATCH' }] }];
      }
    } else {
      const allowed = { suspend: ['ACTIVE'], cancel: ['ACTIVE', 'SUSPENDED'], activate: ['SUSPENDED'] }[action];
      if (!allowed.includes(sub.status)) out = statusInvalid();
      else {
        sub.status = { suspend: 'SUSPENDED', cancel: 'CANCELLED', activate: 'ACTIVE' }[action];
        sub.status_update_time = now();
        sub.status_change_note = body.reason ?? null;
        out = [204, null];
      }
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
let lastAnswer = null;
async function post(body, headers) {
  try {
    const r = await fetch(state.webhookUrl, { method: 'POST', headers, body });
    lastAnswer = await r.text();
    return r.status;
  } catch {
    return -1;
  }
}

const resourceType = (t) => (t.startsWith('BILLING.SUBSCRIPTION') ? 'subscription' : t.startsWith('PAYMENT.SALE') ? 'sale' : 'capture');

async function deliver(eventType, resource) {
  const event = { id: rid('WH-'), event_version: eventType.startsWith('BILLING.') ? '1.0' : '1.0', create_time: new Date().toISOString(), resource_type: resourceType(eventType), resource_version: eventType.startsWith('BILLING.') ? '2.0' : undefined, event_type: eventType, summary: eventType, resource };
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
  state.deliveries.set(event.id, last);
  const status = await post(body, headers);
  return { status, id: event.id, answer: lastAnswer };
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
    const id = text ? JSON.parse(text).id : null;
    const d = id ? state.deliveries.get(id) : last;
    return send(res, 200, { status: d ? await post(d.body, d.headers) : 0 });
  }
  if (url.pathname === '/_flush') {
    const { event_type } = JSON.parse(text);
    const i = state.queue.findIndex((e) => e.event_type === event_type);
    if (i < 0) return send(res, 404, { error: `nothing queued of ${event_type}` });
    const [e] = state.queue.splice(i, 1);
    return send(res, 200, await deliver(e.event_type, e.resource));
  }
  if (url.pathname === '/_bill' || url.pathname === '/_payer_cancels') {
    const sub = state.subscriptions.get(JSON.parse(text).subscription_id);
    if (!sub) return send(res, 404, { error: 'no such subscription' });
    if (url.pathname === '/_payer_cancels') {
      Object.assign(sub, { status: 'CANCELLED', status_update_time: now() });
      return send(res, 200, await deliver('BILLING.SUBSCRIPTION.CANCELLED', subView(sub)));
    }
    if (sub.declines) {
      sub.billing_info.failed_payments_count += 1;
      sub.billing_info.last_failed_payment = { amount: { currency_code: 'EUR', value: '0.00' }, time: now(), reason_code: 'PAYER_ACCOUNT_LOCKED_OR_CLOSED' };
      return send(res, 200, await deliver('BILLING.SUBSCRIPTION.PAYMENT.FAILED', subView(sub)));
    }
    const sale = collect(sub);
    return send(res, 200, { ...(await deliver('PAYMENT.SALE.COMPLETED', sale)), sale });
  }
  if (url.pathname === '/_subscriptions') return send(res, 200, [...state.subscriptions.values()].map(subView));
  if (url.pathname === '/_refunds') return send(res, 200, state.refunds);
  if (url.pathname === '/_lose_next') {
    state.lose.add(JSON.parse(text).path);
    return send(res, 200, { ok: true });
  }
  if ((m = url.pathname.match(/^\/approve-subscription\/([\w-]+)$/))) {
    const sub = state.subscriptions.get(m[1]);
    if (!sub) return send(res, 404, { name: 'RESOURCE_NOT_FOUND' });
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><title>PayPal (fake)</title><h1>Log in to PayPal</h1><p>Subscribe to ${state.plans.get(sub.plan_id)?.name}</p><form method="post"><label>Email <input name="account" value="payer@example.com"></label><button>Agree and subscribe</button></form><a href="${sub.approveCtx.cancel_url}">Cancel</a>`);
    }
    if (sub.status !== 'APPROVAL_PENDING') return send(res, 422, { name: 'UNPROCESSABLE_ENTITY', details: [{ issue: 'SUBSCRIPTION_STATUS_INVALID' }] });
    const account = new URLSearchParams(text).get('account') ?? 'payer@example.com';
    Object.assign(sub, { status: 'ACTIVE', status_update_time: now(), start_time: now(), declines: account.includes('declines'), subscriber: { email_address: account, payer_id: rid('PAYER'), name: { given_name: 'Pat', surname: 'Payer' } } });
    // The first period is collected at approval; both events wait for the test to send them.
    const sale = collect(sub);
    state.queue.push({ event_type: 'BILLING.SUBSCRIPTION.ACTIVATED', resource: subView(sub) }, { event_type: 'PAYMENT.SALE.COMPLETED', resource: sale });
    const back = new URL(sub.approveCtx.return_url);
    back.searchParams.set('subscription_id', sub.id);
    back.searchParams.set('ba_token', rid('BA-'));
    back.searchParams.set('token', rid('EC-'));
    res.writeHead(303, { location: back.toString() });
    return res.end();
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
    const [status, out] = api(req.method, url.pathname, body, requestId);
    if (loses(url.pathname)) {
      // Done, and the answer lost on the way back.
      return req.socket.destroy();
    }
    if (status === 204) {
      res.writeHead(204);
      return res.end();
    }
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
