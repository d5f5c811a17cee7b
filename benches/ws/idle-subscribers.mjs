// Opens N graphql-transport-ws connections to URL, waits for every connection_ack, prints
// "ACKED N", and keeps them open (idle) until its standard input closes. Used by
// benches/ws/idle-subscribers.sh to measure the server's memory per idle subscriber.
import WebSocket from '../../tests/clients/node_modules/ws/wrapper.mjs';

const [url, n] = [process.argv[2], Number(process.argv[3])];
let acked = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
  ws.on('message', (m) => {
    if (JSON.parse(m).type === 'connection_ack' && ++acked === n) console.log('ACKED', n);
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
