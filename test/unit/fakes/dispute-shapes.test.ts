import { describe, expect, it } from 'vitest';
import {
  closeDispute,
  createDispute,
  submitDisputeEvidence,
  withdrawDisputeFunds,
} from '../../fakes/stripe/fake-stripe.disputes.js';
import { FakeStripeState } from '../../fakes/stripe/fake-stripe.state.js';
import type { FakeCharge, FakeEvent, FakePaymentIntent } from '../../fakes/stripe/fake-stripe.types.js';
import { FakeMollieState } from '../../fakes/mollie/fake-mollie.state.js';

/**
 * The fakes' dispute objects against the providers' own shapes: Stripe's `resources.dispute` in stripe/openapi
 * `openapi/fixtures3.json` (keys and value types listed here), Mollie's chargeback resource (docs.mollie.com, "Get
 * chargeback": resource, id, amount, settlementAmount, reason, paymentId, createdAt, reversedAt, _links).
 */
const typeOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

const STRIPE_DISPUTE = {
  amount: 'number',
  balance_transactions: 'array',
  charge: 'string',
  created: 'number',
  currency: 'string',
  evidence: 'object',
  evidence_details: 'object',
  id: 'string',
  is_charge_refundable: 'boolean',
  livemode: 'boolean',
  metadata: 'object',
  object: 'string',
  payment_intent: 'string', // null in the fixture (a charge without an intent); ours always come from Checkout
  reason: 'string',
  status: 'string',
};
const STRIPE_EVIDENCE_DETAILS = {
  due_by: 'number',
  has_evidence: 'boolean',
  past_due: 'boolean',
  submission_count: 'number',
};
const STRIPE_EVIDENCE_FIELDS = 27;

function stripeState() {
  const events: FakeEvent[] = [];
  const state = new FakeStripeState('http://fake', (type, object) => {
    const event = { id: `evt_${events.length}`, type, data: { object: structuredClone(object) } } as FakeEvent;
    events.push(event);
    return event;
  });
  const owner = { account: 'acct_1', livemode: false } as const;
  state.charges.set('ch_1', { id: 'ch_1', status: 'succeeded', amount_captured: 5000, currency: 'eur' } as FakeCharge);
  state.paymentIntents.set('pi_1', { id: 'pi_1', latest_charge: 'ch_1' } as FakePaymentIntent);
  state.owners.set('ch_1', owner as never);
  return { state, events };
}

describe('fake Stripe disputes have Stripe’s shape', () => {
  it('every event carries a dispute with the fixture’s keys and value types, in the real lifecycle', () => {
    const { state, events } = stripeState();
    const dispute = createDispute(state, 'pi_1', { amount: 4000 });
    withdrawDisputeFunds(state, dispute.id);
    submitDisputeEvidence(state, dispute.id);
    closeDispute(state, dispute.id, 'won');
    expect(events.map((event) => event.type)).toEqual([
      'charge.dispute.created',
      'charge.dispute.funds_withdrawn',
      'charge.dispute.updated',
      'charge.dispute.closed',
      'charge.dispute.funds_reinstated',
    ]);
    for (const event of events) {
      const object = event.data.object as Record<string, unknown>;
      expect(Object.fromEntries(Object.entries(object).map(([key, value]) => [key, typeOf(value)]))).toEqual(
        STRIPE_DISPUTE,
      );
      const details = object.evidence_details as Record<string, unknown>;
      expect(Object.fromEntries(Object.entries(details).map(([key, value]) => [key, typeOf(value)]))).toEqual(
        STRIPE_EVIDENCE_DETAILS,
      );
      expect(Object.keys(object.evidence as object)).toHaveLength(STRIPE_EVIDENCE_FIELDS);
      expect(object).toMatchObject({ object: 'dispute', id: expect.stringMatching(/^dp_/), payment_intent: 'pi_1' });
    }
    const [created, withdrawn, updated, closed, reinstated] = events.map(
      (event) => event.data.object as typeof dispute,
    );
    expect([created, withdrawn, updated, closed, reinstated].map((d) => d.status)).toEqual([
      'needs_response',
      'needs_response',
      'under_review',
      'won',
      'won',
    ]);
    expect(withdrawn.balance_transactions.map((txn) => [txn.amount, txn.reporting_category])).toEqual([
      [-4000, 'dispute'],
    ]);
    expect(reinstated.balance_transactions.map((txn) => [txn.amount, txn.reporting_category])).toEqual([
      [-4000, 'dispute'],
      [4000, 'dispute_reversal'],
    ]);
  });
});

describe('fake Mollie chargebacks have Mollie’s shape', () => {
  it('a chargeback, then its reversal', () => {
    const state = new FakeMollieState('http://fake', () => undefined);
    const payment = state.createPayment(
      {
        amount: { currency: 'EUR', value: '50.00' },
        description: 'x',
        redirectUrl: 'https://example.com',
        cancelUrl: null,
        webhookUrl: null,
        metadata: null,
        methods: [],
      } as never,
      { apiKey: 'test_x', mode: 'test' } as never,
    );
    state.setStatus(payment.id, 'paid');
    const chargeback = state.addChargeback(payment.id, { currency: 'EUR', value: '20.00' });
    expect(Object.fromEntries(Object.entries(chargeback).map(([key, value]) => [key, typeOf(value)]))).toEqual({
      resource: 'string',
      id: 'string',
      amount: 'object',
      settlementAmount: 'object',
      createdAt: 'string',
      reason: 'object',
      reversedAt: 'null',
      paymentId: 'string',
      _links: 'object',
    });
    expect(chargeback).toMatchObject({
      id: expect.stringMatching(/^chb_/),
      settlementAmount: { currency: 'EUR', value: '-20.00' },
      reason: { code: expect.any(String), description: expect.any(String) },
    });
    expect(state.payment(payment.id, null).amountChargedBack).toEqual({ currency: 'EUR', value: '20.00' });
    state.reverseChargeback(payment.id, chargeback.id);
    expect(chargeback.reversedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(state.payment(payment.id, null).amountChargedBack).toBeUndefined();
  });
});
