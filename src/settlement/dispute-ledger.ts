import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { lockPaidPayment } from './paid-payment.js';
import { PaymentDispute, type Invoice } from '../entities/index.js';
import type { DisputeUpdate, Provider } from '../vocabulary/index.js';
import { mergeDispute, withdrawnMinor, type DisputeFacts } from './dispute-rules.js';

/** What applying one dispute update did (for the hooks, after the commit). */
export interface DisputeApplied {
  invoice: Invoice;
  dispute: PaymentDispute;
  /** The dispute was new to the ledger and is open: the merchant has something to do before `evidenceDueBy`. */
  opened: boolean;
}

/**
 * Dispute objects are authoritative for each dispute (keyed by provider dispute id) and merged forward-only
 * (`mergeDispute`): the status never goes back and withdrawn / reinstated funds, once known, stay known. So duplicated
 * and reordered events end in the same row as in order. The payment's `disputed_minor` is kept in step, like
 * `refunded_minor`; the caller recomputes the invoice.
 */
export class DisputeLedger {
  async apply(
    tx: EntityManager,
    provider: Provider,
    workspaceId: string,
    eventId: string,
    update: DisputeUpdate,
    lockInvoice: (invoiceId: string) => Promise<Invoice>,
  ): Promise<DisputeApplied> {
    const { invoice, payment } = await lockPaidPayment(
      tx,
      'dispute',
      { provider, workspaceId, providerPaymentId: update.providerPaymentId, currency: update.currency },
      lockInvoice,
    );
    const disputes = await tx.find(
      PaymentDispute,
      { paymentId: payment.id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    let row = disputes.find((candidate) => candidate.providerDisputeId === update.providerDisputeId);
    const opened = !row && isOpen(update);
    if (!row) {
      const facts = mergeDispute(null, update);
      row = tx.create(PaymentDispute, {
        id: randomUUID(),
        workspaceId: payment.workspaceId,
        paymentId: payment.id,
        invoiceId: payment.invoiceId,
        provider: payment.provider,
        providerDisputeId: update.providerDisputeId,
        currency: update.currency,
        eventId,
        ...facts,
      });
      tx.persist(row);
      disputes.push(row);
    } else {
      Object.assign(row, mergeDispute(factsOf(row), update), { eventId });
    }
    payment.disputedMinor = disputes.reduce((sum, dispute) => sum + withdrawnMinor(dispute), 0);
    payment.eventId = eventId;
    return { invoice, dispute: row, opened };
  }
}

const isOpen = (facts: Pick<DisputeFacts, 'status'>) =>
  facts.status === 'needs_response' || facts.status === 'under_review';

const factsOf = (row: PaymentDispute): DisputeFacts => ({
  amountMinor: row.amountMinor,
  status: row.status,
  reason: row.reason ?? null,
  evidenceDueBy: row.evidenceDueBy ?? null,
  fundsWithdrawn: row.fundsWithdrawn,
  fundsReinstated: row.fundsReinstated,
});
