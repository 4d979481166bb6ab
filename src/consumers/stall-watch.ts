import type { Consumer } from '@nats-io/jetstream';
import type { Logger } from '../observability/logger.js';

export interface StallWatchOptions {
  /** Quiet for this long with work pending is a stall. */
  stallMs: number;
  log: Logger;
  /** The consumer bound now (none while re-binding). */
  bound(): Consumer | undefined;
  /** Messages the loop holds (in flight or held for the database): they await an ack legitimately. */
  held(): number;
  /** Quiet is expected now (the database is away, or the loop is stopping). */
  quietExpected(): boolean;
  /** Called once per stall found: abandon the pull and bind again. */
  onStall(): void;
}

/**
 * The stall watchdog. A pull consumer can go quiet after a leader change or a server restart without any error
 * reaching the client. Quiet is only suspicious when the consumer has work that is not ours: messages pending, or
 * more waiting for an ack than the loop holds. Consumer info is read only after `stallMs` of quiet.
 */
export class StallWatch {
  private lastDeliveryAt = Date.now();
  private checking = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: StallWatchOptions) {
    const everyMs = Math.max(100, Math.min(5000, options.stallMs / 3));
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  /** A message arrived, or the loop (re-)bound. */
  delivered(): void {
    this.lastDeliveryAt = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private quietMs(): number {
    return Date.now() - this.lastDeliveryAt;
  }

  private async check(): Promise<void> {
    const { stallMs, log } = this.options;
    // quiet while the database is away is expected: the watch starts again from when it answers
    if (this.options.quietExpected()) this.delivered();
    const consumer = this.options.bound();
    if (this.checking || !consumer || this.quietMs() < stallMs) return;
    this.checking = true;
    try {
      const info = await consumer.info(false);
      if (this.options.quietExpected() || this.quietMs() < stallMs) return;
      if (info.num_pending > 0 || info.num_ack_pending > this.options.held()) {
        log.warn(
          { numPending: info.num_pending, numAckPending: info.num_ack_pending, quietMs: this.quietMs() },
          'consumer stalled: messages pending but none delivered; re-binding',
        );
        this.delivered();
        this.options.onStall();
      }
    } catch (error) {
      // the info request failing is the consume loop's business (it fails too and re-binds)
      log.debug({ err: error }, 'stall check could not read the consumer');
    } finally {
      this.checking = false;
    }
  }
}
