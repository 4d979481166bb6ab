/**
 * The fake's `/v1` API routes. Handlers are synchronous, return `{ status?, body }` and throw
 * StripeApiError for Stripe-shaped failures; the idempotency layer wraps each of them.
 */
import { Router } from 'express';
import type { ApiContext, IdempotencyLayer } from './fake-stripe.http';
import { parseEndpointCreate, parseRefundCreate, parseSessionCreate } from './fake-stripe.params';
import { createRefund } from './fake-stripe.refunds';
import type { FakeStripeState } from './fake-stripe.state';
import { listRoutes } from './fake-stripe.lists';
import type {
  FakeEvent,
  FakeCheckoutSession,
  FakePaymentIntent,
  FakeWebhookEndpoint,
  Owner,
  StripeList,
} from './fake-stripe.types';
import { expandList, invalidParam, nowSeconds, optInteger } from './fake-stripe.util';

function list<T>(data: T[], url: string, limit = 10): StripeList<T> {
  return { object: 'list', data: data.slice(0, limit), has_more: data.length > limit, url };
}

function checkExpand(expand: string[], allowed: readonly string[]): void {
  for (const path of expand) {
    if (!allowed.includes(path)) throw invalidParam(`This property cannot be expanded (${path}).`, 'expand');
  }
}

function withoutSecret(endpoint: FakeWebhookEndpoint): Omit<FakeWebhookEndpoint, 'secret'> {
  const { secret: _secret, ...rest } = endpoint;
  return rest;
}

