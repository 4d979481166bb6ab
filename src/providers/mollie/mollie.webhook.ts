import { createHash } from 'node:crypto';
import { parseDecimalToMinor } from '../../money/money.js';
import type {
  DisputeUpdate,
  InterpretedEvent,
  PaymentUpdate,
  RefundUpdate,
  SettlementUpdate,
  RefundState,
} from '../../vocabulary/index.js';
import { readMetadata } from '../metadata.js';
import { WebhookRejectedError, type VerifiedWebhook } from '../payment-provider.js';
import { MollieApiError, type MollieChargeback, type MolliePayment, type MollieRefund } from './mollie.client.js';

const PAYMENT_ID = /^tr_[A-Za-z0-9]{4,64}$/;

/** Notifications of one payment within this window are one message (JetStream deduplicates on its id). */
export const COALESCE_WINDOW_MS = 1000;

/**
 * Mollie webhooks carry only `id=tr_…` and no signature: nothing in them is trusted. The id is carried to the worker,
 * which fetches the payment back from Mollie with the workspace's key. Notifications of one payment id in the same
 * second share a message id, so a flood is one message a second (at most one Mollie call per id per second); the
 * worker fetches only after that second has ended (`notBefore`), so every notification is followed by a fetch that
 * started after it arrived: a state change is never missed. A later notification is a new window, a new message.
 */
export function verifyMollieWebhook(rawBody: Buffer, now = Date.now()): VerifiedWebhook {
  const id = new URLSearchParams(rawBody.toString('utf8')).get('id');
  if (!id || !PAYMENT_ID.test(id)) throw new WebhookRejectedError('expected a form body id=tr_…');
  const window = Math.floor(now / COALESCE_WINDOW_MS);
  return {
    eventId: `${id}@${window}`,
    type: 'payment.notification',
    livemode: null,
    body: Buffer.from(JSON.stringify({ id, notBefore: (window + 1) * COALESCE_WINDOW_MS })),
  };
}

const OUTCOMES: Record<MolliePayment['status'], PaymentUpdate['outcome']> = {
  open: 'pending',
  pending: 'pending',
  authorized: 'pending',
  paid: 'succeeded',
  failed: 'failed',
  canceled: 'cancelled',
  expired: 'cancelled',
};

/** Mollie's refund statuses in our vocabulary; one not listed here (a new one) counts as still pending. */
const REFUND_STATES: Record<MollieRefund['status'], RefundState> = {
  queued: 'pending',
  pending: 'pending',
  processing: 'pending',
  refunded: 'succeeded',
  failed: 'failed',
  canceled: 'cancelled',
};

export const mollieRefundState = (status: string): RefundState =>
  REFUND_STATES[status as MollieRefund['status']] ?? 'pending';

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

export function refundUpdate(payment: Pick<MolliePayment, 'id'>, refund: MollieRefund): RefundUpdate {
  return {
    kind: 'refund',
    providerRefundId: refund.id,
    providerPaymentId: payment.id,
    amountMinor: parseDecimalToMinor(refund.amount.value, refund.amount.currency),
    currency: refund.amount.currency.toUpperCase(),
    status: mollieRefundState(refund.status),
    reason: str(refund.description),
    localRefundId: readMetadata(refund.metadata).localRefundId,
  };
}

/**
 * A chargeback is a dispute Mollie has already decided: the funds are withdrawn and it is LOST (there is no evidence
 * to submit through Mollie). A reversed one (`reversedAt`) gave the funds back: WON, reinstated.
 */
export function chargebackUpdate(payment: Pick<MolliePayment, 'id'>, chargeback: MollieChargeback): DisputeUpdate {
  const reversed = Boolean(chargeback.reversedAt);
  return {
    kind: 'dispute',
    providerDisputeId: chargeback.id,
    providerPaymentId: payment.id,
    amountMinor: parseDecimalToMinor(chargeback.amount.value, chargeback.amount.currency),
    currency: chargeback.amount.currency.toUpperCase(),
    status: reversed ? 'won' : 'lost',
    reason: str(chargeback.reason?.code) ?? str(chargeback.reason?.description),
    evidenceDueBy: null,
    fundsWithdrawn: true,
    fundsReinstated: reversed,
  };
}

/** The payment itself (its status and amount) as a neutral update. */
export function paymentUpdate(payment: MolliePayment): PaymentUpdate {
  const currency = payment.amount.currency.toUpperCase();
  const ours = readMetadata(payment.metadata);
  return {
    kind: 'payment',
    reference: payment.id,
    providerPaymentId: payment.id,
    outcome: OUTCOMES[payment.status] ?? 'pending',
    amountMinor: parseDecimalToMinor(payment.amount.value, currency),
    currency,
    invoiceId: ours.invoiceId,
    metadataWorkspaceId: ours.workspaceId,
    occurredAt: new Date(payment.paidAt ?? Date.now()),
  };
}

/**
 * The payment as Mollie reports it now, as neutral updates. The event id is a fingerprint of that state: the same
 * state notified twice is one event (a no-op the second time); any change (status, a refund's status) is a new one.
 */
export function interpretMolliePayment(payment: MolliePayment): InterpretedEvent {
  const updates: SettlementUpdate[] = [
    paymentUpdate(payment),
    ...(payment._embedded?.refunds ?? []).map((refund) => refundUpdate(payment, refund)),
    ...(payment._embedded?.chargebacks ?? []).map((chargeback) => chargebackUpdate(payment, chargeback)),
  ];
  const state = JSON.stringify([
    payment.status,
    (payment._embedded?.refunds ?? []).map((refund) => [refund.id, refund.status, refund.amount.value]),
    (payment._embedded?.chargebacks ?? []).map((chargeback) => [chargeback.id, chargeback.reversedAt ?? null]),
  ]);
  const fingerprint = createHash('sha256').update(state).digest('hex').slice(0, 16);
  return { eventId: `${payment.id}:${payment.status}:${fingerprint}`, type: `payment.${payment.status}`, updates };
}

/** An id the workspace's Mollie account does not know: acknowledged and ignored, never settled. */
export function unknownMolliePayment(id: string): InterpretedEvent {
  return { eventId: `${id}:unknown`, type: 'payment.unknown', updates: [], ignoredReason: 'unknown_payment' };
}

export const isNotFound = (error: unknown) => error instanceof MollieApiError && error.status === 404;
