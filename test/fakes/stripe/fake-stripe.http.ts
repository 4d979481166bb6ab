/**
 * The request pipeline in front of the fake's API routes: recording, injected faults, Bearer auth
 * and Stripe's idempotency layer (replay of the first answer per API key + Idempotency-Key).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  FaultControl as SharedFaultControl,
  fullPath,
  nextFailure,
  rawBodyOf,
  recordedHeaders,
  resetConnection,
} from '../shared/fake-http';
import type { RequestRef } from './fake-stripe.state';
import { type Owner, type RecordedRequest, StripeApiError, type StripeErrorBody } from './fake-stripe.types';
import { API_KEY_PATTERN, isParams, maskKey, newId, ownerOfKey, type Params, stableJson } from './fake-stripe.util';

export { keepRawBody, type FailureKind } from '../shared/fake-http';

/** Test-controlled misbehaviour of the API. */
export class FaultControl extends SharedFaultControl {
  /** When set, outage/failure answers carry `Stripe-Should-Retry` (false stops the SDK's retries). */
  shouldRetry: boolean | null = null;
}

interface RequestInfo {
  record: RecordedRequest;
  apiKey: string | null;
  owner: Owner | null;
}

const infos = new WeakMap<Request, RequestInfo>();

export function sendStripeError(res: Response, status: number, error: StripeErrorBody): void {
  res
    .status(status)
    .type('application/json')
    .send(JSON.stringify({ error }, null, 2));
}

function requestParams(req: Request): Params {
  if (req.method === 'POST') return isParams(req.body) ? req.body : {};
  return isParams(req.query) ? req.query : {};
}

export function recorder(requests: RecordedRequest[]): RequestHandler {
  return (req, res, next) => {
    const headers = recordedHeaders(req);
    const record: RecordedRequest = {
      method: req.method,
      path: fullPath(req),
      query: isParams(req.query) ? req.query : {},
      headers,
      body: req.method === 'POST' ? requestParams(req) : {},
      rawBody: rawBodyOf(req),
      idempotencyKey: headers['idempotency-key'] ?? null,
      apiKey: null,
      requestId: newId('req', 14),
      replayed: false,
      status: 0,
    };
    requests.push(record);
    infos.set(req, { record, apiKey: null, owner: null });
    res.setHeader('Request-Id', record.requestId);
    if (record.idempotencyKey) res.setHeader('Idempotency-Key', record.idempotencyKey);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    next();
  };
}

export function faults(control: FaultControl): RequestHandler {
  return async (req, res, next) => {
    const failure = await nextFailure(control, 500);
    if (failure === undefined) return next();
    if (failure === 'reset') return resetConnection(req, infos.get(req)?.record);
    if (control.shouldRetry !== null) res.setHeader('Stripe-Should-Retry', String(control.shouldRetry));
    if (failure === 429) {
      sendStripeError(res, 429, {
        code: 'rate_limit',
        message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
        type: 'rate_limit_error',
      });
      return;
    }
    sendStripeError(res, failure, { message: 'An unknown error occurred', type: 'api_error' });
  };
}

function bearerKey(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (basic) return Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0] || null;
  return null;
}

export function authenticate(control: FaultControl): RequestHandler {
  return (req, res, next) => {
    const info = infos.get(req);
    const key = bearerKey(req.headers.authorization);
    res.setHeader('WWW-Authenticate', 'Basic realm="Stripe"');
    if (!key) {
      sendStripeError(res, 401, {
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        type: 'invalid_request_error',
      });
      return;
    }
    if (info) info.record.apiKey = key;
    if (/^pk_(test|live)_/.test(key)) {
      sendStripeError(res, 401, {
        message:
          'This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.',
        type: 'invalid_request_error',
      });
      return;
    }
    if (!API_KEY_PATTERN.test(key) || control.rejectedKeys.has(key)) {
      sendStripeError(res, 401, {
        message: `Invalid API Key provided: ${maskKey(key)}`,
        type: 'invalid_request_error',
      });
      return;
    }
    res.removeHeader('WWW-Authenticate');
    if (info) {
      info.apiKey = key;
      info.owner = ownerOfKey(key);
    }
    next();
  };
}

export interface ApiContext {
  params: Params;
  pathParams: Record<string, string>;
  owner: Owner;
  apiKey: string;
  request: RequestRef;
}

export interface ApiResult {
  status?: number;
  body: unknown;
}

export type ApiHandler = (ctx: ApiContext) => ApiResult;

interface StoredAnswer {
  method: string;
  path: string;
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
}

function idempotencyError(res: Response, message: string): void {
  sendStripeError(res, 400, { message, type: 'idempotency_error' });
}

/** Wraps API handlers with Stripe's idempotency layer; keys are scoped per API key. */
export class IdempotencyLayer {
  private readonly answers = new Map<string, StoredAnswer>();

  clear(): void {
    this.answers.clear();
  }

  handle(fn: ApiHandler): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const info = infos.get(req);
      if (!info?.apiKey || !info.owner) return next(new Error('fake-stripe: API handler reached without auth'));
      const params = requestParams(req);
      const key = req.method === 'POST' ? info.record.idempotencyKey : null;
      const storeKey = key === null ? null : `${info.apiKey}\u0000${key}`;
      const fingerprint = stableJson(params);
      const path = fullPath(req);
      const previous = storeKey === null ? undefined : this.answers.get(storeKey);
      if (previous && key !== null) {
        if (previous.path !== path || previous.method !== req.method) {
          return idempotencyError(
            res,
            `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${path}' vs '${previous.path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
          );
        }
        if (previous.fingerprint !== fingerprint) {
          return idempotencyError(
            res,
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          );
        }
        info.record.replayed = true;
        res.setHeader('Idempotent-Replayed', 'true');
        res.setHeader('Original-Request', previous.requestId);
        res.status(previous.status).type('application/json').send(previous.body);
        return;
      }
      let status: number;
      let body: unknown;
      let store = true;
      try {
        const result = fn({
          params,
          pathParams: { ...req.params } as Record<string, string>,
          owner: info.owner,
          apiKey: info.apiKey,
          request: { id: info.record.requestId, idempotency_key: key },
        });
        status = result.status ?? 200;
        body = result.body;
      } catch (error) {
        if (!(error instanceof StripeApiError)) return next(error);
        status = error.status;
        body = { error: error.body };
        store = error.storeForIdempotency;
      }
      const text = JSON.stringify(body, null, 2);
      if (storeKey !== null && store) {
        this.answers.set(storeKey, {
          method: req.method,
          path,
          fingerprint,
          status,
          body: text,
          requestId: info.record.requestId,
        });
      }
      res.status(status).type('application/json').send(text);
    };
  }
}
