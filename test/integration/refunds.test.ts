import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { testEnv } from '../helpers/env.js';
import { runOpsCli } from '../helpers/ops.js';
import { openCheckout, paidInvoice } from '../helpers/paid-invoice.js';
import { invoiceRow, sqlOn, untilInvoice } from '../helpers/db.js';
import { insertInvoice } from '../helpers/fixtures.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { eventually } from '../helpers/wait.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';

const REFUND = `mutation ($input: RefundPaymentInput!) {
  refundPayment(input: $input) { id providerRefundId status reason amount { amountMinor currency amount } }
}`;
const PAYMENT =
  'query ($id: ID!) { payment(id: $id) { status refunded { amountMinor } refunds { providerRefundId status amount { amountMinor } } } }';

interface RefundResult {
  id: string;
  providerRefundId: string | null;
  status: string;
  reason: string | null;
  amount: { amountMinor: number };
}

describe('refunds and reconciliation', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let owner: TestCaller;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({
      RECONCILE_PENDING_AFTER_MS: '0',
      RECONCILE_INTERVAL_MS: '3600000',
    }));
    stripe.autoDeliver = { baseUrl: service.url };
    owner = newCaller(['owner']);
    await connectStripe(service, owner, { keys: testKeys('test', false) });
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const sql = sqlOn(() => service.orm);
  const refund = async (input: Record<string, unknown>, caller: TestCaller = owner) =>
    service.gql<{ refundPayment: RefundResult }>(REFUND, { input }, await tokenFor(caller));
  const paymentOf = async (id: string) =>
    (
      await service.gql<{
        payment: {
          status: string;
          refunded: { amountMinor: number };
          refunds: Array<{ providerRefundId: string; status: string; amount: { amountMinor: number } }>;
        };
      }>(PAYMENT, { id }, await tokenFor(owner))
    ).data!.payment;
  const refundPosts = () =>
    stripe.requests.filter((request) => request.method === 'POST' && request.path === '/v1/refunds');
  const key = () => `key-${Math.random().toString(36).slice(2)}`;

  it('a full refund makes the payment REFUNDED and sends the invoice back to sent (or overdue)', async () => {
    const { invoice, paymentId } = await paidInvoice(service, stripe, owner);
    const result = await refund({ paymentId, idempotencyKey: key(), reason: 'requested_by_customer' });
    expect(result.errors).toBeUndefined();
    expect(result.data!.refundPayment).toMatchObject({
      status: 'SUCCEEDED',
      amount: { amountMinor: 10_000 },
      reason: 'requested_by_customer',
      providerRefundId: expect.stringMatching(/^re_/),
    });
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'sent', paid_minor: '0' });
    expect(await paymentOf(paymentId)).toMatchObject({ status: 'REFUNDED', refunded: { amountMinor: 10_000 } });
    const [create] = refundPosts().slice(-1);
    expect(create.body).toMatchObject({
      amount: '10000',
      reason: 'requested_by_customer',
      metadata: { workestra_refund_id: result.data!.refundPayment.id },
    });
    expect(create.idempotencyKey).toContain(owner.workspaceId);

    const late = await paidInvoice(service, stripe, owner, { dueDate: '2020-01-01' });
    await refund({ paymentId: late.paymentId, idempotencyKey: key() });
    expect((await invoiceRow(sql, late.invoice.id)).status).toBe('overdue');
  });

  it('partial refunds make it PARTIALLY_REFUNDED and partial, and two summing to the total make it REFUNDED', async () => {
    const { invoice, paymentId } = await paidInvoice(service, stripe, owner);
    expect((await refund({ paymentId, amountMinor: 3_000, idempotencyKey: key() })).data!.refundPayment.status).toBe(
      'SUCCEEDED',
    );
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'partial', paid_minor: '7000' });
    expect((await paymentOf(paymentId)).status).toBe('PARTIALLY_REFUNDED');
    await refund({ paymentId, amountMinor: 7_000, idempotencyKey: key() });
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'sent', paid_minor: '0' });
    expect((await paymentOf(paymentId)).status).toBe('REFUNDED');
  });

  it('returns the same refund for the same idempotency key, and CONFLICT for other parameters', async () => {
    const { invoice, paymentId } = await paidInvoice(service, stripe, owner);
    const idempotencyKey = key();
    const before = refundPosts().length;
    const first = await refund({ paymentId, amountMinor: 2_500, idempotencyKey });
    const second = await refund({ paymentId, amountMinor: 2_500, idempotencyKey });
    expect(second.data!.refundPayment.id).toBe(first.data!.refundPayment.id);
    expect(refundPosts().length - before).toBe(1);
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'partial', paid_minor: '7500' });
    const conflict = await refund({ paymentId, amountMinor: 1_000, idempotencyKey });
    expect(conflict.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    // Concurrent twins with a fresh key: one refund.
    const twinKey = key();
    const twins = await Promise.all([
      refund({ paymentId, amountMinor: 500, idempotencyKey: twinKey }),
      refund({ paymentId, amountMinor: 500, idempotencyKey: twinKey }),
    ]);
    expect(twins[0].data!.refundPayment.id).toBe(twins[1].data!.refundPayment.id);
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'partial', paid_minor: '7000' });
  });

  it('rejects over-refunds, non-refundable payments and the wrong roles with clear codes', async () => {
    const { paymentId } = await paidInvoice(service, stripe, owner);
    const over = await refund({ paymentId, amountMinor: 10_001, idempotencyKey: key() });
    expect(over.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringContaining('10000 (100.00 EUR)'),
    });
    expect((await refund({ paymentId, amountMinor: 0, idempotencyKey: key() })).errors?.[0]?.extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    expect(
      (await refund({ paymentId, idempotencyKey: key() }, newCaller(['viewer'], owner.workspaceId))).errors?.[0]
        ?.extensions?.code,
    ).toBe('FORBIDDEN');
    expect(
      (await refund({ paymentId, amountMinor: 100, idempotencyKey: key() }, newCaller(['finance'], owner.workspaceId)))
        .errors,
    ).toBeUndefined();
    expect(
      (await refund({ paymentId, idempotencyKey: key() }, newCaller(['owner']))).errors?.[0]?.extensions?.code,
    ).toBe('NOT_FOUND');
    const pending = await insertInvoice(service.orm, { workspaceId: owner.workspaceId });
    await openCheckout(service, owner, pending);
    const [row] = await sql<{ id: string }>('select id from invoice_payments where invoice_id = ?', [pending.id]);
    const notPaid = await refund({ paymentId: row.id, idempotencyKey: key() });
    expect(notPaid.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringContaining('PENDING'),
    });
  });

  it('counts a refund once whatever its webhooks do (duplicated, reordered)', async () => {
    const { invoice, paymentId, paymentIntent } = await paidInvoice(service, stripe, owner);
    await refund({ paymentId, amountMinor: 4_000, idempotencyKey: key() });
    await stripe.flushDeliveries();
    const events = stripe.events.filter(
      (event) =>
        ['refund.created', 'charge.refunded'].includes(event.type) &&
        JSON.stringify(event.data.object).includes(paymentIntent),
    );
    expect(events.map((event) => event.type).sort()).toEqual(['charge.refunded', 'refund.created']);
    for (const event of [...events].reverse().concat(events)) await stripe.redeliver(event, service.url);
    await stripe.flushDeliveries();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'partial', paid_minor: '6000' });
    expect((await paymentOf(paymentId)).refunds.filter((row) => row.status === 'SUCCEEDED')).toHaveLength(1);
  });

  it('counts each refund once when charge.refunded arrives before the refund objects, and with stale cumulative totals', async () => {
    const { invoice, paymentIntent } = await paidInvoice(service, stripe, owner);
    const endpoint = [...stripe.webhookEndpoints.values()].find((candidate) =>
      candidate.url.includes(owner.workspaceDomain),
    )!;
    const send = (type: string, object: Record<string, unknown>) =>
      stripe.deliverEvent(stripe.buildEvent(type, object), {
        targetUrl: `${service.url}/api/finance/payments/stripe/webhook`,
        host: owner.workspaceDomain,
        secret: endpoint.secret!,
      });
    const charge = (cumulative: number) => ({
      id: 'ch_test_reorder',
      object: 'charge',
      payment_intent: paymentIntent,
      currency: 'eur',
      amount: 10_000,
      amount_refunded: cumulative,
      refunded: false,
      refunds: { object: 'list', data: [] },
    });
    const refundObject = (id: string, amount: number) => ({
      id,
      object: 'refund',
      payment_intent: paymentIntent,
      charge: 'ch_test_reorder',
      currency: 'eur',
      amount,
      status: 'succeeded',
      metadata: {},
    });
    const settledTo = (paid: string) => untilInvoice(sql, invoice.id, { paid_minor: paid });

    expect((await send('charge.refunded', charge(1_500))).status).toBe(200);
    await settledTo('8500');
    await send('refund.created', refundObject('re_test_reorder_a', 1_500));
    await send('refund.created', refundObject('re_test_reorder_b', 1_000));
    await settledTo('7500');
    await send('charge.refunded', charge(2_500));
    await send('charge.refunded', charge(1_500)); // a stale, out-of-order cumulative total
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'partial', paid_minor: '7500' });
  });

  it('records a refund made only in the Stripe dashboard and recomputes the invoice', async () => {
    const { invoice, paymentId, paymentIntent } = await paidInvoice(service, stripe, owner);
    const dashboard = await stripe.refundOutsideApi(paymentIntent, 2_000);
    await stripe.flushDeliveries();
    await untilInvoice(sql, invoice.id, { paid_minor: '8000' });
    expect((await invoiceRow(sql, invoice.id)).status).toBe('partial');
    expect((await paymentOf(paymentId)).refunds).toEqual([
      expect.objectContaining({ providerRefundId: dashboard.id, status: 'SUCCEEDED', amount: { amountMinor: 2_000 } }),
    ]);
  });

  it('a refund that fails later restores the balance', async () => {
    const { invoice, paymentId } = await paidInvoice(service, stripe, owner);
    stripe.nextRefundStatus = 'pending';
    const pending = (await refund({ paymentId, amountMinor: 5_000, idempotencyKey: key() })).data!.refundPayment;
    expect(pending.status).toBe('PENDING');
    // A pending refund reserves its amount but does not change the invoice yet.
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '10000' });
    const blocked = await refund({ paymentId, amountMinor: 6_000, idempotencyKey: key() });
    expect(blocked.errors?.[0]?.message).toContain('5000 (50.00 EUR)');
    await stripe.settleRefund(pending.providerRefundId!, 'failed');
    await stripe.flushDeliveries();
    await eventually(async () => (await paymentOf(paymentId)).refunds[0]?.status === 'FAILED');
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '10000' });
    expect((await refund({ paymentId, idempotencyKey: key() })).data!.refundPayment.amount.amountMinor).toBe(10_000);
  });

  it('leaves nothing behind when Stripe is unreachable, and audits every request without secrets', async () => {
    const { paymentId } = await paidInvoice(service, stripe, owner);
    stripe.setOutage(true, { shouldRetry: false });
    let down;
    try {
      down = await refund({ paymentId, amountMinor: 100, idempotencyKey: 'outage-key' });
    } finally {
      stripe.setOutage(false);
    }
    expect(down.errors?.[0]?.extensions?.code).toBe('PROVIDER_ERROR');
    expect(await sql('select id from payment_refunds where payment_id = ?', [paymentId])).toEqual([]);
    const retried = await refund({ paymentId, amountMinor: 100, idempotencyKey: 'outage-key' });
    expect(retried.data!.refundPayment.status).toBe('SUCCEEDED');
    const audit = await sql<{ details: Record<string, unknown>; actor_id: string }>(
      "select details, actor_id from audit_log where workspace_id = ? and action = 'payments.refund.requested' and details->>'paymentId' = ?",
      [owner.workspaceId, paymentId],
    );
    expect(audit.map((row) => row.details)).toEqual([
      expect.objectContaining({ amountMinor: 100, idempotencyKey: 'outage-key' }),
      expect.objectContaining({ amountMinor: 100, idempotencyKey: 'outage-key' }),
    ]);
    expect(JSON.stringify(audit)).not.toMatch(/sk_test_|whsec_/);
  });

  it('the reconciler settles a payment whose webhook never came and cancels an abandoned checkout', async () => {
    const quiet = newCaller(['owner']);
    await connectStripe(service, quiet); // a signing secret of its own: the fake has no endpoint to deliver to
    const paid = await insertInvoice(service.orm, { workspaceId: quiet.workspaceId, totalMinor: 4_200 });
    const paidSession = await openCheckout(service, quiet, paid);
    await stripe.completeSession(paidSession);
    const abandoned = await insertInvoice(service.orm, { workspaceId: quiet.workspaceId, totalMinor: 4_200 });
    const abandonedSession = await openCheckout(service, quiet, abandoned);
    await stripe.expireSession(abandonedSession);
    expect(await invoiceRow(sql, paid.id)).toEqual({ status: 'sent', paid_minor: '0' });

    const env = testEnv({
      NATS_SUBJECT_PREFIX: service.names.prefix,
      STRIPE_API_URL: stripe.url,
      RECONCILE_PENDING_AFTER_MS: '0',
    });
    const dry = await runOpsCli(env, ['reconcile', '--workspace', quiet.workspaceId, '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, checked: 2, settled: 1, cancelled: 1 });
    expect(await invoiceRow(sql, paid.id)).toEqual({ status: 'sent', paid_minor: '0' });
    const run = await runOpsCli(env, ['reconcile', '--workspace', quiet.workspaceId]);
    expect(run.stdout).toContain('settled 1, cancelled 1');
    expect(await invoiceRow(sql, paid.id)).toEqual({ status: 'paid', paid_minor: '4200' });
    const statuses = await sql<{ invoice_id: string; status: string }>(
      'select invoice_id, status from invoice_payments where workspace_id = ?',
      [quiet.workspaceId],
    );
    expect(new Map(statuses.map((row) => [row.invoice_id, row.status]))).toEqual(
      new Map([
        [paid.id, 'succeeded'],
        [abandoned.id, 'cancelled'],
      ]),
    );
    expect(
      JSON.parse((await runOpsCli(env, ['reconcile', '--workspace', quiet.workspaceId, '--json'])).stdout),
    ).toMatchObject({ checked: 0 });
  });
});
