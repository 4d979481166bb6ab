import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeEvent, FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { invoiceRow, sqlOn, untilInvoice, type Sql } from '../helpers/db.js';
import { insertInvoice, type InvoiceFixture } from '../helpers/fixtures.js';
import { paidInvoice } from '../helpers/paid-invoice.js';
import type { TestService } from '../helpers/service.js';
import { StripeWorkspace } from '../helpers/stripe-events.js';
import { connectStripe, startWithFakeStripe, testKeys, type StripeKeys } from '../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';
import { eventually, sleep } from '../helpers/wait.js';

/**
 * Issue 13, "money outside the happy path", on real PostgreSQL + JetStream with the fake Stripe behind the real SDK:
 * one invoice one payment, disconnect grace, two workspaces on one Stripe account, and `Invoice.paymentSummary`.
 */

const PAY_LINK = `query ($reps: [_Any!]!, $amount: SafeInt) {
  _entities(representations: $reps) { ... on Invoice { payLink(amountMinor: $amount) { url } } } }`;
const SUMMARY = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice {
  paymentSummary { paid { amountMinor currency amount } refunded { amountMinor currency amount }
    disputed { amountMinor currency amount } outstanding { amountMinor currency amount } overpaid { amountMinor currency amount } }
  payments { id providerReference status } } } }`;
const REFUND = `mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { status amount { amountMinor } } }`;
const DISCONNECT = 'mutation { disconnectPaymentProvider(provider: STRIPE) }';
const SET_ACTIVE = 'mutation { setPaymentProviderActive(provider: STRIPE, active: true) { active } }';
const PROVIDERS = 'query { paymentProviders { provider active } }';

interface MoneyOut {
  amountMinor: number;
  currency: string;
  amount: string;
}
type Summary = Record<'paid' | 'refunded' | 'disputed' | 'outstanding' | 'overpaid', MoneyOut>;

/** Minor units and the decimal string of an expected amount. */
const money = (amountMinor: number, currency: string, amount: string): MoneyOut => ({ amountMinor, currency, amount });

const invoiceRep = (invoice: InvoiceFixture) => ({ reps: [{ __typename: 'Invoice', id: invoice.id }] });

async function summaryOf(service: TestService, caller: TestCaller, invoice: InvoiceFixture) {
  const result = await service.gql<{
    _entities: Array<{
      paymentSummary: Summary;
      payments: Array<{ id: string; providerReference: string; status: string }>;
    }>;
  }>(SUMMARY, invoiceRep(invoice), await tokenFor(caller));
  expect(result.errors).toBeUndefined();
  return result.data!._entities[0];
}

/** The pay link (a deposit link when `amount` is given), followed like a customer's browser tab: the session id. */
async function click(service: TestService, caller: TestCaller, invoice: InvoiceFixture, amount?: number) {
  const result = await service.gql<{ _entities: Array<{ payLink: { url: string } | null }> }>(
    PAY_LINK,
    { ...invoiceRep(invoice), amount },
    await tokenFor(caller),
  );
  const url = result.data?._entities[0]?.payLink?.url;
  if (!url) throw new Error(`no pay link: ${JSON.stringify(result)}`);
  const localUrl = url.replace(/^https?:\/\/[^/]+/, service.url);
  const redirect = await fetch(localUrl, { redirect: 'manual' });
  expect(redirect.status).toBe(303);
  return { sessionId: redirect.headers.get('location')!.split('/').pop()!, linkUrl: localUrl };
}

const ledgerStatus = async (sql: Sql, reference: string) =>
  (await sql<{ status: string }>('select status from invoice_payments where provider_reference = ?', [reference]))[0]
    ?.status;

/** The last event the fake emitted about a checkout session. */
const lastEventOf = (stripe: FakeStripe, sessionId: string, type: string): FakeEvent => {
  const event = stripe.events
    .filter((candidate) => candidate.type === type && (candidate.data.object as { id?: string }).id === sessionId)
    .pop();
  if (!event) throw new Error(`the fake emitted no ${type} for ${sessionId}`);
  return event;
};

describe('one invoice, one payment; shared accounts; payment summary', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let owner: TestCaller;
  const sql = sqlOn(() => service.orm);

  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({ RECONCILE_INTERVAL_MS: '3600000' }));
    stripe.autoDeliver = { baseUrl: service.url };
    owner = newCaller(['owner']);
    await connectStripe(service, owner, { keys: testKeys('test', false) }); // the service creates its endpoint
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  it('two tabs (a deposit link and the full link): paying the full one settles the invoice and closes the other', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 10_000 });
    const deposit = await click(service, owner, invoice, 4_000);
    const full = await click(service, owner, invoice);
    expect(deposit.sessionId).not.toBe(full.sessionId);
    expect(stripe.sessions.get(deposit.sessionId)!.status).toBe('open');

    await stripe.completeSession(full.sessionId);
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '10000' });
    await eventually(() => stripe.sessions.get(deposit.sessionId)!.status === 'expired', 10_000, {
      what: 'the deposit session to be expired at Stripe',
    });
    await eventually(async () => (await ledgerStatus(sql, deposit.sessionId)) === 'cancelled', 10_000, {
      what: 'the deposit row to be CANCELLED',
    });
    // the expiry was asked for through the API, by the service
    expect(
      stripe.requests.some(
        (request) => request.method === 'POST' && request.path === `/v1/checkout/sessions/${deposit.sessionId}/expire`,
      ),
    ).toBe(true);
    const { paymentSummary, payments } = await summaryOf(service, owner, invoice);
    expect(payments.map(({ providerReference, status }) => [providerReference, status]).sort()).toEqual(
      [
        [full.sessionId, 'SUCCEEDED'],
        [deposit.sessionId, 'CANCELLED'],
      ].sort(),
    );
    expect(paymentSummary).toEqual({
      paid: money(10_000, 'EUR', '100.00'),
      refunded: money(0, 'EUR', '0.00'),
      disputed: money(0, 'EUR', '0.00'),
      outstanding: money(0, 'EUR', '0.00'),
      overpaid: money(0, 'EUR', '0.00'),
    });
    // the pay link of a paid invoice is gone
    expect((await fetch(full.linkUrl, { redirect: 'manual' })).status).toBe(410);
  });

  it('a payment racing the expiry is recorded SUCCEEDED and shows as overpaid', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 10_000 });
    const deposit = await click(service, owner, invoice, 3_000);
    const full = await click(service, owner, invoice);
    const askedAbout = (sessionId: string) =>
      stripe.requests.filter((request) => request.path.startsWith(`/v1/checkout/sessions/${sessionId}`)).length;
    stripe.autoDeliver = null; // both customers pay before any webhook arrives
    try {
      await stripe.completeSession(full.sessionId);
      await stripe.completeSession(deposit.sessionId);
      const askedBefore = askedAbout(deposit.sessionId);
      await stripe.redeliver(lastEventOf(stripe, full.sessionId, 'checkout.session.completed'), service.url);
      await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '10000' });
      // the service asked Stripe about the deposit session to close it, but Stripe had already taken the money
      await eventually(() => askedAbout(deposit.sessionId) > askedBefore, 10_000, {
        what: 'the service to ask Stripe about the raced session',
      });
      await sleep(200); // whatever the service does with the answer, it does now
      expect(stripe.sessions.get(deposit.sessionId)!.status).toBe('complete');
      expect(await ledgerStatus(sql, deposit.sessionId)).toBe('pending');
      await stripe.redeliver(lastEventOf(stripe, deposit.sessionId, 'checkout.session.completed'), service.url);
    } finally {
      stripe.autoDeliver = { baseUrl: service.url };
    }
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '13000' });
    expect(await ledgerStatus(sql, deposit.sessionId)).toBe('succeeded');
    expect((await summaryOf(service, owner, invoice)).paymentSummary).toEqual({
      paid: money(13_000, 'EUR', '130.00'),
      refunded: money(0, 'EUR', '0.00'),
      disputed: money(0, 'EUR', '0.00'),
      outstanding: money(0, 'EUR', '0.00'),
      overpaid: money(3_000, 'EUR', '30.00'),
    });
  });

  describe('paymentSummary', () => {
    const zero = (currency: string, amount: string) => money(0, currency, amount);

    it('is exact for a partial payment', async () => {
      const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 10_000 });
      await stripe.completeSession((await click(service, owner, invoice, 2_550)).sessionId);
      await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '2550' });
      expect((await summaryOf(service, owner, invoice)).paymentSummary).toEqual({
        paid: money(2_550, 'EUR', '25.50'),
        refunded: zero('EUR', '0.00'),
        disputed: zero('EUR', '0.00'),
        outstanding: money(7_450, 'EUR', '74.50'),
        overpaid: zero('EUR', '0.00'),
      });
    });

    it('is exact for a paid invoice, then after a partial and a full refund', async () => {
      const { invoice, paymentId } = await paidInvoice(service, stripe, owner, { totalMinor: 8_000 });
      expect((await summaryOf(service, owner, invoice)).paymentSummary).toMatchObject({
        paid: money(8_000, 'EUR', '80.00'),
        outstanding: zero('EUR', '0.00'),
        refunded: zero('EUR', '0.00'),
      });
      const refund = async (amountMinor?: number) =>
        service.gql(
          REFUND,
          { input: { paymentId, amountMinor, idempotencyKey: `edges-${Math.random().toString(36).slice(2)}` } },
          await tokenFor(owner),
        );
      expect((await refund(1_999)).errors).toBeUndefined();
      await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '6001' });
      expect((await summaryOf(service, owner, invoice)).paymentSummary).toEqual({
        paid: money(6_001, 'EUR', '60.01'),
        refunded: money(1_999, 'EUR', '19.99'),
        disputed: zero('EUR', '0.00'),
        outstanding: money(1_999, 'EUR', '19.99'),
        overpaid: zero('EUR', '0.00'),
      });
      expect((await refund()).errors).toBeUndefined(); // the rest
      await untilInvoice(sql, invoice.id, { status: 'sent', paid_minor: '0' });
      expect((await summaryOf(service, owner, invoice)).paymentSummary).toEqual({
        paid: zero('EUR', '0.00'),
        refunded: money(8_000, 'EUR', '80.00'),
        disputed: zero('EUR', '0.00'),
        outstanding: money(8_000, 'EUR', '80.00'),
        overpaid: zero('EUR', '0.00'),
      });
    });

    it('is exact in JPY (no minor unit) and KWD (three decimals)', async () => {
      const yen = await insertInvoice(service.orm, {
        workspaceId: owner.workspaceId,
        currency: 'JPY',
        totalMinor: 1_500,
      });
      await stripe.completeSession((await click(service, owner, yen, 1_000)).sessionId);
      await untilInvoice(sql, yen.id, { status: 'partial', paid_minor: '1000' });
      expect((await summaryOf(service, owner, yen)).paymentSummary).toEqual({
        paid: money(1_000, 'JPY', '1000'),
        refunded: zero('JPY', '0'),
        disputed: zero('JPY', '0'),
        outstanding: money(500, 'JPY', '500'),
        overpaid: zero('JPY', '0'),
      });

      const dinar = await insertInvoice(service.orm, {
        workspaceId: owner.workspaceId,
        currency: 'KWD',
        totalMinor: 12_340,
      });
      await stripe.completeSession((await click(service, owner, dinar)).sessionId);
      await untilInvoice(sql, dinar.id, { status: 'paid', paid_minor: '12340' });
      expect((await summaryOf(service, owner, dinar)).paymentSummary).toEqual({
        paid: money(12_340, 'KWD', '12.340'),
        refunded: zero('KWD', '0.000'),
        disputed: zero('KWD', '0.000'),
        outstanding: zero('KWD', '0.000'),
        overpaid: zero('KWD', '0.000'),
      });
    });
  });

  describe('two workspaces on one Stripe account', () => {
    let first: TestCaller;
    let second: TestCaller;
    beforeAll(async () => {
      // one secret key, two workspace domains: the service creates one endpoint per domain on the same account
      const keys = testKeys('test', false);
      first = newCaller(['owner']);
      second = newCaller(['owner']);
      await connectStripe(service, first, { keys });
      await connectStripe(service, second, { keys });
    });

    const inboxOf = (eventId: string) =>
      sql<{ workspace_id: string; status: string; ignored_reason: string | null }>(
        'select workspace_id, status, ignored_reason from webhook_events where event_id = ? order by status',
        [eventId],
      );

    it('one event id reaches both hosts: the owner settles it, the other copy is ignored; the DLQ stays empty', async () => {
      const mine = await insertInvoice(service.orm, { workspaceId: first.workspaceId, totalMinor: 5_000 });
      const theirs = await insertInvoice(service.orm, { workspaceId: second.workspaceId, totalMinor: 7_000 });
      const mineSession = (await click(service, first, mine)).sessionId;
      const theirSession = (await click(service, second, theirs)).sessionId;
      await stripe.completeSession(mineSession);
      await stripe.completeSession(theirSession);
      await stripe.flushDeliveries();
      await untilInvoice(sql, mine.id, { status: 'paid', paid_minor: '5000' });
      await untilInvoice(sql, theirs.id, { status: 'paid', paid_minor: '7000' });

      const mineEvent = lastEventOf(stripe, mineSession, 'checkout.session.completed');
      const theirEvent = lastEventOf(stripe, theirSession, 'checkout.session.completed');
      // the fake delivered each event to both endpoints of the account
      for (const event of [mineEvent, theirEvent]) {
        const hosts = stripe.deliveries
          .filter((delivery) => delivery.event.id === event.id)
          .map((delivery) => delivery.host);
        expect(new Set(hosts)).toEqual(new Set([first.workspaceDomain, second.workspaceDomain]));
      }
      await eventually(
        async () => (await inboxOf(mineEvent.id)).length === 2 && (await inboxOf(theirEvent.id)).length === 2,
      );
      expect(await inboxOf(mineEvent.id)).toEqual([
        { workspace_id: first.workspaceId, status: 'applied', ignored_reason: null },
        { workspace_id: second.workspaceId, status: 'ignored', ignored_reason: 'other_workspace' },
      ]);
      expect(await inboxOf(theirEvent.id)).toEqual([
        { workspace_id: second.workspaceId, status: 'applied', ignored_reason: null },
        { workspace_id: first.workspaceId, status: 'ignored', ignored_reason: 'other_workspace' },
      ]);
      // neither invoice got the other's money, and no ledger row crossed workspaces
      expect(
        await sql(
          'select workspace_id, invoice_id from invoice_payments where provider_reference in (?, ?) order by workspace_id',
          [mineSession, theirSession],
        ),
      ).toEqual(
        [
          { workspace_id: first.workspaceId, invoice_id: mine.id },
          { workspace_id: second.workspaceId, invoice_id: theirs.id },
        ].sort((a, b) => (a.workspace_id < b.workspace_id ? -1 : 1)),
      );

      const jsm = await jetstreamManager(service.nats);
      expect((await jsm.streams.info(service.names.dlqStream)).state.messages).toBe(0);
      await eventually(
        async () => (await jsm.consumers.info(service.names.eventsStream, 'settlement')).num_pending === 0,
      );

      // every ignored copy is counted, by reason
      const [{ count }] = await sql<{ count: string }>(
        "select count(*) from webhook_events where workspace_id in (?, ?) and status = 'ignored' and ignored_reason = 'other_workspace'",
        [first.workspaceId, second.workspaceId],
      );
      expect(Number(count)).toBeGreaterThanOrEqual(2);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      const line = metrics
        .split('\n')
        .find((candidate) =>
          /^payments_events_ignored_total\{[^}]*provider="stripe"[^}]*reason="other_workspace"[^}]*\} /.test(candidate),
        );
      expect(
        line,
        metrics
          .split('\n')
          .filter((l) => l.includes('ignored'))
          .join('\n'),
      ).toBeDefined();
      expect(Number(line!.split(' ').pop())).toBe(Number(count));
    });

    it('an old round-1 message (Nats-Msg-Id stripe:<eventId>) of an applied event changes nothing when re-applied', async () => {
      const invoice = await insertInvoice(service.orm, { workspaceId: first.workspaceId, totalMinor: 2_000 });
      const sessionId = (await click(service, first, invoice)).sessionId;
      await stripe.completeSession(sessionId);
      await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '2000' });
      const event = lastEventOf(stripe, sessionId, 'checkout.session.completed');
      await eventually(async () => (await inboxOf(event.id)).length === 2);
      const before = {
        invoice: await sql('select * from invoices where id = ?', [invoice.id]),
        ledger: await sql('select * from invoice_payments where invoice_id = ?', [invoice.id]),
        inbox: await sql('select * from webhook_events where event_id = ? order by workspace_id', [event.id]),
      };

      const jsm = await jetstreamManager(service.nats);
      const consumer = () => jsm.consumers.info(service.names.eventsStream, 'settlement');
      const headers = natsHeaders();
      headers.set('Nats-Msg-Id', `stripe:${event.id}`);
      const envelope = {
        provider: 'stripe',
        workspaceId: first.workspaceId,
        receivedAt: new Date().toISOString(),
        event,
      };
      const ack = await jetstream(service.nats).publish(
        service.names.eventSubject('stripe', first.workspaceId),
        JSON.stringify(envelope),
        { headers },
      );
      expect(ack.duplicate).toBe(false); // a new message id: the consumer really sees it
      await eventually(async () => {
        const info = await consumer();
        return info.ack_floor.stream_seq >= ack.seq && info.num_ack_pending === 0;
      });
      expect({
        invoice: await sql('select * from invoices where id = ?', [invoice.id]),
        ledger: await sql('select * from invoice_payments where invoice_id = ?', [invoice.id]),
        inbox: await sql('select * from webhook_events where event_id = ? order by workspace_id', [event.id]),
      }).toEqual(before);
      expect((await jsm.streams.info(service.names.dlqStream)).state.messages).toBe(0);
    });
  });
});

describe('disconnect with open checkouts (grace window of 72 hours)', () => {
  let service: TestService;
  let stripe: FakeStripe;
  const sql = sqlOn(() => service.orm);

  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({ RECONCILE_INTERVAL_MS: '3600000' }));
    stripe.autoDeliver = { baseUrl: service.url };
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const accountOf = async (caller: TestCaller) =>
    (
      await sql<{
        secret_key_sealed: string | null;
        webhook_secret_sealed: string | null;
        webhook_endpoint_id: string | null;
        disconnected_at: Date | null;
        grace_until: Date | null;
        active: boolean;
      }>(
        `select secret_key_sealed, webhook_secret_sealed, webhook_endpoint_id, disconnected_at, grace_until, active
         from payment_provider_accounts where workspace_id = ? and provider = 'stripe'`,
        [caller.workspaceId],
      )
    )[0];
  const auditOf = (caller: TestCaller, action: string) =>
    sql<{ details: Record<string, unknown> }>(
      'select details from audit_log where workspace_id = ? and action = ? order by created_at',
      [caller.workspaceId, action],
    );

  it('closes both open sessions, takes the account out of use at once, and still settles a payment made just before', async () => {
    const owner = newCaller(['owner']);
    await connectStripe(service, owner, { keys: testKeys('test', false) });
    const token = await tokenFor(owner);
    const open = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 9_000 });
    const deposit = await click(service, owner, open, 1_000);
    const full = await click(service, owner, open);
    const other = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 4_000 });
    const paidJustBefore = await click(service, owner, other);
    const earlier = await paidInvoice(service, stripe, owner, { totalMinor: 3_000 });

    stripe.autoDeliver = null; // the customer pays; Stripe's webhook is still on its way when the owner disconnects
    await stripe.completeSession(paidJustBefore.sessionId);
    const disconnected = await service.gql<{ disconnectPaymentProvider: boolean }>(DISCONNECT, {}, token);
    expect(disconnected).toMatchObject({ data: { disconnectPaymentProvider: true } });

    // both open sessions are closed at Stripe, their rows CANCELLED, before the mutation answered
    expect(stripe.sessions.get(deposit.sessionId)!.status).toBe('expired');
    expect(stripe.sessions.get(full.sessionId)!.status).toBe('expired');
    expect(await ledgerStatus(sql, deposit.sessionId)).toBe('cancelled');
    expect(await ledgerStatus(sql, full.sessionId)).toBe('cancelled');
    expect(stripe.sessions.get(paidJustBefore.sessionId)!.status).toBe('complete');
    const [entry] = await auditOf(owner, 'payments.provider.disconnected');
    expect(entry.details).toMatchObject({ expiredSessions: 2, sessionsLeftToExpireAtProvider: 0 });

    // out of use at once
    expect((await fetch(full.linkUrl, { redirect: 'manual' })).status).toBe(410);
    expect((await fetch(deposit.linkUrl, { redirect: 'manual' })).status).toBe(410);
    const providers = await service.gql<{ paymentProviders: unknown[] }>(PROVIDERS, {}, token);
    expect(providers.data).toEqual({ paymentProviders: [] });
    const link = await service.gql<{ _entities: Array<{ payLink: unknown }> }>(PAY_LINK, invoiceRep(open), token);
    expect(link.data!._entities[0].payLink).toBeNull();
    const refundsBefore = stripe.refunds.size;
    const refund = await service.gql(
      REFUND,
      { input: { paymentId: earlier.paymentId, idempotencyKey: 'after-disconnect' } },
      token,
    );
    expect(refund.errors?.[0]?.message).toMatch(/disconnected/);
    expect(stripe.refunds.size).toBe(refundsBefore);
    const activate = await service.gql(SET_ACTIVE, {}, token);
    expect(activate.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await accountOf(owner)).active).toBe(false);

    // within the grace window the payment made just before the disconnect still settles
    try {
      await stripe.redeliver(lastEventOf(stripe, paidJustBefore.sessionId, 'checkout.session.completed'), service.url);
    } finally {
      stripe.autoDeliver = { baseUrl: service.url };
    }
    await untilInvoice(sql, other.id, { status: 'paid', paid_minor: '4000' });
    expect(await ledgerStatus(sql, paidJustBefore.sessionId)).toBe('succeeded');
    expect(await invoiceRow(sql, open.id)).toEqual({ status: 'sent', paid_minor: '0' });
  });

  it('saving keys again within the window ends it: new keys, a keys_saved audit row, webhooks verify with the new secret', async () => {
    const owner = newCaller(['owner']);
    await connectStripe(service, owner, { keys: testKeys('test', false) });
    const token = await tokenFor(owner);
    const { webhook_endpoint_id: oldEndpoint } = await accountOf(owner);
    const oldSecret = stripe.webhookEndpoints.get(oldEndpoint!)!.secret;
    expect((await service.gql(DISCONNECT, {}, token)).errors).toBeUndefined();
    const inGrace = await accountOf(owner);
    expect(inGrace.grace_until).not.toBeNull();
    expect(inGrace.secret_key_sealed).not.toBeNull();

    const newKeys: StripeKeys = testKeys('test', false);
    await connectStripe(service, owner, { keys: newKeys });
    const after = await accountOf(owner);
    expect(after).toMatchObject({ disconnected_at: null, grace_until: null, active: true });
    expect(after.secret_key_sealed).not.toBe(inGrace.secret_key_sealed);
    expect(after.webhook_endpoint_id).not.toBe(oldEndpoint);
    await eventually(() => !stripe.webhookEndpoints.has(oldEndpoint!), 5_000, { what: 'the old endpoint deleted' });
    const saved = await auditOf(owner, 'payments.provider.keys_saved');
    expect(saved).toHaveLength(2); // the first connection and the reconnection

    const newSecret = stripe.webhookEndpoints.get(after.webhook_endpoint_id!)!.secret;
    const ws = new StripeWorkspace(service, stripe, owner, newSecret);
    const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 1_500 });
    expect(
      (
        await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 500 }), {
          secret: oldSecret,
        })
      ).status,
    ).toBe(400);
    expect(
      (await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 1_500 }))).status,
    ).toBe(200);
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '1500' });
  });
});

describe('the end of a disconnect grace window (DISCONNECT_GRACE_HOURS=0.001, 3.6 s)', () => {
  let service: TestService;
  let stripe: FakeStripe;
  const sql = sqlOn(() => service.orm);

  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({
      DISCONNECT_GRACE_HOURS: '0.001',
      GRACE_SWEEP_INTERVAL_MS: '500',
      RECONCILE_INTERVAL_MS: '3600000',
    }));
    stripe.autoDeliver = { baseUrl: service.url };
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  it('settles within the window; then deletes the endpoint it created, wipes both secrets, and the webhook answers 404', async () => {
    const owner = newCaller(['owner']);
    await connectStripe(service, owner, { keys: testKeys('test', false) });
    const [{ webhook_endpoint_id: endpointId }] = await sql<{ webhook_endpoint_id: string }>(
      "select webhook_endpoint_id from payment_provider_accounts where workspace_id = ? and provider = 'stripe'",
      [owner.workspaceId],
    );
    const secret = stripe.webhookEndpoints.get(endpointId)!.secret;
    const ws = new StripeWorkspace(service, stripe, owner, secret);
    const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 2_000 });
    const { sessionId } = await click(service, owner, invoice);
    const disconnectedAt = Date.now();
    expect((await service.gql(DISCONNECT, {}, await tokenFor(owner))).errors).toBeUndefined();
    expect(stripe.sessions.get(sessionId)!.status).toBe('expired');

    const within = ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 700 });
    expect((await ws.send(within)).status).toBe(200);
    await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '700' });
    expect(Date.now() - disconnectedAt, 'the in-window part ran within the window').toBeLessThan(3_600);

    await eventually(() => !stripe.webhookEndpoints.has(endpointId), 10_000, {
      what: 'the endpoint the service created to be deleted at Stripe',
      intervalMs: 100,
    });
    expect(Date.now() - disconnectedAt, 'not before the window ended').toBeGreaterThanOrEqual(3_600);
    const [account] = await sql(
      `select secret_key_sealed, webhook_secret_sealed, webhook_endpoint_id, grace_until
       from payment_provider_accounts where workspace_id = ? and provider = 'stripe'`,
      [owner.workspaceId],
    );
    expect(account).toEqual({
      secret_key_sealed: null,
      webhook_secret_sealed: null,
      webhook_endpoint_id: null,
      grace_until: null,
    });
    const after = ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 1_300 });
    expect((await ws.send(after)).status).toBe(404);
    await sleep(300);
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'partial', paid_minor: '700' });
  });
});
