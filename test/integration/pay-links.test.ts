import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { sqlOn } from '../helpers/db.js';
import { insertInvoice, type InvoiceFixture } from '../helpers/fixtures.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe } from '../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';

const PAY_LINK = `query ($reps: [_Any!]!, $amount: SafeInt) {
  _entities(representations: $reps) { ... on Invoice { payLink(amountMinor: $amount) { url provider amountDue { amountMinor currency amount } } } }
}`;

type Link = {
  url: string;
  provider: string;
  amountDue: { amountMinor: number; currency: string; amount: string };
} | null;

describe('pay links and hosted checkout', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let caller: TestCaller;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({ PUBLIC_BASE_URL: 'https://pay.workestra.test' }));
    caller = newCaller(['viewer', 'owner']);
    await connectStripe(service, caller);
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const sql = sqlOn(() => service.orm);
  const payLink = async (invoice: InvoiceFixture, amount?: number, who: TestCaller = caller) => {
    const result = await service.gql<{ _entities: Array<{ payLink: Link }> }>(
      PAY_LINK,
      { reps: [{ __typename: 'Invoice', id: invoice.id }], amount },
      await tokenFor(who),
    );
    return { link: result.data?._entities[0]?.payLink ?? null, errors: result.errors };
  };
  /** Follows a pay link the way a browser would, but against our local server. */
  const click = (link: NonNullable<Link>) =>
    fetch(link.url.replace('https://pay.workestra.test', service.url), { redirect: 'manual' });
  const sessionCreates = () =>
    stripe.requests.filter((request) => request.method === 'POST' && request.path === '/v1/checkout/sessions');

  it('exists only for sent, overdue and partial invoices with a balance', async () => {
    for (const status of ['draft', 'paid', 'void']) {
      expect(
        (await payLink(await insertInvoice(service.orm, { workspaceId: caller.workspaceId, status }))).link,
        status,
      ).toBeNull();
    }
    expect(
      (
        await payLink(
          await insertInvoice(service.orm, {
            workspaceId: caller.workspaceId,
            status: 'sent',
            totalMinor: 500,
            paidMinor: 500,
          }),
        )
      ).link,
    ).toBeNull();
    for (const status of ['sent', 'overdue', 'partial']) {
      const invoice = await insertInvoice(service.orm, {
        workspaceId: caller.workspaceId,
        status,
        totalMinor: 12_000,
        paidMinor: status === 'partial' ? 2_000 : 0,
      });
      const { link } = await payLink(invoice);
      expect(link, status).toMatchObject({
        provider: 'STRIPE',
        url: expect.stringMatching(/^https:\/\/pay\.workestra\.test\/pay\/[A-Za-z0-9_-]{32}$/),
      });
      expect(link!.amountDue).toEqual(
        status === 'partial'
          ? { amountMinor: 10_000, currency: 'EUR', amount: '100.00' }
          : { amountMinor: 12_000, currency: 'EUR', amount: '120.00' },
      );
    }
  });

  it('is null without a provider, with card payments off, and for another workspace', async () => {
    const bare = newCaller(['owner']);
    expect(
      (await payLink(await insertInvoice(service.orm, { workspaceId: bare.workspaceId }), undefined, bare)).link,
    ).toBeNull();
    const noCards = newCaller(['owner']);
    await connectStripe(service, noCards, { offerCardPayments: false });
    expect(
      (await payLink(await insertInvoice(service.orm, { workspaceId: noCards.workspaceId }), undefined, noCards)).link,
    ).toBeNull();
    const mine = await insertInvoice(service.orm, { workspaceId: caller.workspaceId });
    const result = await service.gql<{ _entities: unknown[] }>(
      PAY_LINK,
      { reps: [{ __typename: 'Invoice', id: mine.id }] },
      await tokenFor(bare),
    );
    expect(result.data?._entities).toEqual([null]);
  });

  it('resolves 100 invoices with payments, payLink and providerSettings in a constant number of statements', async () => {
    const invoices = await Promise.all(
      Array.from({ length: 100 }, () => insertInvoice(service.orm, { workspaceId: caller.workspaceId })),
    );
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice {
      payments { id } payLink { url } providerSettings { provider } } } }`;
    const reps = invoices.map((invoice) => ({ __typename: 'Invoice', id: invoice.id }));
    const token = await tokenFor(caller);
    const counts: number[] = [];
    for (let round = 0; round < 2; round++) {
      service.queries.length = 0;
      const result = await service.gql<{ _entities: Array<{ payLink: Link }> }>(query, { reps }, token);
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities.every((entity) => entity.payLink?.url.includes('/pay/'))).toBe(true);
      counts.push(service.queries.filter((q) => /^\s*(with|select|insert|update|delete)\b/i.test(q)).length);
    }
    // invoices, payments, provider accounts, pay-link tokens (created on first sight in the same statement)
    expect(counts).toEqual([4, 4]);
  });

  it('adds paymentSummary and payLinkUnavailableReason to the 100-invoice query without another statement', async () => {
    const invoices = await Promise.all(
      Array.from({ length: 100 }, () => insertInvoice(service.orm, { workspaceId: caller.workspaceId })),
    );
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice {
      payments { id } payLink { url } providerSettings { provider } payLinkUnavailableReason
      paymentSummary { paid { amount } refunded { amount } disputed { amount } outstanding { amount } overpaid { amount } } } } }`;
    const reps = invoices.map((invoice) => ({ __typename: 'Invoice', id: invoice.id }));
    service.queries.length = 0;
    const result = await service.gql<{
      _entities: Array<{
        payLinkUnavailableReason: string | null;
        paymentSummary: { outstanding: { amount: string } };
      }>;
    }>(query, { reps }, await tokenFor(caller));
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities.every((entity) => entity.payLinkUnavailableReason === null)).toBe(true);
    expect(result.data!._entities[0].paymentSummary.outstanding.amount).toBe('100.00');
    // invoices, payments, provider accounts, pay-link tokens: the summary comes from the same ledger load
    expect(service.queries.filter((q) => /^\s*(with|select|insert|update|delete)\b/i.test(q))).toHaveLength(4);
  });

  it('keeps one stable token per invoice and a separate one per partial amount', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 10_000 });
    const first = (await payLink(invoice)).link!;
    expect((await payLink(invoice)).link!.url).toBe(first.url);
    const deposit = (await payLink(invoice, 2_500)).link!;
    expect(deposit.amountDue.amountMinor).toBe(2_500);
    expect(deposit.url).not.toBe(first.url);
    expect((await payLink(invoice, 2_500)).link!.url).toBe(deposit.url);
    for (const bad of [0, -5, 10_001]) {
      const { errors } = await payLink(invoice, bad);
      expect(errors?.[0]?.extensions?.code, String(bad)).toBe('BAD_USER_INPUT');
      expect(errors?.[0]?.message).toContain('10000');
    }
    expect((await payLink(invoice, 10)).errors?.[0]?.message).toMatch(/minimum/);
  });

  it('redirects to a Checkout Session created with exactly the agreed parameters, and records it PENDING', async () => {
    const invoice = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      number: 'INV-2041',
      totalMinor: 15_000,
      paidMinor: 5_000,
      status: 'partial',
      customerEmail: 'payer@example.com',
    });
    const link = (await payLink(invoice)).link!;
    stripe.clearRequests();
    const response = await click(link);
    expect(response.status).toBe(303);
    const [create] = sessionCreates();
    expect(create.body).toEqual({
      mode: 'payment',
      line_items: [
        {
          quantity: '1',
          price_data: { currency: 'eur', unit_amount: '10000', product_data: { name: 'Invoice INV-2041' } },
        },
      ],
      customer_email: 'payer@example.com',
      client_reference_id: invoice.id,
      metadata: { workspace_id: caller.workspaceId, invoice_id: invoice.id, pay_link_id: expect.any(String) },
      payment_intent_data: {
        metadata: { workspace_id: caller.workspaceId, invoice_id: invoice.id, pay_link_id: expect.any(String) },
      },
      success_url: 'https://pay.workestra.test/pay/success?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://pay.workestra.test/pay/cancel',
    });
    expect(create.idempotencyKey).toMatch(/^workestra-paylink-[0-9a-f-]{36}-10000-0$/);
    const session = [...stripe.sessions.values()].find((candidate) => candidate.client_reference_id === invoice.id)!;
    expect(response.headers.get('location')).toBe(session.url);
    const ledger = await sql(
      'select status, provider_reference, amount_minor, currency from invoice_payments where invoice_id = ?',
      [invoice.id],
    );
    expect(ledger).toEqual([
      { status: 'pending', provider_reference: session.id, amount_minor: '10000', currency: 'EUR' },
    ]);
  });

  it('reuses the open session on a second click, and replaces it when the balance changes', async () => {
    const invoice = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      totalMinor: 8_000,
      customerEmail: null,
    });
    const link = (await payLink(invoice)).link!;
    const first = (await click(link)).headers.get('location');
    stripe.clearRequests();
    const sessionReads = () =>
      stripe.requests.some((request) => request.method === 'GET' && request.path.startsWith('/v1/checkout/sessions/'));
    // Round 2: within 60 s of creating it, the session is reused without a provider call …
    expect((await click(link)).headers.get('location')).toBe(first);
    expect(sessionCreates()).toHaveLength(0);
    expect(sessionReads()).toBe(false);
    // … later, only after confirming with the provider that it is still open
    await sql("update invoice_payments set created_at = created_at - interval '2 minutes' where invoice_id = ?", [
      invoice.id,
    ]);
    expect((await click(link)).headers.get('location')).toBe(first);
    expect(sessionCreates()).toHaveLength(0);
    expect(sessionReads()).toBe(true);
    const firstId = [...stripe.sessions.values()].find((session) => session.url === first)!.id;
    expect(stripe.sessions.get(firstId)!.customer_email ?? null).toBeNull();

    await sql("update invoices set paid_minor = 3000, status = 'partial' where id = ?", [invoice.id]);
    const second = (await click(link)).headers.get('location');
    expect(second).not.toBe(first);
    expect(sessionCreates()).toHaveLength(1);
    expect(sessionCreates()[0].body).toMatchObject({ line_items: [{ price_data: { unit_amount: '5000' } }] });
    expect(stripe.sessions.get(firstId)!.status).toBe('expired');
    const ledger = await sql<{ status: string; amount_minor: string }>(
      'select status, amount_minor from invoice_payments where invoice_id = ? order by created_at',
      [invoice.id],
    );
    expect(ledger).toEqual([
      { status: 'cancelled', amount_minor: '8000' },
      { status: 'pending', amount_minor: '5000' },
    ]);
  });

  it('does not hand out a session that expires within 10 minutes', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 4_000 });
    const link = (await payLink(invoice)).link!;
    const first = (await click(link)).headers.get('location');
    const soon = new Date(Date.now() + 5 * 60 * 1000);
    await sql('update invoice_payments set expires_at = ? where invoice_id = ?', [soon, invoice.id]);
    const second = (await click(link)).headers.get('location');
    expect(second).not.toBe(first);
  });

  it('charges exact amounts in zero- and three-decimal currencies', async () => {
    const yen = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      currency: 'JPY',
      totalMinor: 5_000,
    });
    expect((await payLink(yen)).link!.amountDue).toEqual({ amountMinor: 5000, currency: 'JPY', amount: '5000' });
    stripe.clearRequests();
    await click((await payLink(yen)).link!);
    expect(sessionCreates()[0].body).toMatchObject({
      line_items: [{ price_data: { currency: 'jpy', unit_amount: '5000' } }],
    });

    const dinar = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      currency: 'KWD',
      totalMinor: 12_345,
    });
    // Stripe needs three-decimal amounts to end in 0: the full-balance link charges 12.340, never more than owed.
    expect((await payLink(dinar)).link!.amountDue).toEqual({ amountMinor: 12_340, currency: 'KWD', amount: '12.340' });
    stripe.clearRequests();
    expect((await click((await payLink(dinar)).link!)).status).toBe(303);
    expect(sessionCreates()[0].body).toMatchObject({
      line_items: [{ price_data: { currency: 'kwd', unit_amount: '12340' } }],
    });
    expect((await payLink(dinar, 1_235)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await payLink(dinar, 1_230)).link!.amountDue.amount).toBe('1.230');
  });

  it('explains paid, void, disconnected and unknown links without showing invoice data', async () => {
    const invoice = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      number: 'INV-SECRET-77',
      totalMinor: 9_900,
    });
    const link = (await payLink(invoice)).link!;
    const pageOf = async () => {
      const response = await click(link);
      return { status: response.status, body: await response.text() };
    };
    await sql("update invoices set status = 'paid', paid_minor = 9900 where id = ?", [invoice.id]);
    const paid = await pageOf();
    expect(paid.status).toBe(410);
    expect(paid.body).toContain('already been paid');
    await sql("update invoices set status = 'void', paid_minor = 0 where id = ?", [invoice.id]);
    expect((await pageOf()).status).toBe(410);
    expect((await pageOf()).body).toContain('cancelled');

    const unknown = await fetch(`${service.url}/pay/${'x'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    for (const body of [paid.body, (await pageOf()).body, await unknown.text()]) {
      expect(body).not.toContain('INV-SECRET-77');
      expect(body).not.toContain('99.00');
      expect(body).not.toContain(caller.workspaceId);
      expect(body).not.toContain(caller.workspaceDomain);
    }

    const gone = newCaller(['owner']);
    await connectStripe(service, gone);
    const theirs = await insertInvoice(service.orm, { workspaceId: gone.workspaceId });
    const theirLink = (await payLink(theirs, undefined, gone)).link!;
    await service.gql('mutation { disconnectPaymentProvider(provider: STRIPE) }', undefined, await tokenFor(gone));
    const disconnected = await click(theirLink);
    expect(disconnected.status).toBe(410);
    expect(await disconnected.text()).toContain('not available');
  });

  it('labels pay-link traffic by route in /metrics, never by token', async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/payments_http_requests_total\{method="GET",route="\/pay\/:token",status="303"\} [1-9]/);
    expect(metrics).not.toMatch(/route="\/pay\/[A-Za-z0-9_-]{32}"/);
  });

  it('serves success and cancel pages with no data, and a clear page when Stripe is down', async () => {
    for (const path of ['/pay/success?session_id=cs_test_123', '/pay/cancel']) {
      const response = await fetch(`${service.url}${path}`);
      expect(response.status).toBe(200);
      const body = await response.text();
      expect(body).toContain('Workestra');
      expect(body).not.toContain('cs_test_123');
    }
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId });
    const link = (await payLink(invoice)).link!;
    stripe.setOutage(true, { shouldRetry: false });
    try {
      const response = await click(link);
      expect(response.status).toBe(502);
      expect(await response.text()).toContain('try again');
    } finally {
      stripe.setOutage(false);
    }
  });
});
