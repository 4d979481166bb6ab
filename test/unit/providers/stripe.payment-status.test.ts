import { describe, expect, it } from 'vitest';
import { interpretStripeEvent } from '../../../src/providers/stripe/stripe.webhook.js';

const completed = (paymentStatus: unknown) => ({
  id: 'evt_1',
  object: 'event',
  type: 'checkout.session.completed',
  created: 1_790_000_000,
  livemode: false,
  data: {
    object: {
      id: 'cs_test_1',
      object: 'checkout.session',
      amount_total: 1000,
      currency: 'eur',
      payment_intent: 'pi_1',
      metadata: { invoice_id: 'inv', workspace_id: 'ws' },
      ...(paymentStatus === undefined ? {} : { payment_status: paymentStatus }),
    },
  },
});

describe('interpretStripeEvent: checkout.session.completed payment_status', () => {
  it.each([
    ['paid', 'succeeded'],
    ['no_payment_required', 'succeeded'],
    ['unpaid', 'pending'],
  ])('%s → %s', (status, outcome) => {
    expect(interpretStripeEvent(completed(status)).updates).toMatchObject([{ kind: 'payment', outcome }]);
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['unknown', 'partially_paid'],
    ['upper-case', 'PAID'],
    ['a number', 1],
    ['an object', { status: 'paid' }],
  ])('%s is refused as malformed (retried, then dead-lettered with this error)', (_name, status) => {
    expect(() => interpretStripeEvent(completed(status))).toThrow(
      /checkout\.session\.completed with an unknown payment_status .*\(expected paid, unpaid or no_payment_required\)/,
    );
  });
});
