/**
 * Mollie's list endpoints (`GET /v2/payments`, `/v2/refunds`, `/v2/chargebacks`) in the wire format: HAL with
 * `count`, `_embedded.<resource>` and `_links.next`/`previous` (null at the ends), newest first, paged by `from` (the
 * id of the first object of the page, inclusive) and `limit` (1–250, default 50).
 */
import type { Router } from 'express';
import type { IdempotencyLayer } from './fake-mollie.http';
import type { FakeMollieState } from './fake-mollie.state';
import { MollieApiError, type Owner } from './fake-mollie.types';
import { docLink, link } from './fake-mollie.util';

function badRequest(detail: string, field: string): MollieApiError {
  return new MollieApiError(400, 'Bad Request', detail, field);
}

/** One page of `items` (in creation order) as Mollie lists them. */
export function halPage<T extends { id: string }>(
  resource: string,
  items: Iterable<T>,
  query: Record<string, string>,
  self: string,
  docPath: string,
): Record<string, unknown> {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 250)
    throw badRequest('The limit must be a number between 1 and 250', 'limit');
  const all = [...items].reverse();
  let start = 0;
  if (query.from !== undefined) {
    start = all.findIndex((item) => item.id === query.from);
    if (start < 0) throw badRequest(`Invalid "from" parameter: no ${resource} with id ${query.from}`, 'from');
  }
  const page = all.slice(start, start + limit);
  const at = (from: string | undefined) => (from ? link(`${self}?from=${from}&limit=${limit}`) : null);
  return {
    count: page.length,
    _embedded: { [resource]: page },
    _links: {
      self: link(`${self}?${new URLSearchParams(query)}`),
      previous: start > 0 ? at(all[Math.max(0, start - limit)].id) : null,
      next: at(all[start + limit]?.id),
      documentation: docLink(docPath),
    },
  };
}

export function listRoutes(router: Router, state: FakeMollieState, idempotency: IdempotencyLayer, baseUrl: string) {
  const h = idempotency.handle.bind(idempotency);
  const mine = (owner: Owner) => (item: { id: string; paymentId?: string }) =>
    state.owners.get(item.paymentId ?? item.id)?.apiKey === owner.apiKey;
  const lists: Array<[string, Map<string, { id: string; paymentId?: string }>, string]> = [
    ['payments', state.payments, '/reference/list-payments'],
    ['refunds', state.refunds, '/reference/list-all-refunds'],
    ['chargebacks', state.chargebacks, '/reference/list-all-chargebacks'],
  ];
  for (const [resource, items, docPath] of lists) {
    router.get(
      `/v2/${resource}`,
      h((ctx) => ({
        body: halPage(
          resource,
          [...items.values()].filter(mine(ctx.owner)),
          ctx.query,
          `${baseUrl}/v2/${resource}`,
          docPath,
        ),
      })),
    );
  }
}
