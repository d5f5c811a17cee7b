// Presence benchmark client (used by benches/ws/presence.sh). Two modes:
//
//   node presence.mjs latency <wsA> <wsB|-> <httpUrl> <token> <tenant> <participants> <updates>
//     Creates a team and a document with one section, opens <participants> graphql-transport-ws
//     connections subscribed to its `documentPresence` (every participant is its own connection),
//     then moves one participant at a time (a different one each time, so the server's coalescing
//     never holds one back) with `updatePresence` sent on its own socket, and times each move from
//     its sending to its arrival at every other participant. With <wsB>, even participants are on
//     A and odd ones on B, movers are on A, and only arrivals on B (across Redis) are timed.
//     Prints: RESULT <participants> <updates> <samples> <p50 ms> <p99 ms> <max ms>
//
//   node presence.mjs idle <ws> <httpUrl> <token> <tenant> <participants> [per document]
//     Creates documents of <per document> (default 50) participants each, opens <participants> connections subscribed to
//     their presence, prints "PRESENT <n>" once every one has received its first event, and keeps
//     them open (idle, no heartbeat needed within ZYGO_PRESENCE_TTL) until stdin closes.
import WebSocket from '../../tests/clients/node_modules/ws/wrapper.mjs';

const [mode, ...args] = process.argv.slice(2);
const PRESENCE = 'subscription($d: ID!) { documentPresence(documentId: $d) { kind participants { id cursor { head } isYou } } }';
const UPDATE =
  'mutation($d: ID!, $i: UpdatePresenceInput!) { updatePresence(documentId: $d, input: $i) { participants { id } } }';

async function gql(httpUrl, token, query, variables) {
  const res = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** The benchmark's team: the organisation's first (made if it has none; every run of this
 * script shares it, as the free plan allows few teams). */
async function benchTeam(httpUrl, token, tenant) {
  const have = (await gql(httpUrl, token, 'query($t: ID!) { tenant(id: $t) { teams(first: 1) { edges { node { id } } } } }', { t: tenant }))
    .tenant.teams.edges;
  if (have.length) return have[0].node.id;
  return (await gql(httpUrl, token, 'mutation($i: CreateTeamInput!) { createTeam(input: $i) { team { id } } }', {
    i: { tenantId: tenant, name: 'Presence' },
  })).createTeam.team.id;
}

/** A new document of the benchmark's team with one TEXT section: [documentId, sectionId]. */
let team = null;
async function document(httpUrl, token, tenant, title) {
  team ??= await benchTeam(httpUrl, token, tenant);
  const d = (
    await gql(httpUrl, token, 'mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id revision pages { id } } } }', {
      i: { teamId: team, title },
    })
  ).createDocument.document;
  const s = (
    await gql(httpUrl, token, 'mutation($i: AddDocumentSectionInput!) { addSection(input: $i) { section { id } } }', {
      i: { pageId: d.pages[0].id, baseRevision: d.revision, kind: 'TEXT', content: { type: 'doc', text: 'x'.repeat(200) } },
    })
  ).addSection.section;
  return [d.id, s.id];
}

/** One participant: a socket subscribed to the document's presence. */
function participant(url, token, documentId, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    let present = false;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } })));
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: 'p', type: 'subscribe', payload: { query: PRESENCE, variables: { d: documentId } } }));
      } else if (m.type === 'next' && m.id === 'p') {
        if (m.payload.errors) return reject(new Error(JSON.stringify(m.payload.errors)));
        const e = m.payload.data.documentPresence;
        if (!present) {
          present = true;
          resolve(ws);
        }
        onEvent?.(e);
      } else if (m.type === 'error' || (m.type === 'next' && m.payload.errors)) {
        reject(new Error(JSON.stringify(m)));
      }
    });
    ws.on('error', reject);
  });
}

async function inBatches(n, open) {
  const out = [];
  for (let i = 0; i < n; i += 50) out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => open(i + k)))));
  return out;
}

if (mode === 'latency') {
  const [wsA, wsB, httpUrl, token, tenant, nArg, updatesArg] = args;
  const [n, updates] = [Number(nArg), Number(updatesArg)];
  const two = wsB !== '-';
  const [doc, section] = await document(httpUrl, token, tenant, 'Presence latency');
  // The move being timed: its cursor head, when it was sent, and who still has to see it.
  let expect = -1;
  let t0 = 0;
  let waiting = 0;
  let done = () => {};
  const lat = [];
  const sockets = await inBatches(n, (i) => {
    const onB = two && i % 2 === 1;
    return participant(onB ? wsB : wsA, token, doc, (e) => {
      if (e.kind !== 'UPDATED' || e.participants[0].cursor?.head !== expect) return;
      if (!two || onB) lat.push(performance.now() - t0);
      if (--waiting === 0) done();
    });
  });
  // Every participant joins once: wait until the last join has reached everyone by moving
  // the first participant until all others see it (warm-up, not timed).
  const movers = sockets.filter((_, i) => !two || i % 2 === 0);
  const move = (ws, head) =>
    new Promise((resolve) => {
      expect = head;
      waiting = n - 1;
      done = resolve;
      t0 = performance.now();
      ws.send(JSON.stringify({ id: `m${head}`, type: 'subscribe', payload: { query: UPDATE, variables: { d: doc, i: { sectionId: section, cursor: { anchor: head, head } } } } }));
    });
  for (let w = 0; w < 3; w++) await move(movers[w % movers.length], 1_000_000 + w);
  lat.length = 0;
  for (let u = 0; u < updates; u++) await move(movers[u % movers.length], u);
  lat.sort((a, b) => a - b);
  const at = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];
  console.log(`RESULT ${n} ${updates} ${lat.length} ${at(0.5).toFixed(1)} ${at(0.99).toFixed(1)} ${lat[lat.length - 1].toFixed(1)}`);
  for (const ws of sockets) ws.terminate();
  process.exit(0);
} else if (mode === 'idle') {
  const [url, httpUrl, token, tenant, nArg, perArg] = args;
  const [n, per] = [Number(nArg), Number(perArg || '50')];
  const docs = [];
  for (let i = 0; i < Math.ceil(n / per); i++) docs.push((await document(httpUrl, token, tenant, `Idle ${i}`))[0]);
  await inBatches(n, (i) => participant(url, token, docs[Math.floor(i / per)]));
  console.log('PRESENT', n);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  console.error('usage: node presence.mjs latency|idle …');
  process.exit(2);
}
