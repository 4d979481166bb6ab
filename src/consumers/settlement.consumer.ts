import type { JsMsg } from '@nats-io/jetstream';
import type { Metrics } from '../http/metrics.js';
import { traceIdOf } from '../http/trace-context.js';
import { parseEventMsgId } from '../jetstream/names.js';
import type { Logger } from '../logger.js';
import { SettlementError } from '../settlement/settlement-event.js';
import { SettlementService } from '../settlement/settlement.service.js';
import type { HandleResult } from './consume-loop.js';

/**
 * The settlement consumer's handler: one message, one unit of work, then ack. Any failure is recorded on the inbox
 * row (its last error travels to the DLQ) and the message is redelivered with backoff until max_deliver.
 */
export function settlementHandler(settlement: SettlementService, metrics: Metrics, logger: Logger): (msg: JsMsg) => Promise<HandleResult> {
  return async (msg) => {
    const started = process.hrtime.bigint();
    const identity = parseEventMsgId(msg.headers?.get('Workestra-Original-Msg-Id') || msg.headers?.get('Nats-Msg-Id') || '');
    const type = msg.headers?.get('Workestra-Event-Type') || 'unknown';
    const traceId = traceIdOf(msg.headers?.get('traceparent'));
    const log = logger.child({ traceId, seq: msg.info.streamSequence, deliveries: msg.info.deliveryCount, eventId: identity?.eventId, provider: identity?.provider });
    let workspaceId: string | null = null;
    try {
      const envelope = SettlementService.parseEnvelope(msg.data);
      workspaceId = envelope.workspaceId;
      const outcome = await settlement.settle(envelope, { streamSequence: msg.info.streamSequence });
      metrics.eventsSettled.inc({ result: outcome });
      metrics.settlementDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      log.info({ workspaceId, type, outcome }, 'event settled');
      return 'ack';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof SettlementError;
      metrics.eventsSettled.inc({ result: 'failed' });
      log[permanent ? 'warn' : 'error']({ workspaceId, type, err: permanent ? undefined : error, reason: message }, 'event not settled; will retry');
      if (identity && workspaceId) {
        await settlement
          .recordFailure({ provider: identity.provider, workspaceId, eventId: identity.eventId, type }, message)
          .catch((recordError: unknown) => log.warn({ err: recordError }, 'could not record the failure'));
      }
      return { retry: message };
    }
  };
}
