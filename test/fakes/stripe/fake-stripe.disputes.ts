/**
 * Disputes against the fake's charges, in Stripe's wire format (`resources.dispute` of stripe/openapi fixtures3.json):
 * the cardholder's bank opens one, Stripe withdraws the funds, the merchant submits evidence, the bank decides. Each
 * step emits the `charge.dispute.*` event Stripe sends, with a snapshot of the dispute.
 */
import type { FakeStripeState } from './fake-stripe.state';
import type { FakeBalanceTransaction, FakeDispute } from './fake-stripe.types';
import { newId, nowSeconds } from './fake-stripe.util';

/** Stripe's dispute fee (EUR/USD 15.00), as the balance transactions show it. */
const DISPUTE_FEE = 1500;
/** Evidence is due about three weeks after a dispute opens. */
const EVIDENCE_WINDOW_S = 21 * 24 * 3600;

const EVIDENCE_FIELDS = (
  'access_activity_log billing_address cancellation_policy cancellation_policy_disclosure cancellation_rebuttal ' +
  'customer_communication customer_email_address customer_name customer_purchase_ip customer_signature ' +
  'duplicate_charge_documentation duplicate_charge_explanation duplicate_charge_id product_description receipt ' +
  'refund_policy refund_policy_disclosure refund_refusal_explanation service_date service_documentation ' +
  'shipping_address shipping_carrier shipping_date shipping_documentation shipping_tracking_number ' +
  'uncategorized_file uncategorized_text'
).split(' ');

export interface DisputeOptions {
  /** Defaults to the whole charge. */
  amount?: number;
  reason?: string;
}

function disputeOf(state: FakeStripeState, id: string): FakeDispute {
  const dispute = state.disputes.get(id);
  if (!dispute) throw new Error(`fake-stripe: no dispute ${id}`);
  return dispute;
}

function movement(dispute: FakeDispute, amount: number, reinstated: boolean): FakeBalanceTransaction {
  const fee = reinstated ? -DISPUTE_FEE : DISPUTE_FEE;
  return {
    id: newId('txn'),
    object: 'balance_transaction',
    amount,
    available_on: nowSeconds(),
    created: nowSeconds(),
    currency: dispute.currency,
    description: reinstated
      ? `Chargeback reversal for ${dispute.charge}`
      : `Chargeback withdrawal for ${dispute.charge}`,
    exchange_rate: null,
    fee: reinstated ? 0 : fee,
    fee_details: reinstated
      ? []
      : [
          {
            amount: fee,
            application: null,
            currency: dispute.currency,
            description: 'Dispute fee',
            type: 'stripe_fee',
          },
        ],
    net: reinstated ? amount : amount - fee,
    reporting_category: reinstated ? 'dispute_reversal' : 'dispute',
    source: dispute.id,
    status: 'available',
    type: 'adjustment',
  };
}

/** The bank opens a dispute on a paid payment intent's charge. Emits charge.dispute.created. */
export function createDispute(
  state: FakeStripeState,
  paymentIntentId: string,
  options: DisputeOptions = {},
): FakeDispute {
  const pi = state.paymentIntents.get(paymentIntentId);
  if (!pi) throw new Error(`fake-stripe: no payment intent ${paymentIntentId}`);
  const chargeId = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge?.id;
  const charge = chargeId ? state.charges.get(chargeId) : undefined;
  if (!charge || charge.status !== 'succeeded')
    throw new Error(`fake-stripe: payment intent ${paymentIntentId} has no succeeded charge to dispute`);
  const amount = options.amount ?? charge.amount_captured;
  if (!Number.isInteger(amount) || amount <= 0 || amount > charge.amount_captured)
    throw new Error(`fake-stripe: cannot dispute ${amount} of charge ${charge.id}`);
  const owner = state.ownerOf(charge.id);
  const created = nowSeconds();
  const dispute: FakeDispute = {
    id: newId('dp'),
    object: 'dispute',
    amount,
    balance_transactions: [],
    charge: charge.id,
    created,
    currency: charge.currency,
    evidence: Object.fromEntries(EVIDENCE_FIELDS.map((field) => [field, null])),
    evidence_details: {
      due_by: created + EVIDENCE_WINDOW_S,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    is_charge_refundable: false,
    livemode: owner.livemode,
    metadata: {},
    payment_intent: paymentIntentId,
    reason: options.reason ?? 'fraudulent',
    status: 'needs_response',
  };
  charge.disputed = true;
  state.disputes.set(dispute.id, dispute);
  state.owners.set(dispute.id, owner);
  state.emit('charge.dispute.created', dispute, owner, null);
  return dispute;
}

/** Stripe takes the disputed amount (and its fee) from the balance. Emits charge.dispute.funds_withdrawn. */
export function withdrawDisputeFunds(state: FakeStripeState, id: string): FakeDispute {
  const dispute = disputeOf(state, id);
  if (dispute.balance_transactions.length > 0) throw new Error(`fake-stripe: dispute ${id} funds already withdrawn`);
  dispute.balance_transactions.push(movement(dispute, -dispute.amount, false));
  state.emit('charge.dispute.funds_withdrawn', dispute, state.ownerOf(id), null);
  return dispute;
}

/** The merchant submits evidence: under review. Emits charge.dispute.updated. */
export function submitDisputeEvidence(state: FakeStripeState, id: string, text = 'Delivered as ordered'): FakeDispute {
  const dispute = disputeOf(state, id);
  if (dispute.status !== 'needs_response') throw new Error(`fake-stripe: dispute ${id} is ${dispute.status}`);
  dispute.evidence.uncategorized_text = text;
  dispute.evidence_details.has_evidence = true;
  dispute.evidence_details.submission_count += 1;
  dispute.status = 'under_review';
  state.emit('charge.dispute.updated', dispute, state.ownerOf(id), null, {
    status: 'needs_response',
    evidence: { uncategorized_text: null },
  });
  return dispute;
}

/**
 * The bank decides. Emits charge.dispute.closed; a won dispute whose funds were withdrawn then gets them back:
 * charge.dispute.funds_reinstated.
 */
export function closeDispute(state: FakeStripeState, id: string, outcome: 'won' | 'lost'): FakeDispute {
  const dispute = disputeOf(state, id);
  if (dispute.status === 'won' || dispute.status === 'lost') throw new Error(`fake-stripe: dispute ${id} is closed`);
  const owner = state.ownerOf(id);
  dispute.status = outcome;
  const withdrawn = dispute.balance_transactions.length > 0;
  state.emit('charge.dispute.closed', dispute, owner, null);
  if (outcome === 'won' && withdrawn) {
    dispute.balance_transactions.push(movement(dispute, dispute.amount, true));
    state.emit('charge.dispute.funds_reinstated', dispute, owner, null);
  }
  return dispute;
}
