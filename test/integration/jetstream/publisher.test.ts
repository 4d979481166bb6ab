import type { Socket } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetStreamNames } from '../../../src/jetstream/names.js';
import { provisionJetStream } from '../../../src/jetstream/provision.js';
import { EventPublisher, JetStreamUnavailableError, type PublishResult } from '../../../src/jetstream/publisher.js';
import { startPrivateNats, type PrivateNats } from '../../helpers/private-nats.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { uniquePrefix } from '../../helpers/env.js';
import { bytes, connectNats, deleteStreams } from '../../helpers/jetstream.js';
import { eventually } from '../../helpers/wait.js';

const WS = '7d0c7a4e-59a4-4a4b-9b43-2b1d1c1f0a11';

/** Runs `publish` and returns its error and how long it took to fail. */
async function failure(publish: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await publish();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('publish unexpectedly succeeded');
}

describe('EventPublisher', () => {
  const prefix = uniquePrefix();
  const names = jetStreamNames(prefix);
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectNats();
    await provisionJetStream(nc, { prefix, maxDeliver: 3, backoffMs: [100] });
  });
  afterAll(async () => {
    await deleteStreams(nc, prefix);
    await nc.close();
  });

  it('writes the publishes asked for in one turn of the event loop (one per webhook request) to the socket at once, in order', async () => {
    const own = await connectNats();
    const ownPrefix = uniquePrefix();
    await provisionJetStream(own, { prefix: ownPrefix, maxDeliver: 3, backoffMs: [100] });
    try {
      const publisher = new EventPublisher(jetstream(own));
      const subject = jetStreamNames(ownPrefix).eventSubject('stripe', WS);
      await publisher.publish(subject, bytes('{}'), { msgId: 'stripe:evt_turn_warm' });
      // a spy on the connection's real socket (nats.js keeps it at protocol.transport.socket)
      const socket = (own as unknown as { protocol: { transport: { socket: Socket } } }).protocol.transport.socket;
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      let writes = 0;
      socket.write = ((...args: unknown[]) => {
        writes++;
        return write(...args);
      }) as typeof socket.write;
      // each publish asked for from its own callback, as each webhook is its own I/O callback
      const acks = await Promise.all(
        Array.from(
          { length: 40 },
          (_, k) =>
            new Promise<PublishResult>((resolve, reject) =>
              setImmediate(() =>
                publisher
                  .publish(subject, bytes(`{"k":${k}}`), { msgId: `stripe:evt_turn_${k}` })
                  .then(resolve, reject),
              ),
            ),
        ),
      );
      expect(writes).toBeLessThanOrEqual(2);
      const sequences = acks.map((ack) => ack.seq);
      expect(new Set(sequences).size).toBe(40);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    } finally {
      await deleteStreams(own, ownPrefix);
      await own.close();
    }
  });

  it('stores an event once: the same msgId again is acknowledged as a duplicate', async () => {
    const publisher = new EventPublisher(jetstream(nc), { timeoutMs: 2000, expectStream: names.eventsStream });
    const subject = names.eventSubject('stripe', WS);
    const first = await publisher.publish(subject, bytes('{"id":"evt_1"}'), {
      msgId: 'stripe:evt_1',
      headers: { 'Workestra-Test': 'yes' },
    });
    const second = await publisher.publish(subject, bytes('{"id":"evt_1"}'), { msgId: 'stripe:evt_1' });
    expect(first).toEqual({ seq: expect.any(Number), duplicate: false });
    expect(second).toEqual({ seq: first.seq, duplicate: true });
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(names.eventsStream)).state.messages).toBe(1);
    const stored = await jsm.streams.getMessage(names.eventsStream, { seq: first.seq });
    expect(stored?.header.get('Nats-Msg-Id')).toBe('stripe:evt_1');
    expect(stored?.header.get('Workestra-Test')).toBe('yes');
  });

  it('fails fast when no stream captures the subject', async () => {
    const publisher = new EventPublisher(jetstream(nc), { timeoutMs: 1000 });
    const { error, ms } = await failure(() =>
      publisher.publish(`${uniquePrefix()}.events.stripe.${WS}`, bytes('{}'), { msgId: 'stripe:evt_x' }),
    );
    expect(error).toBeInstanceOf(JetStreamUnavailableError);
    expect((error as JetStreamUnavailableError).reason).toBe('no_responders');
    expect((error as Error).message).toBe('JetStream is unavailable, try again later');
    expect(ms).toBeLessThan(1000);
  });

  it('fails when another stream captures the subject than the expected one', async () => {
    const publisher = new EventPublisher(jetstream(nc), { timeoutMs: 1000, expectStream: 'SOME_OTHER_STREAM' });
    const { error } = await failure(() =>
      publisher.publish(names.eventSubject('stripe', WS), bytes('{}'), { msgId: 'stripe:evt_y' }),
    );
    expect((error as JetStreamUnavailableError).reason).toBe('rejected');
  });

  it('fails within the timeout while the connection is cut, and works again once it is back', async () => {
    const proxy: TcpProxy = await startTcpProxy('127.0.0.1', 4222);
    const viaProxy = await connectNats(proxy.url());
    try {
      const publisher = new EventPublisher(jetstream(viaProxy), { timeoutMs: 500 });
      await publisher.publish(names.eventSubject('stripe', WS), bytes('{}'), { msgId: 'stripe:evt_p1' });
      proxy.cut();
      const { error, ms } = await failure(() =>
        publisher.publish(names.eventSubject('stripe', WS), bytes('{}'), { msgId: 'stripe:evt_p2' }),
      );
      expect((error as JetStreamUnavailableError).reason).toBe('timeout');
      expect(ms).toBeLessThan(1000);
      proxy.restore();
      const ack = await eventually(
        () =>
          publisher
            .publish(names.eventSubject('stripe', WS), bytes('{}'), { msgId: 'stripe:evt_p2' })
            .catch(() => null),
        8000,
        { what: 'publishing after reconnect' },
      );
      expect(ack.duplicate).toBe(false);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('fails within the timeout while its nats-server is down, and when the connection is closed', async () => {
    const server: PrivateNats = await startPrivateNats();
    const own = await connectNats(server.url);
    try {
      await provisionJetStream(own, { prefix, maxDeliver: 3, backoffMs: [100] });
      const publisher = new EventPublisher(jetstream(own), { timeoutMs: 500 });
      await publisher.publish(names.eventSubject('mollie', WS), bytes('{}'), { msgId: 'mollie:tr_1' });
      await server.stop();
      const down = await failure(() =>
        publisher.publish(names.eventSubject('mollie', WS), bytes('{}'), { msgId: 'mollie:tr_2' }),
      );
      expect(down.error).toBeInstanceOf(JetStreamUnavailableError);
      expect((down.error as JetStreamUnavailableError).reason).toBe('timeout');
      expect(down.ms).toBeLessThan(1000);
      await own.close();
      const closed = await failure(() =>
        publisher.publish(names.eventSubject('mollie', WS), bytes('{}'), { msgId: 'mollie:tr_3' }),
      );
      expect((closed.error as JetStreamUnavailableError).reason).toBe('closed');
      expect(closed.ms).toBeLessThan(100);
    } finally {
      if (!own.isClosed()) await own.close();
      await server.dispose();
    }
  });
});
