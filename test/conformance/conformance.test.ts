import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoiceRow, sqlOn, untilInvoice } from '../helpers/db.js';
import { insertInvoice, type InvoiceFixture } from '../helpers/fixtures.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { eventually } from '../helpers/wait.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';
import { MollieDriver } from './mollie.driver.js';
import type { ProviderDriver } from './provider-driver.js';
import { StripeDriver } from './stripe.driver.js';

const PAY_LINK = `query ($reps: [_Any!]!, $amount: SafeInt) {
  _entities(representations: $reps) { ... on Invoice { payLink(amountMinor: $amount) { url provider amountDue { amountMinor } } } }
}`;
const LEDGER = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Invoice { payments { id provider providerReference status amount { amountMinor currency } refunded { amountMinor } } } }
}`;
const REFUND =
  'mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { status amount { amountMinor } } }';

interface LedgerEntry {
  id: string;
  provider: string;
  providerReference: string;
  status: string;
  amount: { amountMinor: number; currency: string };
  refunded: { amountMinor: number };
}

/** The same scenarios for every provider: adding one means writing its driver, not new tests. */
describe.each([
  ['stripe', () => new StripeDriver()],
  ['mollie', () => new MollieDriver()],
] as const)('provider conformance: %s', (_name, makeDriver) => {
  const driver: ProviderDriver = makeDriver();
  let service: TestService;
  let caller: TestCaller;

  beforeAll(async () => {
    await driver.start();
    service = await startTestService(driver.env());
    driver.deliverTo(service.url);
    caller = newCaller(['owner']);
    await driver.connect(service, caller);
  });
  afterAll(async () => {
    await service?.stop();
    await driver.close();
  });

  const sql = sqlOn(() => service.orm);
  const ledgerOf = async (invoice: InvoiceFixture) =>
    (
      await service.gql<{ _entities: Array<{ payments: LedgerEntry[] }> }>(
        LEDGER,
        { reps: [{ __typename: 'Invoice', id: invoice.id }] },
        await tokenFor(caller),
      )
    ).data!._entities[0].payments;
  /** Follows the invoice's pay link like a customer's browser; returns the provider's checkout URL and reference. */
  const checkout = async (invoice: InvoiceFixture, amount?: number) => {
    const result = await service.gql<{
      _entities: Array<{ payLink: { url: string; provider: string; amountDue: { amountMinor: number } } }>;
    }>(PAY_LINK, { reps: [{ __typename: 'Invoice', id: invoice.id }], amount }, await tokenFor(caller));
    const link = result.data!._entities[0].payLink;
    expect(link.provider).toBe(driver.provider);
    const redirect = await fetch(link.url.replace(/^https?:\/\/[^/]+/, service.url), { redirect: 'manual' });
    expect(redirect.status).toBe(303);
    const url = redirect.headers.get('location')!;
    const [pending] = await ledgerOf(invoice);
    return { url, reference: pending.providerReference, amountDue: link.amountDue.amountMinor };
  };
  const paid = async (total: number) => {
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: total });
    const session = await checkout(invoice);
    await driver.pay(session.url);
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: String(total) });
    return { invoice, reference: session.reference, paymentId: (await ledgerOf(invoice))[0].id };
  };
  const refund = async (paymentId: string, amountMinor?: number) =>
    service.gql<{ refundPayment: { status: string } }>(
      REFUND,
      { input: { paymentId, amountMinor, idempotencyKey: `conf-${Math.random()}` } },
      await tokenFor(caller),
    );

  it('pay link → hosted checkout → confirmation → invoice paid, with one SUCCEEDED ledger row', async () => {
    const { invoice, reference } = await paid(12_000);
    expect(reference).toMatch(driver.referencePattern);
    expect(await ledgerOf(invoice)).toEqual([
      expect.objectContaining({
        provider: driver.provider,
        providerReference: reference,
        status: 'SUCCEEDED',
        amount: { amountMinor: 12_000, currency: 'EUR' },
      }),
    ]);
  });

  it('a partial-amount link leaves the invoice partial', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 20_000 });
    const session = await checkout(invoice, 5_000);
    expect(session.amountDue).toBe(5_000);
    await driver.pay(session.url);
    await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '5000' });
  });

  it('duplicate notifications change nothing', async () => {
    const { invoice, reference } = await paid(3_000);
    for (let i = 0; i < 3; i++) await driver.renotify(reference);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '3000' });
    expect(await ledgerOf(invoice)).toHaveLength(1);
  });

  it('an expired or cancelled checkout becomes CANCELLED and leaves the invoice as it was', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 4_000 });
    const session = await checkout(invoice);
    await driver.abandon(session.reference);
    await eventually(async () => (await ledgerOf(invoice))[0].status === 'CANCELLED');
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'sent', paid_minor: '0' });
  });

  it('full and partial refunds through the API', async () => {
    const full = await paid(6_000);
    expect((await refund(full.paymentId)).errors).toBeUndefined();
    await driver.settleRefunds(full.reference);
    await untilInvoice(sql, full.invoice.id, { status: 'sent', paid_minor: '0' });
    expect((await ledgerOf(full.invoice))[0]).toMatchObject({ status: 'REFUNDED', refunded: { amountMinor: 6_000 } });

    const part = await paid(6_000);
    expect((await refund(part.paymentId, 1_500)).errors).toBeUndefined();
    await driver.settleRefunds(part.reference);
    await untilInvoice(sql, part.invoice.id, { status: 'partial', paid_minor: '4500' });
    expect((await ledgerOf(part.invoice))[0]).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      refunded: { amountMinor: 1_500 },
    });
  });

  it("a refund seen only through the provider's notification is recorded", async () => {
    const { invoice, reference } = await paid(8_000);
    await driver.dashboardRefund(reference, 2_000, 'EUR');
    await driver.settleRefunds(reference);
    await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '6000' });
  });

  const DISPUTES = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice {
    paymentSummary { disputed { amountMinor } }
    payments { disputes { providerDisputeId status fundsWithdrawn amount { amountMinor } } } } } }`;
  const disputesOf = async (invoice: InvoiceFixture) => {
    const result = await service.gql<{
      _entities: Array<{
        paymentSummary: { disputed: { amountMinor: number } };
        payments: Array<{
          disputes: Array<{
            providerDisputeId: string;
            status: string;
            fundsWithdrawn: boolean;
            amount: { amountMinor: number };
          }>;
        }>;
      }>;
    }>(DISPUTES, { reps: [{ __typename: 'Invoice', id: invoice.id }] }, await tokenFor(caller));
    const [entity] = result.data!._entities;
    return { disputed: entity.paymentSummary.disputed.amountMinor, disputes: entity.payments[0].disputes };
  };

  it('a dispute (chargeback) whose funds are withdrawn re-opens the invoice; winning it back restores it', async () => {
    const { invoice, reference } = await paid(8_000);
    const disputeId = await driver.disputeWithdrawn(reference, 8_000, 'EUR');
    await untilInvoice(sql, invoice.id, { status: 'sent', paid_minor: '0' });
    expect(await disputesOf(invoice)).toMatchObject({
      disputed: 8_000,
      disputes: [{ providerDisputeId: disputeId, fundsWithdrawn: true, amount: { amountMinor: 8_000 } }],
    });
    await driver.disputeWon(reference, disputeId);
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '8000' });
    await eventually(async () => {
      const { disputed, disputes } = await disputesOf(invoice);
      return disputed === 0 && disputes[0].status === 'WON' && !disputes[0].fundsWithdrawn;
    });
  });

  it('a lost partial dispute leaves the invoice partial', async () => {
    const { invoice, reference } = await paid(8_000);
    const disputeId = await driver.disputeWithdrawn(reference, 3_000, 'EUR');
    await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '5000' });
    await driver.disputeLost(reference, disputeId);
    await eventually(async () => (await disputesOf(invoice)).disputes[0]?.status === 'LOST');
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'partial', paid_minor: '5000' });
    expect(await disputesOf(invoice)).toMatchObject({ disputed: 3_000, disputes: [{ fundsWithdrawn: true }] });
  });

  it("a notification about another account's payment is never settled", async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 1_000 });
    const status = await driver.foreignNotification(service, caller, invoice.id, 1_000);
    expect(status).toBe(driver.foreignStatus);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'sent', paid_minor: '0' });
    expect(await sql('select id from invoice_payments where invoice_id = ?', [invoice.id])).toEqual([]);
  });

  const statusOf = async (invoice: InvoiceFixture, reference: string) =>
    (await ledgerOf(invoice)).find((entry) => entry.providerReference === reference)?.status;

  it('a second checkout of a paid invoice is closed, or, where the provider cannot close it, left to expire and never counted until paid', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 10_000 });
    const deposit = await checkout(invoice, 3_000);
    const full = await checkout(invoice);
    const askedBefore = driver.requestsAbout(deposit.reference);
    await driver.pay(full.url);
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '10000' });
    await eventually(() => driver.requestsAbout(deposit.reference) > askedBefore, 10_000, {
      what: 'the service to ask the provider about the other checkout',
    });
    if (driver.closesOpenCheckouts) {
      await eventually(async () => (await statusOf(invoice, deposit.reference)) === 'CANCELLED');
      expect(driver.checkoutState(deposit.reference)).toBe('closed');
      expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '10000' });
      return;
    }
    // The provider cannot close it: it stays open there and PENDING here, and counts for nothing …
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(driver.checkoutState(deposit.reference)).toBe('open');
    expect(await statusOf(invoice, deposit.reference)).toBe('PENDING');
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '10000' });
    // … until the customer pays it anyway: recorded, and the surplus is the invoice's overpaid amount
    await driver.pay(deposit.url);
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '13000' });
    expect(await statusOf(invoice, deposit.reference)).toBe('SUCCEEDED');
    const summary = await service.gql<{ _entities: Array<{ paymentSummary: { overpaid: { amountMinor: number } } }> }>(
      'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { paymentSummary { overpaid { amountMinor } } } } }',
      { reps: [{ __typename: 'Invoice', id: invoice.id }] },
      await tokenFor(caller),
    );
    expect(summary.data!._entities[0].paymentSummary.overpaid.amountMinor).toBe(3_000);
  });

  it('disconnect with an open checkout, then the customer pays within the grace window: it settles', async () => {
    const owner = newCaller(['owner']);
    await driver.connect(service, owner);
    const ownCheckout = async (invoice: InvoiceFixture) => {
      const link = await service.gql<{ _entities: Array<{ payLink: { url: string } }> }>(
        PAY_LINK,
        { reps: [{ __typename: 'Invoice', id: invoice.id }] },
        await tokenFor(owner),
      );
      const redirect = await fetch(link.data!._entities[0].payLink.url.replace(/^https?:\/\/[^/]+/, service.url), {
        redirect: 'manual',
      });
      const [row] = await sql<{ provider_reference: string }>(
        'select provider_reference from invoice_payments where invoice_id = ?',
        [invoice.id],
      );
      return { url: redirect.headers.get('location')!, reference: row.provider_reference };
    };
    const paying = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 2_000 });
    const open = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 3_000 });
    const payingCheckout = await ownCheckout(paying);
    const openCheckout = await ownCheckout(open);
    // the customer pays one checkout as the owner disconnects: the provider's notification is still on its way
    await driver.payHeld(payingCheckout.url, payingCheckout.reference);
    const result = await service.gql(
      'mutation ($provider: PaymentProvider!) { disconnectPaymentProvider(provider: $provider) }',
      { provider: driver.provider },
      await tokenFor(owner),
    );
    expect(result).toMatchObject({ data: { disconnectPaymentProvider: true } });
    const rowStatus = async (reference: string) =>
      (
        await sql<{ status: string }>('select status from invoice_payments where provider_reference = ?', [reference])
      )[0].status;
    if (driver.closesOpenCheckouts) {
      // closed at the provider before the mutation answered: nobody can pay it any more
      expect(driver.checkoutState(openCheckout.reference)).toBe('closed');
      expect(await rowStatus(openCheckout.reference)).toBe('cancelled');
    } else {
      // left open at the provider: the customer pays it within the grace window and it settles with the kept key
      expect(driver.checkoutState(openCheckout.reference)).toBe('open');
      await driver.payHeld(openCheckout.url, openCheckout.reference);
    }
    await driver.release();
    await untilInvoice(sql, paying.id, { status: 'paid', paid_minor: '2000' });
    expect(await rowStatus(payingCheckout.reference)).toBe('succeeded');
    if (driver.closesOpenCheckouts) expect(await invoiceRow(sql, open.id)).toEqual({ status: 'sent', paid_minor: '0' });
    else {
      await untilInvoice(sql, open.id, { status: 'paid', paid_minor: '3000' });
      expect(await rowStatus(openCheckout.reference)).toBe('succeeded');
    }
  });

  it("an event naming another workspace's invoice is ignored", async () => {
    // Two workspaces connected to one provider account: the event of the other's payment reaches this workspace too.
    const mine = newCaller(['owner']);
    const theirs = newCaller(['owner']);
    const key = await driver.connect(service, theirs);
    await driver.connect(service, mine, key);
    const invoice = await insertInvoice(service.orm, { workspaceId: theirs.workspaceId, totalMinor: 1_700 });
    const link = await service.gql<{ _entities: Array<{ payLink: { url: string } }> }>(
      PAY_LINK,
      { reps: [{ __typename: 'Invoice', id: invoice.id }] },
      await tokenFor(theirs),
    );
    const redirect = await fetch(link.data!._entities[0].payLink.url.replace(/^https?:\/\/[^/]+/, service.url), {
      redirect: 'manual',
    });
    await driver.pay(redirect.headers.get('location')!);
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '1700' });
    const [{ provider_reference: reference }] = await sql<{ provider_reference: string }>(
      'select provider_reference from invoice_payments where invoice_id = ?',
      [invoice.id],
    );
    expect(await driver.notifyOtherWorkspace(service, mine, reference)).toBe(200);
    const inbox = await eventually(async () => {
      const rows = await sql<{ status: string; ignored_reason: string | null }>(
        'select status, ignored_reason from webhook_events where workspace_id = ?',
        [mine.workspaceId],
      );
      return rows.length > 0 ? rows : null;
    });
    expect(new Set(inbox.map((row) => `${row.status}:${row.ignored_reason}`))).toEqual(
      new Set(['ignored:other_workspace']),
    );
    expect(await sql('select id from invoice_payments where workspace_id = ?', [mine.workspaceId])).toEqual([]);
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '1700' });
  });
});

