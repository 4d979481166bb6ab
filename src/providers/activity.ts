import type { DisputeUpdate, RefundUpdate } from '../vocabulary/index.js';
import type { ProviderActivity } from './payment-provider.js';

/** A refund or dispute update as the audit's neutral object; `owner` is what our metadata on it says (often nothing). */
export function activityOfUpdate(
  update: RefundUpdate | DisputeUpdate,
  owner: { workspaceId: string | null; invoiceId: string | null },
  createdAt: Date,
): ProviderActivity {
  return {
    kind: update.kind,
    reference: update.kind === 'refund' ? update.providerRefundId : update.providerDisputeId,
    providerPaymentId: update.providerPaymentId,
    workspaceId: owner.workspaceId,
    invoiceId: owner.invoiceId,
    amountMinor: update.amountMinor,
    currency: update.currency,
    state: update.status,
    createdAt,
    update,
  };
}
