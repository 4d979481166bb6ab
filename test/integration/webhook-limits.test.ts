import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { postWithHost } from '../helpers/post-with-host.js';
import type { TestService } from '../helpers/service.js';
import { startWithFakeStripe } from '../helpers/stripe.js';
import { StripeWorkspace } from '../helpers/stripe-events.js';

const count = (statuses: number[], status: number) => statuses.filter((value) => value === status).length;

describe('webhook rate per host (WEBHOOK_RATE_PER_HOST)', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let ws: StripeWorkspace;
  let invoiceId: string;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({ WEBHOOK_RATE_PER_HOST: '5,20' }, ['--role', 'api']));
    ws = await StripeWorkspace.connect(service, stripe);
    invoiceId = (await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId })).id;
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  it('a burst of 60 signed events for one host: the burst passes, the rest get 429 with Retry-After, never a 5xx', async () => {
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 60 }, () =>
        ws.send(ws.sessionEvent('checkout.session.completed', invoiceId, { amountMinor: 1_000 })),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(
      statuses.every((status) => status === 200 || status === 429),
      statuses.join(','),
    ).toBe(true);
    expect(count(statuses, 200)).toBeGreaterThanOrEqual(20);
    // The burst of 20, plus 5/s flowing in while the requests were answered.
    expect(count(statuses, 200)).toBeLessThanOrEqual(20 + Math.ceil(((Date.now() - started) / 1000) * 5) + 1);
    const limited = answers.find((answer) => answer.status === 429) as unknown as {
      headers: Record<string, string>;
      body: string;
    };
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited.body)).toEqual({ error: 'too many requests for this host, retry later' });
    expect(await service.metrics.registry.getSingleMetricAsString('payments_webhook_requests_total')).toMatch(
      new RegExp(`provider="stripe",outcome="rate_limited"\\} ${count(statuses, 429)}$`, 'm'),
    );
  });

  it('limits each provider + host on its own, the Mollie route too, before the host lookup', async () => {
    const url = `${service.url}/api/finance/payments/mollie/webhook`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    // An unknown host: the first 20 reach the host lookup (404), the rest are refused before it (429).
    const flood = await Promise.all(
      Array.from({ length: 40 }, () => postWithHost(url, 'flood.example.test', 'id=tr_flood', form)),
    );
    expect(flood.every((status) => status === 404 || status === 429)).toBe(true);
    expect(count(flood, 404)).toBeGreaterThanOrEqual(20);
    expect(count(flood, 429)).toBeGreaterThanOrEqual(15);
    // Another host is not affected by that flood.
    expect(await postWithHost(url, 'other.example.test', 'id=tr_other', form)).toBe(404);
  });
});

describe('events stream byte cap (EVENTS_STREAM_MAX_BYTES)', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let ws: StripeWorkspace;
  let invoiceId: string;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({ EVENTS_STREAM_MAX_BYTES: '16384' }, ['--role', 'api']));
    ws = await StripeWorkspace.connect(service, stripe);
    invoiceId = (await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId })).id;
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  it('answers 503 once the stream is full and keeps every event it stored', async () => {
    const jsm = await jetstreamManager(service.nats);
    const info = () => jsm.streams.info(service.names.eventsStream);
    expect((await info()).config).toMatchObject({ max_bytes: 16384, discard: 'new' });
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(503); i++) {
      statuses.push(
        (await ws.send(ws.sessionEvent('checkout.session.completed', invoiceId, { amountMinor: 1_000 + i }))).status,
      );
    }
    expect(statuses.at(-1)).toBe(503);
    const stored = count(statuses, 200);
    expect(stored).toBeGreaterThan(0);
    const full = (await info()).state;
    expect(full.messages).toBe(stored);
    for (let i = 0; i < 5; i++) {
      expect((await ws.send(ws.sessionEvent('checkout.session.completed', invoiceId, { amountMinor: 5 }))).status).toBe(
        503,
      );
    }
    const after = (await info()).state;
    expect(after).toMatchObject({ messages: stored, first_seq: full.first_seq, last_seq: full.last_seq });
    expect(await service.metrics.registry.getSingleMetricAsString('payments_webhook_requests_total')).toMatch(
      /provider="stripe",outcome="unavailable"\} 6/,
    );
  });
});
