import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { ClosedConnectionError, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../observability/logger.js';
import {
  handleDelivery,
  type ConsumeResultKind,
  type DeliveryPolicy,
  type HandleResult,
  type HoldGate,
} from './delivery.js';
import { Reconnected, ReconnectSignal } from './reconnects.js';
import { StallWatch } from './stall-watch.js';

export type { ConsumeResultKind, HandleResult } from './delivery.js';

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
  /**
   * The worker's database gate: while it is down nothing is pulled and `outage` results are held (see delivery.ts).
   */
  gate?: HoldGate & { readonly isDown: boolean; stop(): void };
  /**
   * The stall watchdog: when nothing was delivered for this long while the consumer reports messages pending (or
   * waiting for an ack that is not ours), the loop re-binds. Default 15000; 0 turns it off.
   */
  stallMs?: number;
  /** Called at every re-bind, with why (`stall`, `reconnect`, `heartbeats`, `fetch_timeout`, `error`). */
  onRebind?(reason: RebindReason): void;
}

/** Why the loop bound to the consumer again (the label of `payments_consumer_rebinds_total`). */
export type RebindReason = 'stall' | 'reconnect' | 'heartbeats' | 'fetch_timeout' | 'error';

/** Raised into the loop by the stall watchdog. */
class Stalled extends Error {}

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
  return new PullConsumerLoop(options);
}

class PullConsumerLoop implements PullConsumerHandle {
  private readonly log: Logger;
  private readonly expiresMs: number;
  private readonly inFlight = new Set<Promise<void>>();
  /** Pull at least this many at once (a quarter of the slots): a busy worker does not pull per finished message. */
  private readonly minPull: number;
  private readonly reconnects: ReconnectSignal;
  private readonly loop: Promise<void>;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private current: ConsumerMessages | undefined;
  private wake: () => void = () => {};
  /** The consumer bound now, for the stall watchdog's info request. */
  private bound: Consumer | undefined;
  /** Set by the stall watchdog: the pull in progress is abandoned and the loop binds again. */
  private stalled = false;
  private fetchTimedOut = false;
  private readonly stallWatch: StallWatch | undefined;

  constructor(private readonly options: PullConsumerOptions) {
    const { concurrency, stream, consumer } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
    this.log = options.logger.child({ stream, consumer });
    this.expiresMs = Math.max(1000, options.expiresMs ?? 3000);
    this.minPull = Math.max(1, Math.floor(concurrency / 4));
    this.reconnects = new ReconnectSignal(
      options.nc,
      () => this.wake(),
      () => this.stopping,
    );
    const stallMs = options.stallMs ?? 15_000;
    if (stallMs > 0)
      this.stallWatch = new StallWatch({
        stallMs,
        log: this.log,
        bound: () => this.bound,
        held: () => this.inFlight.size,
        quietExpected: () => this.stopping || (options.gate?.isDown ?? false),
        onStall: () => {
          this.stalled = true;
          this.wake();
          void this.current?.close();
        },
      });
    this.loop = this.run();
  }

  private rebound(reason: RebindReason): void {
    try {
      this.options.onRebind?.(reason);
    } catch (error) {
      this.log.error({ err: error }, 'onRebind callback threw');
    }
  }

