import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import type { FakeEvent } from '../fakes/stripe/fake-stripe.types.js';
import { invoiceRow, sqlOn, untilInvoice } from '../helpers/db.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { paidInvoice } from '../helpers/paid-invoice.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';
import { eventually } from '../helpers/wait.js';

const DISPUTES = `query ($id: ID!) { payment(id: $id) { status
  disputes { id providerDisputeId status reason evidenceDueBy fundsWithdrawn amount { amountMinor currency } createdAt updatedAt } } }`;
const SUMMARY = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice {
  paymentSummary { paid { amountMinor } refunded { amountMinor } disputed { amountMinor } outstanding { amountMinor } } } } }`;
const REFUND = 'mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { id status } }';

interface DisputeView {
  providerDisputeId: string;
  status: string;
  reason: string | null;
  evidenceDueBy: string | null;
  fundsWithdrawn: boolean;
  amount: { amountMinor: number; currency: string };
}

describe('disputes and chargebacks (Stripe)', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let owner: TestCaller;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe());
    stripe.autoDeliver = { baseUrl: service.url };
    owner = newCaller(['owner']);
    await connectStripe(service, owner, { keys: testKeys('test', false) });
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const sql = sqlOn(() => service.orm);
  const disputesOf = async (paymentId: string) =>
    (await service.gql<{ payment: { disputes: DisputeView[] } }>(DISPUTES, { id: paymentId }, await tokenFor(owner)))
      .data!.payment.disputes;
  const summaryOf = async (invoiceId: string) =>
    (
      await service.gql<{ _entities: Array<{ paymentSummary: Record<string, { amountMinor: number }> }> }>(
        SUMMARY,
        { reps: [{ __typename: 'Invoice', id: invoiceId }] },
        await tokenFor(owner),
      )
    ).data!._entities[0].paymentSummary;
  const untilDispute = (paymentId: string, expected: Partial<DisputeView>) =>
    eventually(
      async () => {
        const [dispute] = await disputesOf(paymentId);
        return dispute && Object.entries(expected).every(([k, v]) => dispute[k as keyof DisputeView] === v)
          ? dispute
          : null;
      },
      10_000,
      { what: `dispute of ${paymentId} to reach ${JSON.stringify(expected)}` },
    );

  it('created → funds withdrawn re-opens the invoice → won and reinstated makes it paid again', async () => {
    const { invoice, paymentId, paymentIntent } = await paidInvoice(service, stripe, owner);
    const dispute = await stripe.createDispute(paymentIntent, { reason: 'product_not_received' });
    const opened = await untilDispute(paymentId, { status: 'NEEDS_RESPONSE' });
    const dueBy = new Date(dispute.evidence_details.due_by * 1000).toISOString();
    expect(opened).toMatchObject({
      providerDisputeId: dispute.id,
      reason: 'product_not_received',
      evidenceDueBy: dueBy,
      fundsWithdrawn: false,
      amount: { amountMinor: 10_000, currency: 'EUR' },
    });
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '10000' });
    const warning = service.logs.lines.map((line) => JSON.parse(line)).find((line) => line.disputeId === dispute.id);
    expect(warning).toMatchObject({ level: 40, evidenceDueBy: dueBy, invoiceId: invoice.id });
    expect(warning.msg).toContain(dueBy);

    await stripe.withdrawDisputeFunds(dispute.id);
    await untilInvoice(sql, invoice.id, { status: 'sent', paid_minor: '0' });
    expect(await summaryOf(invoice.id)).toMatchObject({
      paid: { amountMinor: 0 },
      disputed: { amountMinor: 10_000 },
      outstanding: { amountMinor: 10_000 },
    });
    await stripe.submitDisputeEvidence(dispute.id);
    await untilDispute(paymentId, { status: 'UNDER_REVIEW', fundsWithdrawn: true });

    // refunding while the bank decides could pay the money back twice
    const refused = await service.gql(
      REFUND,
      { input: { paymentId, idempotencyKey: `k-${Date.now()}` } },
      await tokenFor(owner),
    );
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(refused.errors?.[0].message).toContain(`open dispute (${dispute.id}, UNDER_REVIEW)`);

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^payments_disputes_open [1-9]\d*$/m);

    await stripe.closeDispute(dispute.id, 'won');
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '10000' });
    await untilDispute(paymentId, { status: 'WON', fundsWithdrawn: false });
    expect(await summaryOf(invoice.id)).toMatchObject({ disputed: { amountMinor: 0 }, paid: { amountMinor: 10_000 } });
  });

  it('a lost dispute keeps the invoice re-opened (overdue when its due date passed)', async () => {
    const { invoice, paymentId, paymentIntent } = await paidInvoice(service, stripe, owner, {
      dueDate: '2020-01-31',
      status: 'overdue',
    });
    const dispute = await stripe.createDispute(paymentIntent);
    await stripe.withdrawDisputeFunds(dispute.id);
    await untilInvoice(sql, invoice.id, { status: 'overdue', paid_minor: '0' });
    await stripe.closeDispute(dispute.id, 'lost');
    await untilDispute(paymentId, { status: 'LOST', fundsWithdrawn: true });
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'overdue', paid_minor: '0' });
  });

  it('a partial dispute on a partially refunded payment leaves paid = payments − refunds − withdrawn', async () => {
    const { invoice, paymentId, paymentIntent } = await paidInvoice(service, stripe, owner);
    await stripe.refundOutsideApi(paymentIntent, 3000);
    await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '7000' });
    const dispute = await stripe.createDispute(paymentIntent, { amount: 4000 });
    await stripe.withdrawDisputeFunds(dispute.id);
    await untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '3000' });
    expect(await summaryOf(invoice.id)).toMatchObject({
      paid: { amountMinor: 3000 },
      refunded: { amountMinor: 3000 },
      disputed: { amountMinor: 4000 },
      outstanding: { amountMinor: 7000 },
    });
    const [row] = await sql<{ disputed_minor: string; refunded_minor: string }>(
      'select disputed_minor, refunded_minor from invoice_payments where id = ?',
      [paymentId],
    );
    expect(row).toEqual({ disputed_minor: '4000', refunded_minor: '3000' });
  });

  describe('every order and duplication of a dispute’s events ends in the same state', () => {
    /** The real events of one dispute's life at the fake, recorded once per outcome (not delivered). */
    const lifecycles: Record<'won' | 'lost', FakeEvent[]> = { won: [], lost: [] };
    let template: { paymentIntent: string; disputeIds: Record<'won' | 'lost', string> };

    beforeAll(async () => {
      const { paymentIntent } = await paidInvoice(service, stripe, owner);
      stripe.autoDeliver = null;
      const ids = {} as Record<'won' | 'lost', string>;
      for (const outcome of ['won', 'lost'] as const) {
        const before = stripe.events.length;
        const dispute = await stripe.createDispute(paymentIntent);
        await stripe.withdrawDisputeFunds(dispute.id);
        await stripe.submitDisputeEvidence(dispute.id);
        await stripe.closeDispute(dispute.id, outcome);
        lifecycles[outcome] = stripe.events.slice(before);
        ids[outcome] = dispute.id;
      }
      stripe.autoDeliver = { baseUrl: service.url };
      template = { paymentIntent, disputeIds: ids };
    });

    function permutations<T>(items: T[]): T[][] {
      if (items.length <= 1) return [items];
      return items.flatMap((item, index) =>
        permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
      );
    }

    /** A fresh paid invoice, then the lifecycle's events (re-keyed to a new dispute and intent) applied in `order`. */
    async function settleInOrder(outcome: 'won' | 'lost', order: number[], reissue: boolean) {
      const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 10_000 });
      const tag = randomBytes(6).toString('hex');
      const pi = `pi_perm${tag}`;
      const settle = (event: unknown) =>
        service.services.settlement.settle({
          provider: 'stripe',
          workspaceId: owner.workspaceId,
          receivedAt: new Date().toISOString(),
          event,
        });
      const paid = stripe.buildEvent('checkout.session.completed', {
        id: `cs_test_perm${tag}`,
        object: 'checkout.session',
        amount_total: 10_000,
        currency: 'eur',
        client_reference_id: invoice.id,
        metadata: { workspace_id: owner.workspaceId, invoice_id: invoice.id },
        payment_intent: pi,
        payment_status: 'paid',
        status: 'complete',
      });
      await settle(paid);
      const rekey = (event: FakeEvent, suffix: string) =>
        JSON.parse(
          JSON.stringify(event)
            .replaceAll(template.disputeIds[outcome], `dp_perm${tag}`)
            .replaceAll(template.paymentIntent, pi)
            .replace(`"id":"${event.id}"`, `"id":"${event.id}${suffix}${tag}"`),
        );
      const events = lifecycles[outcome];
      // duplicates: the first two again, as redelivered (same id) or as a re-sent copy (a new event id)
      const sequence = [...order, order[0], order[1]].map((index, position) =>
        rekey(events[index], reissue && position >= order.length ? `x${position}` : 'p'),
      );
      for (const event of sequence) await settle(event);
      const [dispute] = await sql(
        'select status, amount_minor, reason, evidence_due_by, funds_withdrawn, funds_reinstated from payment_disputes where provider_dispute_id = ?',
        [`dp_perm${tag}`],
      );
      const [payment] = await sql('select status, disputed_minor from invoice_payments where provider_payment_id = ?', [
        pi,
      ]);
      return { dispute, payment, invoice: await invoiceRow(sql, invoice.id) };
    }

    it.each([
      ['won', { status: 'paid', paid_minor: '10000' }, 'won', '0'],
      ['lost', { status: 'sent', paid_minor: '0' }, 'lost', '10000'],
    ] as const)(
      '%s: every permutation, with duplicates',
      async (outcome, invoiceState, disputeStatus, disputed) => {
        const events = lifecycles[outcome];
        expect(events.map((event) => event.type)).toEqual([
          'charge.dispute.created',
          'charge.dispute.funds_withdrawn',
          'charge.dispute.updated',
          'charge.dispute.closed',
          ...(outcome === 'won' ? ['charge.dispute.funds_reinstated'] : []),
        ]);
        const orders = permutations(events.map((_, index) => index));
        const inOrder = await settleInOrder(outcome, orders[0], false);
        expect(inOrder.invoice).toEqual(invoiceState);
        expect(inOrder.dispute).toMatchObject({ status: disputeStatus, amount_minor: '10000', funds_withdrawn: true });
        expect(inOrder.payment).toEqual({ status: 'succeeded', disputed_minor: disputed });
        for (const [index, order] of orders.entries()) {
          const result = await settleInOrder(outcome, order, index % 2 === 1);
          expect({ order, ...result }).toEqual({ order, ...inOrder });
        }
      },
      120_000,
    );
  });
});
