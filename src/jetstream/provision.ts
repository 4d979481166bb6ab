import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { jetStreamNames, type JetStreamNames } from './names.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ProvisionOptions {
  prefix: string;
  /** Deliveries before a message is dead-lettered (`SETTLEMENT_MAX_DELIVER`). */
  maxDeliver: number;
  /** Redelivery delays (`SETTLEMENT_BACKOFF_MS`). */
  backoffMs: number[];
  /** How long a delivery may stay unacknowledged (handlers extend it with `working()`). */
  ackWaitMs?: number;
  maxAckPending?: number;
  /**
   * Byte cap of the events stream (`EVENTS_STREAM_MAX_BYTES`, default 10 GiB), with discard-new: a full stream
   * refuses new messages (the webhook answers 503, the provider retries) and never deletes stored events. JetStream
   * reserves the cap from the server's storage when the stream is created; omitted, the stream has no byte cap.
   */
  eventsMaxBytes?: number;
  /** Replicas of both streams (`NATS_STREAM_REPLICAS`; 3 on a cluster); a change is applied in place. */
  replicas?: number;
}

export type ProvisionAction = 'created' | 'updated' | 'unchanged';

export interface ProvisionResult {
  names: JetStreamNames;
  eventsStream: ProvisionAction;
  dlqStream: ProvisionAction;
  consumer: ProvisionAction;
}

/**
 * The consumer's server-side `backoff`. nats-server rejects a list that is not shorter than `max_deliver`
 * and, when `backoff` is set, replaces `ack_wait` with `backoff[0]`: with the configured 1 s first step a
 * handler running longer than 1 s would be redelivered (and burn deliveries) while still working. So each
 * step is at least `ackWaitMs`; the configured short delays are applied by the consume loop with
 * `nak(delay)` instead, and the server-side backoff only spaces redeliveries after lost acks or crashes.
 */
export function serverBackoffMs(backoffMs: number[], maxDeliver: number, ackWaitMs: number): number[] {
  return backoffMs.slice(0, Math.max(0, maxDeliver - 1)).map((ms) => Math.max(ms, ackWaitMs));
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound)
  );
}

const sameSet = (a: string[] = [], b: string[] = []) => a.length === b.length && a.every((value) => b.includes(value));

type DesiredStream = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'subjects' | 'storage' | 'retention'>;

async function ensureStream(jsm: JetStreamManager, desired: DesiredStream): Promise<ProvisionAction> {
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(desired.name)).config;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.streams.add(desired);
      return 'created';
    } catch (addError) {
      // another worker created it between our info and add: fall through to the drift check
      current = (await jsm.streams.info(desired.name).catch(() => Promise.reject(addError))).config;
    }
  }
  if (current.storage !== desired.storage || current.retention !== desired.retention) {
    throw new Error(
      `stream ${desired.name} has storage ${current.storage}/retention ${current.retention}, expected ${desired.storage}/${desired.retention}; ` +
        'these cannot be changed in place: back it up and recreate it',
    );
  }
  const drifted =
    !sameSet(current.subjects, desired.subjects) ||
    current.duplicate_window !== desired.duplicate_window ||
    current.max_age !== desired.max_age ||
    current.discard !== desired.discard ||
    current.max_bytes !== (desired.max_bytes ?? -1) ||
    current.num_replicas !== desired.num_replicas;
  if (!drifted) return 'unchanged';
  const { subjects, duplicate_window, max_age, discard, num_replicas, max_bytes = -1 } = desired;
  await jsm.streams.update(desired.name, { subjects, duplicate_window, max_age, discard, num_replicas, max_bytes });
  return 'updated';
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  desired: Partial<ConsumerConfig>,
): Promise<ProvisionAction> {
  const name = desired.durable_name!;
  let current: ConsumerConfig;
  try {
    current = (await jsm.consumers.info(stream, name)).config;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    // a concurrent identical create is idempotent on the server
    await jsm.consumers.add(stream, desired);
    return 'created';
  }
  if (current.ack_policy !== desired.ack_policy || current.deliver_policy !== desired.deliver_policy) {
    throw new Error(
      `consumer ${stream}/${name} has ack/deliver policy ${current.ack_policy}/${current.deliver_policy}; delete it to recreate`,
    );
  }
  const drifted =
    current.ack_wait !== desired.ack_wait ||
    current.max_deliver !== desired.max_deliver ||
    current.max_ack_pending !== desired.max_ack_pending ||
    (current.backoff ?? []).join(',') !== (desired.backoff ?? []).join(',');
  if (!drifted) return 'unchanged';
  const { ack_wait, max_deliver, max_ack_pending, backoff } = desired;
  // an empty list clears a previous backoff (omitting it would keep the old one)
  await jsm.consumers.update(stream, name, { ack_wait, max_deliver, max_ack_pending, backoff: backoff ?? [] });
  return 'updated';
}

/**
 * Creates the events stream, the DLQ stream and the durable pull consumer `settlement`, or updates them when
 * their configuration drifted from the one derived here. Safe to run at every start, from several workers.
 */
export async function provisionJetStream(nc: NatsConnection, options: ProvisionOptions): Promise<ProvisionResult> {
  const {
    prefix,
    maxDeliver,
    backoffMs,
    ackWaitMs = 30_000,
    maxAckPending = 1000,
    eventsMaxBytes = -1,
    replicas = 1,
  } = options;
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1)
    throw new Error(`maxDeliver must be a positive integer, got ${maxDeliver}`);
  const names = jetStreamNames(prefix);
  const jsm = await jetstreamManager(nc);
  const base = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: nanos(2 * 60 * 1000),
  };
  const eventsStream = await ensureStream(jsm, {
    ...base,
    name: names.eventsStream,
    subjects: [names.eventsSubjects],
    max_age: nanos(30 * DAY_MS),
    max_bytes: eventsMaxBytes,
    discard: DiscardPolicy.New,
  });
  const dlqStream = await ensureStream(jsm, {
    ...base,
    name: names.dlqStream,
    subjects: [names.dlqSubjects],
    max_age: nanos(90 * DAY_MS),
  });

  const backoff = serverBackoffMs(backoffMs, maxDeliver, ackWaitMs).map((ms) => nanos(ms));
  const consumer = await ensureConsumer(jsm, names.eventsStream, {
    durable_name: names.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    // the server stores backoff[0] as ack_wait whenever a backoff is set; mirror that so drift checks agree
    ack_wait: backoff[0] ?? nanos(ackWaitMs),
    max_deliver: maxDeliver,
    max_ack_pending: maxAckPending,
    ...(backoff.length > 0 ? { backoff } : {}),
  });
  return { names, eventsStream, dlqStream, consumer };
}
