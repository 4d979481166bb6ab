import { activityOfUpdate } from '../activity.js';
import { readMetadata } from '../metadata.js';
import type { ActivityRange, ProviderActivity } from '../payment-provider.js';
import { withBackoff } from '../rate-limit.js';
import { MollieApiError, type MollieClient, type MollieListItem } from './mollie.client.js';
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

/** The account's payments, refunds and chargebacks created in the range, in the ledger's terms. */
export async function* listMollieActivity(
  client: MollieClient,
  range: ActivityRange,
): AsyncGenerator<ProviderActivity> {
  for await (const payment of listInRange(client, 'payments', range)) {
    const update = paymentUpdate(payment);
    yield {
      kind: 'payment',
      reference: payment.id,
      providerPaymentId: payment.id,
      workspaceId: update.metadataWorkspaceId,
      invoiceId: update.invoiceId,
      amountMinor: update.amountMinor,
      currency: update.currency,
      state: update.outcome,
      createdAt: new Date(payment.createdAt!),
      update,
    };
  }
  for await (const refund of listInRange(client, 'refunds', range)) {
    const update = refundUpdate({ id: refund.paymentId }, refund);
    yield activityOfUpdate(update, readMetadata(refund.metadata), new Date(refund.createdAt));
  }
  for await (const chargeback of listInRange(client, 'chargebacks', range)) {
    const update = chargebackUpdate({ id: chargeback.paymentId }, chargeback);
    yield activityOfUpdate(update, { workspaceId: null, invoiceId: null }, new Date(chargeback.createdAt));
  }
}
