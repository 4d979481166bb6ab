import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { ClosedConnectionError, type NatsConnection } from '@nats-io/transport-node';
import { originalEventMsgId } from '../jetstream/names.js';
import type { Logger } from '../observability/logger.js';

/** What a handler decides: acknowledge, or redeliver later (the reason is logged and reported). */
export type HandleResult = 'ack' | { retry: string };

/** `error` is a handler that threw (retried like `retry`). */
export type ConsumeResultKind = 'ack' | 'retry' | 'error';

export interface PullConsumerOptions {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  /** Most handlers in flight at once; the loop never pulls more messages than free slots. */
  concurrency: number;
  /** Redelivery delay by delivery count (the last entry repeats). */
  backoffMs: number[];
  logger: Logger;
  handle(msg: JsMsg): Promise<HandleResult>;
  /** Called once per handled delivery (metrics, remembering the last error of an event). */
  onResult?(kind: ConsumeResultKind, ms: number, detail: { msg: JsMsg; reason?: string }): void;
  /** How long one pull waits for messages (nats.js minimum 1000). Bounds how long `stop()` waits for it. */
  expiresMs?: number;
  /** `stop()` waits this long for running handlers. */
  stopTimeoutMs?: number;
  /** How long to wait for the server to confirm an ack (with `confirmAcks`). */
  ackTimeoutMs?: number;
  /** Wait for JetStream to confirm each ack (a round trip per message); off by default. */
  confirmAcks?: boolean;
  /**
   * The connection `js` uses: when it reconnects after an outage the loop re-binds at once, instead of waiting out a
   * JetStream request sent while the server was away (it is never answered: up to its 5 s timeout) and a backoff pause.
   */
  nc?: NatsConnection;
}

/** Raised into a pending re-bind when the connection came back: retry now rather than wait for its timeout. */
class Reconnected extends Error {}

/** A running consume loop. */
export interface PullConsumerHandle {
  /** Stops pulling, waits (bounded) for running handlers, then resolves. */
  stop(): Promise<void>;
}

/** A cancellable pause, so no stray timer keeps the process alive after `stop()`. */
function pause(ms: number): { done: Promise<void>; cancel(): void } {
  let cancel = () => {};
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    cancel = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, cancel };
}

/**
 * Pulls messages from a durable pull consumer with bounded concurrency and survives NATS outages:
 * if the consumer, the stream or the connection goes away, the error is logged and the loop re-binds
 * after a growing pause. `fetch()` is used rather than `consume()` so that the client never buffers
 * messages it has no slot for (buffered messages would time out and burn deliveries towards max_deliver).
 */
