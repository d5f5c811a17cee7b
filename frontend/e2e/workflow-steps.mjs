// The workflow part of the end-to-end journey, through the UI only:
//  1. create a workflow, build Manual trigger → Code → Delay by dragging from the palette,
//     connect the ports, configure the nodes in the settings panel, run it, and watch every
//     node reach SUCCEEDED in the execution viewer without a reload;
//  2. create a workflow with a long Delay, run it and cancel it with the Cancel button,
//     watching CANCELLED arrive live.
//
// `page` is a playwright-core Page signed in as an owner of the organisation `slug`; `shot(name)`
// saves a screenshot. Throws with a clear message when a step fails.

const STEP_TIMEOUT = 20_000;

export async function workflowJourney({ page, base, slug, shot = async () => {} }) {
  const log = (m) => console.log(`  [workflows] ${m}`);
  const step = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      throw new Error(`workflow journey: ${what} failed: ${e.message.split('\n')[0]}`);
    }
  };

  // ---------------------------------------------------------------- 1. build and run
  const workflowId = await step('creating a workflow', () => createWorkflow(page, base, slug, `Journey ${Date.now().toString(36)}`));
  log(`created workflow ${workflowId}`);

  await step('deleting the default trigger', async () => {
    await page.locator('.react-flow__node[data-id="start"]').click();
    await page.keyboard.press('Delete');
    await page.locator('.react-flow__node[data-id="start"]').waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
  });

  await step('dragging Manual trigger, Code and Delay from the palette', async () => {
    await dragFromPalette(page, 'trigger.manual', 0.18, 0.2);
    await dragFromPalette(page, 'code', 0.5, 0.45);
    await dragFromPalette(page, 'flow.delay', 0.82, 0.7);
    for (const id of ['manual', 'code', 'delay']) {
      await page.locator(`.react-flow__node[data-id="${id}"]`).waitFor({ timeout: STEP_TIMEOUT });
    }
  });
  await fitView(page);

  await step('connecting Manual trigger → Code → Delay', async () => {
    await connect(page, 'manual', 'main', 'code', 'main');
    await connect(page, 'code', 'main', 'delay', 'main');
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__edge').length === 2, null, { timeout: STEP_TIMEOUT });
  });

  await step('configuring the Code node in the settings panel', async () => {
    await selectNode(page, 'code');
    const source = page.locator('#node-code-source');
    await source.waitFor({ timeout: STEP_TIMEOUT });
    await source.fill('let answer = 21 * 2;\n#{ answer: answer }');
  });
  await step('configuring the Delay node in the settings panel', async () => {
    await selectNode(page, 'delay');
    const ms = page.locator('#node-delay-milliseconds');
    await ms.waitFor({ timeout: STEP_TIMEOUT });
    await ms.fill('1500');
  });
  await step('autosaving with no problems left', async () => {
    await waitSaved(page);
    await page.locator('.wf-node-invalid').first().waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
  });
  await shot('workflow-builder');

  const executionId = await step('running the workflow', () => runAndOpenViewer(page));
  log(`execution ${executionId} started`);
  await page.evaluate(() => {
    window.__wfNoReload = true;
  });
  const seen = await step('watching the nodes succeed live', async () => {
    const seen = await watchStates(page, ['manual', 'code', 'delay'], (states) =>
      ['manual', 'code', 'delay'].every((id) => states[id] === 'SUCCEEDED'),
    );
    await waitExecutionStatus(page, 'SUCCEEDED');
    return seen;
  });
  log(`node states seen: ${Object.entries(seen).map(([k, v]) => `${k}=${[...v].join('→')}`).join(', ')}`);
  if (![...seen.delay].some((s) => s === 'RUNNING' || s === 'QUEUED')) {
    throw new Error('workflow journey: the Delay node was never seen before it finished: states do not update live');
  }
  await assertNoReload(page, 'the execution viewer reloaded while the run progressed');
  await step('showing the Code node output', async () => {
    await page.locator('.wf-node-row[data-node-id="code"]').click();
    await page.locator('.wf-node-details pre', { hasText: '"answer": 42' }).first().waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('workflow-execution-succeeded');

  // ---------------------------------------------------------------- 2. run and cancel
  const longId = await step('creating the long-delay workflow', () => createWorkflow(page, base, slug, `Long delay ${Date.now().toString(36)}`));
  log(`created workflow ${longId}`);
  await step('adding a Delay node with the palette and connecting it', async () => {
    await page.locator('.react-flow__node[data-id="start"]').waitFor({ timeout: STEP_TIMEOUT });
    await dragFromPalette(page, 'flow.delay', 0.75, 0.75);
    await page.locator('.react-flow__node[data-id="delay"]').waitFor({ timeout: STEP_TIMEOUT });
    await fitView(page);
    await connect(page, 'start', 'main', 'delay', 'main');
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__edge').length === 1, null, { timeout: STEP_TIMEOUT });
    await selectNode(page, 'delay');
    await page.locator('#node-delay-milliseconds').fill('600000');
    await waitSaved(page);
    await page.locator('.wf-node-invalid').first().waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
  });
  const longRun = await step('running the long-delay workflow', () => runAndOpenViewer(page));
  log(`execution ${longRun} started`);
  await page.evaluate(() => {
    window.__wfNoReload = true;
  });
  await step('waiting for the Delay node to run', () =>
    page.locator('.react-flow__node[data-id="delay"] .wf-node[data-status="RUNNING"]').waitFor({ timeout: STEP_TIMEOUT }),
  );
  await shot('workflow-execution-running');
  await step('cancelling with the Cancel button', async () => {
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await waitExecutionStatus(page, 'CANCELLED');
  });
  await step('seeing the Delay node leave RUNNING', () =>
    page.waitForFunction(
      () => document.querySelector('.react-flow__node[data-id="delay"] .wf-node')?.getAttribute('data-status') !== 'RUNNING',
      null,
      { timeout: STEP_TIMEOUT },
    ),
  );
  await assertNoReload(page, 'the execution viewer reloaded while cancelling');
  const delayState = await page.locator('.react-flow__node[data-id="delay"] .wf-node').getAttribute('data-status');
  log(`cancelled: execution CANCELLED, delay node ${delayState}`);
  await shot('workflow-execution-cancelled');
}

async function createWorkflow(page, base, slug, name) {
  await page.goto(`${base}/o/${slug}/workflows`);
  await page.getByRole('button', { name: 'New workflow' }).click();
  await page.locator('#wf-new-name').fill(name);
  await page.getByRole('button', { name: 'Create and open' }).click();
  await page.waitForURL(/\/workflows\/[^/]+$/, { timeout: STEP_TIMEOUT });
  await page.locator('.react-flow__node').first().waitFor({ timeout: STEP_TIMEOUT });
  await page.locator('.wf-palette-item').first().waitFor({ timeout: STEP_TIMEOUT });
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
}

/** Drags a palette entry onto the canvas at (fx, fy), fractions of the canvas' width and height. */
async function dragFromPalette(page, typeKey, fx, fy) {
  const item = page.locator(`.wf-palette-item[data-node-type="${typeKey}"]`);
  await item.scrollIntoViewIfNeeded();
  const canvas = page.locator('[data-testid="workflow-canvas"]');
  const box = await canvas.boundingBox();
  if (!box) throw new Error('canvas not visible');
  const before = await page.locator('.react-flow__node').count();
  await item.dragTo(canvas, { targetPosition: { x: Math.round(box.width * fx), y: Math.round(box.height * fy) } });
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length > n, before, { timeout: STEP_TIMEOUT });
}

