// Standalone runner for the workflow journey (e2e/workflow-steps.mjs): signs a new user up through
// the API, creates an organisation, stores the tokens in localStorage and runs workflowJourney.
//
//   ZYGO_BASE=http://127.0.0.1:5182 ZYGO_MAIL_DIR=/tmp/zygo-f2/mail node e2e/run-workflow-steps.mjs
//
// ZYGO_BASE is the Vite dev server (or any server that serves the app and proxies /graphql).
// ZYGO_MAIL_DIR is the backend's mail folder (ZYGO_DATA_DIR/mail) to read the verification link.
import { chromium } from 'playwright-core';
import { readdirSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { workflowJourney } from './workflow-steps.mjs';

const base = process.env.ZYGO_BASE ?? 'http://127.0.0.1:5182';
const mailDir = process.env.ZYGO_MAIL_DIR ?? '/tmp/zygo-f2/mail';
const shotsDir = process.env.ZYGO_SHOTS ?? '/tmp/zygo-f2/shots';
mkdirSync(shotsDir, { recursive: true });

async function gql(query, variables, token) {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  if (body.errors?.length) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function newestMailFor(email) {
  const files = readdirSync(mailDir)
    .map((f) => join(mailDir, f))
    .filter((f) => statSync(f).isFile())
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (text.includes(email)) return text;
  }
  throw new Error(`no mail for ${email} in ${mailDir}`);
}

export async function signUpOwner() {
  const stamp = Date.now().toString(36);
  const email = `wf-${stamp}@example.com`;
  const password = 'correct horse battery';
  await gql(
    'mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }',
    { i: { email, password, name: 'Workflow Tester' } },
  );
  await new Promise((r) => setTimeout(r, 300));
  const mail = newestMailFor(email);
  const token = (mail.match(/token[=:"\s]+([A-Za-z0-9_\-.]{16,})/) ?? [])[1];
  if (!token) throw new Error('no verification token in mail');
  await gql('mutation($t: String!) { verifyEmail(token: $t) { user { id } } }', { t: token });
  const login = await gql(
    'mutation($i: LogInInput!) { logIn(input: $i) { tokens { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt } } }',
    { i: { email, password } },
  );
  const tokens = login.logIn.tokens;
  const slug = `wf-${stamp}`;
  await gql(
    'mutation($i: CreateTenantInput!) { createTenant(input: $i) { tenant { id slug } } }',
    { i: { name: `Workflows ${stamp}`, slug } },
    tokens.accessToken,
  );
  return { email, tokens, slug };
}

async function main() {
  const { tokens, slug } = await signUpOwner();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${base}/login`);
  await page.evaluate((t) => localStorage.setItem('zygo.session', JSON.stringify(t)), tokens);
  const shot = async (name) => {
    await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: false });
    console.log(`  screenshot ${name}.png`);
  };
  const started = Date.now();
  try {
    await workflowJourney({ browser, page, base, slug, shot });
    console.log(`workflow journey passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    await shot('failure').catch(() => {});
    console.error('workflow journey FAILED:', e.message);
    process.exitCode = 1;
  } finally {
    if (consoleErrors.length) console.log('console errors:\n  ' + consoleErrors.join('\n  '));
    await browser.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
