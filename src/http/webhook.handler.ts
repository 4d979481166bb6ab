import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDatabaseUnreachable } from '../errors.js';
import { isProvider, ProviderMode, WEBHOOK_ROUTE, type Provider } from '../vocabulary/index.js';
import { encodeEnvelope } from '../jetstream/envelope.js';
import { eventMsgId, WorkestraHeader, type JetStreamNames } from '../jetstream/names.js';
import { JetStreamUnavailableError, type EventPublisher } from '../jetstream/publisher.js';
import type { Logger } from '../observability/logger.js';
import { WebhookRejectedError, type VerifiedWebhook } from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { WebhookAccounts } from '../services/webhook-accounts.js';
import { requestHost } from './request-host.js';
import type { Metrics } from '../observability/metrics.js';
import { incomingRequestContext, traceIdOf, tracer } from '../observability/tracing.js';
import { SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { TokenBuckets } from './rate-limit.js';

/** Largest accepted body. NATS's default max payload is 1 MiB with headers: an accepted body must always fit. */
export const WEBHOOK_BODY_LIMIT = 512 * 1024;
const PATH = /^\/api\/finance\/payments\/([a-z]+)\/webhook\/?(?:\?.*)?$/;

export interface WebhookHandlerDeps {
  providers: ProviderRegistry;
  accounts: WebhookAccounts;
  publisher: EventPublisher;
  names: JetStreamNames;
  metrics: Metrics;
  logger: Logger;
  trustProxy: boolean;
  /** `WEBHOOK_RATE_PER_HOST`: per provider + host, 429 beyond it. */
  rate: { perSecond: number; burst: number };
}

class TooLarge extends Error {}

/** Reads the raw body, refusing more than the limit (declared or streamed) without buffering it. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > WEBHOOK_BODY_LIMIT) return reject(new TooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > WEBHOOK_BODY_LIMIT) {
        req.removeAllListeners('data');
        req.resume();
        reject(new TooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/**
 * `POST /api/finance/payments/:provider/webhook`, served on plain node:http ahead of Express (the hot path of the
 * service). Check order: size (413) → rate per provider + host (429 with Retry-After, before any database lookup,
 * so a flood for one host costs neither PostgreSQL nor the provider) → host (404) → signature (400, before anything is parsed or loaded) → parse →
 * livemode; then publish to JetStream with `Nats-Msg-Id` `<provider>:<eventId>` and answer 200 only after the
 * PubAck (a duplicate PubAck is 200 too). JetStream unavailable → 503 so the provider retries. Nothing is stored
 * for a 4xx. Returns false for requests that are not webhooks (Express serves those).
 */
/** Answers a request when it is a webhook (true); false leaves it to the next handler. */
export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export function webhookHandler(deps: WebhookHandlerDeps): WebhookHandler {
  const buckets = new TokenBuckets(deps.rate);
  return (req, res) => {
    const match = req.method === 'POST' && req.url ? PATH.exec(req.url) : null;
    if (!match) return false;
    void handle(deps, buckets, match[1], req, res).catch((error: unknown) => {
      if (res.headersSent) return deps.logger.error({ err: error }, 'webhook handler failed after answering');
      if (isDatabaseUnreachable(error)) {
        // no last known account for this host and PostgreSQL is away: the provider retries later
        deps.logger.warn({ provider: match[1] }, 'webhook not verified: database unreachable');
        return reply(
          deps,
          res,
          match[1],
          503,
          'unavailable',
          { error: 'temporarily unavailable, retry later' },
          undefined,
          {
            'retry-after': '5',
          },
        );
      }
      deps.logger.error({ err: error }, 'webhook handler failed');
      reply(deps, res, 'unknown', 500, 'error', { error: 'internal error' });
    });
    return true;
  };
}

function reply(
  deps: WebhookHandlerDeps,
  res: ServerResponse,
  provider: string,
  status: number,
  outcome: string,
  body: Record<string, unknown>,
  started?: bigint,
  headers: Record<string, string> = {},
) {
  deps.metrics.webhooks.inc({ provider, outcome });
  deps.metrics.httpRequests.inc({ method: 'POST', route: WEBHOOK_ROUTE, status: String(status) });
  if (started)
    deps.metrics.httpDuration.observe(
      { method: 'POST', route: WEBHOOK_ROUTE },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'x-request-id': randomUUID(),
    ...headers,
  });
  res.end(json);
}