export function startPullConsumer(options: PullConsumerOptions): PullConsumerHandle {
  const { js, stream, consumer: consumerName, concurrency, backoffMs, logger } = options;
  const expiresMs = Math.max(1000, options.expiresMs ?? 3000);
  const stopTimeoutMs = options.stopTimeoutMs ?? 8000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 5000;
  const confirmAcks = options.confirmAcks ?? false;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  const log = logger.child({ stream, consumer: consumerName });

  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let wake: () => void = () => {};
  let current: ConsumerMessages | undefined;
  const wakeUp = () => wake();

  const delayFor = (deliveryCount: number) =>
    backoffMs.length === 0 ? 0 : backoffMs[Math.min(Math.max(deliveryCount, 1) - 1, backoffMs.length - 1)];

  async function settle(msg: JsMsg, maxDeliver: number, workingEveryMs: number): Promise<void> {
    const started = Date.now();
    const msgId = originalEventMsgId(msg.headers);
    const deliveries = msg.info.deliveryCount;
    // keep the delivery ours while the handler runs longer than the ack wait would allow
    const working = setInterval(() => msg.working(), workingEveryMs);
    let result: HandleResult;
    let kind: ConsumeResultKind;
    try {
      result = await options.handle(msg);
      kind = result === 'ack' ? 'ack' : 'retry';
    } catch (error) {
      result = { retry: error instanceof Error ? error.message : String(error) };
      kind = 'error';
    } finally {
      clearInterval(working);
    }
    const ms = Date.now() - started;
    if (result === 'ack') {
      // The work is committed before this. A lost ack only means one more delivery, which the settlement inbox turns
      // into a no-op, so the ack is not confirmed with a round trip per message (`confirmAcks` opts in).
      if (confirmAcks) {
        try {
          await msg.ackAck({ timeout: ackTimeoutMs });
        } catch (error) {
          log.warn(
            { err: error, seq: msg.info.streamSequence, msgId },
            'ack not confirmed by JetStream; the message may be redelivered',
          );
        }
      } else msg.ack();
    } else {
      // on the last delivery there is nothing to wait for: the server dead-letters it at once
      const last = maxDeliver > 0 && deliveries >= maxDeliver;
      const delay = last ? 0 : delayFor(deliveries);
      msg.nak(delay);
      const what = last
        ? 'event handling failed on its last delivery; it goes to the DLQ'
        : 'event handling failed; will retry';
      log.warn(
        { seq: msg.info.streamSequence, msgId, deliveries, maxDeliver, delayMs: delay, reason: result.retry },
        what,
      );
    }
    try {
      options.onResult?.(kind, ms, { msg, reason: result === 'ack' ? undefined : result.retry });
    } catch (error) {
      log.error({ err: error }, 'onResult callback threw');
    }
  }

  function dispatch(msg: JsMsg, maxDeliver: number, workingEveryMs: number): void {
    const task = settle(msg, maxDeliver, workingEveryMs).catch((error: unknown) =>
      log.error({ err: error }, 'settling a message failed'),
    );
    inFlight.add(task);
    void task.finally(() => {
      inFlight.delete(task);
      wakeUp();
    });
  }

  /**
   * Waits for room for a worthwhile pull: at least a quarter of the slots (or all of them when idle), so a busy worker
   * does not issue one pull request per finished message.
   */
  const minPull = Math.max(1, Math.floor(concurrency / 4));
  async function slotFree(): Promise<void> {
    while (!stopping && inFlight.size > 0 && concurrency - inFlight.size < minPull)
      await new Promise<void>((resolve) => (wake = resolve));
  }

  async function pullBatches(consumer: Consumer): Promise<void> {
    const { config } = await consumer.info(true);
    const maxDeliver = config.max_deliver ?? -1;
    const ackWaitMs = (config.ack_wait ?? 30e9) / 1e6;
    const workingEveryMs = Math.max(200, Math.min(10_000, Math.floor(ackWaitMs / 3)));
    while (!stopping) {
      await slotFree();
      if (stopping) return;
      const batch = await consumer.fetch({ max_messages: concurrency - inFlight.size, expires: expiresMs });
      current = batch;
      // if the connection drops mid-fetch nats.js may wait for reconnect; never let one fetch hang the loop
      const watchdog = setTimeout(() => void batch.close(), expiresMs * 3 + 5000);
      try {
        for await (const msg of batch) {
          // Stopping: hand the message back to the other workers. A plain nak() is redelivered at once into this
          // still-open pull and nak'ed again, burning every delivery in milliseconds (dead-lettered with no error);
          // the delay outlives this pull, which stop() lets run out for at most expiresMs + 1 s.
          if (stopping) msg.nak(expiresMs + 1000);
          else dispatch(msg, maxDeliver, workingEveryMs);
        }
      } finally {
        clearTimeout(watchdog);
        current = undefined;
      }
    }
  }

  // Each reconnect settles the current `reconnected` promise (and wakes a pause) and arms a new one.
  let onReconnect: () => void = () => {};
  let reconnected = new Promise<never>((_, reject) => (onReconnect = () => reject(new Reconnected())));
  reconnected.catch(() => {});
  if (options.nc) {
    void (async () => {
      for await (const status of options.nc!.status()) {
        if (status.type !== 'reconnect' || stopping) continue;
        const fire = onReconnect;
        reconnected = new Promise<never>((_, reject) => (onReconnect = () => reject(new Reconnected())));
        reconnected.catch(() => {});
        fire();
        wakeUp();
      }
    })().catch(() => {});
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        const consumer = await Promise.race([js.consumers.get(stream, consumerName), reconnected]);
        if (failures > 0) log.info({ failures }, 'consumer reachable again; resuming');
        failures = 0;
        await pullBatches(consumer);
      } catch (error) {
        if (stopping) break;
        if (error instanceof Reconnected) {
          log.info('NATS reconnected; re-binding the consumer');
          failures = 0;
          continue;
        }
        if (error instanceof ClosedConnectionError) {
          log.error({ err: error }, 'NATS connection closed; consume loop ends');
          return;
        }
        failures += 1;
        const pauseMs = Math.min(500 * 2 ** (failures - 1), 10_000);
        log.warn({ err: error, failures, pauseMs }, 'pulling from JetStream failed; re-subscribing after a pause');
        const wait = pause(pauseMs);
        wake = wait.cancel;
        await wait.done;
      }
    }
  }

  const loop = run();
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wakeUp();
        const deadline = pause(stopTimeoutMs);
        // let the open pull run out (≤ expiresMs) so nothing is delivered to an inbox nobody reads;
        // messages that still arrive are nak'ed back (with a delay, so they go to another worker)
        const pullEnds = pause(Math.min(expiresMs + 1000, stopTimeoutMs));
        await Promise.race([loop, pullEnds.done]);
        pullEnds.cancel();
        if (current) await current.close();
        const drained = await Promise.race([
          Promise.all([...inFlight]).then(() => true),
          deadline.done.then(() => false),
        ]);
        deadline.cancel();
        if (!drained) log.warn({ inFlight: inFlight.size }, 'stop timed out with handlers still running');
      })();
      return stopped;
    },
  };
}
