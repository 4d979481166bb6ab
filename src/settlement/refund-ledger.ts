import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { lockPaidPayment } from './paid-payment.js';
import { InvoicePayment, PaymentRefund, type Invoice } from '../entities/index.js';
import {
  refundStandInId,
  PAID_STATUSES,
  RefundState,
  type ChargeRefundedUpdate,
  type Provider,
  type RefundUpdate,
} from '../vocabulary/index.js';
import { statusAfterRefunds } from './ledger-rules.js';

const TERMINAL = new Set<RefundState>([RefundState.FAILED, RefundState.CANCELLED]);

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
    const { invoice, payment } = await lockPaidPayment(
      tx,
      'refund',
      { provider, workspaceId, providerPaymentId: update.providerPaymentId, currency: update.currency },
      lockInvoice,
    );
    const refunds = await tx.find(PaymentRefund, { paymentId: payment.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (update.kind === 'refund') this.applyRefund(tx, payment, refunds, update);
    else {
      for (const embedded of update.refunds) this.applyRefund(tx, payment, refunds, embedded);
      this.attribute(tx, payment, refunds, update.amountRefundedMinor);
    }
    payment.refundedMinor = refunds
      .filter((row) => row.status === RefundState.SUCCEEDED)
      .reduce((sum, row) => sum + row.amountMinor, 0);
    if (PAID_STATUSES.includes(payment.status))
      payment.status = statusAfterRefunds(payment.amountMinor, payment.refundedMinor);
    payment.eventId = eventId;
    return invoice;
  }

  private applyRefund(
    tx: EntityManager,
    payment: InvoicePayment,
    refunds: PaymentRefund[],
    update: RefundUpdate,
  ): void {
    let row =
      refunds.find((candidate) => candidate.providerRefundId === update.providerRefundId) ??
      // A refund requested through our API whose provider answer has not been recorded yet.
      refunds.find(
        (candidate) =>
          update.localRefundId !== null && candidate.id === update.localRefundId && !candidate.providerRefundId,
      );
    const state = update.status;
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
      this.absorb(refunds, payment, update.amountMinor);
      return;
    }
    row.providerRefundId = update.providerRefundId;
    row.amountMinor = update.amountMinor;
    // Failed and cancelled are final; a succeeded refund can still fail later (bank refunds), never the reverse.
    if (!TERMINAL.has(row.status) && !(row.status === RefundState.SUCCEEDED && state === RefundState.PENDING))
      row.status = state;
  }

  /**
   * A newly known refund takes its amount out of the unattributed placeholder, whatever its state: the placeholder
   * stood in for it while it was pending or succeeded, and a refund that has failed since must not stay counted.
   */
  private absorb(refunds: PaymentRefund[], payment: InvoicePayment, amountMinor: number): void {
    const placeholder = refunds.find((row) => row.providerRefundId === refundStandInId(payment.providerPaymentId!));
    if (!placeholder || placeholder.status !== RefundState.SUCCEEDED) return;
    const left = placeholder.amountMinor - amountMinor;
    if (left > 0) placeholder.amountMinor = left;
    else placeholder.status = RefundState.CANCELLED;
  }

  /**
   * Sets the placeholder to the part of the charge's cumulative refunded amount that known refunds don't explain.
   * Every known refund explains its amount, failed and cancelled ones included: the total may be older than their
   * failure (events arrive in any order), and counting a refund that failed would take money off the invoice that
   * was never given back. Refunds not known yet still count once their own objects arrive.
   */
  private attribute(
    tx: EntityManager,
    payment: InvoicePayment,
    refunds: PaymentRefund[],
    cumulativeMinor: number,
  ): void {
    const placeholderId = refundStandInId(payment.providerPaymentId!);
    const explained = refunds
      .filter((row) => row.providerRefundId !== placeholderId)
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
