import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { readDeadLetters, replayDeadLetter } from '../jetstream/dead-letters.js';
import type { JetStreamNames } from '../jetstream/names.js';
import { startPeriodic } from '../background/periodic.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export interface DlqRetrierOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: JetStreamNames;
  /** Pause between passes (`DLQ_RETRY_INTERVAL_MS`); the first pass runs one interval after start. */
  intervalMs: number;
  /** Automatic replays per event before it waits for ops (`DLQ_MAX_AUTO_RETRIES`). */
  maxAutoRetries: number;
  logger: Logger;
  /** Counts each retry's outcome (`payments_dlq_auto_retries_total`) and each pass (`payments_background_runs_total`). */
  metrics: Metrics;
}

/** Outcome of one pass. */
export interface DlqPassResult {
  retried: number;
  leftForOps: number;
}

/** A running retrier. */
export interface DlqRetrier {
  /** Cancels the schedule and waits for a pass in progress. */
  stop(): Promise<void>;
  /** Runs a pass now (joins the running one if there is one); a no-op after `stop()`. */
  runOnce(): Promise<DlqPassResult>;
}

/**
 * Replays dead letters into the events stream on an interval, each at most `maxAutoRetries` times
 * (counted in `Workestra-Auto-Retries`); the rest wait for `payments-ops dlq replay|drop`.
 * Several workers may run one each: replays of the same letter share a `Nats-Msg-Id`, so JetStream keeps one.
 */
export function startDlqRetrier(options: DlqRetrierOptions): DlqRetrier {
  const { js, jsm, names, intervalMs, maxAutoRetries, logger, metrics } = options;
  const count = (outcome: 'retried' | 'duplicate' | 'failed' | 'left_for_ops') =>
    metrics.dlqAutoRetries.inc({ outcome });
  const log = logger.child({ component: 'dlq-retrier' });
  let stopped = false;

  async function pass(): Promise<DlqPassResult> {
    const result: DlqPassResult = { retried: 0, leftForOps: 0 };
    for (const letter of await readDeadLetters(jsm, names)) {
      if (stopped) break;
      if (letter.autoRetries >= maxAutoRetries) {
        result.leftForOps += 1;
        count('left_for_ops');
        continue;
      }
      try {
        const replay = await replayDeadLetter(js, jsm, names, letter.seq, { auto: true });
        // a duplicate means another worker's retrier (or an earlier pass of ours) already put it back
        if (replay?.duplicate) count('duplicate');
        if (replay && !replay.duplicate) {
          result.retried += 1;
          count('retried');
          log.info(
            { dlqSeq: letter.seq, msgId: letter.msgId, attempt: letter.autoRetries + 1, eventSeq: replay.eventSeq },
            'dead letter retried',
          );
        }
      } catch (error) {
        count('failed');
        log.warn(
          { err: error, dlqSeq: letter.seq, msgId: letter.msgId },
          'dead letter retry failed; next pass tries again',
        );
      }
    }
    if (result.retried > 0 || result.leftForOps > 0) log.info(result, 'DLQ pass done');
    return result;
  }

  const task = startPeriodic('DLQ retry', intervalMs, pass, log, metrics);
  return {
    async stop() {
      stopped = true;
      await task.stop();
    },
    runOnce: async () => (await task.runOnce()) ?? { retried: 0, leftForOps: 0 },
  };
}
