import { jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  startPullConsumer,
  type PullConsumerHandle,
  type PullConsumerOptions,
} from '../../src/consumers/consume-loop.js';
import { jetStreamNames, type JetStreamNames } from '../../src/jetstream/names.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';

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

/**
 * The events consumer of `names` as the tests run it: 2 handlers in flight, a 300 ms backoff, 1 s pulls, a silent
 * logger; `options` overrides any of them.
 */
export function startTestConsumer(
  js: JetStreamClient,
  names: JetStreamNames,
  options: Pick<PullConsumerOptions, 'handle'> & Partial<PullConsumerOptions>,
): PullConsumerHandle {
  return startPullConsumer({
    js,
    stream: names.eventsStream,
    consumer: names.consumer,
    concurrency: 2,
    backoffMs: [300],
    logger: testLogger(),
    expiresMs: 1000,
    ...options,
  });
}

export const bytes = (text: string) => new TextEncoder().encode(text);
