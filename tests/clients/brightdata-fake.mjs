// A fake of BrightData's Datasets API (v3) speaking its request, response and notification
// shapes: POST /datasets/v3/trigger (Bearer token; dataset_id, notify, auth_header, format,
// include_errors in the query; a JSON array of inputs) → {snapshot_id}; GET
// /datasets/v3/progress/:id → {snapshot_id, dataset_id, status}; GET /datasets/v3/snapshot/:id
// → 202 {status, message} until ready, then the JSON array of items (an input whose URL
// contains "dead" gives an error item, as with include_errors=true). When a collection ends
// it POSTs {snapshot_id, status} to the notify URL with `Authorization: <auth_header>`.
// Only for tests.
//
// Usage:  TOKEN=… node brightdata-fake.mjs      Stdout: {"port":N}; exits when stdin closes.
// Test controls:
//   POST /_config {"notifyBase": "http://127.0.0.1:P"}  where notifications really go (the
//        notify URL's origin is replaced: the app's public URL is not reachable in tests)
//   POST /_finish {"snapshot_id", "status": "ready"|"failed", "notify": bool} → {notifyStatus}
//   POST /_notify {"snapshot_id", "authorization"?}  sends the notification again (a replay,
//        or a forgery with another Authorization) → {status, body}
//   GET  /_state  {triggers: [{snapshot_id, dataset_id, notify, inputs, downloads, status}]}
import { createServer } from 'node:http';

const TOKEN = process.env.TOKEN ?? 'bd-test-token';
const state = { notifyBase: null, snapshots: new Map(), seq: 0 };

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

const itemFor = (input, i) => {
  if (input.url.includes('dead')) {
    return { error: 'Page not found', error_code: 'dead_page', input };
  }
  const id = `3${String(1000 + i)}${input.url.length}`;
  return {
    url: input.url,
    post_id: id,
    user_posted: 'natgeo',
    description: `Into the canyon at dawn #travel #nature with @photo_${i}`,
    hashtags: ['#travel', '#nature'],
    num_comments: 40 + i,
    date_posted: '2026-11-28T09:30:00.000Z',
    likes: 1200 + i,
    views: 0,
    input,
  };
};

// The datasets the fake account has, with their fields as `/datasets/{id}/metadata` gives them.
const field = (type, description, extra = {}) => ({ type, active: true, description, ...extra });
const DATASETS = new Map(
  [
    {
      id: 'gd_lk5ns7kz21pck8jpis',
      name: 'Instagram - Reels',
      fields: {
        url: field('url', 'URL of the reel', { required: true }),
        post_id: field('text', 'The post id'),
        user_posted: field('text', 'Who posted it'),
        description: field('text', 'The caption'),
        hashtags: field('array', 'Hashtags of the caption'),
        num_comments: field('number', 'Comments'),
        date_posted: field('date', 'When it was posted'),
        likes: field('number', 'Likes'),
        views: field('number', 'Views'),
      },
    },
  ].map((d) => [d.id, d]),
);

const notify = async (snap, authorization) => {
  const target = new URL(snap.notify);
  const url = state.notifyBase ? `${state.notifyBase}${target.pathname}${target.search}` : snap.notify;
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ snapshot_id: snap.snapshot_id, status: snap.status }),
  });
  return { status: r.status, body: await r.text() };
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const text = await readBody(req);
  const p = url.pathname;
  if (p === '/_config' && req.method === 'POST') {
    Object.assign(state, JSON.parse(text));
    return send(res, 200, { ok: true });
  }
  if (p === '/_state') {
    return send(res, 200, { triggers: [...state.snapshots.values()] });
  }
  if (p === '/_finish' && req.method === 'POST') {
    const b = JSON.parse(text);
    const snap = state.snapshots.get(b.snapshot_id);
    if (!snap) return send(res, 404, { error: 'no such snapshot' });
    snap.status = b.status ?? 'ready';
    if (snap.status === 'failed') snap.error_message = 'Collection failed: target blocked';
    const out = b.notify ? await notify(snap, snap.auth_header) : null;
    return send(res, 200, { notifyStatus: out?.status ?? null, notifyBody: out?.body ?? null });
  }
  if (p === '/_notify' && req.method === 'POST') {
    const b = JSON.parse(text);
    const snap = state.snapshots.get(b.snapshot_id);
    if (!snap) return send(res, 404, { error: 'no such snapshot' });
    return send(res, 200, await notify(snap, b.authorization ?? snap.auth_header));
  }
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    return send(res, 401, { error: 'Unauthorized: invalid API token' });
  }
  if (p === '/datasets/v3/trigger' && req.method === 'POST') {
    const dataset = url.searchParams.get('dataset_id');
    if (!dataset || !dataset.startsWith('gd_')) return send(res, 400, { error: 'dataset does not exist' });
    let inputs;
    try {
      inputs = JSON.parse(text);
    } catch {
      return send(res, 400, { error: 'Invalid JSON input' });
    }
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.some((i) => typeof i.url !== 'string')) {
      return send(res, 400, { error: 'Input must be a non-empty array of objects with url' });
    }
    state.seq += 1;
    const snapshot_id = `s_fake${Date.now().toString(36)}${state.seq}`;
    state.snapshots.set(snapshot_id, {
      snapshot_id,
      dataset_id: dataset,
      notify: url.searchParams.get('notify'),
      auth_header: url.searchParams.get('auth_header'),
      format: url.searchParams.get('format'),
      include_errors: url.searchParams.get('include_errors'),
      inputs,
      status: 'running',
      downloads: 0,
    });
    return send(res, 200, { snapshot_id });
  }
  const progress = p.match(/^\/datasets\/v3\/progress\/([^/]+)$/);
  if (progress && req.method === 'GET') {
    const snap = state.snapshots.get(progress[1]);
    if (!snap) return send(res, 404, { error: 'Snapshot not found' });
    const body = { snapshot_id: snap.snapshot_id, dataset_id: snap.dataset_id, status: snap.status };
    if (snap.error_message) body.error_message = snap.error_message;
    return send(res, 200, body);
  }
  const snapshot = p.match(/^\/datasets\/v3\/snapshot\/([^/]+)$/);
  if (snapshot && req.method === 'GET') {
    const snap = state.snapshots.get(snapshot[1]);
    if (!snap) return send(res, 404, { error: 'Snapshot not found' });
    if (snap.status !== 'ready') {
      return send(res, 202, { status: snap.status, message: 'Snapshot is not ready yet, try again in 10s' });
    }
    snap.downloads += 1;
    return send(res, 200, snap.inputs.map(itemFor));
  }
  const cancel = p.match(/^\/datasets\/v3\/snapshot\/([^/]+)\/cancel$/);
  if (cancel && req.method === 'POST') {
    const snap = state.snapshots.get(cancel[1]);
    if (!snap) return send(res, 404, { error: 'Snapshot not found' });
    snap.status = 'canceled';
    snap.cancelled = (snap.cancelled ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('OK');
  }
  // The account's datasets (what a credentials check reads) and one dataset's fields.
  if (p === '/datasets/list' && req.method === 'GET') {
    return send(res, 200, [...DATASETS.values()].map((d) => ({ id: d.id, name: d.name, size: 120000 })));
  }
  const metadata = p.match(/^\/datasets\/([^/]+)\/metadata$/);
  if (metadata && req.method === 'GET') {
    const d = DATASETS.get(metadata[1]);
    if (!d) return send(res, 404, { error: 'dataset does not exist' });
    return send(res, 200, { id: d.id, fields: d.fields });
  }
  return send(res, 404, { error: 'not found' });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
