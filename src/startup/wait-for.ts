import type { Logger } from '../observability/logger.js';

/** A dependency that did not answer before the start-up deadline; its message is the one line `main` prints. */
export class StartupTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupTimeoutError';
  }
}

export interface WaitOptions {
  /** Absolute time (ms since the epoch) after which the dependency counts as unreachable. */
  deadline: number;
  logger?: Logger;
  /** Releases what a probe that finished after the deadline opened (e.g. closes a late connection). */
  dispose?: (late: unknown) => void;
  /** First pause between attempts; doubles up to maxDelayMs (tests shorten both). */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

/**
 * Calls `probe` until it resolves, pausing with exponential backoff (and a little jitter) between failed attempts,
 * until `deadline`. Resolves with the probe's value; rejects with StartupTimeoutError naming `what` and the last
 * error otherwise. Docker and Kubernetes start the service before its database and broker answer: this is why.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T>, options: WaitOptions): Promise<T> {
  const { deadline, logger } = options;
  let delay = options.initialDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 5000;
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, remaining));
    });
    const attemptPromise = probe();
    try {
      const result = await Promise.race([attemptPromise, timedOut]);
      if (result !== 'timeout') {
        if (attempt > 1) logger?.info({ dependency: what, attempts: attempt }, `${what} is reachable`);
        return result as T;
      }
      attemptPromise.then((late) => options.dispose?.(late)).catch(() => undefined);
      lastError ??= new Error('no answer');
    } catch (error) {
      lastError = error;
      if (attempt === 1) logger?.warn({ dependency: what, reason: reason(error) }, `waiting for ${what}`);
    } finally {
      clearTimeout(timer);
    }
    const pause = Math.min(delay, deadline - Date.now());
    if (pause <= 0) throw new StartupTimeoutError(`${what} is unreachable (${reason(lastError)})`);
    await sleep(pause * (0.8 + Math.random() * 0.2));
    delay = Math.min(delay * 2, maxDelay);
  }
}

/** Waits for several dependencies at once against one deadline; names every one that stayed unreachable. */
export async function waitForAll<T extends unknown[]>(
  waits: { [K in keyof T]: Promise<T[K]> },
  timeoutMs: number,
): Promise<T> {
  const settled = await Promise.allSettled(waits);
  const failures = settled.filter((result) => result.status === 'rejected').map((result) => result.reason as unknown);
  if (failures.length === 0) return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as T;
  const unreachable = failures.map((error) => (error instanceof StartupTimeoutError ? error.message : reason(error)));
  throw new StartupTimeoutError(
    `not started: ${unreachable.join('; ')} after waiting ${Math.round(timeoutMs / 100) / 10} s (STARTUP_TIMEOUT_MS)`,
  );
}
