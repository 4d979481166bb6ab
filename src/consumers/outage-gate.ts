import type { Logger } from '../observability/logger.js';

export interface OutageGateOptions {
  /** Resolves when the dependency answers (PostgreSQL: `select 1`). */
  probe(): Promise<unknown>;
  logger: Logger;
  /** First pause between probes; doubles up to `maxProbeMs`. */
  minProbeMs?: number;
  maxProbeMs?: number;
  /** Called when an outage starts and ends (metrics). */
  onChange?(down: boolean): void;
}

/**
 * The worker's view of a dependency it cannot settle without (PostgreSQL). A handler that meets an unreachable
 * database calls `down()`; from then on the consume loop pulls nothing and the messages in hand wait in `whenUp()`
 * (kept ours with `working()`, so the outage uses none of their deliveries) while the gate probes with backoff.
 * The first probe that answers opens the gate and everything waiting retries.
 */
export class OutageGate {
  private outage: { since: number; up: Promise<void>; open: () => void } | null = null;
  private stopped = false;
  private cancelPause: () => void = () => {};

  constructor(private readonly options: OutageGateOptions) {}

  get isDown(): boolean {
    return this.outage !== null;
  }

  /** Resolves at once when the dependency is up, else when a probe first answers (or the gate is stopped). */
  whenUp(): Promise<void> {
    return this.outage?.up ?? Promise.resolve();
  }

  /** Marks the dependency unreachable (idempotent) and starts probing it. */
  down(reason: string): void {
    if (this.outage || this.stopped) return;
    let open = () => {};
    const up = new Promise<void>((resolve) => (open = resolve));
    this.outage = { since: Date.now(), up, open };
    this.options.logger.warn(
      { reason },
      'database unreachable: pulling paused, messages in hand held until it answers',
    );
    this.options.onChange?.(true);
    void this.probeUntilUp();
  }

  /** Ends probing and releases every waiter (they see `stopping` and hand their messages back). */
  stop(): void {
    this.stopped = true;
    this.cancelPause();
    this.open();
  }

  private open(): void {
    const outage = this.outage;
    if (!outage) return;
    this.outage = null;
    outage.open();
    if (!this.stopped) {
      this.options.logger.warn({ downMs: Date.now() - outage.since }, 'database answers again; settlement resumes');
      this.options.onChange?.(false);
    }
  }

  private async probeUntilUp(): Promise<void> {
    const min = this.options.minProbeMs ?? 250;
    const max = this.options.maxProbeMs ?? 2000;
    for (let pauseMs = min; !this.stopped; pauseMs = Math.min(pauseMs * 2, max)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pauseMs);
        this.cancelPause = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (this.stopped) return;
      try {
        await this.options.probe();
        this.open();
        return;
      } catch {
        // still down: probe again after a longer pause
      }
    }
  }
}
