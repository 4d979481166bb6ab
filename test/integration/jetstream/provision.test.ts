import { jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetStreamNames } from '../../../src/jetstream/names.js';
import { provisionJetStream, serverBackoffMs } from '../../../src/jetstream/provision.js';
import { uniquePrefix } from '../../helpers/env.js';
import { connectNats, deleteStreams } from '../../helpers/jetstream.js';

describe('provisionJetStream', () => {
  const prefix = uniquePrefix();
  const names = jetStreamNames(prefix);
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nc = await connectNats();
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await deleteStreams(nc, prefix);
    await nc.close();
  });

  it('applies the events byte cap in place to an existing stream, keeping what it stores', async () => {
    const capPrefix = uniquePrefix();
    const capNames = jetStreamNames(capPrefix);
    try {
      // A stream as an older version created it: discard old, no byte cap.
      await jsm.streams.add({
        name: capNames.eventsStream,
        subjects: [capNames.eventsSubjects],
        storage: StorageType.File,
      });
      await nc.request(`${capPrefix}.events.stripe.ws`, new TextEncoder().encode('{"kept":true}'));
      const result = await provisionJetStream(nc, {
        prefix: capPrefix,
        maxDeliver: 3,
        backoffMs: [100],
        eventsMaxBytes: 4096,
      });
      expect(result.eventsStream).toBe('updated');
      const info = await jsm.streams.info(capNames.eventsStream);
      expect(info.config).toMatchObject({ max_bytes: 4096, discard: 'new' });
      expect(info.state.messages).toBe(1);
      expect(
        (await provisionJetStream(nc, { prefix: capPrefix, maxDeliver: 3, backoffMs: [100], eventsMaxBytes: 4096 }))
          .eventsStream,
      ).toBe('unchanged');
    } finally {
      await deleteStreams(nc, capPrefix);
    }
  });

  it('creates streams and consumer once, then finds nothing to change', async () => {
    const options = { prefix, maxDeliver: 3, backoffMs: [100, 60_000, 400, 800] };
    expect(await provisionJetStream(nc, options)).toMatchObject({
      eventsStream: 'created',
      dlqStream: 'created',
      consumer: 'created',
    });
    expect(await provisionJetStream(nc, options)).toMatchObject({
      eventsStream: 'unchanged',
      dlqStream: 'unchanged',
      consumer: 'unchanged',
    });

    const events = (await jsm.streams.info(names.eventsStream)).config;
    expect(events).toMatchObject({
      subjects: [names.eventsSubjects],
      storage: 'file',
      discard: 'new',
      max_bytes: -1,
      num_replicas: 1,
    });
    expect(events.duplicate_window).toBe(nanos(120_000));
    expect(events.max_age).toBe(nanos(30 * 24 * 3600 * 1000));
    const dlq = (await jsm.streams.info(names.dlqStream)).config;
    expect(dlq).toMatchObject({ subjects: [names.dlqSubjects], storage: 'file' });
    expect(dlq.max_age).toBe(nanos(90 * 24 * 3600 * 1000));

    const consumer = (await jsm.consumers.info(names.eventsStream, 'settlement')).config;
    expect(consumer).toMatchObject({
      durable_name: 'settlement',
      ack_policy: 'explicit',
      deliver_policy: 'all',
      max_deliver: 3,
      max_ack_pending: 1000,
    });
    // max_deliver 3 allows 2 backoff steps; each at least the 30 s ack wait (the server sets ack_wait = backoff[0])
    expect(consumer.backoff).toEqual([nanos(30_000), nanos(60_000)]);
    expect(consumer.ack_wait).toBe(nanos(30_000));
  });

  it('updates the consumer and streams when their configuration drifted', async () => {
    const result = await provisionJetStream(nc, { prefix, maxDeliver: 5, backoffMs: [100, 200] });
    expect(result.consumer).toBe('updated');
    const consumer = (await jsm.consumers.info(names.eventsStream, 'settlement')).config;
    expect(consumer.max_deliver).toBe(5);
    expect(consumer.backoff).toEqual([nanos(30_000), nanos(30_000)]);

    await jsm.streams.update(names.eventsStream, { duplicate_window: nanos(30_000) });
    const again = await provisionJetStream(nc, { prefix, maxDeliver: 5, backoffMs: [100, 200] });
    expect(again).toMatchObject({ eventsStream: 'updated', dlqStream: 'unchanged', consumer: 'unchanged' });
    expect((await jsm.streams.info(names.eventsStream)).config.duplicate_window).toBe(nanos(120_000));
  });

  it('keeps server-side backoff shorter than max_deliver', () => {
    expect(serverBackoffMs([1000, 5000, 30_000, 120_000, 600_000], 6, 30_000)).toEqual([
      30_000, 30_000, 30_000, 120_000, 600_000,
    ]);
    expect(serverBackoffMs([1000, 5000], 2, 30_000)).toEqual([30_000]);
    expect(serverBackoffMs([1000], 1, 30_000)).toEqual([]);
  });
});
