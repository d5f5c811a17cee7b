// The data-collection part of the end-to-end journey, through the UI only: create a project,
// run the sample Instagram collector over two URLs (a bad line first shows its error by line
// number) with a daily auto-update, watch the job end live, open its folder, search its
// records, save the search, apply it again, export the matches to CSV, and copy a record
// into another folder.
//
// `page` is a playwright-core Page signed in as an owner of the organisation `slug`; `shot(name)`
// saves a screenshot. Throws with a clear message when a step fails.

const STEP_TIMEOUT = 20_000;

export async function collectionJourney({ page, base, slug, shot = async () => {} }) {
  const step = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      throw new Error(`collection journey: ${what} failed: ${e.message.split('\n')[0]}`);
    }
  };
  await step('creating a project', async () => {
    await page.goto(`${base}/o/${slug}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Collection' }).click();
    await page.waitForURL(/\/collection$/, { timeout: STEP_TIMEOUT });
    await page.getByLabel('New project').fill('Summer campaign');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Summer campaign', level: 2 }).waitFor({ timeout: STEP_TIMEOUT });
  });
  await step('seeing a bad line named', async () => {
    await page.getByLabel('Collector').selectOption({ label: 'Instagram posts (sample)' });
    await page.getByLabel('URLs (one a line, or CSV rows)').fill('https://www.instagram.com/p/sunset\nhttps://www.tiktok.com/@x');
    await page.getByRole('button', { name: 'Start collection' }).click();
    await page.getByText('line 2: not an address of Instagram').waitFor({ timeout: STEP_TIMEOUT });
  });
  await step('running the sample collection', async () => {
    await page.getByLabel('URLs (one a line, or CSV rows)').fill('https://www.instagram.com/p/sunset\nhttps://www.instagram.com/p/harbour');
    await page.getByLabel('Auto-update').selectOption({ label: 'Every day' });
    await page.getByRole('button', { name: 'Start collection' }).click();
    const jobs = page.getByRole('table', { name: 'Collection jobs' });
    const done = jobs.getByRole('row').filter({ hasText: 'SUCCEEDED' }).first();
    await done.waitFor({ timeout: STEP_TIMEOUT });
    // The next run is planned a day later.
    await done.getByText(/Every day · next /).waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('collection-job');
  await step('opening the job folder and searching it', async () => {
    await page.getByRole('button', { name: /^Instagram posts · / }).click();
    const table = page.getByRole('table', { name: 'Collected records' });
    await table.locator('tbody tr').nth(5).waitFor({ timeout: STEP_TIMEOUT });
    const rows = await table.locator('tbody tr').count();
    if (rows !== 6) throw new Error(`expected 6 records (3 per URL), saw ${rows}`);
    await page.getByLabel('Search records').fill('harbour');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText(/^3 of 6 records/).waitFor({ timeout: STEP_TIMEOUT });
    await page.getByRole('table', { name: 'Collected records' }).locator('mark', { hasText: /harbour/i }).first().waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('collection-search');
  await step('saving the search and applying it again', async () => {
    const saved = page.getByLabel('Saved searches');
    await saved.getByLabel('Save this search as').fill('Harbour posts');
    await saved.getByRole('button', { name: 'Save search' }).click();
    await saved.getByRole('button', { name: 'Harbour posts', exact: true }).waitFor({ timeout: STEP_TIMEOUT });
    await page.getByLabel('Search records').fill('');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText(/^6 of 6 records/).waitFor({ timeout: STEP_TIMEOUT });
    await saved.getByRole('button', { name: 'Harbour posts', exact: true }).click();
    await page.getByText(/^3 of 6 records/).waitFor({ timeout: STEP_TIMEOUT });
  });
  await step('exporting the matches to CSV', async () => {
    await page.getByRole('group', { name: 'Export records' }).getByRole('button', { name: 'CSV' }).click();
    const link = page.getByRole('link', { name: /^Download records-.*\.csv/ });
    await link.waitFor({ timeout: STEP_TIMEOUT });
    const res = await page.request.get(await link.getAttribute('href'));
    const csv = await res.text();
    const lines = csv.trim().split('\n');
    if (res.status() !== 200 || lines.length !== 4) throw new Error(`expected a header and 3 rows, got ${res.status()}: ${csv.slice(0, 200)}`);
  });
  await shot('collection-export');
  await step('copying a record into the service type folder', async () => {
    await page.getByRole('table', { name: 'Collected records' }).getByRole('checkbox', { name: /^Select / }).first().check();
    const group = page.getByRole('group', { name: 'Selected records' });
    await group.getByLabel('To folder').selectOption({ label: 'Posts' });
    await group.getByRole('button', { name: 'Copy to folder' }).click();
    await page.getByRole('button', { name: 'Posts', exact: true }).click();
    await page.getByText(/^1 of 1 records in Posts/).waitFor({ timeout: STEP_TIMEOUT });
  });
}
