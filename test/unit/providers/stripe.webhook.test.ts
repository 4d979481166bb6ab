import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { MoneyError } from '../../../src/money/money.js';
import { WebhookRejectedError } from '../../../src/providers/payment-provider.js';
import { interpretStripeEvent, verifyStripeWebhook } from '../../../src/providers/stripe/stripe.webhook.js';
import type { DisputeUpdate, RefundUpdate } from '../../../src/vocabulary/settlement-event.js';

type Json = Record<string, unknown>;

const CREATED = 1_800_000_000;
const event = (type: string, object: unknown, extra: Json = {}): Json => ({
  id: 'evt_1',
  object: 'event',
  type,
  created: CREATED,
  livemode: false,
  data: { object },
  ...extra,
});
const session = (overrides: Json = {}): Json => ({
  id: 'cs_test_1',
  object: 'checkout.session',
  amount_total: 12_500,
  currency: 'eur',
  payment_intent: 'pi_1',
  payment_status: 'paid',
  client_reference_id: null,
  metadata: { invoice_id: 'inv-1', workspace_id: 'ws-1' },
  ...overrides,
});
const refund = (overrides: Json = {}): Json => ({
  id: 're_1',
  object: 'refund',
  payment_intent: 'pi_1',
  amount: 3000,
  currency: 'eur',
  status: 'succeeded',
  reason: 'requested_by_customer',
  metadata: { workestra_refund_id: 'local-1' },
  ...overrides,
});
const charge = (overrides: Json = {}): Json => ({
  id: 'ch_1',
  object: 'charge',
  payment_intent: 'pi_1',
  amount_refunded: 5000,
  currency: 'eur',
  ...overrides,
});
const refundUpdate = (overrides: Partial<RefundUpdate> = {}): RefundUpdate => ({
  kind: 'refund',
  providerRefundId: 're_1',
  providerPaymentId: 'pi_1',
  amountMinor: 3000,
  currency: 'EUR',
  status: 'succeeded',
  reason: 'requested_by_customer',
  localRefundId: 'local-1',
  ...overrides,
});

