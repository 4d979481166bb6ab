import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startPeriodic } from '../background/periodic.js';
import type { Config } from '../config.js';
import type { JetStreamNames } from '../jetstream/names.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Services } from '../services/services.js';
import { auditFixPublisher } from '../jetstream/audit-fix.publisher.js';
import { countByKind } from '../services/audit.service.js';
import { startPullConsumer } from './consume-loop.js';
import { startDeadLetterForwarder } from './dead-letter.js';
import { startDlqRetrier } from './dlq-retrier.js';
import { OutageGate } from './outage-gate.js';
import { settlementHandler } from './settlement.consumer.js';

export interface WorkerDeps {
  config: Config;
  nats: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: JetStreamNames;
  services: Services;
  metrics: Metrics;
  logger: Logger;
  /** Resolves when PostgreSQL answers (`select 1`): the outage gate's probe. */
  databaseProbe(): Promise<unknown>;
}

/**
 * The worker role: the settlement consumer, dead-letter forwarding and retries, the reconciler, the end of
 * disconnect grace windows, and the scheduled ledger audit. Returns the
 * function that stops them, last started first.
 */
export function startWorkers({ config, nats, js, jsm, names, services, metrics, logger, databaseProbe }: WorkerDeps) {
  const settlementLog = logger.child({ component: 'settlement' });
  const gate = new OutageGate({
    probe: databaseProbe,
    logger: settlementLog,
    onChange: (down) => metrics.databaseOutage.set(down ? 1 : 0),
  });
  const consumer = startPullConsumer({
    js,
    nc: nats,
    stream: names.eventsStream,
    consumer: names.consumer,
    concurrency: config.settlementConcurrency,
    backoffMs: config.settlementBackoffMs,
    // Short pulls keep shutdown quick (stop() lets the open pull run out); an idle pull a second is cheap.
    expiresMs: 1000,
    logger: settlementLog,
    handle: settlementHandler(services.settlement, metrics, settlementLog),
    gate,
    stallMs: config.settlementStallMs,
    onRebind: (reason) => metrics.consumerRebinds.inc({ reason }),
  });
  const forwarder = startDeadLetterForwarder({
    nc: nats,
    js,
    jsm,
    names,
    logger,
    lastError: (msgId) => services.settlement.lastError(msgId),
  });
  const retrier = startDlqRetrier({
    js,
    jsm,
    names,
    intervalMs: config.dlqRetryIntervalMs,
    maxAutoRetries: config.dlqMaxAutoRetries,
    logger,
    metrics,
  });
  const reconciler = startPeriodic(
    'reconcile',
    config.reconcileIntervalMs,
    () => services.reconciler.runOnce(),
    logger.child({ component: 'reconciler' }),
    metrics,
  );
  const grace = startPeriodic(
    'disconnect grace',
    config.graceSweepIntervalMs,
    () => services.providerSettings.endGrace(),
    logger.child({ component: 'disconnect-grace' }),
    metrics,
  );
  const publishFix = auditFixPublisher(js, names);
  const audit = startPeriodic(
    'audit',
    config.auditIntervalMs,
    async () => {
      try {
        const report = await services.audit.runScheduled(config.auditLookbackMs, config.auditIntervalMs, publishFix);
        if (!report) return metrics.auditRuns.inc({ result: 'skipped' });
        for (const [kind, count] of Object.entries(countByKind(report.discrepancies)))
          metrics.auditDiscrepancies.set({ kind }, count);
        metrics.auditRuns.inc({ result: 'completed' });
      } catch (error) {
        metrics.auditRuns.inc({ result: 'failed' });
        throw error;
      }
    },
    logger.child({ component: 'audit' }),
    metrics,
  );
  const parts = [consumer, forwarder, retrier, reconciler, grace, audit];
  return async () => {
    for (const part of parts.reverse()) await part.stop();
  };
}
