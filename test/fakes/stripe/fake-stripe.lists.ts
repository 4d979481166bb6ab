/**
 * Stripe's list endpoints (`GET /v1/checkout/sessions`, `/v1/refunds`, `/v1/disputes`, `/v1/events`) in the wire
 * format: `{object: 'list', data, has_more, url}`, newest first, `created[gte|gt|lte|lt]`, `limit` (1–100, default
 * 10), `starting_after` / `ending_before` (an object id of the list), and `delivery_success` on events.
 */
import type { Router } from 'express';
import type { ApiContext, IdempotencyLayer } from './fake-stripe.http';
import type { FakeStripeState } from './fake-stripe.state';
import type { FakeEvent, StripeList } from './fake-stripe.types';
import { invalidParam, isParams, noSuch, optInteger, type Params } from './fake-stripe.util';

interface Listable {
  id: string;
  created: number;
}

function createdFilter(params: Params): (created: number) => boolean {
  const raw = params.created;
  if (raw === undefined) return () => true;
  if (typeof raw === 'string') {
    const exact = optInteger(params, 'created');
    return (created) => created === exact;
  }
  if (!isParams(raw)) throw invalidParam('Invalid created: must be an integer or a dictionary', 'created');
  const bound = (key: string) => optInteger(raw, key, `created[${key}]`);
  const [gte, gt, lte, lt] = [bound('gte'), bound('gt'), bound('lte'), bound('lt')];
  return (created) =>
    (gte === undefined || created >= gte) &&
    (gt === undefined || created > gt) &&
    (lte === undefined || created <= lte) &&
    (lt === undefined || created < lt);
}

/** One page of `objects` (in insertion order) as Stripe lists them: newest first, paged by object id. */
export function listPage<T extends Listable>(
  objects: Iterable<T>,
  params: Params,
  url: string,
  keep: (object: T) => boolean = () => true,
): StripeList<T> {
  const limit = optInteger(params, 'limit', 'limit', 1) ?? 10;
  if (limit > 100) throw invalidParam('This value must be less than or equal to 100.', 'limit');
  const inRange = createdFilter(params);
  // newest first; objects of the same second in reverse creation order, as Stripe does
  const all = [...objects].reverse().filter((object) => inRange(object.created) && keep(object));
  all.sort((a, b) => b.created - a.created);
  const after = typeof params.starting_after === 'string' ? params.starting_after : undefined;
  const before = typeof params.ending_before === 'string' ? params.ending_before : undefined;
  let start = 0;
  let end = all.length;
  if (after !== undefined) {
    const index = all.findIndex((object) => object.id === after);
    if (index < 0) throw noSuch('object', after, 'starting_after');
    start = index + 1;
  } else if (before !== undefined) {
    const index = all.findIndex((object) => object.id === before);
    if (index < 0) throw noSuch('object', before, 'ending_before');
    end = index;
    start = Math.max(0, end - limit);
  }
  const data = all.slice(start, Math.min(end, start + limit));
  return { object: 'list', data, has_more: start + data.length < end, url };
}

/** Registers the list routes; `delivered` says whether every webhook of an event was answered 2xx. */
export function listRoutes(
  router: Router,
  state: FakeStripeState,
  idempotency: IdempotencyLayer,
  delivered: () => (event: FakeEvent) => boolean,
): void {
  const h = idempotency.handle.bind(idempotency);
  const mine =
    ({ owner }: ApiContext) =>
    (object: Listable) => {
      const objectOwner = state.owners.get(object.id);
      return objectOwner?.account === owner.account && objectOwner.livemode === owner.livemode;
    };
  router.get(
    '/v1/checkout/sessions',
    h((ctx) => ({ body: listPage(state.sessions.values(), ctx.params, '/v1/checkout/sessions', mine(ctx)) })),
  );
  router.get(
    '/v1/refunds',
    h((ctx) => ({ body: listPage(state.refunds.values(), ctx.params, '/v1/refunds', mine(ctx)) })),
  );
  router.get(
    '/v1/disputes',
    h((ctx) => ({ body: listPage(state.disputes.values(), ctx.params, '/v1/disputes', mine(ctx)) })),
  );
  router.get(
    '/v1/events',
    h((ctx) => {
      const success = ctx.params.delivery_success;
      if (success !== undefined && success !== 'true' && success !== 'false')
        throw invalidParam('Invalid boolean: must be true or false', 'delivery_success');
      const wasDelivered = delivered();
      const keep = (event: FakeEvent) =>
        mine(ctx)(event) &&
        (success === undefined ||
          (success === 'true') === (wasDelivered(event) || state.endpointsFor(event).length === 0));
      return { body: listPage(state.events.values(), ctx.params, '/v1/events', keep) };
    }),
  );
}
