import express, { Router, type Request, type Response } from 'express';
import { Provider, ProviderMode } from '../entities/index.js';
import { eventMsgId, type JetStreamNames } from '../jetstream/names.js';
import { JetStreamUnavailableError, type EventPublisher } from '../jetstream/publisher.js';
import type { Logger } from '../logger.js';
import { WebhookRejectedError } from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { requestHost, type WebhookAccounts } from '../services/webhook-accounts.js';
import type { Metrics } from './metrics.js';
import { continueTrace } from './trace-context.js';

/** Largest accepted body. NATS's default max payload is 1 MiB with headers: an accepted body must always fit. */
export const WEBHOOK_BODY_LIMIT = 512 * 1024;

export interface WebhookRouteDeps {
  providers: ProviderRegistry;
  accounts: WebhookAccounts;
  publisher: EventPublisher;
  names: JetStreamNames;
  metrics: Metrics;
  logger: Logger;
  trustProxy: boolean;
}

const PROVIDERS = new Set<string>(Object.values(Provider));

/**
 * `POST /api/finance/payments/:provider/webhook`: size → host → signature → parse → livemode, then publish to
 * JetStream with `Nats-Msg-Id` = `<provider>:<eventId>` and answer 200 only after the PubAck (a duplicate PubAck
 * is 200 too). JetStream unavailable → 503 so the provider retries. Nothing is parsed or loaded before the
 * signature is checked, and nothing is stored for a 4xx.
 */
export function webhookRoutes(deps: WebhookRouteDeps): Router {
  const router = Router();
  const answer = (res: Response, provider: string, status: number, outcome: string, body: Record<string, unknown>) => {
    deps.metrics.webhooks.inc({ provider, outcome });
    res.status(status).json(body);
  };

  router.post(
    '/api/finance/payments/:provider/webhook',
    (req, res, next) => {
      if (!PROVIDERS.has(req.params.provider as string) || !deps.providers.has(req.params.provider as Provider)) {
        answer(res, 'unknown', 404, 'unknown_provider', { error: 'unknown provider' });
        return;
      }
      next();
    },
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }),
    async (req: Request, res: Response) => {
      const provider = req.params.provider as Provider;
      // One trace id per event, from this request through the NATS headers into the worker's settlement logs.
      const trace = continueTrace(req.headers.traceparent);
      const log = (res.locals.log as Logger | undefined) ?? deps.logger;
      const traceId = trace.traceId;
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const host = requestHost(req.headers, deps.trustProxy);
      const account = host ? await deps.accounts.find(provider, host) : null;
      if (!account) {
        answer(res, provider, 404, 'unknown_host', { error: 'no workspace is connected at this host' });
        return;
      }
      const adapter = deps.providers.get(provider);
      let verified;
      try {
        verified = adapter.verifyWebhook(body, req.headers, account.webhookSecret);
      } catch (error) {
        if (!(error instanceof WebhookRejectedError)) throw error;
        log.warn({ traceId, provider, workspaceId: account.workspaceId, reason: error.message }, 'webhook rejected');
        answer(res, provider, 400, 'rejected', { error: error.message });
        return;
      }
      if (verified.livemode !== null && verified.livemode !== (account.mode === ProviderMode.LIVE)) {
        log.warn({ traceId, provider, workspaceId: account.workspaceId, eventId: verified.eventId }, 'webhook livemode does not match the account mode');
        answer(res, provider, 400, 'wrong_mode', { error: `event livemode=${verified.livemode} does not match the ${account.mode} account` });
        return;
      }
      // The verified bytes are embedded as they are: no re-serialisation on the hot path.
      const envelope = Buffer.concat([
        Buffer.from(`{"provider":"${provider}","workspaceId":"${account.workspaceId}","receivedAt":"${new Date().toISOString()}","event":`),
        verified.body,
        Buffer.from('}'),
      ]);
      try {
        const ack = await deps.publisher.publish(deps.names.eventSubject(provider, account.workspaceId), envelope, {
          msgId: eventMsgId(provider, verified.eventId),
          headers: { 'Workestra-Event-Type': verified.type, traceparent: trace.traceparent },
        });
        res.locals.logged = true;
        log.info({ traceId, provider, workspaceId: account.workspaceId, eventId: verified.eventId, type: verified.type, seq: ack.seq, duplicate: ack.duplicate }, 'webhook stored');
        answer(res, provider, 200, ack.duplicate ? 'duplicate' : 'stored', { received: true, duplicate: ack.duplicate });
      } catch (error) {
        if (!(error instanceof JetStreamUnavailableError)) throw error;
        log.error({ traceId, provider, workspaceId: account.workspaceId, eventId: verified.eventId, reason: error.reason }, 'webhook not stored: JetStream unavailable');
        answer(res, provider, 503, 'unavailable', { error: 'temporarily unavailable, retry later' });
      }
    },
  );
  return router;
}
