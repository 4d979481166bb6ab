/**
 * The request pipeline in front of the fake's `/v2` routes: recording, injected faults, Bearer
 * auth (one account per key) and the Idempotency-Key layer (replay of the first answer per key).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { FaultControl, fullPath, nextFailure, rawBodyOf, recordedHeaders, resetConnection } from '../shared/fake-http';
import { MollieApiError, type Owner, type RecordedRequest } from './fake-mollie.types';
import { API_KEY_PATTERN, errorBody, isRecord, ownerOfKey, stableJson, unprocessable } from './fake-mollie.util';

export { FaultControl, keepRawBody, type FailureKind } from '../shared/fake-http';

interface RequestInfo {
  record: RecordedRequest;
  owner: Owner | null;
}

const infos = new WeakMap<Request, RequestInfo>();

export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).type('application/hal+json').send(JSON.stringify(body));
}

export function sendError(res: Response, error: MollieApiError): void {
  sendJson(res, error.status, errorBody(error));
}

function queryOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new URL(req.originalUrl, 'http://fake').searchParams) out[name] = value;
  return out;
}

export function recorder(requests: RecordedRequest[]): RequestHandler {
  return (req, res, next) => {
    const headers = recordedHeaders(req);
    const record: RecordedRequest = {
      method: req.method,
      path: fullPath(req),
      query: queryOf(req),
      headers,
      body: undefined,
      rawBody: '',
      idempotencyKey: headers['idempotency-key'] ?? null,
      apiKey: null,
      replayed: false,
      status: 0,
    };
    requests.push(record);
    infos.set(req, { record, owner: null });
    res.on('finish', () => {
      record.status = res.statusCode;
      record.body = req.body as unknown;
      record.rawBody = rawBodyOf(req);
    });
    next();
  };
}

export function faults(control: FaultControl): RequestHandler {
  return async (req, res, next) => {
    const failure = await nextFailure(control, 503);
    if (failure === undefined) return next();
    if (failure === 'reset') return resetConnection(req, infos.get(req)?.record);
    const title =
      failure === 503 ? 'Service Unavailable' : failure === 429 ? 'Too Many Requests' : 'Internal Server Error';
    if (failure === 429) res.setHeader('Retry-After', '1');
    sendJson(res, failure, {
      status: failure,
      title,
      detail: 'The service is temporarily unavailable. Please try again later.',
    });
  };
}

export function authenticate(control: FaultControl): RequestHandler {
  return (req, res, next) => {
    const info = infos.get(req);
    const key = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
    if (info) info.record.apiKey = key;
    if (key === null || !API_KEY_PATTERN.test(key) || control.rejectedKeys.has(key)) {
      sendError(
        res,
        new MollieApiError(401, 'Unauthorized Request', 'Missing authentication, or failed to authenticate'),
      );
      return;
    }
    if (info) info.owner = ownerOfKey(key);
    next();
  };
}

export interface ApiContext {
  body: Record<string, unknown>;
  query: Record<string, string>;
  pathParams: Record<string, string>;
  owner: Owner;
}

export interface ApiResult {
  status?: number;
  body: unknown;
}

export type ApiHandler = (ctx: ApiContext) => ApiResult;

interface StoredAnswer {
  fingerprint: string;
  status: number;
  body: string;
}

/**
 * Wraps API handlers with Mollie's idempotency: an `Idempotency-Key` on POST/DELETE, scoped per API
 * key, replays the first successful answer for the same method, path and body; another body is a
 * 422. Failed answers are not stored, so a retry after an error runs again.
 */
export class IdempotencyLayer {
  private readonly answers = new Map<string, StoredAnswer>();

  clear(): void {
    this.answers.clear();
  }

  handle(fn: ApiHandler): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const info = infos.get(req);
      if (!info?.owner) return next(new Error('fake-mollie: API handler reached without auth'));
      const body: Record<string, unknown> = isRecord(req.body) ? req.body : {};
      const key = req.method === 'POST' || req.method === 'DELETE' ? info.record.idempotencyKey : null;
      const storeKey = key === null ? null : `${info.owner.apiKey}\u0000${key}`;
      const fingerprint = `${req.method} ${fullPath(req)} ${stableJson(body)}`;
      const previous = storeKey === null ? undefined : this.answers.get(storeKey);
      if (previous) {
        if (previous.fingerprint !== fingerprint) {
          return sendError(res, unprocessable('The idempotency key was already used with a different request body'));
        }
        info.record.replayed = true;
        res.status(previous.status).type('application/hal+json').send(previous.body);
        return;
      }
      let status: number;
      let answer: unknown;
      try {
        const result = fn({
          body,
          query: queryOf(req),
          pathParams: { ...req.params } as Record<string, string>,
          owner: info.owner,
        });
        status = result.status ?? 200;
        answer = result.body;
      } catch (error) {
        if (!(error instanceof MollieApiError)) return next(error);
        status = error.status;
        answer = errorBody(error);
      }
      const text = JSON.stringify(answer);
      if (storeKey !== null && status < 300) this.answers.set(storeKey, { fingerprint, status, body: text });
      res.status(status).type('application/hal+json').send(text);
    };
  }
}
