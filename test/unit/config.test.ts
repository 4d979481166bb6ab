import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_ENCRYPTION_KEYS, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const config = loadConfig({}, []);
    expect(config).toMatchObject({
      port: 4001,
      role: 'all',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/workestra_payments',
      natsUrl: 'nats://127.0.0.1:4222',
      natsSubjectPrefix: 'payments',
      publicBaseUrl: 'http://localhost:4001',
      trustProxy: false,
      settlementMaxDeliver: 6,
      settlementBackoffMs: [1000, 5000, 30000, 120000, 600000],
      dlqRetryIntervalMs: 600000,
      dlqMaxAutoRetries: 5,
      encryptionKeys: DEV_ENCRYPTION_KEYS,
      startupTimeoutMs: 60_000,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, [], 'PORT'],
    [{ PORT: '70000' }, [], 'PORT'],
    [{ DATABASE_URL: 'mysql://x/y' }, [], 'DATABASE_URL'],
    [{ NATS_URL: 'not a url' }, [], 'NATS_URL'],
    [{ NATS_SUBJECT_PREFIX: 'a.b' }, [], 'NATS_SUBJECT_PREFIX'],
    [{ TRUST_PROXY: 'maybe' }, [], 'TRUST_PROXY'],
    [{ SETTLEMENT_BACKOFF_MS: '100,-1' }, [], 'SETTLEMENT_BACKOFF_MS'],
    [{ AUTH_JWT_SECRET: 'short' }, [], 'AUTH_JWT_SECRET'],
    [{ NODE_ENV: 'production', PAYMENTS_ENCRYPTION_KEYS: 'x' }, [], 'AUTH_JWT_SECRET'],
    [{ NODE_ENV: 'production', AUTH_JWT_SECRET: 'p'.repeat(40) }, [], 'PAYMENTS_ENCRYPTION_KEYS'],
    [{ STARTUP_TIMEOUT_MS: '1m' }, [], 'STARTUP_TIMEOUT_MS'],
    [{ STARTUP_TIMEOUT_MS: '99999999' }, [], 'STARTUP_TIMEOUT_MS'],
    [{}, ['--role', 'cron'], '--role'],
    [{ PAYMENTS_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }, [], 'PAYMENTS_ENCRYPTION_KEYS'],
  ] as Array<[Record<string, string>, string[], string]>)('rejects %j %j naming %s', (env, argv, variable) => {
    let error: unknown;
    try {
      loadConfig(env, argv);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message.split('\n')).toHaveLength(1);
  });

  it('reads the role from --role or --role=', () => {
    expect(loadConfig({}, ['--role', 'worker']).role).toBe('worker');
    expect(loadConfig({}, ['--role=api']).role).toBe('api');
  });
});
