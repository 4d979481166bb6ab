import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.js';

/** `/metrics` reads JetStream at most once per 5 s, however often it is scraped. */
describe('/metrics and JetStream', () => {
  let service: TestService;
  let nc: NatsConnection;
  beforeAll(async () => {
    // The api role: no consume loop of its own asking JetStream about the consumer.
    service = await startTestService({}, ['--role', 'api']);
    nc = await connect({ servers: 'nats://127.0.0.1:4222' });
  });
  afterAll(async () => {
    await nc?.close();
    await service?.stop();
  });

  it('10 scrapes in a row make one probe: one DLQ stream info and one consumer info', async () => {
    const { dlqStream, eventsStream, consumer } = service.names;
    // The service's JetStream API requests are plain NATS requests: this connection sees every one of them.
    const seen: string[] = [];
    const subscription = nc.subscribe(`$JS.API.>`, {
      callback: (_error, message) => {
        if (message.subject.includes(dlqStream) || message.subject.includes(eventsStream)) seen.push(message.subject);
      },
    });
    await nc.flush();
    const bodies: string[] = [];
    for (let i = 0; i < 10; i++) bodies.push(await (await fetch(`${service.url}/metrics`)).text());
    await nc.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    subscription.unsubscribe();
    expect(seen.sort()).toEqual([
      `$JS.API.CONSUMER.INFO.${eventsStream}.${consumer}`,
      `$JS.API.STREAM.INFO.${dlqStream}`,
    ]);
    for (const body of bodies) {
      expect(body).toMatch(/^payments_dlq_messages \d+$/m);
      expect(body).toMatch(/^payments_consumer_pending_messages \d+$/m);
    }
  });
});
