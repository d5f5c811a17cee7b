// End-to-end journey through the real SPA in headless Chromium:
//
//   node e2e/journey.mjs <baseUrl> <mailDir> [artifactsDir]
//
// baseUrl  where the app is served and /graphql answers (zygo serving frontend/dist, or the Vite
//          dev server proxying to a zygo whose ZYGO_PUBLIC_URL is that server)
// mailDir  the zygo's mail folder (ZYGO_DATA_DIR/mail): verification and invitation links are
//          read from the newest mail to each address
//
// Sign up → verify e-mail → log in → create an organisation → invite a member, who accepts in a
// second browser context by signing up through the invitation → create a custom role with the
// permission matrix and give it to the member → the workflow journey (e2e/workflow-steps.mjs) →
// the audit log shows the invitation, the role change and the workflow actions → billing,
// webhooks, retention, notifications, privacy → the files journey (e2e/resources-steps.mjs: drop
// a file, share it with a password, download it signed out through the link) → a sample data
// collection into a project's folder, searched (e2e/collection-steps.mjs) → the studio
// (e2e/studio-steps.mjs: one document in both contexts, each seeing the other's cursor, a lock,
// a closed tab). Also a 375 px
// screenshot of the dashboard. Any console error, page error or failed assertion fails the run.
import { chromium } from 'playwright-core';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [baseArg, mailDirArg, artifactsArg] = process.argv.slice(2);
if (!baseArg || !mailDirArg) {
  console.error('usage: node e2e/journey.mjs <baseUrl> <mailDir> [artifactsDir]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const mailDir = resolve(mailDirArg);
const artifacts = resolve(artifactsArg ?? join(here, 'artifacts'));
mkdirSync(artifacts, { recursive: true });

const TIMEOUT = 20_000;
const stamp = Date.now().toString(36);
const owner = { name: 'Olive Owner', email: `olive-${stamp}@example.com`, password: 'violet tangerine 42 lamp' };
const invitee = { name: 'Ivan Invitee', email: `ivan-${stamp}@example.com`, password: 'copper meadow 17 kite' };
const orgName = `Acme ${stamp}`;
const roleName = `Auditor ${stamp}`;

const problems = [];
const missing = [];
let shotIndex = 0;
let currentStep = 'start';

function log(msg) {
  console.log(`[journey] ${msg}`);
}

function step(name) {
  currentStep = name;
  log(`— ${name}`);
}

class JourneyError extends Error {}
function assert(cond, message) {
  if (!cond) throw new JourneyError(message);
}

/** Records console errors and page errors of every page of a context. */
function watch(context, label) {
  const attach = (page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`[${label}] console error during "${currentStep}": ${msg.text()} (${page.url()})`);
    });
    page.on('pageerror', (err) => problems.push(`[${label}] page error during "${currentStep}": ${err.message} (${page.url()})`));
  };
  context.pages().forEach(attach);
  context.on('page', attach);
}

