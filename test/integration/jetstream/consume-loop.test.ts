import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumeResultKind, type HandleResult } from '../../../src/consumers/consume-loop.js';
import { createLogger } from '../../../src/observability/logger.js';
import { jetStreamNames, type JetStreamNames } from '../../../src/jetstream/names.js';
import { provisionJetStream } from '../../../src/jetstream/provision.js';
import { startPrivateNats } from '../../helpers/private-nats.js';
import { LogCapture } from '../../helpers/service.js';
import { uniquePrefix } from '../../helpers/env.js';
import { bytes, connectNats, deleteStreams, startTestConsumer } from '../../helpers/jetstream.js';
import { eventually, sleep } from '../../helpers/wait.js';

const WS = 'ws-1';

/** A fresh prefix with provisioned streams on `nc`; returns names and a publish helper. */
async function setup(nc: NatsConnection, maxDeliver = 5, backoffMs = [300]) {
  const prefix = uniquePrefix();
  const names: JetStreamNames = jetStreamNames(prefix);
  await provisionJetStream(nc, { prefix, maxDeliver, backoffMs });
  const js = jetstream(nc);
  const publish = (eventId: string) =>
    js.publish(names.eventSubject('stripe', WS), bytes(eventId), { msgID: `stripe:${eventId}`, timeout: 1000 });
  return { prefix, names, js, publish };
}

