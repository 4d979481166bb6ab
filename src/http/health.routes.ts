import { Router } from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Metrics } from '../observability/metrics.js';

/** The answer of one readiness check: never the driver's own text (it can name hosts, users, even passwords). */
export type CheckResult = 'ok' | 'unavailable' | 'timeout';

class CheckTimeout extends Error {}

/** Runs one check within `ms`: its error, whatever it says, becomes `unavailable`, a hang `timeout`. */
async function runCheck(check: () => Promise<unknown>, ms: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(check),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckTimeout()), ms);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return error instanceof CheckTimeout ? 'timeout' : 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

/** Readiness checks of the service's dependencies, by name (`postgres`, `nats`). */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** The checks of the real dependencies. */
export function dependencyChecks(orm: MikroORM, nats: NatsConnection): ReadinessChecks {
  return {
    postgres: () => orm.em.getConnection().execute('select 1'),
    nats: () => (nats.isClosed() ? Promise.reject(new Error('connection closed')) : nats.flush()),
  };
}

/** `/healthz` (the process is alive), `/readyz` (PostgreSQL and NATS answer, or `degraded`), `/metrics` (Prometheus). */
export function healthRoutes(deps: {
  checks: ReadinessChecks;
  metrics: Metrics;
  isDraining: () => boolean;
  /** Per check; default 2000 ms. */
  checkTimeoutMs?: number;
  /**
   * Checks whose failure leaves the process useful: it stays ready (200) with status `degraded` and the failing check
   * named. An api process without PostgreSQL still stores webhooks in JetStream; taking it out of the load balancer
   * would turn a database outage into lost webhooks.
   */
  degradable?: string[];
}): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const names = Object.keys(deps.checks);
    const results = await Promise.all(names.map((name) => runCheck(deps.checks[name], deps.checkTimeoutMs ?? 2000)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const degradable = new Set(deps.degradable ?? []);
    const failing = names.filter((_, i) => results[i] !== 'ok');
    const ready = !deps.isDraining() && failing.every((name) => degradable.has(name));
    const status = deps.isDraining() ? 'draining' : !ready ? 'unavailable' : failing.length > 0 ? 'degraded' : 'ready';
    res.status(ready ? 200 : 503).json({ status, checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
