// Opens N graphql-transport-ws connections to URL, waits for every connection_ack, prints
// "ACKED N", and keeps them open (idle) until its standard input closes. Used by
// benches/ws/idle-subscribers.sh to measure the server's memory per idle subscriber.
//
//   node idle-subscribers.mjs <url> <n> [<token> <tenant>]
//
// With a token and an organisation's global ID, each connection authenticates with the
// token in `connection_init` and, once acknowledged, subscribes to `tenantEvents` of the
// organisation (the script then waits for the server's subscription gauge).
import WebSocket from '../../tests/clients/node_modules/ws/wrapper.mjs';

const [url, n, token, tenant] = [process.argv[2], Number(process.argv[3]), process.argv[4], process.argv[5]];
const SUBSCRIPTION = 'subscription($t: ID!) { tenantEvents(tenantId: $t) { kind } }';
let acked = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const payload = token ? { Authorization: `Bearer ${token}` } : {};
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload })));
  ws.on('message', (m) => {
    const msg = JSON.parse(m);
    if (msg.type === 'connection_ack') {
      if (tenant) {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { t: tenant } } }));
      }
      if (++acked === n) console.log('ACKED', n);
    } else if (msg.type === 'error') {
      console.error('subscription error:', JSON.stringify(msg.payload));
      process.exit(1);
    }
  });
  ws.on('error', (e) => {
    console.error('socket error:', e.message);
    process.exit(1);
  });
  // Opened in bursts of 100, so the listen backlog is never the limit.
  if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