describe('switching the active provider', () => {
  const stripe = new StripeDriver();
  const mollie = new MollieDriver();
  let service: TestService;
  beforeAll(async () => {
    await Promise.all([stripe.start(), mollie.start()]);
    service = await startTestService({ ...stripe.env(), ...mollie.env() });
    stripe.deliverTo(service.url);
    mollie.deliverTo(service.url);
  });
  afterAll(async () => {
    await service?.stop();
    await Promise.all([stripe.close(), mollie.close()]);
  });

  it('keeps the pay link, changes only where it leads, and the invoice and ledger look the same whichever provider paid', async () => {
    const caller = newCaller(['owner']);
    await stripe.connect(service, caller);
    const token = await tokenFor(caller);
    const sql = sqlOn(() => service.orm);
    const linkOf = async (invoice: InvoiceFixture) =>
      (
        await service.gql<{ _entities: Array<{ payLink: { url: string; provider: string } }> }>(
          PAY_LINK,
          { reps: [{ __typename: 'Invoice', id: invoice.id }] },
          token,
        )
      ).data!._entities[0].payLink;
    const follow = async (url: string) =>
      (await fetch(url.replace(/^https?:\/\/[^/]+/, service.url), { redirect: 'manual' })).headers.get('location')!;

    const first = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 2_500 });
    const second = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 2_500 });
    const before = await linkOf(first);
    expect(before.provider).toBe('STRIPE');
    const secondBefore = await linkOf(second);
    await stripe.pay(await follow(before.url));

    await mollie.connect(service, caller); // saving Mollie keys activates Mollie and deactivates Stripe
    const after = await linkOf(second);
    expect(after).toMatchObject({ url: secondBefore.url, provider: 'MOLLIE' });
    const target = await follow(after.url);
    expect(target.startsWith(mollie.env().MOLLIE_API_URL)).toBe(true);
    await mollie.pay(target);

    const shape = async (invoice: InvoiceFixture) => {
      await untilInvoice(sql, invoice.id, { status: 'paid' });
      const [row] = await sql(
        `select i.status, i.paid_minor, p.status as payment_status, p.amount_minor, p.currency, p.refunded_minor
         from invoices i join invoice_payments p on p.invoice_id = i.id where i.id = ?`,
        [invoice.id],
      );
      return row;
    };
    expect(await shape(first)).toEqual(await shape(second));
  });
});
