// Subscribes with the official `graphql-ws` client and prints each event as one JSON line.
// Usage: node graphql-ws-subscribe.mjs WS_URL ACCESS_TOKEN QUERY_FILE VARIABLES_JSON COUNT
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, queryFile, variablesJson, countArg] = process.argv.slice(2);
const query = readFileSync(queryFile, 'utf8');
const want = Number(countArg || '1');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  on: { connected: () => console.log(JSON.stringify({ connected: true })) },
  retryAttempts: 0,
});

let seen = 0;
const timer = setTimeout(() => {
  console.error('timed out');
  process.exit(3);
}, 20000);

client.subscribe(
  { query, variables: JSON.parse(variablesJson) },
  {
    next: (value) => {
      console.log(JSON.stringify(value));
      seen += 1;
      if (seen >= want) {
        clearTimeout(timer);
        client.dispose();
        process.exit(0);
      }
    },
    error: (err) => {
      console.log(JSON.stringify({ error: Array.isArray(err) ? err : String(err?.message ?? err) }));
      clearTimeout(timer);
      client.dispose();
      process.exit(0);
    },
    complete: () => {},
  },
);
