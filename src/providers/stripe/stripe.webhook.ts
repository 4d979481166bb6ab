import type { IncomingHttpHeaders } from 'node:http';
import { fromStripeAmount } from './stripe.amount.js';
import type {
  DisputeState,
  DisputeUpdate,
  InterpretedEvent,
  PaymentUpdate,
  RefundUpdate,
  SettlementUpdate,
  RefundState,
} from '../../vocabulary/index.js';
import { readMetadata } from '../metadata.js';
import { WebhookRejectedError, type VerifiedWebhook } from '../payment-provider.js';
import { verifyStripeSignature } from './stripe.signature.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const idOf = (value: unknown): string | null => str(value) ?? (isObject(value) ? str(value.id) : null);

/** Signature first, then parse: nothing of an unsigned body is read. */
export function verifyStripeWebhook(
  rawBody: Buffer,
  headers: IncomingHttpHeaders,
  webhookSecret: string | null,
): VerifiedWebhook {
  if (!webhookSecret) throw new WebhookRejectedError('no webhook secret configured');
  const header = headers['stripe-signature'];
  const problem = verifyStripeSignature(rawBody, Array.isArray(header) ? header.join(',') : header, webhookSecret);
  if (problem) throw new WebhookRejectedError(problem);
  let event: unknown;
  try {
    event = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejectedError('body is not JSON');
  }
  if (
    !isObject(event) ||
    event.object !== 'event' ||
    !str(event.id) ||
    !str(event.type) ||
    typeof event.livemode !== 'boolean' ||
    !isObject(event.data) ||
    !isObject(event.data.object)
  ) {
    throw new WebhookRejectedError('body is not a Stripe event');
  }
  if (!/^[A-Za-z0-9_]{1,255}$/.test(event.id as string)) throw new WebhookRejectedError('malformed event id');
  // The type travels as a NATS header: a line break or a huge value would make the publish fail (a 5xx) for good.
  if (!/^[A-Za-z0-9_.]{1,255}$/.test(event.type as string)) throw new WebhookRejectedError('malformed event type');
  return {
    eventId: event.id as string,
    type: event.type as string,
    livemode: event.livemode as boolean,
    body: rawBody,
  };
}

const CHECKOUT_OUTCOMES: Record<string, PaymentUpdate['outcome'] | 'by_payment_status'> = {
  'checkout.session.completed': 'by_payment_status',
  'checkout.session.async_payment_succeeded': 'succeeded',
  'checkout.session.async_payment_failed': 'failed',
  'checkout.session.expired': 'cancelled',
};

/**
 * `checkout.session.completed`: `paid` and `no_payment_required` are paid, `unpaid` (an asynchronous method) is
 * pending. Anything else — missing, or a status Stripe adds later — is refused rather than guessed: the event is
 * retried and then dead-lettered with this message.
 */
export function completedOutcome(paymentStatus: unknown): PaymentUpdate['outcome'] {
  if (paymentStatus === 'paid' || paymentStatus === 'no_payment_required') return 'succeeded';
  if (paymentStatus === 'unpaid') return 'pending';
  const shown = typeof paymentStatus === 'string' ? JSON.stringify(paymentStatus.slice(0, 40)) : String(paymentStatus);
  throw new Error(
    `checkout.session.completed with an unknown payment_status ${shown} (expected paid, unpaid or no_payment_required)`,
  );
}

/** Stripe's refund statuses in our vocabulary; one not listed here (a new one) counts as still pending. */
const REFUND_STATES: Record<string, RefundState> = {
  pending: 'pending',
  requires_action: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'cancelled',
};

export const stripeRefundState = (status: string | null | undefined): RefundState =>
  REFUND_STATES[status ?? ''] ?? 'pending';

/** A Stripe refund object as a neutral update; null when it lacks what settlement needs. */
export function refundUpdate(refund: Json): RefundUpdate | null {
  const id = str(refund.id);
  const paymentIntent = idOf(refund.payment_intent);
  const currency = str(refund.currency)?.toUpperCase();
  if (!id || !paymentIntent || !currency || typeof refund.amount !== 'number') return null;
  return {
    kind: 'refund',
    providerRefundId: id,
    providerPaymentId: paymentIntent,
    amountMinor: fromStripeAmount(refund.amount, currency),
    currency,
    status: stripeRefundState(str(refund.status)),
    reason: str(refund.reason),
    localRefundId: readMetadata(refund.metadata).localRefundId,
  };
}

/** Dispute events (the object is the dispute; matched to the ledger through its payment intent). */
export const STRIPE_DISPUTE_EVENTS = [
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
] as const;

/**
 * Stripe's dispute statuses in our vocabulary. Inquiries (`warning_*`) never withdraw funds; one closed without a
 * chargeback (`warning_closed`) or `prevented` ended in the merchant's favour; `charge_refunded` ended with the money
 * returned to the cardholder. A status not listed here is refused rather than guessed (retried, then dead-lettered).
 */
