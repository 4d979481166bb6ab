import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { invoiceRow, sqlOn, untilInvoice } from '../helpers/db.js';
import { insertInvoice, type InvoiceFixture } from '../helpers/fixtures.js';
import { postWithHost } from '../helpers/post-with-host.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { newCaller, tokenFor } from '../helpers/tokens.js';
import { StripeWorkspace } from '../helpers/stripe-events.js';
import { eventually } from '../helpers/wait.js';

interface LedgerRow {
  status: string;
  provider_reference: string;
  event_id: string | null;
  amount_minor: string;
  paid_at: string | null;
}

describe('settlement of Stripe events (webhook → JetStream → worker → PostgreSQL)', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let ws: StripeWorkspace;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe());
    ws = await StripeWorkspace.connect(service, stripe);
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const sql = sqlOn(() => service.orm);
  const ledgerOf = (invoice: InvoiceFixture) =>
    sql<LedgerRow>(
      'select status, provider_reference, event_id, amount_minor, paid_at from invoice_payments where invoice_id = ? order by created_at',
      [invoice.id],
    );
  const processed = (eventId: string) =>
    eventually(
      async () =>
        (
          await sql<{ status: string }>(
            "select status from webhook_events where provider = 'stripe' and event_id = ? and status <> 'failed'",
            [eventId],
          )
        )[0],
    );

  it('marks the invoice paid and records the payment with reference, event id, amount and time', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 12_500 });
    const event = ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 12_500 });
    const sent = Date.now();
    expect((await ws.send(event)).status).toBe(200);
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '12500' });
    const latency = Date.now() - sent;
    const [row] = await ledgerOf(invoice);
    expect(row).toMatchObject({
      status: 'succeeded',
      provider_reference: (event.data.object as { id: string }).id,
      event_id: event.id,
      amount_minor: '12500',
    });
    expect(Math.abs(new Date(row.paid_at!).getTime() - event.created * 1000)).toBeLessThan(1000);
    expect(latency).toBeLessThan(5000);
  });

  it('marks a smaller payment partial, then paid with the rest', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 10_000 });
    await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 4_000 }));
    await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '4000' });
    await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 6_000 }));
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '10000' });
  });

  it('follows unpaid → async succeeded, async failed, and expired', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 3_000 });
    const completed = ws.sessionEvent('checkout.session.completed', invoice.id, {
      amountMinor: 3_000,
      paymentStatus: 'unpaid',
    });
    const sessionId = (completed.data.object as { id: string }).id;
    await ws.send(completed);
    await processed(completed.id);
    expect((await ledgerOf(invoice)).map((row) => row.status)).toEqual(['pending']);
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'sent', paid_minor: '0' });
    await ws.send(
      ws.sessionEvent('checkout.session.async_payment_succeeded', invoice.id, { amountMinor: 3_000, sessionId }),
    );
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '3000' });

    const failing = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 3_000 });
    const failed = ws.sessionEvent('checkout.session.async_payment_failed', failing.id, {
      amountMinor: 3_000,
      paymentStatus: 'unpaid',
    });
    await ws.send(failed);
    await processed(failed.id);
    expect((await ledgerOf(failing)).map((row) => row.status)).toEqual(['failed']);

    const abandoned = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 3_000 });
    const expired = ws.sessionEvent('checkout.session.expired', abandoned.id, { amountMinor: 3_000 });
    await ws.send(expired);
    await processed(expired.id);
    expect((await ledgerOf(abandoned)).map((row) => row.status)).toEqual(['cancelled']);
    expect(await invoiceRow(sql, abandoned.id)).toEqual({ status: 'sent', paid_minor: '0' });
  });

  it('applies the same event once, however often and concurrently it arrives', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 50_000 });
    const event = ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 7_000 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => ws.send(event)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    await untilInvoice(sql, invoice.id, { paid_minor: '7000' });
    for (let i = 0; i < 5; i++) expect((await ws.send(event)).status).toBe(200);
    // A different event id for the same session (Stripe retrying a new event) must not add money either.
    await ws.send(
      ws.sessionEvent('checkout.session.completed', invoice.id, {
        amountMinor: 7_000,
        sessionId: (event.data.object as { id: string }).id,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'partial', paid_minor: '7000' });
    expect(await ledgerOf(invoice)).toHaveLength(1);
  });

  it('ends right when events arrive out of order', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 2_000 });
    const succeeded = ws.sessionEvent('checkout.session.async_payment_succeeded', invoice.id, { amountMinor: 2_000 });
    const sessionId = (succeeded.data.object as { id: string }).id;
    await ws.send(succeeded);
    await untilInvoice(sql, invoice.id, { status: 'paid' });
    for (const type of [
      'checkout.session.completed',
      'checkout.session.expired',
      'checkout.session.async_payment_failed',
    ]) {
      const late = ws.sessionEvent(type, invoice.id, { amountMinor: 2_000, sessionId, paymentStatus: 'unpaid' });
      await ws.send(late);
      await processed(late.id);
    }
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '2000' });
    expect((await ledgerOf(invoice)).map((row) => [row.status, row.event_id])).toEqual([['succeeded', succeeded.id]]);
  });

  it('records payments on draft and void invoices without changing their status, and keeps overpayments', async () => {
    const draft = await insertInvoice(service.orm, {
      workspaceId: ws.caller.workspaceId,
      status: 'draft',
      totalMinor: 1_000,
    });
    await ws.send(ws.sessionEvent('checkout.session.completed', draft.id, { amountMinor: 1_000 }));
    await untilInvoice(sql, draft.id, { paid_minor: '1000' });
    expect((await invoiceRow(sql, draft.id)).status).toBe('draft');

    const over = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 1_000 });
    await ws.send(ws.sessionEvent('checkout.session.completed', over.id, { amountMinor: 1_500 }));
    await untilInvoice(sql, over.id, { status: 'paid', paid_minor: '1500' });
  });

  it('settles a session the service never saw when its metadata names an invoice of the workspace', async () => {
    const invoice = await insertInvoice(service.orm, {
      workspaceId: ws.caller.workspaceId,
      currency: 'JPY',
      totalMinor: 5_000,
    });
    await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 5_000, currency: 'jpy' }));
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '5000' });
  });

  it('carries the W3C trace id from the webhook request into the settlement logs', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 700 });
    const event = ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 700 });
    const payload = JSON.stringify(event);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const status = await postWithHost(
      `${service.url}/api/finance/payments/stripe/webhook`,
      ws.caller.workspaceDomain,
      payload,
      {
        'content-type': 'application/json',
        'stripe-signature': stripe.signPayload(payload, ws.secret),
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
    );
    expect(status).toBe(200);
    await untilInvoice(sql, invoice.id, { status: 'paid' });
    const lines = service.logs.lines.map(
      (line) => JSON.parse(line) as { traceId?: string; msg: string; eventId?: string },
    );
    const traced = lines.filter((line) => line.traceId === traceId).map((line) => line.msg);
    expect(traced).toEqual(expect.arrayContaining(['webhook stored', 'event settled']));
  });

  it('acknowledges and ignores event types it does not handle', async () => {
    const event = stripe.buildEvent('customer.created', { id: 'cus_123', object: 'customer' });
    expect((await ws.send(event)).status).toBe(200);
    expect(await processed(event.id)).toEqual({ status: 'ignored' });
  });

  it('settles a payment made on the fake hosted checkout through the pay link', async () => {
    // A workspace whose endpoint the service created: the fake delivers to it like Stripe would.
    const owner = newCaller(['owner']);
    await connectStripe(service, owner, { keys: testKeys('test', false) });
    const own = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 8_800 });
    stripe.autoDeliver = { baseUrl: service.url };
    const result = await service.gql<{ _entities: Array<{ payLink: { url: string } }> }>(
      'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { payLink { url } } } }',
      { reps: [{ __typename: 'Invoice', id: own.id }] },
      await tokenFor(owner),
    );
    const redirect = await fetch(result.data!._entities[0].payLink.url.replace(/^https?:\/\/[^/]+/, service.url), {
      redirect: 'manual',
    });
    const checkoutUrl = redirect.headers.get('location')!;
    const paid = await fetch(`${checkoutUrl}/complete`, { method: 'POST', redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toMatch(/\/pay\/success\?session_id=cs_test_/);
    await stripe.flushDeliveries();
    await untilInvoice(sql, own.id, { status: 'paid', paid_minor: '8800' });
    expect((await ledgerOf(own)).map((row) => row.status)).toEqual(['succeeded']);
  });
});
