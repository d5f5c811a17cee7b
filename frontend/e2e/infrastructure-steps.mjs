// The infrastructure part of the end-to-end journey, through the UI only: connect the local
// provider (a cloud simulated inside Zygo), create a server and watch it come up live, read its
// cost and metrics (and be told its cloud has no console), enable rescue mode and reveal its root
// password once, snapshot it and watch the snapshot
// become available, reserve a floating IP and assign it to the server, put it on a network
// behind a firewall (a bad port refused first) and a load balancer and see them in the topology,
// point a DNS record of a new zone at it and check its propagation.
//
// `page` is a playwright-core Page signed in as an owner of the organisation `slug` (on a plan
// with servers); `shot(name)` saves a screenshot. Throws with a clear message when a step fails.

const STEP_TIMEOUT = 30_000;

export async function infrastructureJourney({ page, base, slug, shot = async () => {} }) {
  const log = (m) => console.log(`  [infrastructure] ${m}`);
  const step = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      await shot('infrastructure-failed').catch(() => {});
      throw new Error(`infrastructure journey: ${what} failed: ${e.message.split('\n')[0]}`);
    }
  };
  const tab = (name) => page.getByRole('tab', { name }).click();

  await step('connecting the local provider', async () => {
    await page.goto(`${base}/o/${slug}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Infrastructure' }).click();
    await page.waitForURL(/\/infrastructure/, { timeout: STEP_TIMEOUT });
    const form = page.getByRole('form', { name: 'Connect a provider' });
    await form.getByLabel('Kind').selectOption('LOCAL');
    await form.getByLabel('Name').fill('Local lab');
    await form.getByRole('button', { name: 'Connect' }).click();
    // The first account connected, the page goes on to servers, creatable on it.
    const provider = page.getByRole('form', { name: 'Create a server' }).getByLabel('Provider');
    await provider.locator('option', { hasText: 'Local lab (local)' }).waitFor({ state: 'attached', timeout: STEP_TIMEOUT });
  });

  let ipv4 = '';
  await step('creating a server and watching it come up', async () => {
    await tab('Servers');
    const form = page.getByRole('form', { name: 'Create a server' });
    await form.getByLabel('Name').fill('web-1');
    await form.getByRole('button', { name: 'Create server' }).click();
    const row = page.getByRole('table', { name: 'Servers' }).getByRole('row', { name: /web-1/ });
    await row.waitFor({ timeout: STEP_TIMEOUT });
    log(`web-1 is ${(await row.locator('.status').textContent())?.trim()}`);
    // The status changes arrive on the subscription: no reload.
    await row.locator('.status', { hasText: 'running' }).waitFor({ timeout: STEP_TIMEOUT });
    ipv4 = ((await row.locator('td').nth(4).textContent()) ?? '').trim();
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ipv4)) throw new Error(`web-1 has no IPv4 address: ${ipv4}`);
    log(`web-1 is running at ${ipv4}`);
  });
  await shot('infrastructure-server-running');

  await step("reading the server's cost and metrics", async () => {
    const row = page.getByRole('table', { name: 'Servers' }).getByRole('row', { name: /web-1/ });
    await row.getByRole('button', { name: 'Details' }).click();
    const detail = page.getByRole('region', { name: 'Details of web-1' });
    await detail.getByRole('img', { name: 'CPU of web-1' }).waitFor({ timeout: STEP_TIMEOUT });
    await detail.getByText(/Monthly cost/).waitFor({ timeout: STEP_TIMEOUT });
    await detail.getByLabel('Metrics').selectOption('NETWORK');
    await detail.getByRole('img', { name: 'Network of web-1' }).waitFor({ timeout: STEP_TIMEOUT });
    log(`web-1: ${(await detail.getByText(/Monthly cost/).textContent())?.trim()}`);
    // The local cloud's servers have no screen: asking for a console says so.
    const form = detail.getByRole('form', { name: 'Open a console' });
    await form.getByLabel('Reason').fill('Journey: looking at the boot log');
    await form.getByRole('button', { name: 'Open console' }).click();
    await form.getByText(/no console/).waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('infrastructure-server-metrics');

  await step('enabling rescue mode and revealing its root password once', async () => {
    const access = page.getByRole('region', { name: 'Details of web-1' }).getByRole('region', { name: 'Root access' });
    await access.getByRole('button', { name: 'Enable rescue' }).click();
    await access.getByRole('button', { name: 'Reveal root password' }).click({ timeout: STEP_TIMEOUT });
    await access.getByText(/shown this once/).waitFor({ timeout: STEP_TIMEOUT });
    await access.getByText(/Rescue mode is enabled/).waitFor({ timeout: STEP_TIMEOUT });
    // Revealed once: the offer is gone.
    await access.getByRole('button', { name: 'Reveal root password' }).waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
    await access.getByRole('button', { name: 'Disable rescue' }).click();
    await access.getByText('Rescue mode is off.').waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('infrastructure-rescue');

  await step('snapshotting the server', async () => {
    const row = page.getByRole('table', { name: 'Servers' }).getByRole('row', { name: /web-1/ });
    await row.getByRole('button', { name: 'Snapshot' }).click();
    await page.getByText('A snapshot of web-1 is being taken').waitFor({ timeout: STEP_TIMEOUT });
    await tab('Snapshots');
    const snap = page.getByRole('table', { name: 'Snapshots' }).getByRole('row', { name: /web-1/ });
    await snap.locator('.status', { hasText: 'available' }).waitFor({ timeout: STEP_TIMEOUT });
    log(`snapshot: ${(await snap.locator('th').textContent())?.trim()}`);
  });
  await shot('infrastructure-snapshot');

  await step('reserving a floating IP and assigning it to the server', async () => {
    await tab('Floating IPs');
    const form = page.getByRole('form', { name: 'Reserve a floating IP' });
    await form.getByLabel('Name').fill('web-ip');
    await form.getByRole('button', { name: 'Reserve' }).click();
    const row = page.getByRole('table', { name: 'Floating IPs' }).getByRole('row', { name: /web-ip/ });
    await row.locator('.status', { hasText: 'ready' }).waitFor({ timeout: STEP_TIMEOUT });
    await row.getByLabel('Assign web-ip to').selectOption({ label: 'web-1' });
    // The assignment is an action: the row is busy, then shows the server (arriving live).
    await page.waitForFunction(
      () => {
        const select = document.querySelector('select[aria-label="Assign web-ip to"]');
        return select && select.selectedOptions[0]?.textContent === 'web-1';
      },
      null,
      { timeout: STEP_TIMEOUT },
    );
    log(`web-ip ${(await row.locator('td.mono').first().textContent())?.trim()} is on web-1`);
  });
  await shot('infrastructure-floating-ip');

  await step('putting the server on a network behind a firewall and a load balancer', async () => {
    await tab('Networks');
    const net = page.getByRole('form', { name: 'Create a network' });
    await net.getByLabel('Name').fill('backend');
    await net.getByLabel('web-1').check();
    await net.getByRole('button', { name: 'Create network' }).click();
    const netRow = page.getByRole('table', { name: 'Networks' }).getByRole('row', { name: /backend/ });
    await netRow.locator('.status', { hasText: 'ready' }).waitFor({ timeout: STEP_TIMEOUT });
    await netRow.getByText('web-1').waitFor({ timeout: STEP_TIMEOUT });

    await tab('Firewalls');
    const fw = page.getByRole('form', { name: 'Create a firewall' });
    await fw.getByLabel('Name').fill('web');
    // A bad port is refused and named; nothing is made.
    await fw.getByRole('group', { name: 'Rule 1' }).getByLabel('Port').fill('70000');
    await fw.getByRole('button', { name: 'Create firewall' }).click();
    await fw.getByText(/1 to 65535/).waitFor({ timeout: STEP_TIMEOUT });
    await fw.getByRole('group', { name: 'Rule 1' }).getByLabel('Port').fill('22');
    await fw.getByRole('button', { name: 'Add a rule' }).click();
    const rule2 = fw.getByRole('group', { name: 'Rule 2' });
    await rule2.getByLabel('Port').fill('443');
    await fw.getByLabel('web-1').check();
    await fw.getByRole('button', { name: 'Create firewall' }).click();
    const fwRow = page.getByRole('table', { name: 'Firewalls' }).getByRole('row', { name: /web/ });
    await fwRow.locator('.status', { hasText: 'ready' }).waitFor({ timeout: STEP_TIMEOUT });
    await fwRow.getByText(/IN TCP 443/).waitFor({ timeout: STEP_TIMEOUT });

    await tab('Load balancers');
    const lb = page.getByRole('form', { name: 'Create a load balancer' });
    await lb.getByLabel('Name').fill('front');
    await lb.getByLabel('web-1').check();
    await lb.getByRole('button', { name: 'Create load balancer' }).click();
    const lbRow = page.getByRole('table', { name: 'Load balancers' }).getByRole('row', { name: /front/ });
    await lbRow.locator('.status', { hasText: 'ready' }).waitFor({ timeout: STEP_TIMEOUT });
    log(`load balancer front at ${(await lbRow.locator('td.mono').first().textContent())?.trim()} → web-1`);

    // The topology draws the load balancer and the firewall joined to the server on its network.
    await tab('Networks');
    const topology = page.getByRole('figure', { name: 'Topology' });
    await topology.getByText(/web-1 · backend/).waitFor({ timeout: STEP_TIMEOUT });
    await topology.getByText(/front/).waitFor({ timeout: STEP_TIMEOUT });
    const edges = await topology.locator('line.edge').count();
    if (edges !== 2) throw new Error(`the topology joins ${edges} lines, not the load balancer's and the firewall's`);
  });
  await shot('infrastructure-topology');

  await step('adding a DNS record for the server', async () => {
    await tab('DNS');
    const zoneForm = page.getByRole('form', { name: 'Create a DNS zone' });
    await zoneForm.getByLabel('Domain').fill('journey.example');
    await zoneForm.getByRole('button', { name: 'Create zone' }).click();
    const zone = page.getByRole('heading', { name: /journey\.example/ });
    await zone.locator('.status', { hasText: 'active' }).waitFor({ timeout: STEP_TIMEOUT });
    const recordForm = page.getByRole('form', { name: 'Add a record to journey.example' });
    await recordForm.getByLabel('Type').selectOption('A');
    await recordForm.getByLabel('Record name').fill('www');
    await recordForm.getByLabel('Value').fill(ipv4);
    await recordForm.getByRole('button', { name: 'Add record' }).click();
    const record = page.getByRole('table', { name: 'Records of journey.example' }).getByRole('row', { name: /www/ });
    await record.filter({ hasText: 'active' }).waitFor({ timeout: STEP_TIMEOUT });
    log(`www.journey.example → ${ipv4}`);
    // The simulated cloud serves no DNS: the checker says which name servers it would ask.
    await record.getByRole('button', { name: 'Check propagation' }).click();
    await page.getByRole('region', { name: 'Propagation' }).getByText(/No authoritative name server is known/).waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('infrastructure-dns');
}