/** Polls `fn` until it returns a truthy value. */
async function waitUntil(fn, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new JourneyError(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function checkProblems() {
  if (problems.length) throw new JourneyError(`errors in the browser:\n  ${problems.join('\n  ')}`);
}

// ---------- mail ----------

function decodeQuotedPrintable(s) {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

function mailsTo(address) {
  let files = [];
  try {
    files = readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files
    .map((f) => {
      const path = join(mailDir, f);
      return { path, mtime: statSync(path).mtimeMs };
    })
    .map((m) => ({ ...m, text: readFileSync(m.path, 'utf8') }))
    .filter((m) => new RegExp(`^To:.*${address.replace(/[.+]/g, '\\$&')}`, 'mi').test(m.text))
    .sort((a, b) => b.mtime - a.mtime);
}

/** Waits for the newest mail to `address` holding a link with `pathPart`; returns the link. */
async function waitForLink(address, pathPart, notBefore = 0) {
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    for (const m of mailsTo(address)) {
      if (m.mtime < notBefore) break;
      const text = decodeQuotedPrintable(m.text);
      const match = text.match(new RegExp(`https?://[^\\s"'<>]*${pathPart.replace(/[?]/g, '\\?')}[^\\s"'<>]*`));
      if (match) {
        const link = new URL(match[0].replace(/&amp;/g, '&'));
        const target = new URL(base);
        if (link.origin !== target.origin) {
          log(`mail link points at ${link.origin}; opening it on ${target.origin}`);
          link.protocol = target.protocol;
          link.host = target.host;
        }
        log(`mail to ${address}: ${m.path}`);
        return link.toString();
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new JourneyError(`no mail to ${address} with a ${pathPart} link in ${mailDir}`);
}

// ---------- main ----------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let exitCode = 0;
try {
  const ownerCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  watch(ownerCtx, 'owner');
  ownerCtx.setDefaultTimeout(TIMEOUT);
  const page = await ownerCtx.newPage();

  const shot = async (name, p = page) => {
    const file = join(artifacts, `${String(++shotIndex).padStart(2, '0')}-${name.replace(/[^a-z0-9-_]+/gi, '-')}.png`);
    await p.evaluate(() => window.scrollTo(0, 0)); // the sticky top bar belongs at the top of the shot
    await p.screenshot({ path: file, fullPage: true });
    log(`screenshot ${file}`);
    return file;
  };

  // 1. Sign up.
  step('sign up');
  const signupStarted = Date.now() - 1000;
  await page.goto(`${base}/signup`);
  await page.getByLabel('Name', { exact: true }).fill(owner.name);
  await page.getByLabel('E-mail').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await shot('signup');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
  checkProblems();

  // 2. Verify the address with the link of the newest mail.
  step('verify e-mail');
  const verifyLink = await waitForLink(owner.email, '/verify-email?token=', signupStarted);
  await page.goto(verifyLink);
  await page.getByText(`Your address ${owner.email} is confirmed`).waitFor();
  await shot('email-verified');
  checkProblems();

  // 3. Log in.
  step('log in');
  await page.getByRole('link', { name: 'Log in' }).click();
  await page.waitForURL(/\/login/);
  assert((await page.getByLabel('E-mail').inputValue()) === owner.email, 'the login form is not prefilled with the address');
  await page.getByLabel('Password').fill(owner.password);
  await shot('login');
  await page.getByRole('button', { name: 'Log in' }).click();

  // 4. Create an organisation (the onboarding page comes up for a user without one).
  step('create organisation');
  await page.waitForURL(/\/organisations\/new/);
  await page.getByLabel('Name', { exact: true }).fill(orgName);
  const slug = await page.getByLabel('URL name').inputValue();
  assert(/^acme-/.test(slug), `unexpected slug suggestion "${slug}"`);
  await shot('create-organisation');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await page.waitForURL(new RegExp(`/o/${slug}$`));
  await page.getByRole('heading', { name: orgName, level: 1 }).waitFor();
  await shot('organisation-overview');
  checkProblems();

  // 5. Invite a member.
  step('invite member');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
  await page.waitForURL(/\/members$/);
  await page.getByRole('cell', { name: owner.email }).waitFor();
  const inviteStarted = Date.now() - 1000;
  await page.getByLabel('E-mail address').fill(invitee.email);
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await page.getByText(`Invitation sent to ${invitee.email}`).waitFor();
  const invitationRow = page.getByRole('row').filter({ hasText: invitee.email });
  await invitationRow.getByText('pending').waitFor();
  await shot('members-invited');
  checkProblems();

  // 6. The invitee signs up through the invitation link and accepts it (second context).
  step('accept invitation');
  const inviteLink = await waitForLink(invitee.email, '/invitations/accept?token=', inviteStarted);
  const inviteeCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  watch(inviteeCtx, 'invitee');
  inviteeCtx.setDefaultTimeout(TIMEOUT);
  const page2 = await inviteeCtx.newPage();
  await page2.goto(inviteLink);
  await page2.getByRole('heading', { name: 'You are invited' }).waitFor();
  // Before signing in, the page says who invites whom where (invitationPreview).
  const emailHint = `${invitee.email[0]}•••@${invitee.email.split('@')[1]}`;
  await page2.getByText(`invited ${emailHint} to join ${orgName} as Member`).waitFor();
  await shot('invitation', page2);
  await page2.getByRole('link', { name: 'Create an account' }).click();
  await page2.waitForURL(/\/signup\?next=/);
  await page2.getByLabel('Name', { exact: true }).fill(invitee.name);
  await page2.getByLabel('E-mail').fill(invitee.email);
  await page2.getByLabel('Password').fill(invitee.password);
  await page2.getByRole('button', { name: 'Create account' }).click();
  await page2.waitForURL(/\/invitations\/accept\?token=/);
  await page2.getByRole('button', { name: 'Accept invitation' }).click();
  await page2.getByText(`You joined ${orgName} as Member`).waitFor();
  await shot('invitation-accepted', page2);
  await page2.getByRole('button', { name: `Open ${orgName}` }).click();
  await page2.waitForURL(new RegExp(`/o/${slug}$`));
  await page2.getByRole('heading', { name: orgName, level: 1 }).waitFor();
  // A member cannot manage roles or read the audit log: those are hidden.
  const nav2 = page2.getByRole('navigation', { name: 'Main' });
  assert((await nav2.getByRole('link', { name: 'Audit log' }).count()) === 0, 'a member sees the audit log link');
  checkProblems();

  // 7. Create a custom role with the permission matrix and give it to the member.
  step('create custom role');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Roles' }).click();
  await page.waitForURL(/\/roles$/);
  await page.getByRole('row').filter({ hasText: 'owner' }).first().waitFor();
  await page.getByRole('link', { name: 'New role' }).click();
  await page.waitForURL(/\/roles\/new$/);
  await page.getByLabel('Name', { exact: true }).fill(roleName);
  await page.getByLabel('Description').fill('Reads the audit log and runs workflows');
  await page.getByRole('checkbox', { name: 'Audit log: read' }).check();
  await page.getByRole('checkbox', { name: 'Workflows: read' }).check();
  await page.getByRole('checkbox', { name: 'Workflows: execute' }).check();
  await page.getByRole('checkbox', { name: 'Members: read' }).check();
  await page.getByRole('checkbox', { name: 'Organisation: read' }).check();
  assert(!(await page.getByRole('checkbox', { name: 'Members: manage' }).isChecked()), 'members.manage checked without a click');
  await shot('role-create-matrix');
  await page.getByRole('button', { name: 'Create role' }).click();
  await page.getByText(`Role ${roleName} created.`).waitFor();
  assert(await page.getByRole('checkbox', { name: 'Audit log: read' }).isChecked(), 'the new role lacks audit.read');
  assert(!(await page.getByRole('checkbox', { name: 'Secrets: manage' }).isChecked()), 'the new role has secret.manage');
  await shot('role-detail');
  checkProblems();

  step('give the role to the member');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
  await page.waitForURL(/\/members$/);
  const roleSelect = page.getByLabel(`Role of ${invitee.name}`);
  await roleSelect.waitFor();
  await roleSelect.selectOption({ label: roleName });
  await page.getByText(`${invitee.name} is now ${roleName}.`).waitFor();
  await shot('member-role-changed');
  checkProblems();

  // The member now holds audit.read: the audit log appears in their navigation without a reload
  // (the organisation's live events re-read the viewer's permissions).
  await nav2.getByRole('link', { name: 'Audit log' }).waitFor();
  await shot('member-sees-audit-log', page2);
  checkProblems();

  // The member is told about the role change: the bell counts it live (notificationAdded), the
  // centre lists it and marks it read, and the settings matrix keeps a choice.
  step('notifications');
  await page2.getByRole('link', { name: 'Notifications, 1 unread' }).click();
  await page2.waitForURL(/\/notifications$/);
  const item = page2.getByRole('list', { name: 'Notifications' }).getByRole('listitem').filter({ hasText: `Your role in ${orgName} changed` });
  await item.waitFor();
  await item.getByText(`You are now ${roleName}`).waitFor();
  await shot('notifications', page2);
  await page2.getByRole('button', { name: 'Mark all read' }).click();
  await page2.getByRole('link', { name: 'Notifications, 0 unread' }).waitFor();
  await page2.getByRole('link', { name: 'Notification settings' }).click();
  await page2.waitForURL(/\/settings\/notifications$/);
  const roleMail = page2.getByRole('checkbox', { name: 'Your role in an organisation changed: E-mail' });
  await roleMail.waitFor();
  assert(await roleMail.isChecked(), 'role-change mail is on by default');
  // Saved once the server answered the change; a reload then shows what it kept.
  const saved = page2.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('UpdateNotificationSettings'));
  await roleMail.uncheck();
  await saved;
  await page2.reload();
  await roleMail.waitFor();
  assert(!(await roleMail.isChecked()), 'the role-change mail choice was not kept');
  await shot('notification-settings', page2);
  checkProblems();

  // Privacy: the member exports their data (ready once the job ran; the link downloads a ZIP),
  // then asks for their account's deletion and takes it back.
  step('privacy');
  await page2.getByRole('link', { name: 'Privacy' }).first().click();
  await page2.waitForURL(/\/settings\/privacy$/);
  await page2.getByRole('button', { name: 'Export my data' }).click();
  const exports = page2.getByRole('table', { name: 'Data exports' });
  await exports.waitFor();
  await waitUntil(async () => {
    if (await exports.getByRole('link', { name: /Download/ }).count()) return true;
    await page2.reload();
    await exports.waitFor();
    return false;
  }, 'the export to be ready');
  const href = await exports.getByRole('link', { name: /Download/ }).first().getAttribute('href');
  // The link carries the public URL (ZYGO_PUBLIC_URL); the test server answers it here.
  const url = new URL(href);
  const zip = await page2.request.get(`${base}${url.pathname}${url.search}`);
  assert(zip.ok() && zip.headers()['content-type'] === 'application/zip', `the export download answered ${zip.status()}`);
  const deletion = page2.getByRole('form', { name: 'Delete account' });
  await deletion.getByLabel('Type your e-mail address').fill(invitee.email);
  await deletion.getByLabel('Password').fill(invitee.password);
  await deletion.getByRole('button', { name: 'Delete my account' }).click();
  await page2.getByText('Your account will be deleted on').waitFor();
  await shot('privacy', page2);
  await page2.getByRole('button', { name: 'Keep my account' }).click();
  await page2.getByRole('form', { name: 'Delete account' }).waitFor();
  checkProblems();

  // 8. Workflows (F2's steps).
  step('workflow journey');
  // A missing workflow-steps.mjs fails the journey (reported at the end), but the remaining steps
  // still run so their results are known.
  let workflowJourney = null;
  try {
    ({ workflowJourney } = await import('./workflow-steps.mjs'));
    if (typeof workflowJourney !== 'function') throw new Error('it does not export workflowJourney');
  } catch (e) {
    workflowJourney = null;
    missing.push(`e2e/workflow-steps.mjs could not be loaded (${e.message}): the workflow part of the journey did not run`);
    log(`FAILURE: ${missing.at(-1)}`);
  }
  if (workflowJourney) {
    await page.goto(`${base}/o/${slug}`);
    await page.getByRole('heading', { name: orgName, level: 1 }).waitFor();
    await workflowJourney({ browser, page, base, slug, shot });
    checkProblems();
  }

  // 9. The audit log shows the invitation, the role change and the workflow actions.
  step('audit log');
  await page.goto(`${base}/o/${slug}/audit`);
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  const table = page.getByRole('table');
  await table.waitFor();
  const actionsShown = async () => (await table.locator('tbody th code').allTextContents()).map((x) => x.trim());
  const newest = await actionsShown();
  log(`newest audit actions: ${[...new Set(newest)].join(', ')}`);
  if (workflowJourney) {
    assert(newest.some((a) => a.startsWith('workflow.')), 'the audit log shows no workflow action');
    assert(newest.includes('execution.started'), 'the audit log shows no workflow run (execution.started)');
    assert(newest.includes('execution.cancelled'), 'the audit log shows no cancelled run (execution.cancelled)');
  }
  await shot('audit-log');
  // Older entries through the filter: the invitation, the role and the role change.
  for (const action of ['invitation.created', 'role.created', 'member.role_changed']) {
    await page.getByLabel('Action', { exact: true }).fill(action);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const shown = await waitUntil(async () => {
      const list = await actionsShown();
      return list.length > 0 && list.every((a) => a === action) ? list : null;
    }, `the audit log filtered by ${action} to show only such entries`);
    log(`audit log has ${shown.length} × ${action}`);
  }
  await shot('audit-log-filtered');
  await page.getByRole('button', { name: 'Reset' }).click();

  // Live entries: a change made elsewhere shows up without reloading.
  step('audit log live');
  const page3 = await ownerCtx.newPage();
  await page3.goto(`${base}/o/${slug}/settings`);
  const nameField = page3.getByLabel('Organisation name');
  await nameField.waitFor();
  await nameField.fill(`${orgName} Ltd`);
  await page3.getByRole('button', { name: 'Save general settings' }).click();
  await page3.getByText('Saved.').first().waitFor();
  await page3.close();
  await page.getByRole('row').filter({ hasText: 'new' }).filter({ hasText: 'tenant.' }).first().waitFor();
  await shot('audit-log-live');
  checkProblems();

  // Billing: subscribe, upgrade with the preview, download an invoice.
  step('billing');
  {
    const { billingJourney } = await import('./billing-steps.mjs');
    await billingJourney({ page, base, slug, shot });
    checkProblems();
  }

  // Infrastructure (on the Business plan the billing step left): the local provider, a server
  // coming up live, a DNS record pointing at it.
  step('infrastructure');
  {
    const { infrastructureJourney } = await import('./infrastructure-steps.mjs');
    await infrastructureJourney({ page, base, slug, shot });
    checkProblems();
  }

  // Webhooks: add an endpoint (its secret shown once), send a test event, see it in the log.
  step('webhooks');
  await page.goto(`${base}/o/${slug}/webhooks`);
  await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  await page.getByText('Add an endpoint').click();
  await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/journey-hook');
  await page.getByLabel('team.created').check();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const hookSecret = (await page.getByLabel('Webhook signing secret').textContent()) ?? '';
  assert(hookSecret.startsWith('whsec_'), `the signing secret is shown once: ${hookSecret}`);
  const card = page.getByRole('article', { name: 'Endpoint http://127.0.0.1:9/journey-hook' });
  const sent = page.waitForResponse((r) => r.url().includes('/graphql') && (r.request().postData() ?? '').includes('sendTestWebhookEvent'));
  await card.getByRole('button', { name: 'Send test event' }).click();
  const sentBody = await (await sent).json();
  assert(!sentBody.errors, `sendTestWebhookEvent answered ${JSON.stringify(sentBody)}`);
  // The worker tries at once; this server refuses private addresses, so the log shows why.
  await waitUntil(async () => {
    await page.reload();
    await card.getByRole('table').waitFor();
    return (await card.getByRole('row').filter({ hasText: 'webhook.test' }).count()) > 0 ? true : null;
  }, 'the test event to appear in the delivery log');
  await shot('webhooks');
  checkProblems();

  // Files: drop a file, share it with a password, download it signed out through the link.
  step('files');
  {
    const { resourcesJourney } = await import('./resources-steps.mjs');
    await resourcesJourney({ page, browser, base, slug, watch, shot });
  }
  checkProblems();

  // Data collection: a sample collection into a project's folder, then a search of it.
  step('collection');
  {
    const { collectionJourney } = await import('./collection-steps.mjs');
    await collectionJourney({ page, base, slug, shot });
    checkProblems();
  }

  // Retention: beyond the platform's maximum is refused with the reason; within it, saved.
  step('retention');
  await page.goto(`${base}/o/${slug}/settings`);
  const retention = page.getByRole('form', { name: 'Data retention' });
  await retention.getByLabel('Audit log (days)').fill('400');
  await retention.getByRole('button', { name: 'Save retention' }).click();
  await retention.getByText('must be 1 to 365 days').waitFor();
  await retention.getByLabel('Audit log (days)').fill('90');
  await retention.getByRole('button', { name: 'Save retention' }).click();
  await retention.getByText('Saved.').waitFor();
  checkProblems();

  // Domains: a custom domain shows the TXT record to create; checking it before the record
  // exists says so and leaves it pending.
  step('domains');
  await page.goto(`${base}/o/${slug}/domains`);
  await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
  await page.getByLabel('Domain', { exact: true }).fill('app.journey.example');
  await page.getByRole('button', { name: 'Add domain' }).click();
  const domainRow = page.getByRole('row').filter({ hasText: 'app.journey.example' });
  await domainRow.getByText('_zygo-challenge.app.journey.example TXT').waitFor();
  await domainRow.getByRole('button', { name: 'Check now' }).click();
  await domainRow.getByRole('status').waitFor();
  await domainRow.getByText('Pending').waitFor();
  await shot('domains');
  checkProblems();

  // The studio: one document in two contexts — presence, cursors, a lock, a closed tab.
  step('studio');
  {
    const { studioJourney } = await import('./studio-steps.mjs');
    await studioJourney({ page, page2, base, slug, owner, invitee, shot });
    checkProblems();
  }

  // The platform console: a super administrator suspends and reactivates the organisation.
  step('platform console');
  if (process.env.ZYGO_JOURNEY_OPERATOR) {
    const { adminJourney } = await import('./admin-steps.mjs');
    const [email, password, backupCode] = process.env.ZYGO_JOURNEY_OPERATOR.split('\n');
    await adminJourney({ browser, base, operator: { email, password, backupCode }, orgName, watch, shot });
    checkProblems();
  } else {
    throw new JourneyError('ZYGO_JOURNEY_OPERATOR (e-mail, password and a backup code of a super administrator, one per line) is not set');
  }

  // 10. The dashboard at 375 px.
  step('dashboard at 375 px');
  const mobile = await browser.newContext({
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    storageState: await ownerCtx.storageState(),
  });
  watch(mobile, 'mobile');
  mobile.setDefaultTimeout(TIMEOUT);
  const pm = await mobile.newPage();
  await pm.goto(`${base}/`);
  await pm.getByRole('heading', { name: `Welcome, ${owner.name}` }).waitFor();
  const overflow = await pm.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `the dashboard is ${overflow}px wider than a 375 px screen`);
  await shot('dashboard-375', pm);
  await pm.getByRole('button', { name: 'Navigation', exact: true }).click();
  await pm.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).waitFor();
  await shot('dashboard-375-menu', pm);
  await pm.goto(`${base}/o/${slug}/members`);
  await pm.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
  await pm.getByRole('cell', { name: invitee.email }).first().waitFor();
  const overflow2 = await pm.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow2 <= 0, `the members page is ${overflow2}px wider than a 375 px screen`);
  await shot('members-375', pm);
  await mobile.close();
  checkProblems();

  await inviteeCtx.close();
  await ownerCtx.close();
  checkProblems();
  if (missing.length) throw new JourneyError(missing.join('\n'));
  console.log('journey passed');
} catch (e) {
  exitCode = 1;
  console.error(`journey failed at "${currentStep}": ${e instanceof JourneyError ? e.message : e?.stack ?? e}`);
  if (problems.length && !(e instanceof JourneyError && e.message.startsWith('errors in the browser'))) {
    console.error(`errors in the browser:\n  ${problems.join('\n  ')}`);
  }
} finally {
  await browser.close();
}
process.exit(exitCode);
