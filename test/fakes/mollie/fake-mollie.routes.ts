/**
 * The fake's `/v2` routes in Mollie's wire format. Handlers are synchronous, return
 * `{ status?, body }` and throw MollieApiError; the idempotency layer wraps each of them.
 */
import { Router } from 'express';
import type { IdempotencyLayer } from './fake-mollie.http';
import { listRoutes } from './fake-mollie.lists';
import type { FakeMollieState, PaymentInput, RefundInput } from './fake-mollie.state';
import { MollieApiError, type FakePayment } from './fake-mollie.types';
import { currencyDecimals, docLink, link, parseAmount, toMinor, unprocessable } from './fake-mollie.util';

/** Methods the fake account has activated (id → description). */
export const METHODS: Readonly<Record<string, string>> = {
  applepay: 'Apple Pay',
  bancontact: 'Bancontact',
  banktransfer: 'Bank transfer',
  creditcard: 'Card',
  directdebit: 'SEPA Direct Debit',
  ideal: 'iDEAL',
  paypal: 'PayPal',
};

function optText(body: Record<string, unknown>, field: string, max = 255): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) throw unprocessable(`The ${field} is invalid`, field);
  return value;
}

function optUrl(body: Record<string, unknown>, field: string): string | null {
  const value = optText(body, field, 2048);
  if (value === null) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw unprocessable(`The ${field} is invalid`, field);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw unprocessable(`The ${field} is invalid`, field);
  return value;
}

function metadataOf(body: Record<string, unknown>): unknown {
  const metadata = body.metadata ?? null;
  if (JSON.stringify(metadata).length > 1024)
    throw unprocessable('The metadata is too large, it may be at most 1024 bytes', 'metadata');
  return metadata;
}

export function parsePaymentCreate(body: Record<string, unknown>): PaymentInput {
  const amount = parseAmount(body.amount, 'amount');
  if (toMinor(amount) < 10 ** (currencyDecimals(amount.currency) ?? 2)) {
    throw unprocessable('The amount is lower than the minimum', 'amount.value');
  }
  const description = optText(body, 'description');
  if (!description) throw unprocessable('The description is required for payments', 'description');
  const redirectUrl = optUrl(body, 'redirectUrl');
  if (redirectUrl === null) throw unprocessable('The redirect URL is required for payments', 'redirectUrl');
  const rawMethod = body.method ?? null;
  const methods = rawMethod === null ? [] : Array.isArray(rawMethod) ? rawMethod : [rawMethod];
  for (const method of methods) {
    if (typeof method !== 'string' || !(method in METHODS))
      throw unprocessable('The payment method is invalid', 'method');
  }
  return {
    amount,
    description,
    redirectUrl,
    cancelUrl: optUrl(body, 'cancelUrl'),
    webhookUrl: optUrl(body, 'webhookUrl'),
    metadata: metadataOf(body),
    methods: methods.filter((method): method is string => typeof method === 'string'),
  };
}

export function parseRefundCreate(body: Record<string, unknown>): RefundInput {
  return {
    amount: parseAmount(body.amount, 'amount'),
    description: optText(body, 'description') ?? '',
    metadata: metadataOf(body),
  };
}

function embeds(query: Record<string, string>): Set<string> {
  const wanted = new Set(
    (query.embed ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  );
  for (const name of wanted) {
    if (name !== 'refunds' && name !== 'chargebacks' && name !== 'captures') {
      throw new MollieApiError(400, 'Bad Request', `Embed parameter contains an invalid value: ${name}`, 'embed');
    }
  }
  return wanted;
}

function list(name: string, items: unknown[], self: string, docPath: string): Record<string, unknown> {
  return {
    count: items.length,
    _embedded: { [name]: items },
    _links: { self: link(self), previous: null, next: null, documentation: docLink(docPath) },
  };
}

export function apiRouter(state: FakeMollieState, idempotency: IdempotencyLayer, baseUrl: string): Router {
  const router = Router();
  const h = idempotency.handle.bind(idempotency);
  listRoutes(router, state, idempotency, baseUrl);

  const render = (payment: FakePayment, wanted: Set<string>): FakePayment => {
    const out = structuredClone(payment);
    if (wanted.size > 0) {
      out._embedded = {
        ...(wanted.has('refunds') ? { refunds: structuredClone(state.refundsOf(payment.id)) } : {}),
        ...(wanted.has('chargebacks') ? { chargebacks: structuredClone(state.chargebacksOf(payment.id)) } : {}),
      };
    }
    return out;
  };

  router.get(
    '/v2/methods',
    h(() => {
      const methods = Object.entries(METHODS).map(([id, description]) => ({
        resource: 'method',
        id,
        description,
        minimumAmount: { value: '0.01', currency: 'EUR' },
        maximumAmount: { value: '50000.00', currency: 'EUR' },
        image: {
          size1x: `https://www.mollie.com/external/icons/payment-methods/${id}.png`,
          svg: `https://www.mollie.com/external/icons/payment-methods/${id}.svg`,
        },
        status: 'activated',
        _links: { self: link(`${baseUrl}/v2/methods/${id}`), documentation: docLink('/reference/get-method') },
      }));
      return { body: list('methods', methods, `${baseUrl}/v2/methods`, '/reference/list-methods') };
    }),
  );

  router.post(
    '/v2/payments',
    h((ctx) => ({
      status: 201,
      body: render(state.createPayment(parsePaymentCreate(ctx.body), ctx.owner), new Set()),
    })),
  );

  router.get(
    '/v2/payments/:id',
    h((ctx) => ({ body: render(state.payment(ctx.pathParams.id, ctx.owner), embeds(ctx.query)) })),
  );

  router.delete(
    '/v2/payments/:id',
    h((ctx) => ({ body: render(state.cancel(ctx.pathParams.id, ctx.owner), new Set()) })),
  );

  router.post(
    '/v2/payments/:id/refunds',
    h((ctx) => {
      const refund = state.createRefund(ctx.pathParams.id, parseRefundCreate(ctx.body), ctx.owner, false);
      return { status: 201, body: refund };
    }),
  );

  router.get(
    '/v2/payments/:id/refunds',
    h((ctx) => {
      const payment = state.payment(ctx.pathParams.id, ctx.owner);
      return {
        body: list(
          'refunds',
          state.refundsOf(payment.id),
          `${baseUrl}/v2/payments/${payment.id}/refunds`,
          '/reference/list-refunds',
        ),
      };
    }),
  );

  router.get(
    '/v2/payments/:id/refunds/:refundId',
    h((ctx) => ({
      body: state.refund(ctx.pathParams.id, ctx.pathParams.refundId, ctx.owner),
    })),
  );

  router.get(
    '/v2/payments/:id/chargebacks',
    h((ctx) => {
      const payment = state.payment(ctx.pathParams.id, ctx.owner);
      return {
        body: list(
          'chargebacks',
          state.chargebacksOf(payment.id),
          `${baseUrl}/v2/payments/${payment.id}/chargebacks`,
          '/reference/list-chargebacks',
        ),
      };
    }),
  );

  router.get(
    '/v2/payments/:id/chargebacks/:chargebackId',
    h((ctx) => ({
      body: state.chargeback(ctx.pathParams.id, ctx.pathParams.chargebackId, ctx.owner),
    })),
  );

  return router;
}