/** What a webhook request is answered, by outcome (the metrics label). */
interface Answer {
  provider: string;
  status: number;
  outcome: string;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const refuse = (provider: string, status: number, outcome: string, error: string, headers?: Record<string, string>) =>
  ({ provider, status, outcome, body: { error }, headers }) satisfies Answer;

async function handle(
  deps: WebhookHandlerDeps,
  buckets: TokenBuckets,
  providerName: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = process.hrtime.bigint();
  // The webhook request's span: the root of the event's trace (or a child of the sender's `traceparent`); the publish
  // carries it into the NATS headers, settlement and its provider calls continue it. No body or header is recorded.
  const attributes = { 'http.request.method': 'POST', 'http.route': WEBHOOK_ROUTE, 'payments.provider': providerName };
  const parent = incomingRequestContext(req.headers);
  await tracer().startActiveSpan('POST webhook', { kind: SpanKind.SERVER, attributes }, parent, async (span) => {
    try {
      const answer = await receive(deps, buckets, providerName, req, span, trace.setSpan(parent, span));
      span.setAttributes({ 'http.response.status_code': answer.status, 'payments.webhook.outcome': answer.outcome });
      if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: answer.outcome });
      reply(deps, res, answer.provider, answer.status, answer.outcome, answer.body, started, answer.headers);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'internal error' });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The checks in order (size → rate → host → signature → parse → livemode), then the publish. */
async function receive(
  deps: WebhookHandlerDeps,
  buckets: TokenBuckets,
  providerName: string,
  req: IncomingMessage,
  span: Span,
  traceContext: Context,
): Promise<Answer> {
  if (!isProvider(providerName) || !deps.providers.has(providerName)) {
    req.resume();
    return refuse('unknown', 404, 'unknown_provider', 'unknown provider');
  }
  const provider = providerName;
  const body = await readBody(req).catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
  if (body instanceof TooLarge) return refuse(provider, 413, 'too_large', 'payload too large');
  if (body instanceof Error) {
    // The sender went away mid-body (the request stream errored): a client problem, not a server error; nothing is stored.
    deps.logger.warn({ provider, reason: body.message }, 'webhook body not received');
    return refuse(provider, 400, 'aborted', 'incomplete request body');
  }
  const host = requestHost(req.headers, deps.trustProxy);
  const retryAfter = buckets.take(`${provider} ${host ?? ''}`);
  if (retryAfter > 0) {
    const headers = { 'retry-after': String(retryAfter) };
    return refuse(provider, 429, 'rate_limited', 'too many requests for this host, retry later', headers);
  }
  const account = host ? await deps.accounts.find(provider, host) : null;
  if (!account) return refuse(provider, 404, 'unknown_host', 'no workspace is connected at this host');
  // One trace per event, from this request through the NATS headers into the worker's settlement logs.
  const context = { traceId: traceIdOf(span), provider, workspaceId: account.workspaceId };
  let verified: VerifiedWebhook;
  try {
    verified = deps.providers.get(provider).verifyWebhook(body, req.headers, account.webhookSecret);
  } catch (error) {
    if (!(error instanceof WebhookRejectedError)) throw error;
    deps.logger.warn({ ...context, reason: error.message }, 'webhook rejected');
    return refuse(provider, 400, 'rejected', error.message);
  }
  if (verified.livemode !== null && verified.livemode !== (account.mode === ProviderMode.LIVE)) {
    deps.logger.warn({ ...context, eventId: verified.eventId }, 'webhook livemode does not match the account mode');
    return refuse(
      provider,
      400,
      'wrong_mode',
      `event livemode=${verified.livemode} does not match the ${account.mode} account`,
    );
  }
  return store(deps, verified, context, traceContext);
}

/** 200 only once JetStream has stored the event (or knows it already); 503 when it cannot, so the provider retries. */
async function store(
  deps: WebhookHandlerDeps,
  verified: VerifiedWebhook,
  context: { traceId: string | null; provider: Provider; workspaceId: string },
  traceContext: Context,
): Promise<Answer> {
  const { provider, workspaceId } = context;
  try {
    const ack = await deps.publisher.publish(
      deps.names.eventSubject(provider, workspaceId),
      encodeEnvelope(provider, workspaceId, verified.body),
      {
        msgId: eventMsgId(provider, workspaceId, verified.eventId),
        headers: { [WorkestraHeader.EventType]: verified.type },
        // this request's span as `traceparent` (given explicitly: without export there is no active context)
        trace: traceContext,
      },
    );
    if (deps.logger.isLevelEnabled('info'))
      deps.logger.info(
        { ...context, eventId: verified.eventId, type: verified.type, seq: ack.seq, duplicate: ack.duplicate },
        'webhook stored',
      );
    const outcome = ack.duplicate ? 'duplicate' : 'stored';
    return { provider, status: 200, outcome, body: { received: true, duplicate: ack.duplicate } };
  } catch (error) {
    if (!(error instanceof JetStreamUnavailableError)) throw error;
    deps.logger.error(
      { ...context, eventId: verified.eventId, reason: error.reason },
      'webhook not stored: JetStream unavailable',
    );
    return refuse(provider, 503, 'unavailable', 'temporarily unavailable, retry later', { 'retry-after': '2' });
  }
}