  /** Binds to the consumer and pulls; on failure re-binds after a growing pause (at once after a reconnect). */
  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const { js, stream, consumer: name } = this.options;
        const consumer = await Promise.race([js.consumers.get(stream, name), this.reconnects.next]);
        if (failures > 0) this.log.info({ failures }, 'consumer reachable again; resuming');
        failures = 0;
        this.bound = consumer;
        this.stallWatch?.delivered();
        await this.pullBatches(consumer);
      } catch (error) {
        this.bound = undefined;
        if (this.stopping) break;
        if (error instanceof Stalled) {
          this.rebound('stall');
          continue;
        }
        if (error instanceof Reconnected) {
          this.log.info('NATS reconnected; re-binding the consumer');
          this.rebound('reconnect');
          failures = 0;
          continue;
        }
        if (error instanceof ClosedConnectionError) {
          this.log.error({ err: error }, 'NATS connection closed; consume loop ends');
          return;
        }
        this.rebound(/heartbeats missed/i.test(String(error)) ? 'heartbeats' : 'error');
        failures += 1;
        const pauseMs = Math.min(500 * 2 ** (failures - 1), 10_000);
        this.log.warn({ err: error, failures, pauseMs }, 'pulling from JetStream failed; re-subscribing after a pause');
        const wait = pause(pauseMs);
        this.wake = wait.cancel;
        await wait.done;
      }
    }
  }

  private async pullBatches(consumer: Consumer): Promise<void> {
    const policy = await this.deliveryPolicy(consumer);
    const { concurrency } = this.options;
    while (!this.stopping) {
      await this.slotFree();
      if (this.stopping) return;
      this.throwIfStalled();
      const batch = await consumer.fetch({ max_messages: concurrency - this.inFlight.size, expires: this.expiresMs });
      this.current = batch;
      // if the connection drops mid-fetch nats.js may wait for reconnect; never let one fetch hang the loop
      const watchdog = setTimeout(
        () => {
          this.fetchTimedOut = true;
          void batch.close();
        },
        this.expiresMs * 3 + 5000,
      );
      try {
        for await (const msg of batch) {
          this.stallWatch?.delivered();
          // Stopping: hand the message back to the other workers. A plain nak() is redelivered at once into this
          // still-open pull and nak'ed again, burning every delivery in milliseconds (dead-lettered with no error);
          // the delay outlives this pull, which stop() lets run out for at most expiresMs + 1 s.
          if (this.stopping) msg.nak(this.expiresMs + 1000);
          else this.dispatch(msg, policy);
        }
      } finally {
        clearTimeout(watchdog);
        this.current = undefined;
      }
      if (this.fetchTimedOut) {
        this.fetchTimedOut = false;
        this.rebound('fetch_timeout');
      }
    }
  }

  private throwIfStalled(): void {
    if (!this.stalled) return;
    this.stalled = false;
    throw new Stalled();
  }

  private async deliveryPolicy(consumer: Consumer): Promise<DeliveryPolicy> {
    const { config } = await consumer.info(true);
    const ackWaitMs = (config.ack_wait ?? 30e9) / 1e6;
    return {
      backoffMs: this.options.backoffMs,
      maxDeliver: config.max_deliver ?? -1,
      workingEveryMs: Math.max(200, Math.min(10_000, Math.floor(ackWaitMs / 3))),
      confirmAcks: this.options.confirmAcks ?? false,
      ackTimeoutMs: this.options.ackTimeoutMs ?? 5000,
      gate: this.options.gate,
      isStopping: () => this.stopping,
      // outlives the open pull, so a message handed back at stop goes to another worker
      returnDelayMs: this.expiresMs + 1000,
    };
  }

  /** Waits for room for a worthwhile pull (all slots when idle), and for the database while it is unreachable. */
  private async slotFree(): Promise<void> {
    const { concurrency, gate } = this.options;
    for (;;) {
      if (this.stopping || this.stalled) return;
      if (gate?.isDown) {
        await Promise.race([gate.whenUp(), new Promise<void>((resolve) => (this.wake = resolve))]);
        continue;
      }
      if (this.inFlight.size > 0 && concurrency - this.inFlight.size < this.minPull)
        await new Promise<void>((resolve) => (this.wake = resolve));
      else return;
    }
  }

  private dispatch(msg: JsMsg, policy: DeliveryPolicy): void {
    const task = handleDelivery(msg, (m) => this.options.handle(m), policy, this.log)
      .then(({ kind, ms, reason }) => this.report(kind, ms, msg, reason))
      .catch((error: unknown) => this.log.error({ err: error }, 'settling a message failed'));
    this.inFlight.add(task);
    void task.finally(() => {
      this.inFlight.delete(task);
      this.wake();
    });
  }

  private report(kind: ConsumeResultKind, ms: number, msg: JsMsg, reason?: string): void {
    try {
      this.options.onResult?.(kind, ms, { msg, reason });
    } catch (error) {
      this.log.error({ err: error }, 'onResult callback threw');
    }
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.stallWatch?.stop();
      // messages held for the database are handed back (they see `stopping`)
      this.options.gate?.stop();
      this.wake();
      const stopTimeoutMs = this.options.stopTimeoutMs ?? 8000;
      const deadline = pause(stopTimeoutMs);
      // let the open pull run out (≤ expiresMs) so nothing is delivered to an inbox nobody reads;
      // messages that still arrive are nak'ed back (with a delay, so they go to another worker)
      const pullEnds = pause(Math.min(this.expiresMs + 1000, stopTimeoutMs));
      await Promise.race([this.loop, pullEnds.done]);
      pullEnds.cancel();
      if (this.current) await this.current.close();
      const drained = await Promise.race([
        Promise.all([...this.inFlight]).then(() => true),
        deadline.done.then(() => false),
      ]);
      deadline.cancel();
      if (!drained) this.log.warn({ inFlight: this.inFlight.size }, 'stop timed out with handlers still running');
    })();
    return this.stopped;
  }
}
