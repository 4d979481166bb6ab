import type { JsMsg } from '@nats-io/jetstream';
import { parseEnvelope } from '../jetstream/envelope.js';
import { originalEventMsgId, parseEventMsgId, WorkestraHeader } from '../jetstream/names.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { traceIdOf } from '../observability/trace-context.js';
import type { SettlementService } from '../settlement/settlement.service.js';
import { isDatabaseUnreachable } from '../errors.js';
import { isProvider, SettlementError } from '../vocabulary/index.js';
import type { HandleResult } from './consume-loop.js';

/**
 * The settlement consumer's handler: one message, one idempotent application, committed before the ack. Any failure
 * is recorded on the inbox row (its last error travels to the DLQ) and the message is redelivered with backoff until
 * max_deliver.
 */
export function settlementHandler(
  settlement: SettlementService,
  metrics: Metrics,
  logger: Logger,
): (msg: JsMsg) => Promise<HandleResult> {
  return async (msg) => {
    const started = process.hrtime.bigint();
    const identity = parseEventMsgId(originalEventMsgId(msg.headers) ?? '');
    const type = msg.headers?.get(WorkestraHeader.EventType) || 'unknown';
    const context = () => ({
      traceId: traceIdOf(msg.headers?.get('traceparent')),
      seq: msg.info.streamSequence,
      deliveries: msg.info.deliveryCount,
      eventId: identity?.eventId,
      provider: identity?.provider,
    });
    let workspaceId: string | null = null;
    try {
      const envelope = parseEnvelope(msg.data);
      workspaceId = envelope.workspaceId;
      const outcome = await settlement.settle(envelope, { streamSequence: msg.info.streamSequence });
      metrics.eventsSettled.inc({ result: outcome });
      metrics.settlementDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      if (logger.isLevelEnabled('info')) logger.info({ ...context(), workspaceId, type, outcome }, 'event settled');
      return 'ack';
    } catch (error) {
      // An outage is not the event's failure: nothing is recorded and the message is held until PostgreSQL answers.
      if (isDatabaseUnreachable(error)) return { outage: 'database unreachable' };
      const message = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof SettlementError;
      metrics.eventsSettled.inc({ result: 'failed' });
      logger[permanent ? 'warn' : 'error'](
        { ...context(), workspaceId, type, err: permanent ? undefined : error, reason: message },
        'event not settled; will retry',
      );
      if (identity && isProvider(identity.provider) && workspaceId) {
        await settlement
          .recordFailure({ provider: identity.provider, workspaceId, eventId: identity.eventId, type }, message)
          .catch((recordError: unknown) => logger.warn({ err: recordError }, 'could not record the failure'));
      }
      return { retry: message };
    }
  };
}