describe('startPullConsumer', () => {
  let nc: NatsConnection;
  const prefixes: string[] = [];

  beforeAll(async () => {
    nc = await connectNats();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteStreams(nc, prefix);
    await nc.close();
  });

  it('acks handled messages and reports results', async () => {
    const { prefix, names, js, publish } = await setup(nc);
    prefixes.push(prefix);
    const seen: string[] = [];
    const results: ConsumeResultKind[] = [];
    const loop = startTestConsumer(js, names, {
      handle: async (msg) => {
        seen.push(msg.string());
        return 'ack';
      },
      onResult: (kind) => results.push(kind),
    });
    for (const id of ['evt_a', 'evt_b', 'evt_c']) await publish(id);
    await eventually(() => seen.length === 3, 5000, { what: 'three messages' });
    await loop.stop();
    expect(seen.sort()).toEqual(['evt_a', 'evt_b', 'evt_c']);
    expect(results).toEqual(['ack', 'ack', 'ack']);
    const info = await (await jetstreamManager(nc)).consumers.info(names.eventsStream, names.consumer);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
  });

  it('redelivers after the backoff delay on retry, and treats a throwing handler like a retry', async () => {
    const { prefix, names, js, publish } = await setup(nc, 5, [300, 600]);
    prefixes.push(prefix);
    const deliveries: Array<{ id: string; count: number; at: number }> = [];
    const results: Array<{ kind: ConsumeResultKind; reason?: string }> = [];
    const loop = startTestConsumer(js, names, {
      concurrency: 4,
      backoffMs: [300, 600],
      handle: async (msg): Promise<HandleResult> => {
        const id = msg.string();
        deliveries.push({ id, count: msg.info.deliveryCount, at: Date.now() });
        if (msg.info.deliveryCount > 1) return 'ack';
        if (id === 'evt_throw') throw new Error('database is away');
        return { retry: 'invoice not found yet' };
      },
      onResult: (kind, _ms, detail) => results.push({ kind, reason: detail.reason }),
    });
    await publish('evt_retry');
    await publish('evt_throw');
    await eventually(() => deliveries.length === 4, 5000, { what: 'two deliveries each' });
    await loop.stop();
    for (const id of ['evt_retry', 'evt_throw']) {
      const [first, second] = deliveries.filter((d) => d.id === id);
      expect([first.count, second.count]).toEqual([1, 2]);
      expect(second.at - first.at).toBeGreaterThanOrEqual(280);
    }
    expect(results).toContainEqual({ kind: 'retry', reason: 'invoice not found yet' });
    expect(results).toContainEqual({ kind: 'error', reason: 'database is away' });
    expect(results.filter((r) => r.kind === 'ack')).toHaveLength(2);
  });

  it('a stopping worker hands messages back with a delay, so another worker settles them (found by the soak run)', async () => {
    // Messages that arrive in the still-open pull of a stopping worker were nak'ed without a delay: JetStream put them
    // straight back into that same pull, and all max_deliver deliveries were gone in milliseconds (dead-lettered,
    // never handled). Now they come back after the pull has ended, to a worker that is running.
    const { prefix, names, js, publish } = await setup(nc, 5, [300]);
    prefixes.push(prefix);
    const byA: string[] = [];
    // A wide pull (64 slots, as the service's default concurrency): room for every message × every delivery.
    const a = startTestConsumer(js, names, {
      concurrency: 64,
      expiresMs: 1500,
      handle: async (msg) => {
        byA.push(msg.string());
        return 'ack';
      },
    });
    await publish('evt_warmup');
    await eventually(() => byA.length === 1, 5000, { what: 'the first worker to be pulling' });
    await sleep(100); // its next pull is open
    const stopping = a.stop();
    const ids = Array.from({ length: 8 }, (_, index) => `evt_late_${index}`);
    for (const id of ids) await publish(id);
    await stopping;

    const byB: Array<{ id: string; count: number }> = [];
    const b = startTestConsumer(js, names, {
      concurrency: 4,
      handle: async (msg) => {
        byB.push({ id: msg.string(), count: msg.info.deliveryCount });
        return 'ack';
      },
    });
    try {
      await eventually(() => byA.length - 1 + byB.length >= ids.length, 10_000, {
        what: 'every late message to be handled',
      });
    } finally {
      await b.stop();
    }
    expect([...byA.slice(1), ...byB.map((entry) => entry.id)].sort()).toEqual(ids);
    expect(Math.max(...byB.map((entry) => entry.count), 0)).toBeLessThan(5);
  });

  it('never runs more than `concurrency` handlers at once, and stop() waits for running ones', async () => {
    const { prefix, names, js, publish } = await setup(nc);
    prefixes.push(prefix);
    let running = 0;
    let maxRunning = 0;
    const done: string[] = [];
    const loop = startTestConsumer(js, names, {
      concurrency: 3,
      handle: async (msg) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(120);
        running -= 1;
        done.push(msg.string());
        return 'ack';
      },
    });
    await Promise.all(Array.from({ length: 12 }, (_, i) => publish(`evt_${i}`)));
    await eventually(() => done.length >= 10, 8000, { what: 'most messages' });
    await loop.stop();
    expect(running).toBe(0);
    expect(maxRunning).toBe(3);
    const info = await (await jetstreamManager(nc)).consumers.info(names.eventsStream, names.consumer);
    // whatever was not handled before stop() is still pending, not lost in an ack wait
    expect(info.num_ack_pending).toBe(0);
    expect(done.length + info.num_pending + info.num_redelivered).toBeGreaterThanOrEqual(12);
  });

  it("keeps a long handler's delivery alive with working()", async () => {
    const { prefix, names, js, publish } = await setup(nc);
    prefixes.push(prefix);
    const jsm = await jetstreamManager(nc);
    // a 1 s ack wait (no backoff) makes the server redeliver a 2.5 s handler unless it hears working()
    await jsm.consumers.update(names.eventsStream, names.consumer, { ack_wait: 1_000_000_000, backoff: [] });
    const counts: number[] = [];
    const loop = startTestConsumer(js, names, {
      handle: async (msg: JsMsg) => {
        counts.push(msg.info.deliveryCount);
        await sleep(2500);
        return 'ack';
      },
    });
    await publish('evt_slow');
    await eventually(() => counts.length === 1, 3000, { what: 'the delivery' });
    await sleep(2800);
    await loop.stop();
    expect(counts).toEqual([1]);
    expect((await jsm.consumers.info(names.eventsStream, names.consumer)).num_ack_pending).toBe(0);
  });

  it('re-binds when its consumer is deleted and provisioned again', async () => {
    const { prefix, names, js, publish } = await setup(nc);
    prefixes.push(prefix);
    const seen: string[] = [];
    const loop = startTestConsumer(js, names, {
      handle: async (msg) => {
        seen.push(msg.string());
        return 'ack';
      },
    });
    await publish('evt_one');
    await eventually(() => seen.includes('evt_one'), 5000, { what: 'the first message' });
    await (await jetstreamManager(nc)).consumers.delete(names.eventsStream, names.consumer);
    await sleep(1200);
    await provisionJetStream(nc, { prefix, maxDeliver: 5, backoffMs: [300] });
    await publish('evt_two');
    // a new consumer delivers the whole stream again (deliver_policy all): settlement is idempotent
    await eventually(() => seen.includes('evt_two'), 8000, { what: 'the message after re-provisioning' });
    await loop.stop();
  });

  it('re-binds as soon as its nats-server is back after an outage', async () => {
    const server = await startPrivateNats();
    const own = await connectNats(server.url);
    const logs = new LogCapture();
    try {
      const { names, js, publish } = await setup(own);
      const seen: Array<{ id: string; at: number }> = [];
      const loop = startTestConsumer(js, names, {
        nc: own,
        logger: createLogger('info', logs),
        handle: async (msg) => {
          seen.push({ id: msg.string(), at: Date.now() });
          return 'ack';
        },
      });
      await publish('evt_before');
      await eventually(() => seen.some((entry) => entry.id === 'evt_before'), 5000, { what: 'the first message' });
      await server.stop();
      await sleep(3000); // long enough for the loop to have a JetStream request pending while the server is away
      await server.start();
      await eventually(() => publish('evt_after').catch(() => null), 8000, { what: 'publishing after the restart' });
      const published = Date.now();
      await eventually(() => seen.some((entry) => entry.id === 'evt_after'), 10_000, {
        what: 'the message after the restart',
      });
      await loop.stop();
      expect(seen.map((entry) => entry.id)).toEqual(['evt_before', 'evt_after']);
      // Without watching the connection, the loop sat out the 5 s timeout of a request sent during the outage first.
      expect(seen[1].at - published, 'handled soon after the server was back').toBeLessThan(3000);
      expect(logs.text).toContain('NATS reconnected; re-binding the consumer');
    } finally {
      await own.close();
      await server.dispose();
    }
  });
});
