import Stripe from 'stripe';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEvent, type FakeStripe, startFakeStripe } from '../fakes/stripe/fake-stripe.server';

const KEY = 'sk_test_fakeWorkspaceA1234';
const OTHER_KEY = 'sk_test_fakeWorkspaceB5678';

const sessionParams = (amount = 12_345, currency = 'EUR'): Stripe.Checkout.SessionCreateParams => ({
  mode: 'payment',
  line_items: [
    {
      price_data: { currency, unit_amount: amount, product_data: { name: 'Invoice INV-7 (partial payment)' } },
      quantity: 1,
    },
  ],
  customer_email: 'customer@example.com',
  client_reference_id: 'b6f1a1c4-0000-4000-8000-000000000001',
  metadata: { workspace_id: 'ws-1', invoice_id: 'inv-1' },
  payment_intent_data: { metadata: { workspace_id: 'ws-1', invoice_id: 'inv-1' } },
  success_url: 'http://localhost:4001/pay/success?session_id={CHECKOUT_SESSION_ID}',
  cancel_url: 'http://localhost:4001/pay/cancel',
});

describe('fake Stripe server with the real SDK', () => {
  let fake: FakeStripe;
  let stripe: Stripe;
  const client = (key: string, maxNetworkRetries = 0): Stripe =>
    new Stripe(key, { host: fake.host, port: fake.port, protocol: 'http', maxNetworkRetries });

  beforeAll(async () => {
    fake = await startFakeStripe({ rejectKeys: ['sk_test_revoked9999'] });
    stripe = client(KEY);
  });
  afterAll(async () => fake.close());

  it('authenticates keys and answers cheap GETs', async () => {
    expect((await stripe.balance.retrieve()).object).toBe('balance');
    expect((await client('rk_live_restricted42').accounts.retrieveCurrent()).object).toBe('account');
    for (const key of ['sk_test_revoked9999', 'sk_test_bad-key!x1234', 'pk_test_publishable1234']) {
      const error: unknown = await client(key)
        .balance.retrieve()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    }
    const error = await client('sk_test_revoked9999')
      .balance.retrieve()
      .catch((e: unknown) => e);
    expect((error as Stripe.errors.StripeError).message).toBe('Invalid API Key provided: sk_test_*******9999');
    expect(fake.requests.at(-1)).toMatchObject({ status: 401, apiKey: 'sk_test_revoked9999', path: '/v1/balance' });
  });

  it('creates a checkout session whose params round-trip exactly', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      payment_intent: null,
      amount_total: 12_345,
      amount_subtotal: 12_345,
      currency: 'eur',
      livemode: false,
      customer_email: 'customer@example.com',
      client_reference_id: 'b6f1a1c4-0000-4000-8000-000000000001',
      metadata: { workspace_id: 'ws-1', invoice_id: 'inv-1' },
      success_url: 'http://localhost:4001/pay/success?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'http://localhost:4001/pay/cancel',
      url: `${fake.url}/checkout/pay/${session.id}`,
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.expires_at - session.created).toBe(24 * 3600);
    const recorded = fake.requests.at(-1);
    expect(recorded?.rawBody).toContain('line_items[0][price_data][unit_amount]=12345');
    expect(recorded?.body).toMatchObject({
      line_items: [{ price_data: { unit_amount: '12345', currency: 'EUR' }, quantity: '1' }],
    });
    expect(recorded?.idempotencyKey).toMatch(/^stripe-node-retry-/);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    expect(items.data).toMatchObject([
      {
        description: 'Invoice INV-7 (partial payment)',
        quantity: 1,
        amount_total: 12_345,
        price: { unit_amount: 12_345 },
      },
    ]);
    const fetched = await stripe.checkout.sessions.retrieve(session.id);
    expect(fetched).toEqual(session);
    const other = await client(OTHER_KEY)
      .checkout.sessions.retrieve(session.id)
      .catch((e: unknown) => e);
    expect(other).toMatchObject({ type: 'StripeInvalidRequestError', code: 'resource_missing', statusCode: 404 });
    const live = await client('sk_live_fakeWorkspaceA1234')
      .checkout.sessions.retrieve(session.id)
      .catch((e: unknown) => e);
    expect((live as Error).message).toContain('a similar object exists in test mode');
  });

  it('validates like Stripe', async () => {
    const fail = (params: Stripe.Checkout.SessionCreateParams) =>
      stripe.checkout.sessions.create(params).then(
        () => {
          throw new Error('expected a failure');
        },
        (e: unknown) => e as Stripe.errors.StripeError,
      );
    expect(await fail({ ...sessionParams(), mode: undefined })).toMatchObject({
      code: 'parameter_missing',
      param: 'mode',
      statusCode: 400,
    });
    expect(await fail(sessionParams(-5))).toMatchObject({ param: 'line_items[0][price_data][unit_amount]' });
    const kwd = await fail(sessionParams(1005, 'kwd'));
    expect(kwd).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(kwd.message).toContain('divisible by 10');
    expect((await stripe.checkout.sessions.create(sessionParams(1000, 'kwd'))).amount_total).toBe(1000);
    expect((await fail(sessionParams(10))).message).toContain('at least 0.50 EUR');
  });

  it('replays idempotent requests and rejects a reused key with other params', async () => {
    const first = await stripe.checkout.sessions.create(sessionParams(5000), { idempotencyKey: 'pay-link-1:5000:0' });
    const again = await stripe.checkout.sessions.create(sessionParams(5000), { idempotencyKey: 'pay-link-1:5000:0' });
    expect(again.id).toBe(first.id);
    expect(fake.requests.at(-1)).toMatchObject({ replayed: true, status: 200, idempotencyKey: 'pay-link-1:5000:0' });
    const mismatch = await stripe.checkout.sessions
      .create(sessionParams(6000), { idempotencyKey: 'pay-link-1:5000:0' })
      .catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((mismatch as Error).message).toContain("Try using a key other than 'pay-link-1:5000:0'");
    const otherAccount = await client(OTHER_KEY).checkout.sessions.create(sessionParams(5000), {
      idempotencyKey: 'pay-link-1:5000:0',
    });
    expect(otherAccount.id).not.toBe(first.id);
  });

  it('expires open sessions only', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ id: session.id, status: 'expired', url: null });
    expect(fake.events.at(-1)).toMatchObject({
      type: 'checkout.session.expired',
      data: { object: { id: session.id } },
    });
    const again = await stripe.checkout.sessions.expire(session.id).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((again as Error).message).toBe('Only Checkout Sessions with a status in ["open"] can be expired.');
  });

  it('refunds a paid session and refuses over-refunds', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams(10_000));
    const { paymentIntent, charge } = await fake.completeSession(session.id, { paymentStatus: 'paid' });
    const pi = await stripe.paymentIntents.retrieve(paymentIntent.id, { expand: ['latest_charge'] });
    expect(pi).toMatchObject({
      status: 'succeeded',
      amount: 10_000,
      metadata: { invoice_id: 'inv-1' },
      latest_charge: { id: charge.id },
    });
    const refund = await stripe.refunds.create(
      { payment_intent: pi.id, amount: 4000, reason: 'requested_by_customer', metadata: { note: 'x' } },
      { idempotencyKey: 'ws-1:refund-1' },
    );
    expect(refund).toMatchObject({
      object: 'refund',
      amount: 4000,
      status: 'succeeded',
      charge: charge.id,
      payment_intent: pi.id,
      currency: 'eur',
      metadata: { note: 'x' },
    });
    expect(fake.charges.get(charge.id)).toMatchObject({ amount_refunded: 4000, refunded: false });
    expect(fake.events.slice(-2).map((e) => e.type)).toEqual(['refund.created', 'charge.refunded']);
    expect(fake.events.at(-1)?.request).toEqual({
      id: fake.requests.at(-1)?.requestId,
      idempotency_key: 'ws-1:refund-1',
    });
    const tooLarge = await stripe.refunds.create({ payment_intent: pi.id, amount: 7000 }).catch((e: unknown) => e);
    expect(tooLarge).toMatchObject({ code: 'amount_too_large', statusCode: 400 });
    const rest = await stripe.refunds.create({ payment_intent: pi.id });
    expect(rest.amount).toBe(6000);
    expect(await stripe.refunds.retrieve(rest.id)).toEqual(rest);
    expect(await stripe.refunds.create({ payment_intent: pi.id }).catch((e: unknown) => e)).toMatchObject({
      code: 'charge_already_refunded',
    });
    expect(await stripe.refunds.create({ payment_intent: 'pi_unknown' }).catch((e: unknown) => e)).toMatchObject({
      code: 'resource_missing',
      statusCode: 404,
    });
    const badReason = await stripe.refunds
      .create({ payment_intent: pi.id, reason: 'oops' as 'duplicate' })
      .catch((e: unknown) => e);
    expect(badReason).toMatchObject({ statusCode: 400, param: 'reason' });
  });

  it('creates, reads and deletes webhook endpoints', async () => {
    const endpoint = await stripe.webhookEndpoints.create({
      url: 'https://acme.workestra.app/api/finance/payments/stripe/webhook',
      enabled_events: ['checkout.session.completed', 'charge.refunded'],
      description: 'Workestra Payments',
      metadata: { workspace_id: 'ws-1' },
    });
    expect(endpoint).toMatchObject({
      object: 'webhook_endpoint',
      status: 'enabled',
      livemode: false,
      enabled_events: ['checkout.session.completed', 'charge.refunded'],
    });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).secret).toBeUndefined();
    expect(await stripe.webhookEndpoints.del(endpoint.id)).toEqual({
      id: endpoint.id,
      object: 'webhook_endpoint',
      deleted: true,
    });
    const missing = await stripe.webhookEndpoints.retrieve(endpoint.id).catch((e: unknown) => e);
    expect(missing).toMatchObject({
      code: 'resource_missing',
      message: `No such webhook endpoint: '${endpoint.id}'`,
      statusCode: 404,
    });
  });

  it('signs payloads exactly like the SDK and delivers with the Host header', async () => {
    const secret = 'whsec_testsecret123';
    const event = fake.buildEvent('checkout.session.completed', {
      id: 'cs_test_x',
      object: 'checkout.session',
      livemode: false,
    });
    expect(event).toMatchObject({
      object: 'event',
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      livemode: false,
    });
    expect(event.api_version).toMatch(/^2025-/);
    const payload = JSON.stringify(event);
    const timestamp = Math.floor(Date.now() / 1000);
    expect(fake.signPayload(payload, secret, timestamp)).toBe(
      stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }),
    );
    expect(stripe.webhooks.constructEvent(payload, fake.signPayload(payload, secret), secret).id).toBe(event.id);
    const receiver = await startWebhookReceiver('{"received":true}', { 'content-type': 'application/json' });
    try {
      const result = await fake.deliverEvent(event, {
        targetUrl: `${receiver.url}/api/finance/payments/stripe/webhook`,
        host: 'acme.workestra.app',
        secret,
      });
      expect(result.status).toBe(200);
      const hit = receiver.hits[0];
      expect(hit.headers.host).toBe('acme.workestra.app');
      expect(hit.url).toBe('/api/finance/payments/stripe/webhook');
      expect(stripe.webhooks.constructEvent(hit.body, String(hit.headers['stripe-signature']), secret).type).toBe(
        'checkout.session.completed',
      );
      const stale = fake.signPayload(hit.body, secret, timestamp - 600);
      expect(() => stripe.webhooks.constructEvent(hit.body, stale, secret)).toThrow(
        Stripe.errors.StripeSignatureVerificationError,
      );
    } finally {
      await receiver.close();
    }
  });

  it('auto-delivers events from the hosted checkout page to the account’s endpoints', async () => {
    const receiver = await startWebhookReceiver('{"received":true}', { 'content-type': 'application/json' });
    try {
      const mine = await stripe.webhookEndpoints.create({
        url: 'https://acme.workestra.app/api/finance/payments/stripe/webhook',
        enabled_events: ['*'],
      });
      await client(OTHER_KEY).webhookEndpoints.create({
        url: 'https://other.workestra.app/api/finance/payments/stripe/webhook',
        enabled_events: ['*'],
      });
      fake.autoDeliver = { baseUrl: receiver.url };
      const session = await stripe.checkout.sessions.create(sessionParams(2500));
      const pageHtml = await (await fetch(session.url ?? '')).text();
      expect(pageHtml).toContain('<title>Fake Stripe Checkout</title>');
      expect(pageHtml).toContain('25.00 EUR');
      expect(pageHtml).toContain('<button id="pay" type="submit">Pay</button>');
      expect(pageHtml).toContain('<a id="cancel" href="http://localhost:4001/pay/cancel">Cancel</a>');
      const paid = await fetch(`${fake.url}/checkout/pay/${session.id}/complete`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(paid.status).toBe(303);
      expect(paid.headers.get('location')).toBe(`http://localhost:4001/pay/success?session_id=${session.id}`);
      await fake.flushDeliveries();
      expect(receiver.hits).toHaveLength(1);
      expect(receiver.hits[0].headers.host).toBe('acme.workestra.app');
      const delivered = stripe.webhooks.constructEvent(
        receiver.hits[0].body,
        String(receiver.hits[0].headers['stripe-signature']),
        mine.secret ?? '',
      );
      expect(delivered).toMatchObject({
        type: 'checkout.session.completed',
        data: { object: { id: session.id, payment_status: 'paid' } },
      });
      expect((await fetch(session.url ?? '')).status).toBe(409);
      const refund = await fake.refundOutsideApi(String(fake.sessions.get(session.id)?.payment_intent), 500);
      expect(refund.amount).toBe(500);
      expect(fake.deliveries.slice(-2).map((d) => [d.event.type, d.status])).toEqual([
        ['refund.created', 200],
        ['charge.refunded', 200],
      ]);
      // Events render the charge unexpanded: its cumulative amount_refunded, not the refunds list (API ≥ 2022-11-15).
      const chargeEvent = fake.deliveries.at(-1)?.event as FakeEvent<{ amount_refunded: number; refunds?: unknown }>;
      expect(chargeEvent.data.object).toMatchObject({ amount_refunded: 500 });
      expect(chargeEvent.data.object.refunds).toBeUndefined();
    } finally {
      fake.autoDeliver = null;
      await receiver.close();
    }
  });

  it('simulates outages, failures and unknown routes', async () => {
    fake.setOutage(true, { shouldRetry: false });
    const outage = await client(KEY, 2)
      .balance.retrieve()
      .catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(outage).toMatchObject({ type: 'StripeAPIError', statusCode: 500 });
    fake.setOutage(false);
    fake.clearRequests();
    fake.failNext(1, 500);
    const session = await client(KEY, 1).checkout.sessions.create(sessionParams());
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200]);
    expect(fake.requests[0].idempotencyKey).toBe(fake.requests[1].idempotencyKey);
    expect(session.status).toBe('open');
    const unknown = await fetch(`${fake.url}/v1/nope`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        message: expect.stringContaining('Unrecognized request URL (GET: /v1/nope)'),
      },
    });
  });
});
