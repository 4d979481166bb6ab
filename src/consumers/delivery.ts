import type { JsMsg } from '@nats-io/jetstream';
import { originalEventMsgId } from '../jetstream/names.js';
import type { Logger } from '../observability/logger.js';

/** What a handler decides: acknowledge, or redeliver later (the reason is logged and reported). */
export type HandleResult = 'ack' | { retry: string };

/** `error` is a handler that threw (retried like `retry`). */
export type ConsumeResultKind = 'ack' | 'retry' | 'error';

/** How one delivery is answered. */
export interface DeliveryPolicy {
  /** Redelivery delay by delivery count (the last entry repeats). */
  backoffMs: number[];
  /** The consumer's max_deliver (-1: unlimited). */
  maxDeliver: number;
  /** How often to tell JetStream a long handler is still working (a third of the ack wait). */
  workingEveryMs: number;
  /** Wait for JetStream to confirm the ack, at most `ackTimeoutMs`. */
  confirmAcks: boolean;
  ackTimeoutMs: number;
}

export const redeliveryDelay = (backoffMs: number[], deliveryCount: number) =>
  backoffMs.length === 0 ? 0 : backoffMs[Math.min(Math.max(deliveryCount, 1) - 1, backoffMs.length - 1)];

/** Runs the handler on one delivery (keeping it ours while it runs), then acks it or naks it with backoff. */
export async function handleDelivery(
  msg: JsMsg,
  handle: (msg: JsMsg) => Promise<HandleResult>,
  policy: DeliveryPolicy,
  log: Logger,
): Promise<{ kind: ConsumeResultKind; ms: number; reason?: string }> {
  const started = Date.now();
  const working = setInterval(() => msg.working(), policy.workingEveryMs);
  let result: HandleResult;
  let kind: ConsumeResultKind;
  try {
    result = await handle(msg);
    kind = result === 'ack' ? 'ack' : 'retry';
  } catch (error) {
    result = { retry: error instanceof Error ? error.message : String(error) };
    kind = 'error';
  } finally {
    clearInterval(working);
  }
  const ms = Date.now() - started;
  if (result === 'ack') await acknowledge(msg, policy, log);
  else redeliver(msg, policy, result.retry, log);
  return { kind, ms, reason: result === 'ack' ? undefined : result.retry };
}

/**
 * The work is committed before this. A lost ack only means one more delivery, which the settlement inbox turns into
 * a no-op, so the ack is not confirmed with a round trip per message unless `confirmAcks` asks for it.
 */
async function acknowledge(msg: JsMsg, policy: DeliveryPolicy, log: Logger): Promise<void> {
  if (!policy.confirmAcks) return msg.ack();
  try {
    await msg.ackAck({ timeout: policy.ackTimeoutMs });
  } catch (error) {
    log.warn(
      { err: error, seq: msg.info.streamSequence, msgId: originalEventMsgId(msg.headers) },
      'ack not confirmed by JetStream; the message may be redelivered',
    );
  }
}

function redeliver(msg: JsMsg, policy: DeliveryPolicy, reason: string, log: Logger): void {
  const deliveries = msg.info.deliveryCount;
  // on the last delivery there is nothing to wait for: the server dead-letters it at once
  const last = policy.maxDeliver > 0 && deliveries >= policy.maxDeliver;
  const delay = last ? 0 : redeliveryDelay(policy.backoffMs, deliveries);
  msg.nak(delay);
  log.warn(
    {
      seq: msg.info.streamSequence,
      msgId: originalEventMsgId(msg.headers),
      deliveries,
      maxDeliver: policy.maxDeliver,
      delayMs: delay,
      reason,
    },
    last ? 'event handling failed on its last delivery; it goes to the DLQ' : 'event handling failed; will retry',
  );
}
