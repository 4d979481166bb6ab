import type { JsMsg } from '@nats-io/jetstream';
import { originalEventMsgId } from '../jetstream/names.js';
import type { Logger } from '../observability/logger.js';

/**
 * What a handler decides: acknowledge, redeliver later (the reason is logged and reported), or — `outage` — a
 * dependency it needs is unreachable: the message is held (not nak'ed) until the gate says it is back, then retried.
 */
export type HandleResult = 'ack' | { retry: string } | { outage: string };

/** `error` is a handler that threw (retried like `retry`); `returned` a message held in an outage and handed back at stop. */
export type ConsumeResultKind = 'ack' | 'retry' | 'error' | 'returned';

/** What the delivery needs of the worker's outage gate (./outage-gate.ts). */
export interface HoldGate {
  down(reason: string): void;
  whenUp(): Promise<void>;
}

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
  /** Where `outage` results wait; without one they are redelivered like `retry`. */
  gate?: HoldGate;
  /** True once the loop is stopping: a held message is then handed back (nak with `returnDelayMs`). */
  isStopping?(): boolean;
  returnDelayMs?: number;
}

/** Outages one delivery may wait out before its "unreachable" counts as its own failure. */
const MAX_HOLDS = 5;

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
  // working() while the handler runs and while an outage holds the message: its ack wait never runs out in our hands
  const working = setInterval(() => msg.working(), policy.workingEveryMs);
  let holds = 0;
  let result: HandleResult;
  let kind: ConsumeResultKind;
  try {
    for (;;) {
      try {
        result = await handle(msg);
        kind = result === 'ack' ? 'ack' : 'retry';
      } catch (error) {
        result = { retry: error instanceof Error ? error.message : String(error) };
        kind = 'error';
      }
      if (typeof result === 'string' || !('outage' in result)) break;
      // The handler is re-run only once the gate's probe has answered: one delivery meeting "unreachable" again and
      // again while the database answers the probe is this event's own failure, retried and counted like any other.
      if (!policy.gate || ++holds > MAX_HOLDS) {
        result = { retry: result.outage };
        break;
      }
      policy.gate.down(result.outage);
      await policy.gate.whenUp();
      if (policy.isStopping?.()) {
        // Handing it back costs one delivery: only at shutdown during an outage, never per failed attempt.
        msg.nak(policy.returnDelayMs ?? 0);
        return { kind: 'returned', ms: Date.now() - started, reason: result.outage };
      }
    }
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