describe('interpretStripeEvent: checkout sessions', () => {
  it.each([
    ['checkout.session.completed', 'paid', 'succeeded'],
    ['checkout.session.completed', 'unpaid', 'pending'],
    ['checkout.session.completed', 'no_payment_required', 'succeeded'],
    ['checkout.session.async_payment_succeeded', 'paid', 'succeeded'],
    ['checkout.session.async_payment_failed', 'unpaid', 'failed'],
    ['checkout.session.expired', 'unpaid', 'cancelled'],
  ])('%s with payment_status %s → %s', (type, paymentStatus, outcome) => {
    expect(interpretStripeEvent(event(type, session({ payment_status: paymentStatus })))).toEqual({
      eventId: 'evt_1',
      type,
      updates: [
        {
          kind: 'payment',
          reference: 'cs_test_1',
          providerPaymentId: 'pi_1',
          outcome,
          amountMinor: 12_500,
          currency: 'EUR',
          invoiceId: 'inv-1',
          metadataWorkspaceId: 'ws-1',
          occurredAt: new Date(CREATED * 1000),
        },
      ],
    });
  });

  it.each([
    ['an expanded payment intent', { payment_intent: { id: 'pi_expanded' } }, { providerPaymentId: 'pi_expanded' }],
    ['no payment intent yet', { payment_intent: null }, { providerPaymentId: null }],
    ['an empty payment intent', { payment_intent: '' }, { providerPaymentId: null }],
    [
      'the invoice only in client_reference_id',
      { metadata: { workspace_id: 'ws-1' }, client_reference_id: 'inv-2' },
      { invoiceId: 'inv-2', metadataWorkspaceId: 'ws-1' },
    ],
    [
      'metadata before client_reference_id',
      { client_reference_id: 'inv-2' },
      { invoiceId: 'inv-1', metadataWorkspaceId: 'ws-1' },
    ],
    ['no metadata at all', { metadata: null }, { invoiceId: null, metadataWorkspaceId: null }],
    ['metadata that is not an object', { metadata: 'inv-1' }, { invoiceId: null, metadataWorkspaceId: null }],
  ])('reads %s', (_name, overrides, expected) => {
    const [update] = interpretStripeEvent(event('checkout.session.completed', session(overrides))).updates;
    expect(update).toMatchObject(expected);
  });

  it.each([
    ['EUR (two decimals)', 'eur', 12_500, 12_500],
    ['JPY (zero decimals)', 'jpy', 5000, 5000],
    ['KWD (three decimals)', 'kwd', 5120, 5120],
    ['ISK (sent ×100)', 'isk', 50_000, 500],
    ['UGX (sent ×100)', 'ugx', 120_000, 1200],
  ])('converts %s amounts to ISO minor units', (_name, currency, stripeAmount, minor) => {
    const [update] = interpretStripeEvent(
      event('checkout.session.completed', session({ currency, amount_total: stripeAmount })),
    ).updates;
    expect(update).toMatchObject({ amountMinor: minor, currency: currency.toUpperCase() });
  });

  it('refuses an ISK amount that is not a whole krona', () => {
    expect(() =>
      interpretStripeEvent(event('checkout.session.completed', session({ currency: 'isk', amount_total: 50_050 }))),
    ).toThrow(MoneyError);
  });

  it('takes the time of an event without `created` as now', () => {
    const before = Date.now();
    const [update] = interpretStripeEvent(event('checkout.session.completed', session(), { created: undefined }))
      .updates as Array<{ occurredAt: Date }>;
    expect(update.occurredAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(update.occurredAt.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it.each([
    ['no id', { id: undefined }],
    ['an empty id', { id: '' }],
    ['no currency', { currency: undefined }],
    ['no amount_total', { amount_total: null }],
    ['a string amount_total', { amount_total: '12500' }],
  ])('rejects a session with %s', (_name, overrides) => {
    expect(() => interpretStripeEvent(event('checkout.session.expired', session(overrides)))).toThrow(
      'checkout.session.expired without id, currency or amount_total',
    );
  });
});

describe('interpretStripeEvent: refunds', () => {
  it.each([
    ['refund.created', 'pending', 'pending'],
    ['refund.created', 'requires_action', 'pending'],
    ['refund.created', 'succeeded', 'succeeded'],
    ['refund.updated', 'succeeded', 'succeeded'],
    ['refund.updated', 'failed', 'failed'],
    ['refund.updated', 'canceled', 'cancelled'],
    ['refund.updated', 'something_new', 'pending'],
    ['refund.failed', 'succeeded', 'failed'],
    ['refund.failed', 'failed', 'failed'],
  ])('%s with status %s → %s', (type, status, expected) => {
    expect(interpretStripeEvent(event(type, refund({ status })))).toEqual({
      eventId: 'evt_1',
      type,
      updates: [refundUpdate({ status: expected as RefundUpdate['status'] })],
    });
  });

  it.each([
    ['an expanded payment intent', { payment_intent: { id: 'pi_9' } }, { providerPaymentId: 'pi_9' }],
    ['no reason and no metadata', { reason: null, metadata: null }, { reason: null, localRefundId: null }],
    ['ISK amounts (×100)', { currency: 'isk', amount: 30_000 }, { amountMinor: 300, currency: 'ISK' }],
    ['JPY amounts', { currency: 'jpy', amount: 700 }, { amountMinor: 700, currency: 'JPY' }],
    ['KWD amounts', { currency: 'kwd', amount: 1250 }, { amountMinor: 1250, currency: 'KWD' }],
  ])('reads %s', (_name, overrides, expected) => {
    expect(interpretStripeEvent(event('refund.updated', refund(overrides))).updates).toEqual([
      refundUpdate(expected as Partial<RefundUpdate>),
    ]);
  });

  it.each([
    ['no id', { id: undefined }],
    ['no payment intent', { payment_intent: null }],
    ['no currency', { currency: undefined }],
    ['no amount', { amount: undefined }],
  ])('rejects a refund with %s', (_name, overrides) => {
    expect(() => interpretStripeEvent(event('refund.created', refund(overrides)))).toThrow(
      'refund.created without id, payment intent, currency or amount',
    );
  });
});

describe('interpretStripeEvent: charge.refunded', () => {
  it('carries the cumulative amount with no refunds when none are embedded', () => {
    expect(interpretStripeEvent(event('charge.refunded', charge()))).toEqual({
      eventId: 'evt_1',
      type: 'charge.refunded',
      updates: [
        { kind: 'charge_refunded', providerPaymentId: 'pi_1', amountRefundedMinor: 5000, currency: 'EUR', refunds: [] },
      ],
    });
  });

  it('maps the embedded refunds, skipping entries that are not complete refund objects', () => {
    const embedded = {
      object: 'list',
      data: [
        refund(),
        refund({ id: 're_2', amount: 2000, status: 'pending', reason: null, metadata: {} }),
        refund({ id: undefined }),
        'not an object',
        null,
      ],
    };
    const [update] = interpretStripeEvent(event('charge.refunded', charge({ refunds: embedded }))).updates;
    expect(update).toEqual({
      kind: 'charge_refunded',
      providerPaymentId: 'pi_1',
      amountRefundedMinor: 5000,
      currency: 'EUR',
      refunds: [
        refundUpdate(),
        refundUpdate({
          providerRefundId: 're_2',
          amountMinor: 2000,
          status: 'pending',
          reason: null,
          localRefundId: null,
        }),
      ],
    });
  });

  it.each([
    ['refunds that are not a list', { refunds: { data: 'nope' } }],
    ['refunds null', { refunds: null }],
  ])('treats %s as no embedded refunds', (_name, overrides) => {
    const [update] = interpretStripeEvent(event('charge.refunded', charge(overrides))).updates;
    expect(update).toMatchObject({ refunds: [] });
  });

  it.each([
    ['UGX (×100)', 'ugx', 250_000, 2500],
    ['JPY', 'jpy', 900, 900],
    ['KWD', 'kwd', 3330, 3330],
  ])('converts %s amount_refunded', (_name, currency, stripeAmount, minor) => {
    const [update] = interpretStripeEvent(
      event('charge.refunded', charge({ currency, amount_refunded: stripeAmount, payment_intent: { id: 'pi_2' } })),
    ).updates;
    expect(update).toMatchObject({
      providerPaymentId: 'pi_2',
      amountRefundedMinor: minor,
      currency: currency.toUpperCase(),
    });
  });

  it.each([
    ['no payment intent', { payment_intent: null }],
    ['no currency', { currency: '' }],
    ['no amount_refunded', { amount_refunded: undefined }],
  ])('rejects a charge with %s', (_name, overrides) => {
    expect(() => interpretStripeEvent(event('charge.refunded', charge(overrides)))).toThrow(
      'charge.refunded without payment intent, currency or amount_refunded',
    );
  });
});

describe('interpretStripeEvent: everything else', () => {
  it.each([
    'customer.created',
    'payment_intent.succeeded',
    'charge.succeeded',
    'charge.refund.updated',
    'checkout.session.async_payment_pending',
    'v1.billing.meter.no_meter_found',
  ])('%s gives no updates', (type) => {
    expect(interpretStripeEvent(event(type, { id: 'obj_1' }))).toEqual({ eventId: 'evt_1', type, updates: [] });
  });

  it.each([
    ['null', null],
    ['a string', 'evt_1'],
    ['an array', [event('checkout.session.completed', session())]],
    ['no data', { id: 'evt_1', type: 'checkout.session.completed' }],
    ['data without object', event('checkout.session.completed', undefined)],
    ['data.object null', event('checkout.session.completed', null)],
    ['data.object an array', event('charge.refunded', [charge()])],
  ])('rejects %s as not a Stripe event', (_name, value) => {
    expect(() => interpretStripeEvent(value)).toThrow('not a Stripe event');
  });
});

describe('verifyStripeWebhook (bodies signed by the stripe SDK)', () => {
  const secret = 'whsec_unit_test_secret';
  const signer = new Stripe('sk_test_x').webhooks;
  const sign = (payload: string, key = secret, timestamp?: number) =>
    signer.generateTestHeaderString({ payload, secret: key, timestamp });
  const valid = JSON.stringify(event('checkout.session.completed', session()));
  const verify = (
    payload: string,
    header: string | string[] | undefined = sign(payload),
    key: string | null = secret,
  ) => verifyStripeWebhook(Buffer.from(payload), { 'stripe-signature': header }, key);
  const rejection = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookRejectedError);
      return (error as Error).message;
    }
    throw new Error('expected a WebhookRejectedError');
  };

  it('returns the event id, type and livemode with the raw body', () => {
    const body = Buffer.from(valid);
    expect(verifyStripeWebhook(body, { 'stripe-signature': sign(valid) }, secret)).toEqual({
      eventId: 'evt_1',
      type: 'checkout.session.completed',
      livemode: false,
      body,
    });
  });

  it('reads livemode true', () => {
    const live = JSON.stringify(event('refund.created', refund(), { livemode: true }));
    expect(verify(live).livemode).toBe(true);
  });

  it('accepts a signature header sent twice (joined)', () => {
    const [t, v1] = sign(valid).split(',');
    expect(verify(valid, [t, `v1=${'0'.repeat(64)}`, v1]).eventId).toBe('evt_1');
  });

  const signed = (mutate: (event: Json) => unknown) =>
    JSON.stringify(mutate(event('checkout.session.completed', session())));
  it.each([
    ['no webhook secret', () => verify(valid, sign(valid), null), 'no webhook secret configured'],
    ['an empty webhook secret', () => verify(valid, sign(valid), ''), 'no webhook secret configured'],
    ['no signature header', () => verifyStripeWebhook(Buffer.from(valid), {}, secret), 'missing signature'],
    ['another secret', () => verify(valid, sign(valid, 'whsec_other')), 'signature mismatch'],
    ['a signature of another body', () => verify(valid, sign('{}')), 'signature mismatch'],
    [
      'a stale timestamp',
      () => verify(valid, sign(valid, secret, Math.floor(Date.now() / 1000) - 301)),
      'timestamp outside tolerance',
    ],
    ['an unsigned body that is not even JSON', () => verify('not json', 'garbage'), 'malformed signature'],
    ['a signed body that is not JSON', () => verify('{"id":'), 'body is not JSON'],
    ['signed JSON that is an array', () => verify('[]'), 'body is not a Stripe event'],
    ['object "charge"', () => verify(signed((e) => ({ ...e, object: 'charge' }))), 'body is not a Stripe event'],
    ['no id', () => verify(signed(({ id: _id, ...e }) => e)), 'body is not a Stripe event'],
    ['a numeric id', () => verify(signed((e) => ({ ...e, id: 42 }))), 'body is not a Stripe event'],
    ['an empty type', () => verify(signed((e) => ({ ...e, type: '' }))), 'body is not a Stripe event'],
    ['livemode "false"', () => verify(signed((e) => ({ ...e, livemode: 'false' }))), 'body is not a Stripe event'],
    ['no livemode', () => verify(signed(({ livemode: _l, ...e }) => e)), 'body is not a Stripe event'],
    ['data.object null', () => verify(signed((e) => ({ ...e, data: { object: null } }))), 'body is not a Stripe event'],
    ['data an array', () => verify(signed((e) => ({ ...e, data: [e.data] }))), 'body is not a Stripe event'],
    ['an id with a dot', () => verify(signed((e) => ({ ...e, id: 'evt_1.x' }))), 'malformed event id'],
    ['an id of 256 characters', () => verify(signed((e) => ({ ...e, id: 'e'.repeat(256) }))), 'malformed event id'],
    [
      'a type with a line break',
      () => verify(signed((e) => ({ ...e, type: 'charge\nrefunded' }))),
      'malformed event type',
    ],
    ['a type with a space', () => verify(signed((e) => ({ ...e, type: 'charge refunded' }))), 'malformed event type'],
    [
      'a type of 256 characters',
      () => verify(signed((e) => ({ ...e, type: 't'.repeat(256) }))),
      'malformed event type',
    ],
  ])('rejects %s', (_name, run, message) => {
    expect(rejection(run)).toBe(message);
  });

  it('accepts an id of 255 characters and a dotted type', () => {
    const body = signed((e) => ({ ...e, id: 'e'.repeat(255), type: 'v1.billing.meter.no_meter_found' }));
    expect(verify(body)).toMatchObject({ eventId: 'e'.repeat(255), type: 'v1.billing.meter.no_meter_found' });
  });
});

describe('interpretStripeEvent: disputes', () => {
  const DUE_BY = 1_800_900_000;
  const dispute = (overrides: Json = {}): Json => ({
    id: 'dp_1',
    object: 'dispute',
    amount: 4000,
    balance_transactions: [],
    charge: 'ch_1',
    currency: 'eur',
    evidence_details: { due_by: DUE_BY, has_evidence: false, past_due: false, submission_count: 0 },
    payment_intent: 'pi_1',
    reason: 'fraudulent',
    status: 'needs_response',
    ...overrides,
  });
  const withdrawal = { id: 'txn_w', object: 'balance_transaction', amount: -4000, reporting_category: 'dispute' };
  const reinstatement = {
    id: 'txn_r',
    object: 'balance_transaction',
    amount: 4000,
    reporting_category: 'dispute_reversal',
  };
  const expected = (overrides: Partial<DisputeUpdate> = {}): DisputeUpdate => ({
    kind: 'dispute',
    providerDisputeId: 'dp_1',
    providerPaymentId: 'pi_1',
    amountMinor: 4000,
    currency: 'EUR',
    status: 'needs_response',
    reason: 'fraudulent',
    evidenceDueBy: new Date(DUE_BY * 1000),
    fundsWithdrawn: false,
    fundsReinstated: false,
    ...overrides,
  });

  it.each([
    ['charge.dispute.created', {}, {}],
    ['charge.dispute.created', { status: 'warning_needs_response' }, {}],
    ['charge.dispute.updated', { status: 'under_review' }, { status: 'under_review' }],
    ['charge.dispute.updated', { status: 'warning_under_review' }, { status: 'under_review' }],
    ['charge.dispute.funds_withdrawn', {}, { fundsWithdrawn: true }],
    [
      'charge.dispute.updated',
      { status: 'under_review', balance_transactions: [withdrawal] },
      { status: 'under_review', fundsWithdrawn: true },
    ],
    [
      'charge.dispute.funds_reinstated',
      { status: 'won', balance_transactions: [withdrawal] },
      { status: 'won', fundsWithdrawn: true, fundsReinstated: true },
    ],
    [
      'charge.dispute.closed',
      { status: 'won', balance_transactions: [withdrawal, reinstatement] },
      { status: 'won', fundsWithdrawn: true, fundsReinstated: true },
    ],
    [
      'charge.dispute.closed',
      { status: 'lost', balance_transactions: [withdrawal] },
      { status: 'lost', fundsWithdrawn: true },
    ],
    ['charge.dispute.closed', { status: 'warning_closed' }, { status: 'won' }],
    ['charge.dispute.closed', { status: 'charge_refunded' }, { status: 'lost' }],
    ['charge.dispute.updated', { evidence_details: { due_by: 0 } }, { evidenceDueBy: null }],
    ['charge.dispute.updated', { reason: null, payment_intent: { id: 'pi_1' } }, { reason: null }],
    ['charge.dispute.created', { currency: 'jpy', amount: 500 }, { currency: 'JPY', amountMinor: 500 }],
  ] as const)('%s %j', (type, overrides, want) => {
    expect(interpretStripeEvent(event(type, dispute(overrides)))).toEqual({
      eventId: 'evt_1',
      type,
      updates: [expected(want as Partial<DisputeUpdate>)],
    });
  });

  it.each([
    ['no payment intent', { payment_intent: null }, 'without id, payment intent, currency or amount'],
    ['no amount', { amount: null }, 'without id, payment intent, currency or amount'],
    ['an unknown status', { status: 'being_decided' }, 'unknown status "being_decided"'],
  ])('refuses a dispute with %s', (_name, overrides, message) => {
    expect(() => interpretStripeEvent(event('charge.dispute.updated', dispute(overrides)))).toThrow(message);
  });
});
