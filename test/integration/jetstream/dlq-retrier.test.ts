import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PullConsumerHandle } from '../../../src/consumers/consume-loop.js';
import {
  readDeadLetters,
  startDeadLetterForwarder,
  type DeadLetterForwarder,
} from '../../../src/consumers/dead-letter.js';
import { startDlqRetrier } from '../../../src/consumers/dlq-retrier.js';
import { jetStreamNames } from '../../../src/jetstream/names.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { provisionJetStream } from '../../../src/jetstream/provision.js';
import { uniquePrefix } from '../../helpers/env.js';
import { bytes, connectNats, deleteStreams, startTestConsumer, testLogger } from '../../helpers/jetstream.js';
import { eventually } from '../../helpers/wait.js';

describe('startDlqRetrier', () => {
  const prefix = uniquePrefix();
  const names = jetStreamNames(prefix);
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let loop: PullConsumerHandle;
  let forwarder: DeadLetterForwarder;
  const deliveries: number[] = [];
  const metrics = new Metrics();
  const scrape = () => metrics.registry.metrics();

  const deadLetters = () => readDeadLetters(jsm, names);
  const eventCount = async () => (await jsm.streams.info(names.eventsStream)).state.messages;

  beforeAll(async () => {
    nc = await connectNats();
    jsm = await jetstreamManager(nc);
    await provisionJetStream(nc, { prefix, maxDeliver: 2, backoffMs: [100] });
    const js = jetstream(nc);
    loop = startTestConsumer(js, names, {
      backoffMs: [100],
      handle: async (msg) => {
        deliveries.push(msg.seq);
        return { retry: 'always failing' };
      },
    });
    forwarder = startDeadLetterForwarder({ nc, js, jsm, names, logger: testLogger(), lastError: async () => null });
  });

  afterAll(async () => {
    await loop.stop();
    await forwarder.stop();
    await deleteStreams(nc, prefix);
    await nc.close();
  });

  it('retries a dead letter up to maxAutoRetries times, then leaves it for ops', async () => {
    const js = jetstream(nc);
    const options = { js, jsm, names, intervalMs: 60_000, maxAutoRetries: 1, logger: testLogger(), metrics };
    const retrier = startDlqRetrier(options);
    const twin = startDlqRetrier(options);
    try {
      await js.publish(names.eventSubject('stripe', 'ws-9'), bytes('{"id":"evt_r"}'), { msgID: 'stripe:evt_r' });
      const [first] = await eventually(async () => ((await deadLetters()).length === 1 ? deadLetters() : null), 5000, {
        what: 'the first death',
      });
      expect(first.autoRetries).toBe(0);
      expect(first.lastError).toBe('unknown (no error recorded)');

      // two workers' retriers racing on the same letter put one copy back
      const [a, b] = await Promise.all([retrier.runOnce(), twin.runOnce()]);
      expect(a.retried + b.retried).toBe(1);
      expect(await eventCount()).toBe(2);

      const [second] = await eventually(
        async () => {
          const letters = await deadLetters();
          return letters.length === 1 && letters[0].seq !== first.seq ? letters : null;
        },
        5000,
        { what: 'the second death' },
      );
      expect(second).toMatchObject({ autoRetries: 1, msgId: 'stripe:evt_r', deliveries: 2 });
      expect(second.originalSeq).not.toBe(first.originalSeq);

      expect(await retrier.runOnce()).toEqual({ retried: 0, leftForOps: 1 });
      expect(await eventCount()).toBe(2);
      expect((await deadLetters()).map((letter) => letter.seq)).toEqual([second.seq]);
      expect(deliveries).toHaveLength(4);
      // what /metrics shows of it: one letter put back, one left for ops, three passes (the racing two included)
      const text = await scrape();
      expect(text).toMatch(/^payments_dlq_auto_retries_total\{outcome="retried"\} 1$/m);
      expect(text).toMatch(/^payments_dlq_auto_retries_total\{outcome="left_for_ops"\} 1$/m);
      expect(text).toMatch(/^payments_background_runs_total\{task="dlq_retry",outcome="ok"\} 3$/m);
    } finally {
      await retrier.stop();
      await twin.stop();
    }
  });

  it('runs passes on its interval until the letter is out of automatic retries, and stops', async () => {
    const retrier = startDlqRetrier({
      js: jetstream(nc),
      jsm,
      names,
      intervalMs: 100,
      maxAutoRetries: 3,
      logger: testLogger(),
      metrics,
    });
    try {
      // from 1 automatic retry (previous test) to 3, each pass replaying it and the consumer killing it again
      const final = await eventually(
        async () => {
          const letters = await deadLetters();
          return letters.length === 1 && letters[0].autoRetries === 3 ? letters[0] : null;
        },
        8000,
        { what: 'interval passes to use up the retries' },
      );
      expect(final.msgId).toBe('stripe:evt_r');
      expect(await retrier.runOnce()).toEqual({ retried: 0, leftForOps: 1 });
      expect(await scrape()).toMatch(/^payments_dlq_auto_retries_total\{outcome="retried"\} 3$/m);
    } finally {
      await retrier.stop();
    }
  });
});
