import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';

export const TEST_JWT_SECRET = 'test-only-jwt-secret-of-at-least-32-bytes!!';
/** Two 32-byte keys: `k2` encrypts, `k1` still decrypts (a rotated ring). */
export const TEST_ENCRYPTION_KEYS = `k2:${Buffer.alloc(32, 2).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}`;

/** The run's database (created by global-setup) and the run's NATS prefix. */
export const testDatabaseUrl = () => inject('databaseUrl');
export const testNatsPrefix = () => inject('natsPrefix');

/** A NATS prefix of its own under the run's prefix: services, streams and consumers of different tests never meet. */
export const uniquePrefix = (): string => `${testNatsPrefix()}_${randomBytes(4).toString('hex')}`;

/** The environment a test service runs with; `extra` overrides anything. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: testDatabaseUrl(),
    NATS_URL: 'nats://127.0.0.1:4222',
    NATS_SUBJECT_PREFIX: testNatsPrefix(),
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    PAYMENTS_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    LOG_LEVEL: 'info',
    SETTLEMENT_BACKOFF_MS: '100,200,400',
    // JetStream reserves a stream's byte cap on creation: the 10 GiB default × every test stream would exhaust the
    // shared server's storage ("insufficient storage resources available").
    EVENTS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
    ...extra,
  };
}

export const testConfig = (extra: Record<string, string> = {}, argv: string[] = []): Config =>
  loadConfig(testEnv(extra), argv);

/** A brand-new empty database (for migration tests); returns its URL and a drop function. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `wp_fresh_${randomBytes(6).toString('hex')}`;
  const base = new URL(testDatabaseUrl());
  const adminUrl = new URL(base);
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  base.pathname = `/${name}`;
  return {
    url: base.toString(),
    drop: async () => {
      const client = new Client({ connectionString: adminUrl.toString() });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}
