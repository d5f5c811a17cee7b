// The studio part of the end-to-end journey: one document open in two Chromium contexts as two
// users. The owner creates a team and a document and writes in it; the member (made Admin so
// they may edit) opens it in a new tab. Each sees the other in the presence bar and sees the
// other's cursor move (the figures are logged); the owner's section lock blocks the member's
// edit until the owner leaves the section; the member's edit reaches the owner; and when the
// member's tab closes, their cursor and presence disappear from the owner's page.
//
// `page` is signed in as an owner of `slug`, `page2` as the member named `invitee.name`;
// `shot(name, page?)` saves a screenshot. Throws with a clear message when a step fails.

const STEP_TIMEOUT = 20_000;

export async function studioJourney({ page, page2, base, slug, owner, invitee, shot = async () => {} }) {
  const log = (m) => console.log(`  [studio] ${m}`);
  const step = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      throw new Error(`studio journey: ${what} failed: ${e.message.split('\n')[0]}`);
    }
  };
  const wait = { timeout: STEP_TIMEOUT };
  const section = (p) => p.getByRole('article', { name: 'Section 1' });
  const text = (p) => p.getByLabel('Section 1 text');
  const cursorOf = (p, name) => section(p).locator(`[data-testid="remote-cursor"][data-name="${name}"]`);
  const presenceOf = (p, name) => p.getByTestId('presence-bar').locator(`[data-name="${name}"]`);
  /** Resolves when `fn` is truthy, polling every 50 ms; returns the milliseconds it took. */
  const until = async (fn, what) => {
    const start = Date.now();
    for (;;) {
      if (await fn()) return Date.now() - start;
      if (Date.now() - start > STEP_TIMEOUT) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  await step('making the member an admin', async () => {
    await page.goto(`${base}/o/${slug}/members`);
    const roleSelect = page.getByLabel(`Role of ${invitee.name}`);
    await roleSelect.waitFor(wait);
    await roleSelect.selectOption({ label: 'Admin' });
    await page.getByText(`${invitee.name} is now Admin.`).waitFor(wait);
  });

  await step('creating a team', async () => {
    await page.goto(`${base}/o/${slug}/teams`);
    await page.getByLabel('Team name').first().fill('Writers');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.getByRole('heading', { name: 'Writers' }).first().waitFor(wait);
  });

  const docUrl = await step('creating a document', async () => {
    await page.goto(`${base}/o/${slug}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Documents' }).click();
    await page.getByRole('heading', { name: 'Documents', level: 1 }).waitFor(wait);
    // The team list loads with the form: the document goes to the team made above.
    await page.getByLabel('Team').locator('option', { hasText: 'Writers' }).waitFor({ state: 'attached', timeout: STEP_TIMEOUT });
    await page.getByLabel('Title').fill('Launch plan');
    await page.getByRole('button', { name: 'Create document' }).click();
    await page.waitForURL(/\/documents\/[^/]+$/, wait);
    await page.getByRole('heading', { name: 'Launch plan', level: 1 }).waitFor(wait);
    await page.getByRole('button', { name: 'Add text section' }).click();
    await text(page).waitFor(wait);
    return page.url();
  });

  await step('writing in the section (autosave)', async () => {
    await text(page).click();
    await section(page).getByText('You are editing').waitFor(wait);
    await text(page).pressSequentially('Hello from the owner');
    await page.getByRole('status', { name: 'Autosave' }).getByText('All changes saved').waitFor(wait);
  });
  await shot('studio-owner-editing');

  // The member opens the same document in a new tab of their own context.
  const tab = await page2.context().newPage();
  await step('opening the document as the member', async () => {
    await tab.goto(docUrl);
    await tab.getByRole('heading', { name: 'Launch plan', level: 1 }).waitFor(wait);
    await presenceOf(tab, owner.name).waitFor(wait);
    await presenceOf(page, invitee.name).waitFor(wait);
  });

  /** Puts the caret (or a selection) of `p`'s section text at `from`..`to` (end: -1). */
  const select = (p, from, to) =>
    text(p).evaluate(
      (el, [a, b]) => {
        const end = (x) => (x < 0 ? el.value.length : x);
        el.focus();
        el.setSelectionRange(end(a), end(b));
        el.dispatchEvent(new Event('select', { bubbles: true }));
      },
      [from, to],
    );
  /** Waits until `name`'s caret on `p` stands at `head`; the milliseconds it took. */
  const caretAt = (p, name, head) =>
    until(async () => (await cursorOf(p, name).getAttribute('data-head').catch(() => null)) === String(head), `${name}'s cursor at ${head}`);

  await step("seeing the owner's cursor move", async () => {
    // The owner selects "Hello": the member sees it highlighted and the owner's caret after it.
    await select(page, 0, 5);
    log(`the owner's selection reached the member's page after ${await caretAt(tab, owner.name, 5)} ms`);
    await section(tab).locator('.studio-selection').first().waitFor(wait);
    const length = (await text(page).inputValue()).length;
    await text(page).press('End');
    log(`the owner's caret moved on the member's page after ${await caretAt(tab, owner.name, length)} ms`);
  });
  await shot('studio-member-sees-owner-cursor', tab);

  await step("a lock blocks the member's edit", async () => {
    await section(tab).getByTestId('lock-badge').getByText(`Locked by ${owner.name}`).waitFor(wait);
    const before = await text(tab).inputValue();
    await text(tab).click();
    await tab.keyboard.type('XYZ');
    const after = await text(tab).inputValue();
    if (after !== before) throw new Error(`the member typed into a section the owner holds: "${after}"`);
  });

  await step("seeing the member's cursor move", async () => {
    // The member's caret in the (read-only) section: the owner sees it, then sees it move.
    await select(tab, 0, 0);
    log(`the member's caret reached the owner's page after ${await caretAt(page, invitee.name, 0)} ms`);
    const length = (await text(tab).inputValue()).length;
    await select(tab, -1, -1);
    log(`the member's caret moved on the owner's page after ${await caretAt(page, invitee.name, length)} ms`);
  });
  await shot('studio-owner-sees-member-cursor');

  await step('the lock is released and the member edits', async () => {
    // The owner leaves the section: the lock goes, the member may type.
    await page.getByRole('heading', { name: 'Launch plan', level: 1 }).click();
    await section(tab).getByTestId('lock-badge').waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
    await text(tab).click();
    await text(tab).press('End');
    await text(tab).pressSequentially(' and the member');
    await section(tab).getByText('You are editing').waitFor(wait);
    await tab.getByRole('status', { name: 'Autosave' }).getByText('All changes saved').waitFor(wait);
    await until(async () => (await text(page).inputValue()).endsWith(' and the member'), "the member's edit on the owner's page");
  });
  await shot('studio-member-edited', tab);

  await step("a closed tab's cursor disappears", async () => {
    await cursorOf(page, invitee.name).waitFor(wait);
    await tab.close();
    await cursorOf(page, invitee.name).waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
    await presenceOf(page, invitee.name).waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
  });
  await shot('studio-member-left');

  await step('duplicating and reordering a section', async () => {
    // The member has left: the owner copies the section, edits the copy and moves it first.
    await page.getByRole('button', { name: 'Duplicate section 1' }).click();
    await page.getByRole('article', { name: 'Section 2' }).waitFor(wait);
    await page.getByRole('heading', { name: 'Launch plan', level: 1 }).click();
    const second = page.getByLabel('Section 2 text');
    await second.click();
    await second.press('End');
    await second.pressSequentially(' (copy)');
    await page.getByRole('status', { name: 'Autosave' }).getByText('All changes saved').waitFor(wait);
    await page.getByRole('heading', { name: 'Launch plan', level: 1 }).click();
    await page.getByRole('button', { name: 'Move section 2 up' }).click();
    await until(async () => (await text(page).inputValue()).endsWith(' (copy)'), 'the copy as the first section');
  });

  await step('publishing, comparing and restoring a version', async () => {
    await page.getByLabel('What changed').fill('First plan');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('list', { name: 'Published versions' }).getByText('Version 1', { exact: true }).waitFor(wait);
    // A change after publishing shows in the comparison, and restoring brings version 1 back.
    log('version 1 published');
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Delete section 1' }).click();
    log('the copy deleted');
    await page.getByRole('article', { name: 'Section 2' }).waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
    await page.getByRole('button', { name: 'Compare version 1 with the draft' }).click();
    await page.getByLabel('Changes since version 1').getByText('Removed').waitFor(wait);
    log('the comparison shows the removed section');
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await page.getByRole('article', { name: 'Section 2' }).waitFor(wait).catch(async (e) => {
      const alerts = await page.getByRole('alert').allInnerTexts().catch(() => []);
      throw new Error(`version 1 not restored (${alerts.join(' / ') || e.message.split('\n')[0]})`);
    });
  });
  await shot('studio-versions');
}
