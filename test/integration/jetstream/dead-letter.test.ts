import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HandleResult, type PullConsumerHandle } from '../../../src/consumers/consume-loop.js';
import {
  dropDeadLetter,
  readDeadLetters,
  replayDeadLetter,
  startDeadLetterForwarder,
  type DeadLetterForwarder,
} from '../../../src/consumers/dead-letter.js';
import { jetStreamNames, originalEventMsgId } from '../../../src/jetstream/names.js';
import { provisionJetStream } from '../../../src/jetstream/provision.js';
import { uniquePrefix } from '../../helpers/env.js';
import { bytes, connectNats, deleteStreams, startTestConsumer, testLogger } from '../../helpers/jetstream.js';
import { eventually, sleep } from '../../helpers/wait.js';

const WS = '0b7e6a52-3c0e-4d35-9a52-0f4f3f6f9e01';

describe('dead letters', () => {
  const prefix = uniquePrefix();
  const names = jetStreamNames(prefix);
  let nc: NatsConnection;
  let other: NatsConnection;
  let jsm: JetStreamManager;
  let loop: PullConsumerHandle;
  const forwarders: DeadLetterForwarder[] = [];
  const lastErrors = new Map<string, string>();
  let outcome: (id: string) => HandleResult = () => ({ retry: 'invoice 42 not found\nin workspace (will retry)' });
  const forwarded: Array<{ originalSeq: number; duplicate: boolean }> = [];
  const acked: Array<{ body: string; msgId: string | null; natsMsgId: string | undefined }> = [];

  const dlqDepth = async () => (await jsm.streams.info(names.dlqStream)).state.messages;

  beforeAll(async () => {
    nc = await connectNats();
    other = await connectNats();
    jsm = await jetstreamManager(nc);
    await provisionJetStream(nc, { prefix, maxDeliver: 2, backoffMs: [100] });
    const js = jetstream(nc);
    loop = startTestConsumer(js, names, {
      concurrency: 4,
      backoffMs: [100],
      handle: async (msg) => {
        const result = outcome(msg.string());
        if (result === 'ack')
          acked.push({
            body: msg.string(),
            msgId: originalEventMsgId(msg.headers),
            natsMsgId: msg.headers?.get('Nats-Msg-Id'),
          });
        return result;
      },
      onResult: (kind, _ms, { msg, reason }) => {
        const msgId = originalEventMsgId(msg.headers);
        if (reason && msgId) lastErrors.set(msgId, reason);
      },
    });
    // two workers, each with its own connection and forwarder: the advisory reaches both
    for (const conn of [nc, other]) {
      forwarders.push(
        startDeadLetterForwarder({
          nc: conn,
          js: jetstream(conn),
          jsm: await jetstreamManager(conn),
          names,
          logger: testLogger(),
          lastError: async (msgId) => lastErrors.get(msgId) ?? null,
          onDeadLetter: ({ originalSeq, duplicate }) => forwarded.push({ originalSeq, duplicate }),
        }),
      );
    }
  });

  afterAll(async () => {
    await loop.stop();
    for (const forwarder of forwarders) await forwarder.stop();
    await deleteStreams(nc, prefix);
    await other.close();
    await nc.close();
  });

  it('copies a message that keeps failing into the DLQ once, with its history', async () => {
    const js = jetstream(nc);
    const ack = await js.publish(names.eventSubject('stripe', WS), bytes('{"id":"evt_dead"}'), {
      msgID: 'stripe:evt_dead',
    });
    await eventually(async () => (await dlqDepth()) >= 1, 5000, { what: 'the dead letter' });
    await eventually(() => forwarded.length === 2, 3000, { what: 'both forwarders' });
    await sleep(200);
    expect(await dlqDepth()).toBe(1);
    expect(forwarded.map((f) => f.duplicate).sort()).toEqual([false, true]);
    expect(forwarded.every((f) => f.originalSeq === ack.seq)).toBe(true);

    const [letter, ...rest] = await readDeadLetters(jsm, names);
    expect(rest).toEqual([]);
    expect(letter).toMatchObject({
      subject: names.eventSubject('stripe', WS),
      dlqSubject: names.dlqSubject('stripe', WS),
      originalSeq: ack.seq,
      msgId: 'stripe:evt_dead',
      provider: 'stripe',
      workspaceId: WS,
      deliveries: 2,
      lastError: 'invoice 42 not found in workspace (will retry)',
      autoRetries: 0,
    });
    expect(new Date(letter.deadAt).getTime()).toBeGreaterThan(Date.now() - 10_000);
    expect(new TextDecoder().decode(letter.data)).toBe('{"id":"evt_dead"}');
  });

  it('replays a dead letter into the events stream, where a now-succeeding handler acks it', async () => {
    const [letter] = await readDeadLetters(jsm, names);
    outcome = () => 'ack';
    const replay = await replayDeadLetter(jetstream(nc), jsm, names, letter.seq, { auto: false });
    expect(replay).toMatchObject({ duplicate: false, msgId: expect.stringMatching(/^stripe:evt_dead#r\d+$/) });
    await eventually(() => acked.length === 1, 5000, { what: 'the replayed event to be handled' });
    expect(acked[0]).toEqual({ body: '{"id":"evt_dead"}', msgId: 'stripe:evt_dead', natsMsgId: replay!.msgId });
    expect(await readDeadLetters(jsm, names)).toEqual([]);
    expect(await replayDeadLetter(jetstream(nc), jsm, names, letter.seq, { auto: false })).toBeNull();
    const stored = await jsm.streams.getMessage(names.eventsStream, { seq: replay!.eventSeq });
    expect(stored?.header.get('Workestra-Auto-Retries')).toBe('0');
  });

  it('drops a dead letter on request', async () => {
    outcome = () => ({ retry: 'still broken' });
    await jetstream(nc).publish(names.eventSubject('mollie', WS), bytes('{"id":"tr_1"}'), { msgID: 'mollie:tr_1' });
    const [letter] = await eventually(
      async () => {
        const letters = await readDeadLetters(jsm, names);
        return letters.length === 1 ? letters : null;
      },
      5000,
      { what: 'the second dead letter' },
    );
    expect(letter).toMatchObject({ provider: 'mollie', msgId: 'mollie:tr_1', lastError: 'still broken' });
    expect(await dropDeadLetter(jsm, names, letter.seq)).toBe(true);
    expect(await dropDeadLetter(jsm, names, letter.seq)).toBe(false);
    expect(await readDeadLetters(jsm, names)).toEqual([]);
  });
});
