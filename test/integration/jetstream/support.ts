import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetStreamNames } from '../../../src/jetstream/names.js';
import { createLogger, type Logger } from '../../../src/observability/logger.js';
import { testNatsPrefix } from '../../helpers/env.js';

/** A prefix of this test alone, under the run's prefix (streams and subjects derive from it). */
export const uniquePrefix = (): string => `${testNatsPrefix()}_${randomBytes(4).toString('hex')}`;

/** The machine's shared NATS (never stopped by tests). */
export const SHARED_NATS = 'nats://127.0.0.1:4222';

/** Connects with the service's reconnect behaviour (endless, fast). */
export function connectNats(servers = SHARED_NATS): Promise<NatsConnection> {
  return connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 200, timeout: 5000 });
}

export const testLogger = (): Logger => createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

/** Deletes the streams derived from `prefix` (missing ones are fine). */
export async function deleteStreams(nc: NatsConnection, prefix: string): Promise<void> {
  const names = jetStreamNames(prefix);
  const jsm = await jetstreamManager(nc);
  for (const stream of [names.eventsStream, names.dlqStream]) await jsm.streams.delete(stream).catch(() => false);
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const bytes = (text: string) => new TextEncoder().encode(text);