const DISPUTE_STATES: Record<string, DisputeState> = {
  warning_needs_response: 'needs_response',
  needs_response: 'needs_response',
  warning_under_review: 'under_review',
  under_review: 'under_review',
  won: 'won',
  warning_closed: 'won',
  prevented: 'won',
  lost: 'lost',
  charge_refunded: 'lost',
};

function stripeDisputeState(status: unknown): DisputeState {
  const state = typeof status === 'string' ? DISPUTE_STATES[status] : undefined;
  if (state) return state;
  const shown = typeof status === 'string' ? JSON.stringify(status.slice(0, 40)) : String(status);
  throw new Error(`dispute with an unknown status ${shown}`);
}

/**
 * A dispute object as a neutral update. Withdrawn and reinstated funds are read from the event type and from the
 * dispute's own balance transactions (a withdrawal is negative, a reinstatement positive), so a later `updated` or
 * `closed` carries what an earlier event said even when that one arrives last.
 */
export function disputeUpdate(type: string, dispute: Json): DisputeUpdate {
  const id = str(dispute.id);
  const paymentIntent = idOf(dispute.payment_intent);
  const currency = str(dispute.currency)?.toUpperCase();
  if (!id || !paymentIntent || !currency || typeof dispute.amount !== 'number')
    throw new Error(`${type} without id, payment intent, currency or amount`);
  const movements = Array.isArray(dispute.balance_transactions)
    ? dispute.balance_transactions.filter(isObject).map((txn) => txn.amount)
    : [];
  const dueBy = isObject(dispute.evidence_details) ? dispute.evidence_details.due_by : null;
  return {
    kind: 'dispute',
    providerDisputeId: id,
    providerPaymentId: paymentIntent,
    amountMinor: fromStripeAmount(dispute.amount, currency),
    currency,
    status: stripeDisputeState(dispute.status),
    reason: str(dispute.reason),
    evidenceDueBy: typeof dueBy === 'number' && dueBy > 0 ? new Date(dueBy * 1000) : null,
    fundsWithdrawn:
      type === 'charge.dispute.funds_withdrawn' || movements.some((amount) => typeof amount === 'number' && amount < 0),
    fundsReinstated:
      type === 'charge.dispute.funds_reinstated' ||
      movements.some((amount) => typeof amount === 'number' && amount > 0),
  };
}

/** Maps a verified Stripe event onto neutral settlement updates (none: acknowledged and ignored). */
export function interpretStripeEvent(event: unknown): InterpretedEvent {
  if (!isObject(event) || !isObject(event.data) || !isObject(event.data.object)) throw new Error('not a Stripe event');
  const type = String(event.type);
  const object = event.data.object;
  const created = typeof event.created === 'number' ? new Date(event.created * 1000) : new Date();
  const updates: SettlementUpdate[] = [];
  const outcome = CHECKOUT_OUTCOMES[type];
  if (outcome) {
    const currency = str(object.currency)?.toUpperCase();
    const ours = readMetadata(object.metadata);
    if (!str(object.id) || !currency || typeof object.amount_total !== 'number')
      throw new Error(`${type} without id, currency or amount_total`);
    updates.push({
      kind: 'payment',
      reference: object.id as string,
      providerPaymentId: idOf(object.payment_intent),
      outcome: outcome === 'by_payment_status' ? completedOutcome(object.payment_status) : outcome,
      amountMinor: fromStripeAmount(object.amount_total, currency),
      currency,
      invoiceId: ours.invoiceId ?? str(object.client_reference_id),
      metadataWorkspaceId: ours.workspaceId,
      occurredAt: created,
    });
  } else if (type === 'refund.created' || type === 'refund.updated' || type === 'refund.failed') {
    const update = refundUpdate(object);
    if (!update) throw new Error(`${type} without id, payment intent, currency or amount`);
    updates.push(type === 'refund.failed' ? { ...update, status: 'failed' } : update);
  } else if (type === 'charge.refunded') {
    const paymentIntent = idOf(object.payment_intent);
    const currency = str(object.currency)?.toUpperCase();
    if (!paymentIntent || !currency || typeof object.amount_refunded !== 'number')
      throw new Error('charge.refunded without payment intent, currency or amount_refunded');
    const listed =
      isObject(object.refunds) && Array.isArray(object.refunds.data) ? object.refunds.data.filter(isObject) : [];
    updates.push({
      kind: 'charge_refunded',
      providerPaymentId: paymentIntent,
      amountRefundedMinor: fromStripeAmount(object.amount_refunded, currency),
      currency,
      refunds: listed.map(refundUpdate).filter((update): update is RefundUpdate => update !== null),
    });
  } else if ((STRIPE_DISPUTE_EVENTS as readonly string[]).includes(type)) {
    updates.push(disputeUpdate(type, object));
  }
  return { eventId: String(event.id), type, updates };
}
