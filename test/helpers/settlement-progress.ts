import type { Pool } from 'pg';

/** Counts settled inbox rows every 200 ms, so a test can tell when settlement paused and resumed. */
export class SettlementProgress {
  readonly samples: Array<{ at: number; settled: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly db: Pool) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      const at = Date.now();
      this.db
        .query<{ n: string }>("select count(*) as n from webhook_events where status = 'applied'")
        .then(({ rows }) => this.samples.push({ at, settled: Number(rows[0].n) }))
        .catch(() => undefined) // PostgreSQL stopped by the test: no sample
        .finally(() => (this.busy = false));
    }, 200);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Seconds from `from` until the settled count first grew beyond its value at `from`. */
  resumedAfter(from: number): number | null {
    const before = [...this.samples].reverse().find((s) => s.at <= from)?.settled ?? 0;
    const next = this.samples.find((s) => s.at > from && s.settled > before);
    return next ? (next.at - from) / 1000 : null;
  }

  /** The longest stretch (s) within [from, to] in which the settled count did not grow. */
  longestPause(from: number, to: number): number {
    return this.pauseAfter(from, to).longestS;
  }

  /**
   * The longest stretch within [from, to] in which the settled count did not grow (s, as `longestPause`), and when it
   * ended: seconds from `from` to the growth that ended it (null when the count never grew within [from, to]).
   */
  pauseAfter(from: number, to: number): { longestS: number; endedAfterS: number | null } {
    let longest = 0;
    let endedAt: number | null = null;
    let lastGrowth = from;
    let last = [...this.samples].reverse().find((s) => s.at <= from)?.settled ?? 0;
    for (const sample of this.samples.filter((s) => s.at > from && s.at <= to)) {
      if (sample.settled > last) {
        if (sample.at - lastGrowth > longest) {
          longest = sample.at - lastGrowth;
          endedAt = sample.at;
        }
        lastGrowth = sample.at;
        last = sample.settled;
      }
    }
    return { longestS: longest / 1000, endedAfterS: endedAt === null ? null : (endedAt - from) / 1000 };
  }
}
