import type { PaymentOutcome, RefundState } from './statuses.js';

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

export type SettlementUpdate = PaymentUpdate | RefundUpdate | ChargeRefundedUpdate;

/** One provider event, interpreted. No updates means the event type is acknowledged and ignored. */
export interface InterpretedEvent {
  eventId: string;
  type: string;
  updates: SettlementUpdate[];
}

/** An event that cannot be applied as it stands (unknown invoice, wrong workspace, currency mismatch, bad payload). */
export class SettlementError extends Error {}
