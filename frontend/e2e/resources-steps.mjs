// The files part of the end-to-end journey, through the UI only: drop a file on the files page
// (a real drop event carrying a File), see its version history, allow share links and create
// one with a password in the share dialog, then open the link signed out in a second browser
// context and download the file with the password.
//
// `page` is a playwright-core Page signed in as an owner of the organisation `slug`; `browser`
// opens the signed-out context; `watch` records its console errors. Throws with a clear message
// when a step fails.

const STEP_TIMEOUT = 20_000;
const CONTENT = 'Quarterly plan: ship the files area.\n';

export async function resourcesJourney({ page, browser, base, slug, watch, shot = async () => {} }) {
  const log = (m) => console.log(`  [files] ${m}`);
  const step = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      await shot(`files-failed-${what.replace(/\s+/g, '-')}`).catch(() => {});
      const text = await page.locator('main').innerText().catch(() => '');
      throw new Error(`files journey: ${what} failed: ${e.message.split('\n')[0]}\npage: ${text.slice(0, 600)}`);
    }
  };

  await step('opening the files page', async () => {
    await page.goto(`${base}/o/${slug}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Files' }).click();
    await page.waitForURL(/\/resources$/, { timeout: STEP_TIMEOUT });
    await page.getByText('No files yet.').waitFor({ timeout: STEP_TIMEOUT });
  });

  await step('dropping a file to upload it', async () => {
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'plan.txt', { type: 'text/plain' }));
      return dt;
    }, CONTENT);
    // The multipart request is the one carrying the CSRF preflight header.
    const uploaded = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().headers()['apollo-require-preflight'] === 'true');
    await page.getByRole('button', { name: 'Upload a file' }).dispatchEvent('drop', { dataTransfer });
    const body = await (await uploaded).json();
    if (body.errors) throw new Error(`uploadResource answered ${JSON.stringify(body.errors)}`);
    await page.waitForURL(/\/resources\/[^/]+$/, { timeout: STEP_TIMEOUT });
    await page.getByRole('table', { name: 'Version history' }).getByRole('cell', { name: 'plan.txt' }).waitFor({ timeout: STEP_TIMEOUT });
    log(`uploaded plan.txt (sha256 ${body.data.uploadResource.version.sha256.slice(0, 12)}…)`);
  });
  await shot('files-uploaded');

  let link;
  await step('creating a share link with a password', async () => {
    await page.getByRole('button', { name: 'Share…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Share this file' });
    await dialog.getByRole('button', { name: 'Allow share links' }).click();
    await dialog.getByLabel('Password (optional)').fill('journey secret');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const code = page.getByLabel('Share link').first();
    await code.waitFor({ timeout: STEP_TIMEOUT });
    link = (await code.textContent()).trim();
    if (!link.includes('/share/')) throw new Error(`not a share link: ${link}`);
  });
  await shot('files-shared');

  await step('opening the share link signed out and downloading with the password', async () => {
    const ctx = await browser.newContext({ acceptDownloads: true });
    watch(ctx, 'share-link');
    try {
      const p = await ctx.newPage();
      // The link names the configured public address; the journey's server is `base`.
      await p.goto(`${base}${new URL(link).pathname}`);
      await p.getByTestId('shared-name').filter({ hasText: 'plan.txt' }).waitFor({ timeout: STEP_TIMEOUT });
      await p.getByLabel('Password').fill('journey secret');
      const [download] = await Promise.all([p.waitForEvent('download', { timeout: STEP_TIMEOUT }), p.getByRole('button', { name: 'Download' }).click()]);
      if (download.suggestedFilename() !== 'plan.txt') throw new Error(`downloaded as ${download.suggestedFilename()}`);
      const stream = await download.createReadStream();
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      const text = Buffer.concat(chunks).toString('utf8');
      if (text !== CONTENT) throw new Error(`the download holds ${JSON.stringify(text)}`);
      await shot('files-share-page', p);
    } finally {
      await ctx.close();
    }
  });

  await step('seeing the download in the log', async () => {
    await page.reload();
    await page.getByText('Downloads (1)').click();
    await page.getByRole('table', { name: 'Download log' }).getByText('through a share link').waitFor({ timeout: STEP_TIMEOUT });
  });
}
