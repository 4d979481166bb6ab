import type { LedgerPayment } from '../db/ledger.repository.js';
import { UUID } from '../uuid.js';
import { SettlementError, type InterpretedEvent, type PaymentUpdate, type Provider } from '../vocabulary/index.js';

/** `applied`: changed the ledger; `duplicate`: this event was applied before; `ignored`: nothing to act on. */
export type SettleOutcome = 'applied' | 'duplicate' | 'ignored';

/** One payment event on the batched hot path. */
export interface PaymentItem {
  provider: Provider;
  workspaceId: string;
  eventId: string;
  type: string;
  update: PaymentUpdate;
  streamSequence: number | null;
}

/** The event's only update when it is a single payment update (the batched hot path), else null. */
export function singlePayment(event: InterpretedEvent): PaymentUpdate | null {
  return event.updates.length === 1 && event.updates[0].kind === 'payment' ? event.updates[0] : null;
}

/** Checks that need no database: a payment must name an invoice (a uuid) of the workspace it arrived for. */
export function checkPaymentTarget({ workspaceId, update }: PaymentItem): SettlementError | null {
  if (!update.invoiceId)
    return new SettlementError(`payment ${update.reference} names no invoice (metadata.invoice_id)`);
  if (update.metadataWorkspaceId && update.metadataWorkspaceId !== workspaceId) {
    return new SettlementError(
      `payment ${update.reference} names workspace ${update.metadataWorkspaceId}, but arrived for workspace ${workspaceId}: not settled`,
    );
  }
  if (!UUID.test(update.invoiceId))
    return new SettlementError(`invoice id "${update.invoiceId.slice(0, 64)}" is not a uuid`);
  return null;
}

/**
 * Checks against the locked invoice: it exists in the workspace (it may not have reached this database yet: retried
 * with backoff, then dead-lettered) and is in the payment's currency.
 */
export function checkInvoice(
  { workspaceId, update }: PaymentItem,
  invoiceId: string,
  invoiceCurrency: string | null,
): SettlementError | null {
  if (invoiceCurrency === null)
    return new SettlementError(`invoice ${invoiceId} does not exist in workspace ${workspaceId}`);
  if (invoiceCurrency.trim().toUpperCase() !== update.currency) {
    return new SettlementError(
      `payment ${update.reference} is in ${update.currency} but invoice ${invoiceId} is in ${invoiceCurrency}`,
    );
  }
  return null;
}

/** The ledger upsert found the reference recorded for another invoice. */
export const anotherInvoice = ({ update }: PaymentItem, invoiceId: string) =>
  new SettlementError(`payment ${update.reference} is recorded for another invoice, not ${invoiceId}`);

/** The item as the ledger records it. */
export function toLedgerPayment(item: PaymentItem): LedgerPayment {
  const { update } = item;
  return {
    workspaceId: item.workspaceId,
    invoiceId: update.invoiceId!.toLowerCase(),
    provider: item.provider,
    reference: update.reference,
    providerPaymentId: update.providerPaymentId,
    eventId: item.eventId,
    outcome: update.outcome,
    amountMinor: update.amountMinor,
    currency: update.currency,
    paidAt: update.outcome === 'succeeded' ? update.occurredAt : null,
  };
}
