import type { NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { waitFor, waitForAll } from './wait-for.js';

/** "host:port" of each server in a URL list, never its credentials. */
export function describeServers(urls: string, defaultPort: number): string {
  return urls
    .split(',')
    .map((raw) => {
      try {
        const url = new URL(raw.trim());
        return `${url.hostname}:${url.port || defaultPort}`;
      } catch {
        return 'an unparseable URL';
      }
    })
    .join(', ');
}

/** Connects to the server of DATABASE_URL (its maintenance database: ours may not exist yet) and runs `select 1`. */
async function probePostgres(databaseUrl: string, timeoutMs: number): Promise<void> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Waits, with backoff, until PostgreSQL answers and NATS accepts a connection, both within STARTUP_TIMEOUT_MS.
 * Resolves with the NATS connection `connect` opened; rejects with one StartupTimeoutError naming what stayed
 * unreachable.
 */
export async function waitForDependencies(
  config: Pick<Config, 'databaseUrl' | 'natsUrl' | 'startupTimeoutMs'>,
  logger: Logger,
  connect: () => Promise<NatsConnection>,
): Promise<NatsConnection> {
  const deadline = Date.now() + config.startupTimeoutMs;
  const closeLate = (late: unknown) => void (late as NatsConnection | undefined)?.close?.().catch(() => undefined);
  const waits: [Promise<void>, Promise<NatsConnection>] = [
    waitFor(
      `PostgreSQL at ${describeServers(config.databaseUrl, 5432)}`,
      () => probePostgres(config.databaseUrl, 5000),
      { deadline, logger },
    ),
    waitFor(`NATS at ${describeServers(config.natsUrl, 4222)}`, connect, { deadline, logger, dispose: closeLate }),
  ];
  try {
    const [, nats] = await waitForAll<[void, NatsConnection]>(waits, config.startupTimeoutMs);
    return nats;
  } catch (error) {
    // PostgreSQL may have failed while NATS connected: close that connection before giving up.
    const nats = await waits[1].catch(() => undefined);
    await nats?.close().catch(() => undefined);
    throw error;
  }
}
