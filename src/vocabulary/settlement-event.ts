/**
 * The neutral vocabulary every provider's events are mapped onto (Medusa-style): settlement only ever sees these.
 */

/** A provider payment (Stripe Checkout Session, Mollie payment) changed state. */
export interface PaymentUpdate {
  kind: 'payment';
  /** `cs_…` / `tr_…`: the ledger row's provider reference. */
  reference: string;
  /** Stripe payment intent (`pi_…`), needed for refunds; null when not known yet. */
  providerPaymentId: string | null;
  outcome: 'pending' | 'succeeded' | 'failed' | 'cancelled';
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
  /** The refunded payment, by its provider payment id (`pi_…` / `tr_…`). */
  providerPaymentId: string;
  amountMinor: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  reason: string | null;
  /** Our own refund row id, when the refund was requested through this service (sent as provider metadata). */
  localRefundId: string | null;
}

/** A charge's cumulative refunded amount (Stripe `charge.refunded`): only the part known refunds don't explain counts. */
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

/** What travels through JetStream: the verified provider event plus where it belongs. */
export interface EventEnvelope {
  provider: string;
  workspaceId: string;
  receivedAt: string;
  /** The provider's event exactly as verified (Stripe: the event JSON; Mollie: `{ id }`). */
  event: unknown;
}

/** An event that cannot be applied as it stands (unknown invoice, wrong workspace, currency mismatch, bad payload). */
export class SettlementError extends Error {}
