import type { Logger } from '../observability/logger.js';

/** A background task run on an interval. */
export interface PeriodicTask<T> {
  /** Runs a pass now, or joins the running one; after `stop()` it resolves with null and runs nothing. */
  runOnce(): Promise<T | null>;
  /** Cancels the schedule and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs` (the first one interval after start; the next one interval after the previous pass
 * ends, so passes never overlap). A failed pass is logged and the schedule goes on. The timer never keeps the process
 * alive on its own.
 */
export function startPeriodic<T>(
  name: string,
  intervalMs: number,
  pass: () => Promise<T>,
  logger: Logger,
): PeriodicTask<T> {
  let running: Promise<T> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const runOnce = (): Promise<T | null> => {
    if (stopped) return Promise.resolve(null);
    running ??= pass().finally(() => (running = undefined));
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((error: unknown) => logger.warn({ err: error, task: name }, `${name} pass failed`))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };

  schedule();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
