import { activityOfUpdate } from '../activity.js';
import { readMetadata } from '../metadata.js';
import type { ActivityRange, ProviderActivity } from '../payment-provider.js';
import { withBackoff } from '../rate-limit.js';
import {
  MollieApiError,
  type MollieChargeback,
  type MollieClient,
  type MollieListItem,
  type MolliePayment,
  type MollieRefund,
} from './mollie.client.js';
import { callMollie } from './mollie.errors.js';
import { chargebackUpdate, paymentUpdate, refundUpdate } from './mollie.webhook.js';

/** Objects per list call: Mollie's maximum. */
export const MOLLIE_PAGE_SIZE = 250;

const rateLimited = (error: unknown): number | null | undefined =>
  error instanceof MollieApiError && error.status === 429 ? error.retryAfterMs : undefined;

/**
 * A Mollie list, newest first, down to the range's start: Mollie has no creation filter, so pages are read (`from`
 * the next page's first id) until an object older than `since` shows up; objects newer than `until` are skipped.
 */
async function* listInRange<K extends 'payments' | 'refunds' | 'chargebacks'>(
  client: MollieClient,
  resource: K,
  range: ActivityRange,
): AsyncGenerator<MollieListItem<K>> {
  let from: string | undefined;
  for (;;) {
    const page = await callMollie(`list ${resource}`, () =>
      withBackoff(() => client.listPage(resource, { from, limit: MOLLIE_PAGE_SIZE }), rateLimited),
    );
    for (const item of page.items) {
      const created = Date.parse(item.createdAt ?? '');
      if (created < range.since.getTime()) return;
      if (created <= range.until.getTime()) yield item;
    }
    if (!page.next || page.items.length === 0) return;
    from = page.next;
  }
}

export function paymentActivity(payment: MolliePayment): ProviderActivity {
  const update = paymentUpdate(payment);
  return {
    kind: 'payment',
    reference: payment.id,
    providerPaymentId: payment.id,
    workspaceId: update.metadataWorkspaceId,
    invoiceId: update.invoiceId,
    amountMinor: update.amountMinor,
    currency: update.currency,
    state: update.outcome,
    createdAt: new Date(payment.createdAt ?? Date.now()),
    update,
  };
}

export const refundActivity = (refund: MollieRefund): ProviderActivity =>
  activityOfUpdate(
    refundUpdate({ id: refund.paymentId }, refund),
    readMetadata(refund.metadata),
    new Date(refund.createdAt),
  );

/** Chargebacks carry no metadata: the audit finds their workspace through the payment. */
export const chargebackActivity = (chargeback: MollieChargeback): ProviderActivity =>
  activityOfUpdate(
    chargebackUpdate({ id: chargeback.paymentId }, chargeback),
    { workspaceId: null, invoiceId: null },
    new Date(chargeback.createdAt),
  );

/** The account's payments, refunds and chargebacks created in the range, in the ledger's terms. */
export async function* listMollieActivity(
  client: MollieClient,
  range: ActivityRange,
): AsyncGenerator<ProviderActivity> {
  for await (const payment of listInRange(client, 'payments', range)) yield paymentActivity(payment);
  for await (const refund of listInRange(client, 'refunds', range)) yield refundActivity(refund);
  for await (const chargeback of listInRange(client, 'chargebacks', range)) yield chargebackActivity(chargeback);
}
