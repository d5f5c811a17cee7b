// Fan-out latency: opens N graphql-transport-ws connections to SUB_URL, each subscribed to
// `tenantEvents` of TENANT as the bearer of TOKEN, then changes the organisation's name
// through HTTP_URL EVENTS times, one after the other, and times each event from the
// mutation's sending to its arrival at every subscriber. Prints one line:
//   RESULT <n> <events> <p50 ms> <p99 ms> <max ms>
// Used by benches/ws/fan-out.sh; the subscribers and the clock are in this one process, so
// the figures include this process's own reading of N messages per event.
import WebSocket from '../../tests/clients/node_modules/ws/wrapper.mjs';

const [subUrl, httpUrl, token, tenant, nArg, eventsArg] = process.argv.slice(2);
const n = Number(nArg);
const events = Number(eventsArg || '20');
const SUBSCRIPTION = 'subscription($t: ID!) { tenantEvents(tenantId: $t) { kind } }';

let received = 0; // deliveries of the event being timed
let onDelivery = () => {};
const sockets = [];

function open(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(subUrl, 'graphql-transport-ws');
    ws.on('open', () =>
      ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } })),
    );
    ws.on('message', (raw) => {
      const m = raw.toString();
      // Only the frame type is looked at, so reading a delivery costs little here.
      if (m.startsWith('{"type":"next"') || m.includes('"type":"next"')) {
        received += 1;
        onDelivery();
      } else if (m.includes('"connection_ack"')) {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { t: tenant } } }));
        resolve();
      } else if (m.includes('"error"')) {
        reject(new Error(`subscriber ${i}: ${m}`));
      }
    });
    ws.on('error', reject);
    ws.on('close', (code, reason) => reject(new Error(`subscriber ${i} closed: ${code} ${reason}`)));
    sockets.push(ws);
  });
}

let seq = 0;
async function change() {
  seq += 1;
  const res = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation($i: UpdateTenantInput!) { updateTenant(input: $i) { tenant { id } } }',
      variables: { i: { id: tenant, name: `Fan-out ${process.pid}-${seq}` } },
    }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`updateTenant: ${JSON.stringify(body.errors)}`);
}

// Resolves when every subscriber has received the event being timed; the times of
// arrival go into `lat` relative to `t0`.
function everyone(t0, lat) {
  return new Promise((resolve) => {
    onDelivery = () => {
      lat?.push(performance.now() - t0);
      if (received >= n) resolve();
    };
    if (received >= n) resolve();
  });
}

for (let i = 0; i < n; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => open(i + k)));
}
// A subscription has started once it has received an event: send warm-up events until
// every subscriber has received one (each subscriber counts once per event).
for (;;) {
  received = 0;
  const t0 = performance.now();
  const all = everyone(t0);
  await change();
  const settled = await Promise.race([all.then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
  if (settled) break;
}
const lat = [];
for (let e = 0; e < events; e++) {
  received = 0;
  const t0 = performance.now();
  const all = everyone(t0, lat);
  await change();
  await all;
}
lat.sort((a, b) => a - b);
const at = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];
console.log(`RESULT ${n} ${events} ${at(0.5).toFixed(1)} ${at(0.99).toFixed(1)} ${lat[lat.length - 1].toFixed(1)}`);
for (const ws of sockets) ws.terminate();
process.exit(0);
