/**
 * Refunds against the fake's charges: Stripe's limits and errors, the charge's cumulative
 * `amount_refunded`, and the `refund.*` / `charge.refunded` events.
 */
import type { ParsedRefund } from './fake-stripe.params';
import type { RequestRef } from './fake-stripe.state';
import { FakeStripeState } from './fake-stripe.state';
import type { FakeCharge, FakeRefund, Owner, RefundStatus } from './fake-stripe.types';
import { formatAmount, invalidParam, newId, nowSeconds, stripeError } from './fake-stripe.util';

function refundableCharge(state: FakeStripeState, input: ParsedRefund, owner: Owner | null): FakeCharge {
  let charge: FakeCharge | undefined;
  if (input.paymentIntent !== undefined) {
    const pi = owner
      ? state.visible(state.paymentIntents, 'payment_intent', input.paymentIntent, owner, 'payment_intent')
      : state.paymentIntents.get(input.paymentIntent);
    if (!pi) throw new Error(`fake-stripe: no payment intent ${input.paymentIntent}`);
    const chargeId = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge?.id;
    charge = chargeId ? state.charges.get(chargeId) : undefined;
    if (!charge || charge.status !== 'succeeded') {
      throw stripeError(400, {
        code: 'charge_not_refundable',
        message: `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
        param: 'payment_intent',
        type: 'invalid_request_error',
      });
    }
  }
  if (input.charge !== undefined) {
    const byId = owner
      ? state.visible(state.charges, 'charge', input.charge, owner, 'charge')
      : state.charges.get(input.charge);
    if (!byId) throw new Error(`fake-stripe: no charge ${input.charge}`);
    if (charge && charge.id !== byId.id) {
      throw invalidParam(`The charge ${byId.id} does not belong to payment intent ${input.paymentIntent}.`, 'charge');
    }
    charge = byId;
  }
  if (!charge) throw new Error('fake-stripe: refund needs a payment intent or a charge');
  if (charge.status !== 'succeeded') {
    throw stripeError(400, {
      code: 'charge_not_refundable',
      message: `Charge ${charge.id} has not succeeded and cannot be refunded.`,
      param: 'charge',
      type: 'invalid_request_error',
    });
  }
  return charge;
}

function updateChargeRefunds(charge: FakeCharge, state: FakeStripeState): void {
  const refunds = [...state.refunds.values()]
    .filter((refund) => refund.charge === charge.id)
    .sort((a, b) => b.created - a.created);
  charge.refunds.data = refunds.map((refund) => ({ ...refund }));
  charge.amount_refunded = refunds
    .filter((refund) => refund.status === 'succeeded' || refund.status === 'pending')
    .reduce((sum, refund) => sum + refund.amount, 0);
  charge.refunded = charge.amount_refunded >= charge.amount_captured;
}

/**
 * Creates a refund. `owner` is the API caller (null for a dashboard refund, which skips visibility
 * checks). Emits `refund.created`, then `charge.refunded` (or `refund.failed` for a failed one).
 */
export function createRefund(
  state: FakeStripeState,
  input: ParsedRefund,
  owner: Owner | null,
  request: RequestRef | null,
): FakeRefund {
  const charge = refundableCharge(state, input, owner);
  const remaining = charge.amount_captured - charge.amount_refunded;
  if (remaining <= 0) {
    throw stripeError(400, {
      code: 'charge_already_refunded',
      message: `Charge ${charge.id} has already been refunded.`,
      type: 'invalid_request_error',
    });
  }
  const amount = input.amount ?? remaining;
  if (amount > remaining) {
    throw stripeError(400, {
      code: 'amount_too_large',
      message:
        `Refund amount (${formatAmount(amount, charge.currency)}) is greater than unrefunded amount on charge ` +
        `(${formatAmount(remaining, charge.currency)})`,
      param: 'amount',
      type: 'invalid_request_error',
    });
  }
  const status: RefundStatus = state.nextRefundStatus ?? 'succeeded';
  state.nextRefundStatus = null;
  const refund: FakeRefund = {
    id: newId('re'),
    object: 'refund',
    amount,
    balance_transaction: status === 'succeeded' ? newId('txn') : null,
    charge: charge.id,
    created: nowSeconds(),
    currency: charge.currency,
    ...(status === 'failed' ? { failure_reason: 'unknown' } : {}),
    metadata: input.metadata,
    payment_intent: charge.payment_intent,
    reason: input.reason,
    receipt_number: null,
    status,
  };
  const chargeOwner = state.ownerOf(charge.id);
  state.refunds.set(refund.id, refund);
  state.owners.set(refund.id, chargeOwner);
  updateChargeRefunds(charge, state);
  state.emit('refund.created', refund, chargeOwner, request);
  if (status === 'failed') state.emit('refund.failed', refund, chargeOwner, request);
  else state.emit('charge.refunded', chargeAsInEvents(charge), chargeOwner, request);
  return refund;
}

/**
 * A Charge as events render it: since API version 2022-11-15 `refunds` is only returned when expanded, and event
 * payloads are never expanded, so `charge.refunded` carries the cumulative `amount_refunded` without the refunds.
 */
function chargeAsInEvents(charge: FakeCharge): Omit<FakeCharge, 'refunds'> {
  const { refunds: _notExpanded, ...rendered } = charge;
  return rendered;
}

/**
 * Moves a pending refund to its final status, as Stripe does later for some payment methods.
 * Emits `refund.updated` (and `refund.failed` when it failed), then `charge.refund.updated`.
 */
export function settleRefund(
  state: FakeStripeState,
  refundId: string,
  status: 'succeeded' | 'failed' | 'canceled',
): FakeRefund {
  const refund = state.refunds.get(refundId);
  if (!refund) throw new Error(`fake-stripe: no refund ${refundId}`);
  if (refund.status !== 'pending') throw new Error(`fake-stripe: refund ${refundId} is ${refund.status}, not pending`);
  const charge = state.charges.get(refund.charge);
  if (!charge) throw new Error(`fake-stripe: refund ${refundId} has no charge`);
  const owner = state.ownerOf(refund.id);
  refund.status = status;
  if (status === 'succeeded') refund.balance_transaction = newId('txn');
  if (status === 'failed') refund.failure_reason = 'unknown';
  updateChargeRefunds(charge, state);
  state.emit('refund.updated', refund, owner, null, { status: 'pending' });
  if (status === 'failed') state.emit('refund.failed', refund, owner, null);
  state.emit('charge.refund.updated', refund, owner, null);
  return refund;
}
