import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { startInvoicesSubgraph } from '../helpers/fixture-subgraph/invoices-subgraph.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { freePort } from '../helpers/process.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { eventually } from '../helpers/wait.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const PAY_LINK =
  'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { payLink { url } payments { status } } } }';

describe("the customer's pay flow in a real browser (Chromium + fake Stripe checkout)", () => {
  let service: TestService;
  let stripe: FakeStripe;
  let browser: Browser;
  let invoices: Awaited<ReturnType<typeof startInvoicesSubgraph>>;
  let caller: TestCaller;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (npm test's pretest does this)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    ({ service, stripe } = await startWithFakeStripe({
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    }));
    stripe.autoDeliver = { baseUrl: service.url };
    caller = newCaller(['owner']);
    await connectStripe(service, caller, { keys: testKeys('test', false) });
    invoices = await startInvoicesSubgraph(service.orm);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await invoices?.stop();
    await service?.stop();
    await stripe?.close();
  });

  const payLinkOf = async (invoiceId: string) =>
    (
      await service.gql<{ _entities: Array<{ payLink: { url: string } }> }>(
        PAY_LINK,
        { reps: [{ __typename: 'Invoice', id: invoiceId }] },
        await tokenFor(caller),
      )
    ).data!._entities[0].payLink.url;
  /** The invoice status as the Invoices subgraph serves it over GraphQL. */
  const statusOf = async (invoiceId: string) => {
    const response = await fetch(invoices.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(caller)}` },
      body: JSON.stringify({ query: '{ invoices { id status } }' }),
    });
    const body = (await response.json()) as { data: { invoices: Array<{ id: string; status: string }> } };
    return body.data.invoices.find((invoice) => invoice.id === invoiceId)?.status;
  };
  const pageShowsNoInvoiceData = (text: string, invoice: { number: string }) => {
    expect(text).not.toContain(invoice.number);
    expect(text).not.toContain(caller.workspaceId);
    expect(text).not.toContain(caller.workspaceDomain);
    expect(text).not.toMatch(/\d+[.,]\d{2}/);
  };

  it('pay link → Stripe checkout → Pay → success page → invoice paid', async () => {
    const invoice = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      number: 'INV-BROWSER-1',
      totalMinor: 4_990,
    });
    const page = await browser.newPage();
    await page.goto(await payLinkOf(invoice.id));
    await expect.poll(() => page.title()).toBe('Fake Stripe Checkout');
    expect(page.url()).toContain(`${stripe.url}/checkout/pay/cs_test_`);
    await page.screenshot({ path: join(ARTIFACTS, 'pay-1-checkout.png') });
    await page.click('#pay');
    await page.waitForURL(/\/pay\/success/);
    const text = await page.innerText('body');
    expect(text).toContain('Payment received');
    pageShowsNoInvoiceData(text, invoice);
    await page.screenshot({ path: join(ARTIFACTS, 'pay-2-success.png') });
    await eventually(async () => (await statusOf(invoice.id)) === 'paid');
    await page.close();
  });

  it('pay link → Stripe checkout → Cancel → cancel page → invoice still unpaid', async () => {
    const invoice = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      number: 'INV-BROWSER-2',
      totalMinor: 1_250,
    });
    const page = await browser.newPage();
    await page.goto(await payLinkOf(invoice.id));
    await expect.poll(() => page.title()).toBe('Fake Stripe Checkout');
    await page.click('#cancel');
    await page.waitForURL(/\/pay\/cancel/);
    const text = await page.innerText('body');
    expect(text).toContain('Payment cancelled');
    pageShowsNoInvoiceData(text, invoice);
    await page.screenshot({ path: join(ARTIFACTS, 'pay-3-cancel.png') });
    expect(await statusOf(invoice.id)).toBe('sent');
    const ledger = await service.gql<{ _entities: Array<{ payments: Array<{ status: string }> }> }>(
      PAY_LINK,
      { reps: [{ __typename: 'Invoice', id: invoice.id }] },
      await tokenFor(caller),
    );
    expect(ledger.data!._entities[0].payments).toEqual([{ status: 'PENDING' }]);
    await page.close();
  });
});
