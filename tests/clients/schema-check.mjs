// Checks the live schema with graphql-js: introspects URL, builds a client schema from the
// result (`buildClientSchema`), validates it (`validateSchema`), and compares it with the
// committed SDL file modulo ordering (both sorted with `lexicographicSortSchema`).
// Usage: `node schema-check.mjs URL SCHEMA_FILE`; prints {"errors": [...], "equal": bool,
// "firstDifference": ...}.
import { readFileSync } from 'node:fs';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
  validateSchema,
} from 'graphql';

const [url, file] = process.argv.slice(2);
const resp = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify({ query: getIntrospectionQuery() }),
});
const body = await resp.json();
if (body.errors) {
  process.stdout.write(JSON.stringify({ errors: body.errors.map((e) => e.message), equal: false }) + '\n');
  process.exit(0);
}
const live = buildClientSchema(body.data);
const errors = validateSchema(live).map((e) => e.message);
const livePrinted = printSchema(lexicographicSortSchema(live));
const filePrinted = printSchema(lexicographicSortSchema(buildSchema(readFileSync(file, 'utf8'))));
const equal = livePrinted === filePrinted;
let firstDifference = null;
if (!equal) {
  const a = livePrinted.split('\n');
  const b = filePrinted.split('\n');
  const i = a.findIndex((line, n) => line !== b[n]);
  firstDifference = { line: i, live: a.slice(i, i + 3), file: b.slice(i, i + 3) };
}
process.stdout.write(JSON.stringify({ errors, equal, firstDifference }) + '\n');
