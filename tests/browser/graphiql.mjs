// Drives /graphiql in real Chromium through the first session of the README:
// signUp → verifyEmail (token from the mail file) → logIn → createTenant → viewer { tenants }
// → a tenantEvents subscription that fires.
//
// Usage: node graphiql.mjs BASE_URL MAIL_DIR
// GraphiQL is bundled with the web app and served by zygo itself: the page must work with no
// network at all. Any request to another origin is aborted and fails the check.
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [base, mailDir] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const origin = new URL(base).origin;

let pageRef;
const fail = async (msg) => {
  if (pageRef) await pageRef.screenshot({ path: join(here, 'graphiql-failure.png') }).catch(() => {});
  console.error(`FAIL: ${msg}`);
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const consoleErrors = [];
try {
  const page = await browser.newPage();
  pageRef = page;
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  // No network but zygo: every request (and WebSocket) to another origin is refused and noted.
  const foreign = [];
  const local = (url) => url.startsWith('data:') || url.startsWith('blob:') || new URL(url).hostname === '127.0.0.1';
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    foreign.push(url);
    return route.abort('internetdisconnected');
  });
  page.on('websocket', (ws) => { if (!local(ws.url().replace(/^ws/, 'http'))) foreign.push(ws.url()); });
  page.on('request', (req) => { if (!local(req.url())) foreign.push(req.url()); });
  const policy = (await page.request.get(`${base}/graphiql`)).headers()['content-security-policy'] ?? '';
  if (!policy.includes("script-src 'self'") || /https?:/.test(policy)) fail(`not the app's strict policy: ${policy}`);

  const open = async () => {
    await page.goto(`${base}/graphiql`);
    await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 60000 });
  };
  // Types into the query editor as a person would, then runs it with Ctrl+Enter.
  const type = async (query) => {
    await page.click('.graphiql-query-editor .CodeMirror');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.replaceSelection(q), query);
    await page.waitForTimeout(800); // GraphiQL re-parses the operation after a short debounce
    await page.keyboard.press('Control+Enter');
  };
  const run = async (query, until = () => true) => {
    await type(query);
    // Generous: CI runs this beside the rest of the suite on two cores. If GraphiQL ran a
    // stale parse of the editor, run again.
    for (let i = 0; i < 400; i++) {
      await page.waitForTimeout(100);
      const text = await page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? '');
      if (i > 0 && i % 100 === 0 && (text.trim() === '' || text.includes('Unknown operation'))) {
        await page.keyboard.press('Control+Enter');
      }
      if (text.trim().startsWith('{')) {
        try {
          const json = JSON.parse(text);
          if (until(json)) return json;
        } catch { /* still streaming */ }
      }
    }
    await fail(`no expected response to: ${query}`);
  };

  await open();
  const email = `graphiql-${Date.now()}@example.com`;
  const password = 'correct horse battery';
  const signUp = await run(`mutation { signUp(input: { email: "${email}", password: "${password}", name: "Ada" }) { user { email emailVerified } } }`,
    (r) => r.data?.signUp);
  if (signUp.data.signUp.user.emailVerified !== false) fail('new user already verified');

  let token;
  for (let i = 0; i < 300 && !token; i++) {
    for (const f of readdirSync(mailDir)) {
      const mail = readFileSync(join(mailDir, f), 'utf8');
      if (mail.includes(`To: ${email}`)) token = mail.match(/verifyEmail\(token: "([^"]+)"/)?.[1];
    }
    if (!token) await page.waitForTimeout(100);
  }
  if (!token) fail('no verification mail');
  await run(`mutation { verifyEmail(token: "${token}") { user { emailVerified } } }`, (r) => r.data?.verifyEmail?.user.emailVerified === true);
  const login = await run(`mutation { logIn(input: { email: "${email}", password: "${password}" }) { tokens { accessToken } } }`, (r) => r.data?.logIn);
  const access = login.data.logIn.tokens.accessToken;

  // What a person does in the Headers pane, done through GraphiQL's own storage.
  await page.evaluate((t) => {
    localStorage.removeItem('graphiql:tabState');
    localStorage.setItem('graphiql:headers', JSON.stringify({ Authorization: `Bearer ${t}` }));
  }, access);
  await open();
  const slug = `acme-${Date.now()}`;
  const created = await run(`mutation { createTenant(input: { name: "Acme", slug: "${slug}" }) { tenant { id slug } } }`, (r) => r.data || r.errors);
  if (!created.data?.createTenant) fail(`createTenant: ${JSON.stringify(created)}`);
  const tenantId = created.data.createTenant.tenant.id;
  await run('query { viewer { tenants(first: 10) { totalCount edges { node { slug } } } } }',
    (r) => r.data?.viewer?.tenants.edges.some((e) => e.node.slug === slug));

  // Start the subscription in GraphiQL, then rename the organisation from outside.
  await type(`subscription { tenantEvents(tenantId: "${tenantId}") { kind tenant { name } } }`);
  let seen = false;
  for (let i = 0; i < 160 && !seen; i++) {
    await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` },
      body: JSON.stringify({ query: `mutation { updateTenant(input: { id: "${tenantId}", name: "Live ${i}" }) { tenant { name } } }` }),
    });
    await page.waitForTimeout(250);
    const text = await page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? '');
    seen = text.includes('TENANT_UPDATED');
  }
  if (!seen) fail('the subscription in GraphiQL never fired');
  if (foreign.length) fail(`requests left for other origins: ${[...new Set(foreign)].join(', ')}`);
  await page.screenshot({ path: join(here, 'graphiql.png') });
  const real = consoleErrors.filter((e) => !e.includes('favicon'));
  if (real.length) fail(`console errors: ${real.join(' | ')}`);
  console.log(`graphiql (bundled, served from ${origin}, no other origin contacted): sign-up, verification, log-in, organisation, viewer and live subscription all worked`);
} finally {
  await browser.close();
}
