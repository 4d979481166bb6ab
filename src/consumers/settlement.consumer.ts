import type { JsMsg } from '@nats-io/jetstream';
import type { Provider } from '../vocabulary/index.js';
import type { Metrics } from '../observability/metrics.js';
import { traceIdOf } from '../observability/trace-context.js';
import { parseEventMsgId } from '../jetstream/names.js';
import type { Logger } from '../observability/logger.js';
import { SettlementError } from '../vocabulary/settlement-event.js';
import { SettlementService, singlePayment, type SettleOutcome } from '../settlement/settlement.service.js';
import type { HandleResult } from './consume-loop.js';
import { SettlementBatcher } from './settlement-batcher.js';

/**
 * The settlement consumer's handler: one message, one idempotent application (payment events through the batcher,
 * others in a unit of work of their own), committed before the ack. Any failure is recorded on the inbox row (its
 * last error travels to the DLQ) and the message is redelivered with backoff until max_deliver.
 */
export function settlementHandler(
  settlement: SettlementService,
  metrics: Metrics,
  logger: Logger,
): (msg: JsMsg) => Promise<HandleResult> {
  const batcher = new SettlementBatcher(settlement);
  return async (msg) => {
    const started = process.hrtime.bigint();
    const identity = parseEventMsgId(
      msg.headers?.get('Workestra-Original-Msg-Id') || msg.headers?.get('Nats-Msg-Id') || '',
    );
    const type = msg.headers?.get('Workestra-Event-Type') || 'unknown';
    const context = () => ({
      traceId: traceIdOf(msg.headers?.get('traceparent')),
      seq: msg.info.streamSequence,
      deliveries: msg.info.deliveryCount,
      eventId: identity?.eventId,
      provider: identity?.provider,
    });
    let workspaceId: string | null = null;
    try {
      const envelope = SettlementService.parseEnvelope(msg.data);
      workspaceId = envelope.workspaceId;
      const event = await settlement.interpret(envelope);
      const payment = singlePayment(event);
      let outcome: SettleOutcome | Error;
      if (payment) {
        outcome = await batcher.submit({
          provider: envelope.provider as Provider,
          workspaceId,
          eventId: event.eventId,
          type: event.type,
          update: payment,
          streamSequence: msg.info.streamSequence,
        });
      } else {
        outcome = await settlement.apply(envelope.provider as Provider, workspaceId, event, msg.info.streamSequence);
      }
      if (outcome instanceof Error) throw outcome;
      metrics.eventsSettled.inc({ result: outcome });
      metrics.settlementDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      if (logger.isLevelEnabled('info')) logger.info({ ...context(), workspaceId, type, outcome }, 'event settled');
      return 'ack';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof SettlementError;
      metrics.eventsSettled.inc({ result: 'failed' });
      logger[permanent ? 'warn' : 'error'](
        { ...context(), workspaceId, type, err: permanent ? undefined : error, reason: message },
        'event not settled; will retry',
      );
      if (identity && workspaceId) {
        await settlement
          .recordFailure({ provider: identity.provider, workspaceId, eventId: identity.eventId, type }, message)
          .catch((recordError: unknown) => logger.warn({ err: recordError }, 'could not record the failure'));
      }
      return { retry: message };
    }
  };
}
