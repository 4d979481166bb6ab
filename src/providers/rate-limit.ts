/** How a provider call that was answered 429 is retried. */
export interface BackoffOptions {
  /** Tries in all (the first call included). */
  attempts: number;
  /** First wait when the provider gives no Retry-After; doubled on each further 429. */
  baseMs: number;
  /** No wait is longer than this, whatever Retry-After asks. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { attempts: 6, baseMs: 250, maxMs: 30_000 };

/** `Retry-After` in seconds or as an HTTP date, in milliseconds; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Runs `call`, and again after a wait while the provider answers 429 (rate limited): the wait the provider asked for
 * (`Retry-After`), else a doubling one. `rateLimited` says whether an error is a 429 and what it asked: undefined for
 * any other error (thrown at once), null for a 429 without Retry-After, or milliseconds.
 */
export async function withBackoff<T>(
  call: () => Promise<T>,
  rateLimited: (error: unknown) => number | null | undefined,
  options: BackoffOptions = DEFAULT_BACKOFF,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const asked = rateLimited(error);
      if (asked === undefined || attempt >= options.attempts) throw error;
      const wait = Math.min(asked ?? options.baseMs * 2 ** (attempt - 1), options.maxMs);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