// Selects a node on the canvas by clicking near its top-left corner. Opening the settings
// panel narrows the canvas, and the minimap covers its bottom-right corner, so the node last
// dropped bottom-right may be under either: the click is retried after fitting the view
// again until the node takes it.
async function selectNode(page, id) {
  const node = page.locator(`.react-flow__node[data-id="${id}"]`);
  const deadline = Date.now() + STEP_TIMEOUT;
  for (;;) {
    try {
      await node.click({ position: { x: 12, y: 8 }, timeout: 3_000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await fitView(page);
    }
  }
}

async function fitView(page) {
  const fit = page.locator('.react-flow__controls-fitview');
  if (await fit.count()) await fit.click();
  await page.waitForTimeout(300);
}

async function connect(page, source, sourcePort, target, targetPort) {
  const from = page.locator(`.react-flow__handle.source[data-nodeid="${source}"][data-handleid="${sourcePort}"]`);
  const to = page.locator(`.react-flow__handle.target[data-nodeid="${target}"][data-handleid="${targetPort}"]`);
  const edgesBefore = await page.locator('.react-flow__edge').count();
  // The handles are measured right before each attempt: on a loaded machine the canvas may
  // still be settling (fit-view animation, layout) when the first drag starts, and a drop
  // that misses the port makes no edge. The edge itself appears client-side on drop.
  for (let attempt = 1; ; attempt++) {
    const a = await from.boundingBox();
    const b = await to.boundingBox();
    if (!a || !b) throw new Error(`handle of ${source}.${sourcePort} or ${target}.${targetPort} not visible`);
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 10, { steps: 8 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
    await page.mouse.up();
    try {
      await page.waitForFunction((n) => document.querySelectorAll('.react-flow__edge').length > n, edgesBefore, { timeout: 5000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
      await page.waitForTimeout(500);
    }
  }
}

async function waitSaved(page) {
  await page.waitForFunction(
    () => document.querySelector('[data-save-status]')?.getAttribute('data-save-status') === 'saved',
    null,
    { timeout: STEP_TIMEOUT },
  );
  // The debounce may not have started yet right after an edit: wait past it and check again.
  await page.waitForTimeout(1000);
  await page.waitForFunction(
    () => document.querySelector('[data-save-status]')?.getAttribute('data-save-status') === 'saved',
    null,
    { timeout: STEP_TIMEOUT },
  );
}

async function runAndOpenViewer(page) {
  await page.getByRole('button', { name: /Run$/ }).click();
  await page.waitForURL(/\/executions\/[^/]+$/, { timeout: STEP_TIMEOUT });
  await page.locator('[data-testid="execution-canvas"] .react-flow__node').first().waitFor({ timeout: STEP_TIMEOUT });
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
}

/** Polls the node states until `done(states)`, collecting every state seen per node. */
async function watchStates(page, ids, done, timeout = 30_000) {
  const seen = Object.fromEntries(ids.map((id) => [id, new Set()]));
  const until = Date.now() + timeout;
  for (;;) {
    const states = await page.evaluate(
      (ids) =>
        Object.fromEntries(
          ids.map((id) => [
            id,
            document.querySelector(`.react-flow__node[data-id="${id}"] .wf-node`)?.getAttribute('data-status') ?? null,
          ]),
        ),
      ids,
    );
    for (const id of ids) if (states[id]) seen[id].add(states[id]);
    if (done(states)) return seen;
    if (Date.now() > until) throw new Error(`node states stuck at ${JSON.stringify(states)}`);
    await page.waitForTimeout(100);
  }
}

async function waitExecutionStatus(page, status) {
  try {
    await page.locator(`[data-testid="execution-status"][data-status="${status}"]`).waitFor({ timeout: STEP_TIMEOUT });
  } catch {
    const now = await page.locator('[data-testid="execution-status"]').getAttribute('data-status').catch(() => null);
    throw new Error(`execution status did not become ${status} (it is ${now})`);
  }
}

async function assertNoReload(page, message) {
  const still = await page.evaluate(() => window.__wfNoReload === true);
  if (!still) throw new Error(`workflow journey: ${message}`);
}
