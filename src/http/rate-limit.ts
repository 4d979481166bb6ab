/**
 * In-memory token buckets, one per key: `perSecond` tokens flow in continuously up to `burst`; each request takes
 * one. Per process, so N api processes allow N× the rate: a flood is throttled, not metered exactly.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: { perSecond: number; burst: number },
    private readonly now: () => number = () => performance.now(),
    /** Above this many keys, buckets that have refilled completely are forgotten (they hold nothing). */
    private readonly maxIdleKeys = 10_000,
  ) {}

  /** Takes a token for `key`: 0 when allowed, else the whole seconds to wait before one is available. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.rate.burst, at: now };
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate.perSecond);
    bucket.at = now;
    if (!this.#buckets.has(key)) {
      if (this.#buckets.size >= this.maxIdleKeys) this.sweep(now);
      this.#buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate.perSecond));
  }

  private sweep(now: number) {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.rate.perSecond >= this.rate.burst)
        this.#buckets.delete(key);
    }
  }

  get size(): number {
    return this.#buckets.size;
  }
}
