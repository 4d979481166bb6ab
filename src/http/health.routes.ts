import { Router } from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Metrics } from '../observability/metrics.js';

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `/healthz` (the process is alive), `/readyz` (PostgreSQL and NATS answer), `/metrics` (Prometheus). */
export function healthRoutes(deps: {
  orm: MikroORM;
  nats: NatsConnection;
  metrics: Metrics;
  isDraining: () => boolean;
}): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    const probe = async (name: string, run: () => Promise<unknown>) => {
      try {
        await withTimeout(run(), 2000, name);
        checks[name] = 'ok';
      } catch (error) {
        checks[name] = error instanceof Error ? error.message.split('\n')[0] : 'failed';
      }
    };
    await Promise.all([
      probe('postgres', () => deps.orm.em.getConnection().execute('select 1')),
      probe('nats', () => (deps.nats.isClosed() ? Promise.reject(new Error('connection closed')) : deps.nats.flush())),
    ]);
    const ready = !deps.isDraining() && Object.values(checks).every((value) => value === 'ok');
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : deps.isDraining() ? 'draining' : 'unavailable', checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
