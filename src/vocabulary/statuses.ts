/**
 * The statuses of the ledger, shared by entities, provider adapters, settlement and the GraphQL mapping. Values are
 * stored as they are (lower case) in their tables.
 */

/** A ledger payment's status; transitions are forward-only (see settlement). */
export const LedgerStatus = {
  PENDING: 'pending',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  REFUNDED: 'refunded',
  PARTIALLY_REFUNDED: 'partially_refunded',
  CANCELLED: 'cancelled',
} as const;
export type LedgerStatus = (typeof LedgerStatus)[keyof typeof LedgerStatus];

/** What a provider says a payment did; the ledger derives REFUNDED and PARTIALLY_REFUNDED from refunds itself. */
export type PaymentOutcome = Exclude<LedgerStatus, 'refunded' | 'partially_refunded'>;

/** Ledger statuses whose amount counts as paid (refunds are subtracted separately). */
export const PAID_STATUSES: readonly LedgerStatus[] = [
  LedgerStatus.SUCCEEDED,
  LedgerStatus.PARTIALLY_REFUNDED,
  LedgerStatus.REFUNDED,
];

/** A refund's status. */
export const RefundState = {
  PENDING: 'pending',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const;
export type RefundState = (typeof RefundState)[keyof typeof RefundState];

/**
 * A dispute's (or chargeback's) state. Forward-only: NEEDS_RESPONSE → UNDER_REVIEW → LOST → WON (a lost chargeback
 * can still be reversed, i.e. won; a won dispute is never lost again). Whether funds were withdrawn or reinstated is
 * tracked apart from the status: those are facts that only move forward too.
 */
export const DisputeState = {
  NEEDS_RESPONSE: 'needs_response',
  UNDER_REVIEW: 'under_review',
  WON: 'won',
  LOST: 'lost',
} as const;
export type DisputeState = (typeof DisputeState)[keyof typeof DisputeState];

/** The order disputes move in: a state never goes back to one of a lower rank. */
export const DISPUTE_STATE_RANK: Record<DisputeState, number> = {
  needs_response: 0,
  under_review: 1,
  lost: 2,
  won: 3,
};

/** Disputes still waiting for the merchant or the bank: the payment cannot be refunded meanwhile. */
export const OPEN_DISPUTE_STATES: readonly DisputeState[] = [DisputeState.NEEDS_RESPONSE, DisputeState.UNDER_REVIEW];

/**
 * The provider refund id of the stand-in row for refunds known only by a payment's cumulative refunded total (the
 * real refund objects take its amount over as they arrive).
 */
export const refundStandInId = (providerPaymentId: string) => `unattributed:${providerPaymentId}`;
export const isRefundStandIn = (providerRefundId: string | null | undefined) =>
  providerRefundId?.startsWith('unattributed:') ?? false;

/** Invoice lifecycle states, owned by the Invoices service; payments only move sent/overdue/partial/paid. */
export const InvoiceStatus = {
  DRAFT: 'draft',
  SENT: 'sent',
  OVERDUE: 'overdue',
  PARTIAL: 'partial',
  PAID: 'paid',
  VOID: 'void',
} as const;
export type InvoiceStatus = (typeof InvoiceStatus)[keyof typeof InvoiceStatus];

/** Invoice states a customer can pay in. */
export const PAYABLE_STATUSES: ReadonlySet<InvoiceStatus> = new Set([
  InvoiceStatus.SENT,
  InvoiceStatus.OVERDUE,
  InvoiceStatus.PARTIAL,
]);

/** What became of one provider event in the settlement inbox. */
export const InboxStatus = {
  APPLIED: 'applied',
  IGNORED: 'ignored',
  FAILED: 'failed',
} as const;
export type InboxStatus = (typeof InboxStatus)[keyof typeof InboxStatus];

/** A hosted checkout's state at the provider. */
export type CheckoutState = 'open' | 'complete' | 'expired';
