// Runs the GraphQL-over-HTTP conformance audit of the `graphql-http` package against a live
// server and prints the results as one JSON array: [{id, name, status, reason?}], where
// `name` starts with MUST, SHOULD or MAY. Usage: `node graphql-http-audit.mjs URL`.
import { auditServer } from 'graphql-http';

const [url] = process.argv.slice(2);
const results = await auditServer({ url });
const out = [];
for (const r of results) {
  const entry = { id: r.id, name: r.name, status: r.status };
  if (r.status !== 'ok') entry.reason = r.reason;
  out.push(entry);
}
process.stdout.write(JSON.stringify(out) + '\n');
