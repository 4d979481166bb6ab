import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_ENCRYPTION_KEYS, DEV_JWT_SECRET, isLoopbackUrl, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const config = loadConfig({}, []);
    expect(config).toMatchObject({
      port: 4001,
      role: 'all',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/workestra_payments',
      natsUrl: 'nats://127.0.0.1:4222',
      natsStreamReplicas: 1,
      natsSubjectPrefix: 'payments',
      publicBaseUrl: 'http://localhost:4001',
      trustProxy: false,
      settlementMaxDeliver: 6,
      settlementBackoffMs: [1000, 5000, 30000, 120000, 600000],
      dlqRetryIntervalMs: 600000,
      dlqMaxAutoRetries: 5,
      encryptionKeys: DEV_ENCRYPTION_KEYS,
      startupTimeoutMs: 60_000,
      webhookRate: { perSecond: 100, burst: 500 },
      eventsStreamMaxBytes: 10 * 1024 ** 3,
      auditIntervalMs: 21_600_000,
      auditLookbackMs: 72 * 3_600_000,
    });
  });

  it('reads the audit schedule; the lookback is a decimal number of hours', () => {
    expect(loadConfig({ AUDIT_INTERVAL_MS: '60000', AUDIT_LOOKBACK_HOURS: '0.5' }, [])).toMatchObject({
      auditIntervalMs: 60_000,
      auditLookbackMs: 1_800_000,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, [], 'PORT'],
    [{ PORT: '70000' }, [], 'PORT'],
    [{ DATABASE_URL: 'mysql://x/y' }, [], 'DATABASE_URL'],
    [{ NATS_URL: 'not a url' }, [], 'NATS_URL'],
    [{ NATS_URL: 'nats://a:4222,http://b:4222' }, [], 'NATS_URL'],
    [{ NATS_URL: 'nats://a:4222,,nats://b:4222' }, [], 'NATS_URL'],
    [{ NATS_STREAM_REPLICAS: '0' }, [], 'NATS_STREAM_REPLICAS'],
    [{ NATS_SUBJECT_PREFIX: 'a.b' }, [], 'NATS_SUBJECT_PREFIX'],
    [{ TRUST_PROXY: 'maybe' }, [], 'TRUST_PROXY'],
    [{ SETTLEMENT_BACKOFF_MS: '100,-1' }, [], 'SETTLEMENT_BACKOFF_MS'],
    [{ AUTH_JWT_SECRET: 'short' }, [], 'AUTH_JWT_SECRET'],
    [{ NODE_ENV: 'production', PAYMENTS_ENCRYPTION_KEYS: 'x' }, [], 'AUTH_JWT_SECRET'],
    [{ NODE_ENV: 'production', AUTH_JWT_SECRET: 'p'.repeat(40) }, [], 'PAYMENTS_ENCRYPTION_KEYS'],
    [{ STARTUP_TIMEOUT_MS: '1m' }, [], 'STARTUP_TIMEOUT_MS'],
    [{ STARTUP_TIMEOUT_MS: '99999999' }, [], 'STARTUP_TIMEOUT_MS'],
    [{}, ['--role', 'cron'], '--role'],
    [{ WEBHOOK_RATE_PER_HOST: 'fast' }, [], 'WEBHOOK_RATE_PER_HOST'],
    [{ WEBHOOK_RATE_PER_HOST: '0' }, [], 'WEBHOOK_RATE_PER_HOST'],
    [{ WEBHOOK_RATE_PER_HOST: '100,50' }, [], 'WEBHOOK_RATE_PER_HOST'],
    [{ WEBHOOK_RATE_PER_HOST: '-1' }, [], 'WEBHOOK_RATE_PER_HOST'],
    [{ EVENTS_STREAM_MAX_BYTES: '10GiB' }, [], 'EVENTS_STREAM_MAX_BYTES'],
    [{ EVENTS_STREAM_MAX_BYTES: '100' }, [], 'EVENTS_STREAM_MAX_BYTES'],
    [{ PAYMENTS_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }, [], 'PAYMENTS_ENCRYPTION_KEYS'],
    [{ AUDIT_INTERVAL_MS: '6h' }, [], 'AUDIT_INTERVAL_MS'],
    [{ AUDIT_INTERVAL_MS: '10' }, [], 'AUDIT_INTERVAL_MS'],
    [{ AUDIT_LOOKBACK_HOURS: '-1' }, [], 'AUDIT_LOOKBACK_HOURS'],
    [{ AUDIT_LOOKBACK_HOURS: 'three days' }, [], 'AUDIT_LOOKBACK_HOURS'],
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

  it('reads WEBHOOK_RATE_PER_HOST as a rate, with an optional burst', () => {
    expect(loadConfig({ WEBHOOK_RATE_PER_HOST: '20' }, []).webhookRate).toEqual({ perSecond: 20, burst: 100 });
    expect(loadConfig({ WEBHOOK_RATE_PER_HOST: '5, 10' }, []).webhookRate).toEqual({ perSecond: 5, burst: 10 });
    expect(loadConfig({ EVENTS_STREAM_MAX_BYTES: '4096' }, []).eventsStreamMaxBytes).toBe(4096);
  });

  it('reads the role from --role or --role=', () => {
    expect(loadConfig({}, ['--role', 'worker']).role).toBe('worker');
    expect(loadConfig({}, ['--role=api']).role).toBe('api');
  });

  describe('published dev secrets fail closed', () => {
    const realSecret = 'r'.repeat(40);
    const realKeys = `k1:${Buffer.alloc(32, 9).toString('base64')}`;
    const devKeyBytes = DEV_ENCRYPTION_KEYS.split(':')[1];
    const failure = (env: Record<string, string>): ConfigError | undefined => {
      try {
        loadConfig(env, []);
        return undefined;
      } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
      }
    };

    // [case, env, variable refused or null when the config loads]
    it.each([
      ['fresh machine: nothing set', {}, null],
      ['NODE_ENV=development, default URL', { NODE_ENV: 'development' }, null],
      ['NODE_ENV=test, default URL', { NODE_ENV: 'test' }, null],
      ['PUBLIC_BASE_URL http://localhost:4001', { PUBLIC_BASE_URL: 'http://localhost:4001' }, null],
      ['PUBLIC_BASE_URL http://127.0.0.1:9', { PUBLIC_BASE_URL: 'http://127.0.0.1:9' }, null],
      ['PUBLIC_BASE_URL http://127.8.9.10', { PUBLIC_BASE_URL: 'http://127.8.9.10' }, null],
      ['PUBLIC_BASE_URL http://[::1]:4001', { PUBLIC_BASE_URL: 'http://[::1]:4001' }, null],
      ['PUBLIC_BASE_URL https://LOCALHOST', { PUBLIC_BASE_URL: 'https://LOCALHOST' }, null],
      [
        'dev defaults set explicitly on loopback',
        { AUTH_JWT_SECRET: DEV_JWT_SECRET, PAYMENTS_ENCRYPTION_KEYS: DEV_ENCRYPTION_KEYS },
        null,
      ],
      ['NODE_ENV=production', { NODE_ENV: 'production' }, 'AUTH_JWT_SECRET'],
      [
        'NODE_ENV=production, real JWT secret',
        { NODE_ENV: 'production', AUTH_JWT_SECRET: realSecret },
        'PAYMENTS_ENCRYPTION_KEYS',
      ],
      [
        'NODE_ENV=prod, public URL',
        { NODE_ENV: 'prod', PUBLIC_BASE_URL: 'https://pay.example.com' },
        'AUTH_JWT_SECRET',
      ],
      [
        'NODE_ENV=staging, public URL',
        { NODE_ENV: 'staging', PUBLIC_BASE_URL: 'https://pay.example.com' },
        'AUTH_JWT_SECRET',
      ],
      ['NODE_ENV unset, public URL', { PUBLIC_BASE_URL: 'https://pay.example.com' }, 'AUTH_JWT_SECRET'],
      [
        'public URL, real JWT secret',
        { PUBLIC_BASE_URL: 'https://pay.example.com', AUTH_JWT_SECRET: realSecret },
        'PAYMENTS_ENCRYPTION_KEYS',
      ],
      ['LAN address', { PUBLIC_BASE_URL: 'http://192.168.1.5:4001' }, 'AUTH_JWT_SECRET'],
      ['0.0.0.0', { PUBLIC_BASE_URL: 'http://0.0.0.0:4001' }, 'AUTH_JWT_SECRET'],
      ['localhost look-alike', { PUBLIC_BASE_URL: 'http://localhost.example.com' }, 'AUTH_JWT_SECRET'],
      ['127.0.0.1 look-alike', { PUBLIC_BASE_URL: 'http://127.0.0.1.nip.io' }, 'AUTH_JWT_SECRET'],
      [
        'explicit dev JWT secret in production',
        { NODE_ENV: 'production', AUTH_JWT_SECRET: DEV_JWT_SECRET, PAYMENTS_ENCRYPTION_KEYS: realKeys },
        'AUTH_JWT_SECRET',
      ],
      [
        'explicit dev JWT secret, public URL',
        {
          PUBLIC_BASE_URL: 'https://pay.example.com',
          AUTH_JWT_SECRET: DEV_JWT_SECRET,
          PAYMENTS_ENCRYPTION_KEYS: realKeys,
        },
        'AUTH_JWT_SECRET',
      ],
      [
        'explicit dev keys in production',
        { NODE_ENV: 'production', AUTH_JWT_SECRET: realSecret, PAYMENTS_ENCRYPTION_KEYS: DEV_ENCRYPTION_KEYS },
        'PAYMENTS_ENCRYPTION_KEYS',
      ],
      [
        'explicit dev keys, public URL',
        {
          PUBLIC_BASE_URL: 'https://pay.example.com',
          AUTH_JWT_SECRET: realSecret,
          PAYMENTS_ENCRYPTION_KEYS: DEV_ENCRYPTION_KEYS,
        },
        'PAYMENTS_ENCRYPTION_KEYS',
      ],
      [
        'dev key under another id, public URL',
        {
          PUBLIC_BASE_URL: 'https://pay.example.com',
          AUTH_JWT_SECRET: realSecret,
          PAYMENTS_ENCRYPTION_KEYS: `prod1:${devKeyBytes}`,
        },
        'PAYMENTS_ENCRYPTION_KEYS',
      ],
      [
        'dev key second in the ring, production',
        {
          NODE_ENV: 'production',
          AUTH_JWT_SECRET: realSecret,
          PAYMENTS_ENCRYPTION_KEYS: `${realKeys},old:${devKeyBytes}`,
        },
        'PAYMENTS_ENCRYPTION_KEYS',
      ],
      [
        'real secrets in production, public URL',
        {
          NODE_ENV: 'production',
          PUBLIC_BASE_URL: 'https://pay.example.com',
          AUTH_JWT_SECRET: realSecret,
          PAYMENTS_ENCRYPTION_KEYS: realKeys,
        },
        null,
      ],
    ] as Array<[string, Record<string, string>, string | null]>)('%s → %s', (_name, env, variable) => {
      const error = failure(env);
      if (variable === null) {
        expect(error).toBeUndefined();
        return;
      }
      expect(error?.variable).toBe(variable);
      expect(error!.message.split('\n')).toHaveLength(1);
      expect(error!.message.startsWith(`${variable}: `)).toBe(true);
      expect(error!.message).not.toContain(DEV_JWT_SECRET);
      expect(error!.message).not.toContain(devKeyBytes);
    });

    it.each([
      ['http://localhost', true],
      ['http://127.0.0.1:4001/base', true],
      ['http://127.1', true],
      ['http://[::1]', true],
      ['http://[::2]', false],
      ['http://[::ffff:127.0.0.1]', false],
      ['http://128.0.0.1', false],
      ['https://localhost.evil.test', false],
      ['not a url', false],
    ])('isLoopbackUrl(%s) = %s', (url, expected) => {
      expect(isLoopbackUrl(url)).toBe(expected);
    });
  });

  it('takes a cluster: several NATS servers, streams with 3 replicas', () => {
    const config = loadConfig(
      { NATS_URL: 'nats://n1:4222, nats://n2:4222,tls://n3:4222', NATS_STREAM_REPLICAS: '3' },
      [],
    );
    expect(config.natsUrl).toBe('nats://n1:4222,nats://n2:4222,tls://n3:4222');
    expect(config.natsStreamReplicas).toBe(3);
  });
});