export function apiRouter(
  state: FakeStripeState,
  idempotency: IdempotencyLayer,
  delivered: () => (event: FakeEvent) => boolean,
): Router {
  const router = Router();
  const h = idempotency.handle.bind(idempotency);
  listRoutes(router, state, idempotency, delivered);

  const expandPaymentIntent = (pi: FakePaymentIntent, expandCharge: boolean): FakePaymentIntent => {
    const copy = structuredClone(pi);
    if (expandCharge && typeof pi.latest_charge === 'string')
      copy.latest_charge = structuredClone(state.charges.get(pi.latest_charge) ?? null);
    return copy;
  };

  const renderSession = (session: FakeCheckoutSession, ctx: ApiContext): Record<string, unknown> => {
    const expand = expandList(ctx.params);
    checkExpand(expand, ['payment_intent', 'payment_intent.latest_charge', 'line_items']);
    const out: Record<string, unknown> = structuredClone({ ...session });
    const pi = session.payment_intent ? state.paymentIntents.get(session.payment_intent) : undefined;
    if (pi && expand.some((path) => path.startsWith('payment_intent'))) {
      out.payment_intent = expandPaymentIntent(pi, expand.includes('payment_intent.latest_charge'));
    }
    if (expand.includes('line_items')) {
      out.line_items = list(
        state.lineItems.get(session.id) ?? [],
        `/v1/checkout/sessions/${session.id}/line_items`,
        100,
      );
    }
    return out;
  };

  const session = (ctx: ApiContext, owner: Owner = ctx.owner): FakeCheckoutSession =>
    state.visible(state.sessions, 'checkout.session', ctx.pathParams.id, owner, 'session');

  router.get(
    '/v1/balance',
    h(({ owner }) => ({
      body: {
        object: 'balance',
        available: [{ amount: 0, currency: 'eur', source_types: { card: 0 } }],
        livemode: owner.livemode,
        pending: [{ amount: 0, currency: 'eur', source_types: { card: 0 } }],
      },
    })),
  );

  router.get(
    '/v1/account',
    h(({ owner }) => ({
      body: {
        id: owner.account,
        object: 'account',
        business_type: 'company',
        charges_enabled: true,
        country: 'DE',
        created: 1_700_000_000,
        default_currency: 'eur',
        details_submitted: true,
        email: 'owner@example.com',
        payouts_enabled: true,
        settings: { dashboard: { display_name: 'Fake Stripe Account', timezone: 'Etc/UTC' } },
        type: 'standard',
      },
    })),
  );

  router.post(
    '/v1/webhook_endpoints',
    h((ctx) => ({ body: state.createEndpoint(parseEndpointCreate(ctx.params, ctx.owner.livemode), ctx.owner) })),
  );

  router.get(
    '/v1/webhook_endpoints',
    h((ctx) => {
      const mine = [...state.webhookEndpoints.values()]
        .filter((endpoint) => {
          const owner = state.owners.get(endpoint.id);
          return owner?.account === ctx.owner.account && owner.livemode === ctx.owner.livemode;
        })
        .sort((a, b) => b.created - a.created)
        .map(withoutSecret);
      return { body: list(mine, '/v1/webhook_endpoints', optInteger(ctx.params, 'limit', 'limit', 1) ?? 10) };
    }),
  );

  router.get(
    '/v1/webhook_endpoints/:id',
    h((ctx) => ({
      body: withoutSecret(state.visible(state.webhookEndpoints, 'webhook endpoint', ctx.pathParams.id, ctx.owner)),
    })),
  );

  router.delete(
    '/v1/webhook_endpoints/:id',
    h((ctx) => {
      const endpoint = state.visible(state.webhookEndpoints, 'webhook endpoint', ctx.pathParams.id, ctx.owner);
      state.webhookEndpoints.delete(endpoint.id);
      return { body: { id: endpoint.id, object: 'webhook_endpoint', deleted: true } };
    }),
  );

  router.post(
    '/v1/checkout/sessions',
    h((ctx) => {
      const { expand: _expand, ...params } = ctx.params;
      const created = state.createSession(parseSessionCreate(params, nowSeconds()), ctx.owner);
      return { body: renderSession(created, ctx) };
    }),
  );

  router.get(
    '/v1/checkout/sessions/:id',
    h((ctx) => ({ body: renderSession(session(ctx), ctx) })),
  );

  router.get(
    '/v1/checkout/sessions/:id/line_items',
    h((ctx) => {
      const found = session(ctx);
      const limit = optInteger(ctx.params, 'limit', 'limit', 1) ?? 10;
      return { body: list(state.lineItems.get(found.id) ?? [], `/v1/checkout/sessions/${found.id}/line_items`, limit) };
    }),
  );

  router.post(
    '/v1/checkout/sessions/:id/expire',
    h((ctx) => {
      const found = session(ctx);
      state.expireSession(found.id, ctx.request);
      return { body: renderSession(found, ctx) };
    }),
  );

  router.post(
    '/v1/refunds',
    h((ctx) => {
      const refund = createRefund(state, parseRefundCreate(ctx.params), ctx.owner, ctx.request);
      return { body: refund };
    }),
  );

  router.get(
    '/v1/refunds/:id',
    h((ctx) => ({ body: state.visible(state.refunds, 'refund', ctx.pathParams.id, ctx.owner) })),
  );

  router.get(
    '/v1/payment_intents/:id',
    h((ctx) => {
      const expand = expandList(ctx.params);
      checkExpand(expand, ['latest_charge']);
      const pi = state.visible(state.paymentIntents, 'payment_intent', ctx.pathParams.id, ctx.owner, 'intent');
      return { body: expandPaymentIntent(pi, expand.includes('latest_charge')) };
    }),
  );

  router.get(
    '/v1/charges/:id',
    h((ctx) => ({ body: state.visible(state.charges, 'charge', ctx.pathParams.id, ctx.owner) })),
  );

  router.get(
    '/v1/disputes/:id',
    h((ctx) => ({ body: state.visible(state.disputes, 'dispute', ctx.pathParams.id, ctx.owner) })),
  );

  router.get(
    '/v1/events/:id',
    h((ctx) => ({ body: state.visible(state.events, 'event', ctx.pathParams.id, ctx.owner) })),
  );

  return router;
}
