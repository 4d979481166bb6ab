import type { LedgerPayment } from '../db/ledger.repository.js';
import { UUID } from '../uuid.js';
import {
  SettlementError,
  type IgnoreReason,
  type InterpretedEvent,
  type PaymentUpdate,
  type Provider,
} from '../vocabulary/index.js';

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

/** An event that names no invoice of the workspace it arrived for: acknowledged, recorded as ignored, never settled. */
export interface Foreign {
  ignored: IgnoreReason;
}

/**
 * Checks that need no database: a payment must name an invoice (a uuid) and no other workspace. Anything else was not
 * created for this workspace (a provider account shared by several workspaces delivers every event to each).
 */
export function checkPaymentTarget({ workspaceId, update }: PaymentItem): Foreign | null {
  if (!update.invoiceId || !UUID.test(update.invoiceId)) return { ignored: 'no_invoice' };
  if (update.metadataWorkspaceId && update.metadataWorkspaceId !== workspaceId) return { ignored: 'other_workspace' };
  return null;
}

/** Amounts are safe integers ≥ 0 in minor units; anything else is a malformed event (retried, then dead-lettered). */
export function checkAmount({ update }: PaymentItem): SettlementError | null {
  if (Number.isSafeInteger(update.amountMinor) && update.amountMinor >= 0) return null;
  return new SettlementError(
    `payment ${update.reference} has amount ${String(update.amountMinor)}, not a whole number of minor units between 0 and 2^53`,
  );
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
