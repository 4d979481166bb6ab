import type { Logger } from '../observability/logger.js';

/** Told of every pass (Metrics implements it: `payments_background_runs_total{task,outcome}`). */
export interface RunObserver {
  backgroundRun(task: string, outcome: 'ok' | 'failed', seconds: number): void;
}

/** The metric label of a task name: "DLQ retry" → "dlq_retry". */
export const taskLabel = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

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
 * alive on its own. Every pass, scheduled or asked for with `runOnce()`, is reported to `runs` with its outcome and
 * duration, so a new background task shows in `payments_background_runs_total` without code of its own.
 */
export function startPeriodic<T>(
  name: string,
  intervalMs: number,
  pass: () => Promise<T>,
  logger: Logger,
  runs: RunObserver,
): PeriodicTask<T> {
  const task = taskLabel(name);
  let running: Promise<T> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const runOnce = (): Promise<T | null> => {
    if (stopped) return Promise.resolve(null);
    running ??= observed().finally(() => (running = undefined));
    return running;
  };

  const observed = async (): Promise<T> => {
    const started = performance.now();
    try {
      const result = await pass();
      runs.backgroundRun(task, 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      runs.backgroundRun(task, 'failed', (performance.now() - started) / 1000);
      throw error;
    }
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
