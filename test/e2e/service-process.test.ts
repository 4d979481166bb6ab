import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/env.js';
import { freePort, runToExit, spawnService } from '../helpers/process.js';

describe('the service as a process (what `npm start` runs)', () => {
  const database = `wp_proc_${randomBytes(5).toString('hex')}`;
  afterAll(async () => {
    const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.end();
  });

  it('creates its database, migrates, becomes ready, and drains on SIGTERM with exit code 0', async () => {
    const port = await freePort();
    const url = new URL(testEnv().DATABASE_URL);
    url.pathname = `/${database}`;
    // NODE_ENV is not 'test' here: libraries that act on signals outside tests (Apollo Server does) must not interfere.
    const service = await spawnService(
      testEnv({ PORT: String(port), DATABASE_URL: url.toString(), NODE_ENV: 'development' }),
    );
    const ready = await fetch(`${service.url}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok', nats: 'ok' } });
    const sdl = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    expect(sdl.status).toBe(200);

    const started = Date.now();
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(service.output()).toContain('workestra-payments stopped');
  });

  it('runs the worker role without the GraphQL API', async () => {
    const port = await freePort();
    const service = await spawnService(testEnv({ PORT: String(port) }), ['--role', 'worker']);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${service.url}/graphql`, { method: 'POST' })).status).toBe(404);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ NODE_ENV: 'production', AUTH_JWT_SECRET: '', PAYMENTS_ENCRYPTION_KEYS: '' }, 'AUTH_JWT_SECRET'],
    [
      {
        NODE_ENV: 'production',
        AUTH_JWT_SECRET: 'a-production-secret-that-is-long-enough',
        PAYMENTS_ENCRYPTION_KEYS: '',
      },
      'PAYMENTS_ENCRYPTION_KEYS',
    ],
  ])('refuses bad configuration %j with one line naming %s and exit code 1', async (env, variable) => {
    const result = await runToExit({ ...testEnv(), ...env });
    expect(result.code).toBe(1);
    const lines = result.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
  });
});
