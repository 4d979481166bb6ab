import type { JsMsg } from '@nats-io/jetstream';
import { parseEnvelope } from '../jetstream/envelope.js';
import { originalEventMsgId, parseEventMsgId, WorkestraHeader } from '../jetstream/names.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { extractFromNatsHeaders, traceIdOf, tracer } from '../observability/tracing.js';
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
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
  return (msg) => {
    const type = msg.headers?.get(WorkestraHeader.EventType) || 'unknown';
    // The settlement unit of work continues the webhook request's trace from the message's `traceparent`.
    const attributes = {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': msg.subject,
      'payments.event.type': type,
      'payments.stream.sequence': msg.info.streamSequence,
      'payments.deliveries': msg.info.deliveryCount,
    };
    const parent = extractFromNatsHeaders(msg.headers);
    return tracer().startActiveSpan('settle event', { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
      try {
        const result = await settle(msg, type, span);
        if (result !== 'ack') span.setStatus({ code: SpanStatusCode.ERROR, message: 'not settled; will retry' });
        return result;
      } finally {
        span.end();
      }
    });
  };

  async function settle(msg: JsMsg, type: string, span: Span): Promise<HandleResult> {
    const started = process.hrtime.bigint();
    const identity = parseEventMsgId(originalEventMsgId(msg.headers) ?? '');
    const context = () => ({
      traceId: traceIdOf(span),
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
      span.setAttribute('payments.settlement.outcome', outcome);
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
  }
}
