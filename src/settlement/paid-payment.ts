import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { InvoicePayment, type Invoice } from '../entities/index.js';
import { PAID_STATUSES, SettlementError, type Provider } from '../vocabulary/index.js';

/**
 * The payment a refund or dispute event is about, with its invoice and itself locked for the unit of work. Such an
 * event takes back money the payment took: until the ledger has seen the payment succeed (its own event may still be
 * on its way), it waits (retried, then dead-lettered) instead of counting against a payment that took nothing.
 */
export async function lockPaidPayment(
  tx: EntityManager,
  what: 'refund' | 'dispute',
  target: { provider: Provider; workspaceId: string; providerPaymentId: string; currency: string },
  lockInvoice: (invoiceId: string) => Promise<Invoice>,
): Promise<{ invoice: Invoice; payment: InvoicePayment }> {
  const { provider, workspaceId, providerPaymentId, currency } = target;
  const found = await tx.findOne(InvoicePayment, { provider, providerPaymentId, workspaceId });
  if (!found) {
    throw new SettlementError(`${what} event for ${providerPaymentId}, which is not in this workspace's ledger`);
  }
  const invoice = await lockInvoice(found.invoiceId);
  const payment = await tx.findOneOrFail(
    InvoicePayment,
    { id: found.id },
    { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
  );
  if (!PAID_STATUSES.includes(payment.status)) {
    throw new SettlementError(
      `${what} event for ${providerPaymentId}, whose payment is ${payment.status} in the ledger (its success has not arrived yet)`,
    );
  }
  if (currency !== payment.currency.trim().toUpperCase()) {
    throw new SettlementError(`${what} in ${currency} for payment ${payment.providerReference} in ${payment.currency}`);
  }
  return { invoice, payment };
}
