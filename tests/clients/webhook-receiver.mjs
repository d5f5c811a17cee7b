// A webhook receiver that checks every delivery with the `standardwebhooks` package (the
// reference implementation of the Standard Webhooks specification), independent of Zygo's own
// signing code. Only for tests.
//
// Usage:  node webhook-receiver.mjs        Stdout: {"port":N} once listening; exits when stdin closes.
// Any POST outside /_… is a delivery: recorded, verified against each configured secret, and
//   answered 200 (or the failure status while failures are queued).
// Test controls:
//   POST /_config {"secrets": ["whsec_…", …]}   secrets to verify with (each on its own)
//   POST /_fail   {"requests": n, "status": s}   the next n deliveries answer s (default 500)
//   GET  /_received                              every delivery: {id, timestamp, signature, type,
//                                                body, verified: [bool per secret], answered}
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const state = { secrets: [], failing: 0, failStatus: 500, received: [] };

const readBody = (req) =>
  new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

const send = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const text = await readBody(req);
  if (url.pathname === '/_config' && req.method === 'POST') {
    state.secrets = JSON.parse(text).secrets ?? [];
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_fail' && req.method === 'POST') {
    const b = JSON.parse(text);
    state.failing = b.requests ?? 1;
    state.failStatus = b.status ?? 500;
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_received') return send(res, 200, state.received);
  if (req.method !== 'POST') return send(res, 404, { error: 'not found' });
  const headers = {
    'webhook-id': req.headers['webhook-id'],
    'webhook-timestamp': req.headers['webhook-timestamp'],
    'webhook-signature': req.headers['webhook-signature'],
  };
  const verified = state.secrets.map((secret) => {
    try {
      new Webhook(secret).verify(text, headers);
      return true;
    } catch {
      return false;
    }
  });
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {}
  const answered = state.failing > 0 ? state.failStatus : 200;
  if (state.failing > 0) state.failing -= 1;
  state.received.push({
    path: url.pathname,
    id: headers['webhook-id'],
    timestamp: headers['webhook-timestamp'],
    signature: headers['webhook-signature'],
    type: body?.type ?? null,
    body,
    verified,
    answered,
  });
  send(res, answered, answered === 200 ? { ok: true } : { error: 'receiver failing on purpose' });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
