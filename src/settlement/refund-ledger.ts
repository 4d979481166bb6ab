import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { InvoicePayment, PaymentRefund, RefundState, type Invoice, type Provider } from '../entities/index.js';
import { PAID_STATUSES, statusAfterRefunds } from './ledger-transitions.js';
import { SettlementError, type ChargeRefundedUpdate, type RefundUpdate } from './settlement-event.js';

const TERMINAL = new Set<RefundState>([RefundState.FAILED, RefundState.CANCELLED]);
const STATES: Record<RefundUpdate['status'], RefundState> = {
  pending: RefundState.PENDING,
  succeeded: RefundState.SUCCEEDED,
  failed: RefundState.FAILED,
  cancelled: RefundState.CANCELLED,
};

/** Refunds nobody has attributed yet (a charge's cumulative total that known refunds don't explain) live in one row. */
const unattributedId = (providerPaymentId: string) => `unattributed:${providerPaymentId}`;

/**
 * Refund objects are authoritative for each refund (keyed by refund id); a charge's cumulative `amount_refunded`
 * only adds what known refunds do not explain, and that placeholder shrinks as the real refunds become known. So a
 * refund counts once whichever of its events arrive, in whatever order, however often.
 */
export class RefundLedger {
  async apply(
    tx: EntityManager,
    provider: Provider,
    workspaceId: string,
    eventId: string,
    update: RefundUpdate | ChargeRefundedUpdate,
    lockInvoice: (invoiceId: string) => Promise<Invoice>,
  ): Promise<Invoice> {
    const found = await tx.findOne(InvoicePayment, { provider, providerPaymentId: update.providerPaymentId, workspaceId });
    // The payment's own event may still be on its way: retried, then dead-lettered.
    if (!found) throw new SettlementError(`refund event for ${update.providerPaymentId}, which is not in this workspace's ledger`);
    const invoice = await lockInvoice(found.invoiceId);
    const payment = await tx.findOneOrFail(InvoicePayment, { id: found.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (update.currency !== payment.currency.trim().toUpperCase()) {
      throw new SettlementError(`refund in ${update.currency} for payment ${payment.providerReference} in ${payment.currency}`);
    }
    const refunds = await tx.find(PaymentRefund, { paymentId: payment.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (update.kind === 'refund') this.applyRefund(tx, payment, refunds, update);
    else {
      for (const embedded of update.refunds) this.applyRefund(tx, payment, refunds, embedded);
      this.attribute(tx, payment, refunds, update.amountRefundedMinor);
    }
    payment.refundedMinor = refunds.filter((row) => row.status === RefundState.SUCCEEDED).reduce((sum, row) => sum + row.amountMinor, 0);
    if (PAID_STATUSES.includes(payment.status)) payment.status = statusAfterRefunds(payment.amountMinor, payment.refundedMinor);
    payment.eventId = eventId;
    return invoice;
  }

  private applyRefund(tx: EntityManager, payment: InvoicePayment, refunds: PaymentRefund[], update: RefundUpdate): void {
    let row =
      refunds.find((candidate) => candidate.providerRefundId === update.providerRefundId) ??
      // A refund requested through our API whose provider answer has not been recorded yet.
      refunds.find((candidate) => update.localRefundId !== null && candidate.id === update.localRefundId && !candidate.providerRefundId);
    const state = STATES[update.status];
    if (!row) {
      row = tx.create(PaymentRefund, {
        id: randomUUID(),
        workspaceId: payment.workspaceId,
        paymentId: payment.id,
        invoiceId: payment.invoiceId,
        provider: payment.provider,
        providerRefundId: update.providerRefundId,
        amountMinor: update.amountMinor,
        currency: update.currency,
        status: state,
        reason: update.reason,
      });
      tx.persist(row);
      refunds.push(row);
      this.absorb(refunds, payment, update.amountMinor, state);
      return;
    }
    row.providerRefundId = update.providerRefundId;
    row.amountMinor = update.amountMinor;
    // Failed and cancelled are final; a succeeded refund can still fail later (bank refunds), never the reverse.
    if (!TERMINAL.has(row.status) && !(row.status === RefundState.SUCCEEDED && state === RefundState.PENDING)) row.status = state;
  }

  /** A newly known refund takes its amount out of the unattributed placeholder, so it is never counted twice. */
  private absorb(refunds: PaymentRefund[], payment: InvoicePayment, amountMinor: number, state: RefundState): void {
    if (TERMINAL.has(state)) return;
    const placeholder = refunds.find((row) => row.providerRefundId === unattributedId(payment.providerPaymentId!));
    if (!placeholder || placeholder.status !== RefundState.SUCCEEDED) return;
    const left = placeholder.amountMinor - amountMinor;
    if (left > 0) placeholder.amountMinor = left;
    else placeholder.status = RefundState.CANCELLED;
  }

  /** Sets the placeholder to the part of the charge's cumulative refunded amount that known refunds don't explain. */
  private attribute(tx: EntityManager, payment: InvoicePayment, refunds: PaymentRefund[], cumulativeMinor: number): void {
    const placeholderId = unattributedId(payment.providerPaymentId!);
    const explained = refunds
      .filter((row) => row.providerRefundId !== placeholderId && (row.status === RefundState.SUCCEEDED || row.status === RefundState.PENDING))
      .reduce((sum, row) => sum + row.amountMinor, 0);
    const unexplained = cumulativeMinor - explained;
    const placeholder = refunds.find((row) => row.providerRefundId === placeholderId);
    if (unexplained > 0) {
      if (placeholder) Object.assign(placeholder, { amountMinor: unexplained, status: RefundState.SUCCEEDED });
      else {
        const row = tx.create(PaymentRefund, {
          id: randomUUID(),
          workspaceId: payment.workspaceId,
          paymentId: payment.id,
          invoiceId: payment.invoiceId,
          provider: payment.provider,
          providerRefundId: placeholderId,
          amountMinor: unexplained,
          currency: payment.currency,
          status: RefundState.SUCCEEDED,
          reason: 'refunded at the provider (refund details not received yet)',
        });
        tx.persist(row);
        refunds.push(row);
      }
    } else if (placeholder && placeholder.status === RefundState.SUCCEEDED) placeholder.status = RefundState.CANCELLED;
  }
}
