import { jetstream, jetstreamManager, type Consumer, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandleResult, RebindReason } from '../../../src/consumers/consume-loop.js';
import { OutageGate } from '../../../src/consumers/outage-gate.js';
import { jetStreamNames } from '../../../src/jetstream/names.js';
import { provisionJetStream } from '../../../src/jetstream/provision.js';
import { startPrivateNats, type PrivateNats } from '../../helpers/private-nats.js';
import { uniquePrefix } from '../../helpers/env.js';
import { bytes, connectNats, startTestConsumer, testLogger } from '../../helpers/jetstream.js';
import { eventually, sleep } from '../../helpers/wait.js';

/**
 * Real: a private nats-server, the consume loop, the outage gate. The "database" is a flag the handler and the
 * gate's probe read (the real PostgreSQL outage is in test/cluster): what is checked here is what JetStream sees.
 */
describe('consume loop: database outages and stalls', () => {
  let server: PrivateNats;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startPrivateNats();
    nc = await connectNats(server.url);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  async function setup(maxDeliver: number, ackWaitMs: number) {
    const prefix = uniquePrefix();
    const names = jetStreamNames(prefix);
    await provisionJetStream(nc, { prefix, maxDeliver, backoffMs: [200], ackWaitMs });
    const js = jetstream(nc);
    const publish = (id: string) => js.publish(names.eventSubject('stripe', 'ws-1'), bytes(id), { msgID: id });
    return { names, js, publish };
  }

  it('an outage longer than several ack waits uses no delivery: messages are held, nothing new is pulled, all settle once it is back', async () => {
    // max_deliver 2 and a 1 s ack wait: without holding, a 4 s outage would dead-letter every message
    const { names, js, publish } = await setup(2, 1000);
    let databaseUp = true;
    const settled: Array<{ id: string; deliveries: number }> = [];
    const attemptsWhileDown = new Set<string>();
    const gate = new OutageGate({
      probe: async () => {
        if (!databaseUp) throw new Error('connect ECONNREFUSED');
      },
      logger: testLogger(),
      minProbeMs: 100,
      maxProbeMs: 400,
    });
    const loop = startTestConsumer(js, names, {
      concurrency: 4,
      gate,
      handle: async (msg: JsMsg): Promise<HandleResult> => {
        if (!databaseUp) {
          attemptsWhileDown.add(msg.string());
          return { outage: 'database unreachable' };
        }
        settled.push({ id: msg.string(), deliveries: msg.info.deliveryCount });
        return 'ack';
      },
    });
    try {
      await publish('evt_0');
      await eventually(() => settled.length === 1, 5000, { what: 'the first message' });
      databaseUp = false;
      for (let i = 1; i <= 10; i++) await publish(`evt_${i}`);
      await sleep(4000);
      expect(settled).toHaveLength(1);
      // the first pull after the outage began takes at most `concurrency` messages; the rest stay in the stream
      expect(attemptsWhileDown.size).toBeGreaterThan(0);
      expect(attemptsWhileDown.size).toBeLessThanOrEqual(4);
      const jsm = await jetstreamManager(nc);
      const during = await jsm.consumers.info(names.eventsStream, names.consumer);
      expect(during.num_redelivered).toBe(0);
      expect(during.num_pending).toBeGreaterThanOrEqual(6);
      databaseUp = true;
      await eventually(() => settled.length === 11, 10_000, { what: 'every message after the outage' });
      expect(settled.every((entry) => entry.deliveries === 1)).toBe(true);
      const after = await jsm.consumers.info(names.eventsStream, names.consumer);
      expect(after.num_redelivered).toBe(0);
      expect(after.num_ack_pending).toBe(0);
    } finally {
      await loop.stop();
    }
  });

  it('messages held at shutdown are handed back, and another worker settles them', async () => {
    const { names, js, publish } = await setup(5, 1000);
    const gate = new OutageGate({
      probe: () => Promise.reject(new Error('still down')),
      logger: testLogger(),
      minProbeMs: 100,
    });
    const held: string[] = [];
    const first = startTestConsumer(js, names, {
      gate,
      handle: async (msg) => {
        held.push(msg.string());
        return { outage: 'database unreachable' };
      },
    });
    await publish('evt_held');
    await eventually(() => held.length === 1, 5000, { what: 'the message held' });
    const stopping = Date.now();
    await first.stop();
    expect(Date.now() - stopping, 'stop does not wait for the database').toBeLessThan(4000);
    const settled: string[] = [];
    const second = startTestConsumer(js, names, {
      handle: async (msg) => {
        settled.push(msg.string());
        return 'ack';
      },
    });
    try {
      await eventually(() => settled.includes('evt_held'), 8000, { what: 'the handed-back message' });
    } finally {
      await second.stop();
    }
  });

  it('the stall watchdog re-binds a loop that gets nothing while messages are pending', async () => {
    const { names, js, publish } = await setup(5, 5000);
    // A client whose first binding is deaf (its pulls go to an idle consumer), as after a lost pull request on a
    // leader change: no error ever reaches the loop. The second binding is the real consumer.
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(names.eventsStream, {
      durable_name: 'deaf',
      ack_policy: 'explicit' as never,
      filter_subject: names.eventSubject('stripe', 'ws-nobody'),
    });
    let binds = 0;
    const deafJs = {
      consumers: {
        get: async (stream: string, name: string): Promise<Consumer> => {
          const real = await js.consumers.get(stream, name);
          if (binds++ > 0) return real;
          const deaf = await js.consumers.get(stream, 'deaf');
          return Object.assign(Object.create(real) as Consumer, { fetch: deaf.fetch.bind(deaf) });
        },
      },
    } as unknown as JetStreamClient;
    const rebinds: RebindReason[] = [];
    const settled: string[] = [];
    const loop = startTestConsumer(deafJs, names, {
      stallMs: 1500,
      onRebind: (reason) => rebinds.push(reason),
      handle: async (msg) => {
        settled.push(msg.string());
        return 'ack';
      },
    });
    try {
      await eventually(() => binds === 1, 3000, { what: 'the first binding' });
      const published = Date.now();
      await publish('evt_stuck');
      await eventually(() => settled.includes('evt_stuck'), 10_000, { what: 'the message after the re-bind' });
      expect(rebinds).toContain('stall');
      // watchdog interval 500 ms: stall noticed within stallMs + one interval + an info round trip
      expect(Date.now() - published).toBeLessThan(4000);
    } finally {
      await loop.stop();
    }
  });

  it('an idle consumer with nothing pending is never re-bound', async () => {
    const { names, js } = await setup(5, 5000);
    const rebinds: RebindReason[] = [];
    const loop = startTestConsumer(js, names, {
      stallMs: 1000,
      onRebind: (reason) => rebinds.push(reason),
      handle: async () => 'ack',
    });
    await sleep(3500);
    await loop.stop();
    expect(rebinds).toEqual([]);
  });
});
