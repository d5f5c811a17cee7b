// The billing part of the end-to-end journey, through the UI only: subscribe to Pro from Free by
// saving a card on Stripe's hosted page (the Stripe fake's), upgrade to Business with the
// prorated amounts previewed first (charged to that card), replace the card, and download an
// invoice's PDF.
//
// `page` is a playwright-core Page signed in as an owner of the organisation `slug`; `shot(name)`
// saves a screenshot. Throws with a clear message when a step fails.

const STEP_TIMEOUT = 20_000;

export async function billingJourney({ page, base, slug, shot = async () => {} }) {
  const log = (m) => console.log(`  [billing] ${m}`);
  const step = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      throw new Error(`billing journey: ${what} failed: ${e.message.split('\n')[0]}`);
    }
  };
  const invoiceRows = () => page.getByRole('table', { name: 'Invoices' }).locator('tbody tr');

  await step('opening the billing page', async () => {
    await page.goto(`${base}/o/${slug}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Billing' }).click();
    await page.waitForURL(/\/billing$/, { timeout: STEP_TIMEOUT });
    await page.getByRole('heading', { name: /Current plan: Free/ }).waitFor({ timeout: STEP_TIMEOUT });
    await page.getByText('No invoices yet.').waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('billing-free');

  /** Saves `card` on the Stripe fake's hosted page the app sent the browser to. */
  const payOnStripe = async (card) => {
    await page.getByRole('heading', { name: 'Save a card' }).waitFor({ timeout: STEP_TIMEOUT });
    await page.getByLabel('Card number').fill(card);
    await shot('billing-stripe-page');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.waitForURL(/\/billing\?checkout=success$/, { timeout: STEP_TIMEOUT });
    await page.getByText('Your payment method was saved.').waitFor({ timeout: STEP_TIMEOUT });
  };
  const method = () => page.getByTestId('payment-method');

  const change = async (plan, expectCredit, card) => {
    await page.getByRole('button', { name: `Choose ${plan}` }).click();
    const preview = page.locator('.preview');
    await preview.getByRole('heading', { name: new RegExp(`Upgrade to ${plan}`, 'i') }).waitFor({ timeout: STEP_TIMEOUT });
    const due = await preview.getByRole('row', { name: /Due now/ }).locator('td').textContent();
    const credit = await preview.getByRole('row', { name: /Credit for unused time/ }).locator('td').textContent();
    log(`${plan}: due now ${due}, credit ${credit}`);
    if (expectCredit && !/[1-9]/.test(credit ?? '')) throw new Error(`no proration credit shown for ${plan} (${credit})`);
    await shot(`billing-preview-${plan.toLowerCase()}`);
    if (card) {
      await preview.getByRole('button', { name: 'Pay by card (Stripe)', exact: true }).click();
      await payOnStripe(card);
    } else {
      await preview.getByRole('button', { name: 'Confirm upgrade' }).click();
    }
    await page.getByRole('heading', { name: new RegExp(`Current plan: ${plan}`) }).waitFor({ timeout: STEP_TIMEOUT });
  };

  await step('subscribing to Pro with a card saved on Stripe\'s page', async () => {
    await change('Pro', false, '4242424242424242');
    await invoiceRows().first().waitFor({ timeout: STEP_TIMEOUT });
    const text = await method().textContent();
    if (!/Visa •••• 4242, expires 12\/2030/.test(text)) throw new Error(`the card is not shown: ${text}`);
    const paid = await invoiceRows().first().textContent();
    if (!/Paid/i.test(paid)) throw new Error(`the first invoice is not paid by the card: ${paid}`);
  });
  await step('upgrading to Business', async () => {
    await change('Business', true);
    await invoiceRows().nth(1).waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('billing-business');

  await step('replacing the card', async () => {
    await page.getByRole('button', { name: 'Replace: Pay by card (Stripe)' }).click();
    await payOnStripe('5555555555554444');
    await method().filter({ hasText: 'Mastercard •••• 4444' }).waitFor({ timeout: STEP_TIMEOUT });
    await page.getByRole('heading', { name: /Current plan: Business/ }).waitFor({ timeout: STEP_TIMEOUT });
  });
  await shot('billing-card-replaced');

  await step('downloading the newest invoice as a PDF', async () => {
    const row = invoiceRows().first();
    const number = (await row.locator('th').textContent()).trim();
    const href = await row.getByRole('link', { name: /Download/ }).getAttribute('href');
    const res = await page.request.get(new URL(href, base).toString());
    if (res.status() !== 200) throw new Error(`the PDF link answered ${res.status()}`);
    if (!(res.headers()['content-type'] ?? '').startsWith('application/pdf')) throw new Error(`not a PDF: ${res.headers()['content-type']}`);
    const body = (await res.body()).toString('latin1');
    if (!body.startsWith('%PDF-')) throw new Error('the body is not a PDF');
    if (!body.includes(`(Invoice ${number}) Tj`)) throw new Error(`the PDF does not show "Invoice ${number}"`);
    log(`downloaded ${number}.pdf (${body.length} bytes)`);
  });
}
