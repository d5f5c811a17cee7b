// The platform console part of the end-to-end journey, through the UI only: a super
// administrator (granted like `zygo admin grant` does, with two-factor authentication on)
// signs in with a backup code, finds the journey's organisation, suspends it with a reason and
// reactivates it, then enters it in developer mode (a read-only support session), sees the
// banner and exits.
//
// `browser` is the playwright-core Browser; `operator` = { email, password, backupCode };
// `watch(context, label)` reports the context's console errors; `shot(name, page)` saves a
// screenshot. Throws with a clear message when a step fails.

const STEP_TIMEOUT = 20_000;

export async function adminJourney({ browser, base, operator, orgName, watch, shot }) {
  const step = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      await shot(`admin-failed-${what}`, page).catch(() => {});
      // What the page showed: its address and any alert, so a failure in CI explains itself.
      const alerts = await page.getByRole('alert').allTextContents().catch(() => []);
      const waitingFor = e.message.split('\n').find((l) => l.includes('waiting for')) ?? '';
      throw new Error(
        `admin journey: ${what} failed: ${e.message.split('\n')[0]} ${waitingFor.trim()} at ${page.url()}; alerts: ${JSON.stringify(alerts)}`,
      );
    }
  };
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  watch(ctx, 'operator');
  const page = await ctx.newPage();

  await step('signing in with a backup code', async () => {
    await page.goto(`${base}/login`);
    await page.getByLabel('E-mail').fill(operator.email);
    await page.getByLabel('Password').fill(operator.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Use a backup code' }).click();
    await page.getByLabel('Backup code').fill(operator.backupCode);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Console' }).click();
    await page.getByRole('heading', { name: 'Platform console', level: 1 }).waitFor({ timeout: STEP_TIMEOUT });
  });

  const row = () => page.getByRole('table', { name: 'Organisations' }).getByRole('row', { name: new RegExp(orgName) });
  await step('suspending the organisation', async () => {
    await page.getByLabel('Search').fill(orgName);
    await row().getByRole('button', { name: 'Suspend' }).click();
    const form = page.getByRole('form', { name: `Suspend ${orgName}` });
    await form.getByLabel('Reason').fill('Journey: a reported abuse, under review');
    await form.getByRole('button', { name: `Suspend ${orgName}` }).click();
    await row().locator('.status', { hasText: 'suspended' }).waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('admin-suspended', page);

  await step('reactivating the organisation', async () => {
    await row().getByRole('button', { name: 'Reactivate' }).click();
    const form = page.getByRole('form', { name: `Reactivate ${orgName}` });
    await form.getByLabel('Reason').fill('Journey: the review found nothing');
    await form.getByRole('button', { name: `Reactivate ${orgName}` }).click();
    await row().locator('.status', { hasText: 'active' }).waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('admin-reactivated', page);

  await step('opening the job dashboard', async () => {
    await page.getByRole('tab', { name: 'Jobs' }).click();
    await page.getByRole('table', { name: 'Job queues' }).getByRole('row', { name: /workflow|mail|billing/ }).first().waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('admin-jobs', page);

  await step('testing a collector of the collection catalog', async () => {
    await page.goto(`${base}/admin/collection`);
    const matrix = page.getByRole('table', { name: 'Platform services' });
    const row = matrix.getByRole('row', { name: /Instagram/ });
    await row.getByRole('checkbox', { name: 'Instagram posts (sample)' }).waitFor({ timeout: STEP_TIMEOUT });
    await row.getByRole('button', { name: 'Test dataset' }).first().click();
    await page.getByText(/there is no dataset to test/).waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('admin-collection-catalog', page);

  // Developer mode: a read-only support session into the organisation, its banner, and out.
  const banner = () => page.getByRole('status', { name: 'Developer mode' });
  await step('starting a read-only support session', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Support sessions' }).click();
    await page.getByRole('heading', { name: 'Support sessions', level: 1 }).waitFor({ timeout: STEP_TIMEOUT });
    const form = page.getByRole('form', { name: 'Enter an organisation' });
    await form.getByLabel('Find an organisation').fill(orgName);
    const select = form.getByLabel('Organisation', { exact: true });
    const option = select.locator('option', { hasText: orgName }).first();
    await option.waitFor({ state: 'attached', timeout: STEP_TIMEOUT });
    await select.selectOption(await option.getAttribute('value'));
    await form.getByLabel('Reason', { exact: true }).fill('Journey: ticket 42, the customer asked us to look at their settings');
    await form.getByRole('button', { name: 'Start session' }).click();
    await banner().waitFor({ timeout: STEP_TIMEOUT });
    if (!(await banner().textContent()).includes('read-only')) throw new Error('the banner does not say read-only');
  });
  await step('opening the organisation in developer mode', async () => {
    await banner().getByRole('link', { name: `Open ${orgName}` }).click();
    await page.waitForURL(/\/o\//, { timeout: STEP_TIMEOUT });
    await banner().waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('admin-developer-mode', page);
  await step('exiting developer mode', async () => {
    await banner().getByRole('button', { name: 'Exit developer mode' }).click();
    await page.waitForURL(/\/admin\/support/, { timeout: STEP_TIMEOUT });
    await banner().waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
    await page.getByRole('table', { name: 'Support sessions' }).getByRole('row', { name: /Ended/ }).first().waitFor({ timeout: STEP_TIMEOUT });
  });
  await ctx.close();
}
