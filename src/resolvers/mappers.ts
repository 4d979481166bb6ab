import type {
  Invoice,
  InvoicePayment,
  PaymentDispute,
  PaymentProviderAccount,
  PaymentRefund,
} from '../entities/index.js';
import { PaymentSummary } from '../schema/payment-summary.type.js';
import { DisputeState, LedgerStatus, Provider, ProviderMode, RefundState, webhookUrl } from '../vocabulary/index.js';
import { DisputeStatus, PaymentMode, PaymentProvider, PaymentStatus, RefundStatus } from '../schema/enums.js';
import { Dispute } from '../schema/dispute.type.js';
import { Money } from '../schema/money.type.js';
import { Payment } from '../schema/payment.type.js';
import { PaymentProviderSettings } from '../schema/provider-settings.type.js';
import { Refund } from '../schema/refund.type.js';

const MODES: Record<ProviderMode, PaymentMode> = {
  [ProviderMode.TEST]: PaymentMode.TEST,
  [ProviderMode.LIVE]: PaymentMode.LIVE,
};
const PAYMENT_STATUSES: Record<LedgerStatus, PaymentStatus> = {
  [LedgerStatus.PENDING]: PaymentStatus.PENDING,
  [LedgerStatus.SUCCEEDED]: PaymentStatus.SUCCEEDED,
  [LedgerStatus.FAILED]: PaymentStatus.FAILED,
  [LedgerStatus.REFUNDED]: PaymentStatus.REFUNDED,
  [LedgerStatus.PARTIALLY_REFUNDED]: PaymentStatus.PARTIALLY_REFUNDED,
  [LedgerStatus.CANCELLED]: PaymentStatus.CANCELLED,
};
const REFUND_STATUSES: Record<RefundState, RefundStatus> = {
  [RefundState.PENDING]: RefundStatus.PENDING,
  [RefundState.SUCCEEDED]: RefundStatus.SUCCEEDED,
  [RefundState.FAILED]: RefundStatus.FAILED,
  [RefundState.CANCELLED]: RefundStatus.CANCELLED,
};
const DISPUTE_STATUSES: Record<DisputeState, DisputeStatus> = {
  [DisputeState.NEEDS_RESPONSE]: DisputeStatus.NEEDS_RESPONSE,
  [DisputeState.UNDER_REVIEW]: DisputeStatus.UNDER_REVIEW,
  [DisputeState.WON]: DisputeStatus.WON,
  [DisputeState.LOST]: DisputeStatus.LOST,
};

/** Total by construction: the GraphQL names are the vocabulary's, upper-cased (a type error if that ever breaks). */
export const toGraphQLProvider = (provider: Provider): PaymentProvider => provider.toUpperCase() as Uppercase<Provider>;
export const fromGraphQLProvider = (provider: PaymentProvider): Provider =>
  provider.toLowerCase() as Lowercase<PaymentProvider>;
const FROM_MODES: Record<PaymentMode, ProviderMode> = {
  [PaymentMode.TEST]: ProviderMode.TEST,
  [PaymentMode.LIVE]: ProviderMode.LIVE,
};
export const fromGraphQLMode = (mode: PaymentMode): ProviderMode => FROM_MODES[mode];

export function toPayment(row: InvoicePayment): Payment {
  const payment = new Payment();
  payment.id = row.id;
  payment.invoiceId = row.invoiceId;
  payment.provider = toGraphQLProvider(row.provider);
  payment.providerReference = row.providerReference;
  payment.eventId = row.eventId ?? null;
  payment.status = PAYMENT_STATUSES[row.status];
  payment.amount = Money.of(row.amountMinor, row.currency);
  payment.refunded = Money.of(row.refundedMinor, row.currency);
  payment.createdAt = row.createdAt;
  payment.updatedAt = row.updatedAt;
  return payment;
}

export function toRefund(row: PaymentRefund): Refund {
  const refund = new Refund();
  refund.id = row.id;
  refund.paymentId = row.paymentId;
  refund.providerRefundId = row.providerRefundId ?? null;
  refund.amount = Money.of(row.amountMinor, row.currency);
  refund.status = REFUND_STATUSES[row.status];
  refund.reason = row.reason ?? null;
  refund.createdAt = row.createdAt;
  return refund;
}

export function toDispute(row: PaymentDispute): Dispute {
  const dispute = new Dispute();
  dispute.id = row.id;
  dispute.providerDisputeId = row.providerDisputeId;
  dispute.amount = Money.of(row.amountMinor, row.currency);
  dispute.status = DISPUTE_STATUSES[row.status];
  dispute.reason = row.reason ?? null;
  dispute.evidenceDueBy = row.evidenceDueBy ?? null;
  dispute.fundsWithdrawn = row.fundsWithdrawn && !row.fundsReinstated;
  dispute.createdAt = row.createdAt;
  dispute.updatedAt = row.updatedAt;
  return dispute;
}

/** Masked settings: only masks ever leave the service, never sealed or plain secrets. */
export function toProviderSettings(row: PaymentProviderAccount): PaymentProviderSettings {
  const settings = new PaymentProviderSettings();
  settings.provider = toGraphQLProvider(row.provider);
  settings.mode = MODES[row.mode];
  settings.active = row.active;
  settings.offerCardPayments = row.offerCardPayments;
  settings.publishableKey = row.publishableKey ?? null;
  settings.secretKeyMasked = row.secretKeyMasked ?? null;
  settings.webhookSecretMasked = row.webhookSecretMasked ?? null;
  settings.webhookUrl = webhookUrl(row.workspaceDomain, row.provider);
  settings.updatedAt = row.updatedAt;
  return settings;
}

/** The invoice's money in one place: paid is the invoice's own (recomputed by settlement under its lock). */
export function toPaymentSummary(
  invoice: Pick<Invoice, 'totalMinor' | 'paidMinor' | 'currency'>,
  payments: Array<Pick<InvoicePayment, 'refundedMinor' | 'disputedMinor'>>,
): PaymentSummary {
  const summary = new PaymentSummary();
  const money = (minor: number) => Money.of(minor, invoice.currency);
  summary.paid = money(invoice.paidMinor);
  summary.refunded = money(payments.reduce((sum, row) => sum + row.refundedMinor, 0));
  summary.disputed = money(payments.reduce((sum, row) => sum + row.disputedMinor, 0));
  summary.outstanding = money(Math.max(invoice.totalMinor - invoice.paidMinor, 0));
  summary.overpaid = money(Math.max(invoice.paidMinor - invoice.totalMinor, 0));
  return summary;
}
