import type { DisputeState, PaymentOutcome, RefundState } from './statuses.js';

/**
 * The neutral updates every provider's events are mapped onto (Medusa-style): settlement only ever sees these.
 */

/** A provider payment (a hosted checkout) changed state. */
export interface PaymentUpdate {
  kind: 'payment';
  /** The hosted checkout's id at the provider: the ledger row's provider reference. */
  reference: string;
  /** The provider's id of the payment behind the checkout (refunds name it); null when not known yet. */
  providerPaymentId: string | null;
  outcome: PaymentOutcome;
  amountMinor: number;
  currency: string;
  /** From provider metadata; must belong to the workspace the event arrived for. */
  invoiceId: string | null;
  metadataWorkspaceId: string | null;
  occurredAt: Date;
}

/** A refund object (authoritative for its own amount and state). */
export interface RefundUpdate {
  kind: 'refund';
  providerRefundId: string;
  /** The refunded payment, by its provider payment id. */
  providerPaymentId: string;
  amountMinor: number;
  currency: string;
  status: RefundState;
  reason: string | null;
  /** Our own refund row id, when the refund was requested through this service (sent as provider metadata). */
  localRefundId: string | null;
}

/** A payment's cumulative refunded amount: only the part known refunds don't explain counts. */
export interface ChargeRefundedUpdate {
  kind: 'charge_refunded';
  providerPaymentId: string;
  amountRefundedMinor: number;
  currency: string;
  /** Refund objects embedded in the charge, when present. */
  refunds: RefundUpdate[];
}

/**
 * A dispute (a chargeback) on a payment, as the provider reports it now. Settlement merges it forward-only: the status
 * never goes back, and `fundsWithdrawn` / `fundsReinstated` once true stay true, so any order of events ends the same.
 */
export interface DisputeUpdate {
  kind: 'dispute';
  /** The provider's dispute or chargeback id (one ledger row each). */
  providerDisputeId: string;
  /** The disputed payment, by its provider payment id. */
  providerPaymentId: string;
  amountMinor: number;
  currency: string;
  status: DisputeState;
  /** The provider's reason code or text (`fraudulent`, `product_not_received`, …); null when not given. */
  reason: string | null;
  /** Until when evidence can be submitted; null when the provider takes none. */
  evidenceDueBy: Date | null;
  /** The disputed amount was taken from the merchant's balance. */
  fundsWithdrawn: boolean;
  /** Withdrawn funds were given back (the dispute was won, the chargeback reversed). */
  fundsReinstated: boolean;
}

export type SettlementUpdate = PaymentUpdate | RefundUpdate | ChargeRefundedUpdate | DisputeUpdate;

/**
 * Why a verified event was acknowledged without settling anything (recorded on its inbox row, counted by reason):
 * a type the service does not act on, a payment the account does not know, or an event that names no invoice of the
 * workspace it arrived for (a provider account shared by several workspaces delivers every event to each of them).
 */
export type IgnoreReason =
  | 'not_handled'
  | 'unknown_payment'
  | 'no_invoice'
  | 'other_workspace'
  | 'invoice_of_other_workspace'
  | 'payment_of_other_workspace';

/** One provider event, interpreted. No updates means the event is acknowledged and ignored. */
export interface InterpretedEvent {
  eventId: string;
  type: string;
  updates: SettlementUpdate[];
  /** Why there are no updates (defaults to `not_handled`). */
  ignoredReason?: IgnoreReason;
}

/** An event that cannot be applied as it stands (unknown invoice, wrong workspace, currency mismatch, bad payload). */
export class SettlementError extends Error {}
