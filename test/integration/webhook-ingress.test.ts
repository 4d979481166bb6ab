import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { startPrivateNats } from '../helpers/private-nats.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { startWithFakeStripe } from '../helpers/stripe.js';
import { StripeWorkspace } from '../helpers/stripe-events.js';

describe('Stripe webhook ingress', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let ws: StripeWorkspace;
  let invoiceId: string;
  beforeAll(async () => {
    // A service with its worker off: messages stay in the stream, so "stored" and "nothing stored" are observable.
    ({ service, stripe } = await startWithFakeStripe({}, ['--role', 'api']));
    ws = await StripeWorkspace.connect(service, stripe);
    invoiceId = (await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId })).id;
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const storedMessages = async () =>
    (await (await jetstreamManager(service.nats)).streams.info(service.names.eventsStream)).state.messages;
  const event = () => ws.sessionEvent('checkout.session.completed', invoiceId, { amountMinor: 1_000 });

  it('stores a verified event once (Nats-Msg-Id = provider:workspace:event id) and answers 200 to duplicates', async () => {
    const before = await storedMessages();
    const first = event();
    const answer = await ws.send(first);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ received: true, duplicate: false });
    const again = await ws.send(first);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ received: true, duplicate: true });
    expect(await storedMessages()).toBe(before + 1);
    const jsm = await jetstreamManager(service.nats);
    const stored = await jsm.streams.getMessage(service.names.eventsStream, {
      last_by_subj: service.names.eventSubject('stripe', ws.caller.workspaceId),
    });
    expect(stored!.header.get('Nats-Msg-Id')).toBe(`stripe:${ws.caller.workspaceId}:${first.id}`);
    expect(stored!.json<{ workspaceId: string; provider: string; event: { id: string } }>()).toMatchObject({
      workspaceId: ws.caller.workspaceId,
      provider: 'stripe',
      event: { id: first.id },
    });
  });

  it('matches the host case-insensitively and ignores its port', async () => {
    expect((await ws.send(event(), { host: `${ws.caller.workspaceDomain.toUpperCase()}:8443` })).status).toBe(200);
  });

  it.each([
    ['a bad signature', { signatureOverride: `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` }, 400],
    ['a missing signature header', { signatureOverride: null }, 400],
    ['a signature older than 300 s', { timestamp: Math.floor(Date.now() / 1000) - 301 }, 400],
    ["another endpoint's secret", { secret: 'whsec_not_the_right_secret_123' }, 400],
    ['an unknown host', { host: 'nobody.workestra.test' }, 404],
  ])('refuses %s and stores nothing', async (_name, overrides, status) => {
    const before = await storedMessages();
    expect((await ws.send(event(), overrides)).status).toBe(status);
    expect(await storedMessages()).toBe(before);
  });

  it('refuses a tampered body', async () => {
    const before = await storedMessages();
    const original = event();
    const signed = JSON.stringify(original);
    const signature = stripe.signPayload(signed, ws.secret);
    const tampered = signed.replace('"amount_total":1000', '"amount_total":1');
    expect((await ws.send(original, { payload: tampered, signatureOverride: signature })).status).toBe(400);
    expect(await storedMessages()).toBe(before);
  });

  it('refuses an event whose livemode differs from the account mode', async () => {
    const before = await storedMessages();
    const live = ws.sessionEvent('checkout.session.completed', invoiceId, { amountMinor: 1_000, livemode: true });
    const answer = await ws.send(live);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('livemode');
    expect(await storedMessages()).toBe(before);
  });

  it('accepts exactly 512 KiB and answers 413 above it', async () => {
    const make = (size: number) => {
      const base = event();
      const skeleton = JSON.stringify({ ...base, padding: '' });
      return { base, payload: JSON.stringify({ ...base, padding: 'x'.repeat(size - skeleton.length) }) };
    };
    const exact = make(512 * 1024);
    expect(Buffer.byteLength(exact.payload)).toBe(512 * 1024);
    expect((await ws.send(exact.base, { payload: exact.payload })).status).toBe(200);
    const before = await storedMessages();
    const over = make(512 * 1024 + 1);
    expect((await ws.send(over.base, { payload: over.payload })).status).toBe(413);
    expect(await storedMessages()).toBe(before);
  });

  it('rejects a body that is signed but not a Stripe event', async () => {
    expect((await ws.send(event(), { payload: '{"hello":"world"}' })).status).toBe(400);
    expect((await ws.send(event(), { payload: 'not json' })).status).toBe(400);
  });

  it('counts webhook outcomes in /metrics', async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/payments_webhook_requests_total\{provider="stripe",outcome="stored"\} [1-9]/);
    expect(metrics).toMatch(/payments_webhook_requests_total\{provider="stripe",outcome="rejected"\} [1-9]/);
    expect(metrics).toMatch(
      /payments_http_requests_total\{method="POST",route="\/api\/finance\/payments\/:provider\/webhook",status="200"\} [1-9]/,
    );
    expect(metrics).toMatch(/payments_http_requests_total\{method="POST",route="\/graphql",status="200"\} [1-9]/);
  });
});

describe('webhook ingress when JetStream cannot store the event', () => {
  it('answers 503, never 200, and 200 again once NATS is back', async () => {
    const nats = await startPrivateNats();
    const { startFakeStripe } = await import('../fakes/stripe/fake-stripe.server.js');
    const stripe = await startFakeStripe();
    const service = await startTestService({ NATS_URL: nats.url, STRIPE_API_URL: stripe.url }, ['--role', 'api']);
    try {
      const ws = await StripeWorkspace.connect(service, stripe);
      const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId });
      expect(
        (await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 500 }))).status,
      ).toBe(200);
      await nats.stop();
      const started = Date.now();
      const down = await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 500 }));
      expect(down.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(5000);
      await nats.start();
      const pending = ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 500 });
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await ws.send(pending)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe(200);
    } finally {
      await service.stop();
      await stripe.close();
      await nats.dispose();
    }
  });
});
