import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { healthRoutes, type ReadinessChecks } from '../../../src/http/health.routes.js';
import { Metrics } from '../../../src/observability/metrics.js';

const DRIVER_ERROR =
  'password authentication failed for user "payments" (postgres://payments:hunter2@db.internal.example:5432/ledger)';

describe('/readyz', () => {
  const closers: Array<() => void> = [];
  afterEach(() => closers.splice(0).forEach((close) => close()));

  async function readyz(checks: ReadinessChecks, draining = false, degradable: string[] = []) {
    const app = express();
    app.use(
      healthRoutes({ checks, metrics: new Metrics(), isDraining: () => draining, checkTimeoutMs: 100, degradable }),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(() => server.close());
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
    return { status: response.status, text: await response.text() };
  }

  it('says ok for each answering dependency', async () => {
    const { status, text } = await readyz({ postgres: async () => 1, nats: async () => undefined });
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ status: 'ready', checks: { postgres: 'ok', nats: 'ok' } });
  });

  it.each([
    ['a driver error naming user, password and host', () => Promise.reject(new Error(DRIVER_ERROR))],
    [
      'a synchronous throw',
      () => {
        throw Object.assign(new Error(DRIVER_ERROR), { code: '28P01' });
      },
    ],
    ['a non-Error rejection', () => Promise.reject(DRIVER_ERROR)],
  ])('shows only "unavailable" for %s, and "timeout" for a hang', async (_name, failing) => {
    const { status, text } = await readyz({ postgres: failing, nats: () => new Promise(() => undefined) });
    expect(status).toBe(503);
    expect(JSON.parse(text)).toEqual({ status: 'unavailable', checks: { postgres: 'unavailable', nats: 'timeout' } });
    for (const secret of ['hunter2', 'db.internal', 'payments:', 'password', '28P01'])
      expect(text).not.toContain(secret);
  });

  it('an api process without PostgreSQL stays ready but says degraded; without NATS it is unavailable', async () => {
    const down = () => Promise.reject(new Error(DRIVER_ERROR));
    const degraded = await readyz({ postgres: down, nats: async () => undefined }, false, ['postgres']);
    expect(degraded.status).toBe(200);
    expect(JSON.parse(degraded.text)).toEqual({ status: 'degraded', checks: { postgres: 'unavailable', nats: 'ok' } });
    const noBroker = await readyz({ postgres: async () => 1, nats: down }, false, ['postgres']);
    expect(noBroker.status).toBe(503);
    expect(JSON.parse(noBroker.text)).toEqual({
      status: 'unavailable',
      checks: { postgres: 'ok', nats: 'unavailable' },
    });
  });
});
