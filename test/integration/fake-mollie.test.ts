import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeMollie,
  type FakePayment,
  type FakeRefund,
  startFakeMollie,
} from '../fakes/mollie/fake-mollie.server';

const KEY = 'test_fakeWorkspaceA1234567890abcdefgh';
const OTHER_KEY = 'test_fakeWorkspaceB1234567890abcdefgh';
const LIVE_KEY = 'live_fakeWorkspaceA1234567890abcdefgh';
const WEBHOOK_URL = 'https://acme.workestra.app/api/finance/payments/mollie/webhook';

interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}
interface ErrorBody {
  status: number;
  title: string;
  detail: string;
  field?: string;
  _links?: Record<string, unknown>;
}

const paymentBody = (
  value = '10.00',
  currency = 'EUR',
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  amount: { currency, value },
  description: 'Invoice INV-7',
  redirectUrl: 'http://localhost:4001/pay/success',
  cancelUrl: 'http://localhost:4001/pay/cancel',
  webhookUrl: WEBHOOK_URL,
  metadata: { workspace_id: 'ws-1', invoice_id: 'inv-1' },
  ...extra,
});

describe('fake Mollie API v2 over plain fetch', () => {
  let fake: FakeMollie;

  async function call<T>(
    method: string,
    path: string,
    options: { key?: string | null; body?: unknown; idempotencyKey?: string } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const key = options.key === undefined ? KEY : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const res = await fetch(`${fake.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return { status: res.status, body: (await res.json()) as T, headers: res.headers };
  }

  async function createPaid(value = '10.00'): Promise<FakePayment> {
    const created = await call<FakePayment>('POST', '/v2/payments', { body: paymentBody(value) });
    return fake.setPaymentStatus(created.body.id, 'paid');
  }

  beforeAll(async () => {
    fake = await startFakeMollie();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.autoDeliver = null;
    fake.setOutage(false);
  });

  it('answers 401 in Mollie’s shape without a valid key and lists methods with one', async () => {
    const expected = {
      status: 401,
      title: 'Unauthorized Request',
      detail: 'Missing authentication, or failed to authenticate',
      _links: { documentation: { href: 'https://docs.mollie.com/overview/authentication', type: 'text/html' } },
    };
    for (const key of [null, 'test_short', 'sk_test_fakeWorkspaceA1234567890abcdef']) {
      const answer = await call<ErrorBody>('GET', '/v2/methods', { key });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(expected);
    }
    fake.rejectKey(OTHER_KEY);
    expect((await call('GET', '/v2/methods', { key: OTHER_KEY })).status).toBe(401);
    fake.acceptKey(OTHER_KEY);
    const methods = await call<{ count: number; _embedded: { methods: { resource: string; id: string }[] } }>(
      'GET',
      '/v2/methods',
    );
    expect(methods.status).toBe(200);
    expect(methods.headers.get('content-type')).toContain('application/hal+json');
    expect(methods.body.count).toBe(methods.body._embedded.methods.length);
    expect(methods.body._embedded.methods).toContainEqual(
      expect.objectContaining({ resource: 'method', id: 'creditcard' }),
    );
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v2/methods', apiKey: KEY, status: 200 });
  });

  it('creates and reads a payment with HAL links', async () => {
    const created = await call<FakePayment>('POST', '/v2/payments', { body: paymentBody('123.45') });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toContain('application/hal+json');
    const payment = created.body;
    expect(payment).toMatchObject({
      resource: 'payment',
      mode: 'test',
      amount: { currency: 'EUR', value: '123.45' },
      description: 'Invoice INV-7',
      method: null,
      metadata: { workspace_id: 'ws-1', invoice_id: 'inv-1' },
      status: 'open',
      isCancelable: false,
      sequenceType: 'oneoff',
      redirectUrl: 'http://localhost:4001/pay/success',
      cancelUrl: 'http://localhost:4001/pay/cancel',
      webhookUrl: WEBHOOK_URL,
    });
    expect(payment.id).toMatch(/^tr_[A-Za-z0-9]{10}$/);
    expect(payment.profileId).toMatch(/^pfl_/);
    const ttl = Date.parse(payment.expiresAt ?? '') - Date.parse(payment.createdAt);
    expect(ttl).toBe(15 * 60_000);
    expect(payment._links).toEqual({
      self: { href: `${fake.url}/v2/payments/${payment.id}`, type: 'application/hal+json' },
      checkout: { href: `${fake.url}/checkout/mollie/${payment.id}`, type: 'text/html' },
      dashboard: { href: expect.stringContaining(payment.id), type: 'text/html' },
      documentation: { href: expect.stringMatching(/^https:\/\/docs\.mollie\.com\//), type: 'text/html' },
    });
    expect(payment.amountRefunded).toBeUndefined();
    const fetched = await call<FakePayment>('GET', `/v2/payments/${payment.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(payment);
    expect(fake.requests.at(-2)).toMatchObject({
      method: 'POST',
      path: '/v2/payments',
      body: paymentBody('123.45'),
      apiKey: KEY,
      status: 201,
    });
    const live = await call<FakePayment>('POST', '/v2/payments', { key: LIVE_KEY, body: paymentBody() });
    expect(live.body.mode).toBe('live');
  });

  it('validates amounts per currency exponent and required fields', async () => {
    expect((await call<FakePayment>('POST', '/v2/payments', { body: paymentBody('100', 'JPY') })).status).toBe(201);
    expect(
      (await call<FakePayment>('POST', '/v2/payments', { body: paymentBody('1.250', 'KWD') })).body.amount,
    ).toEqual({ currency: 'KWD', value: '1.250' });
    for (const [value, currency] of [
      ['10.5', 'EUR'],
      ['100.00', 'JPY'],
      ['1.25', 'KWD'],
      ['10', 'EUR'],
    ]) {
      const answer = await call<ErrorBody>('POST', '/v2/payments', { body: paymentBody(value, currency) });
      expect(answer.status, `${value} ${currency}`).toBe(422);
      expect(answer.body).toMatchObject({
        status: 422,
        title: 'Unprocessable Entity',
        field: 'amount.value',
        _links: { documentation: { type: 'text/html' } },
      });
    }
    const numeric = await call<ErrorBody>('POST', '/v2/payments', {
      body: { ...paymentBody(), amount: { currency: 'EUR', value: 10 } },
    });
    expect(numeric.body.field).toBe('amount.value');
    const tooLow = await call<ErrorBody>('POST', '/v2/payments', { body: paymentBody('0.99') });
    expect(tooLow.body).toMatchObject({
      status: 422,
      detail: 'The amount is lower than the minimum',
      field: 'amount.value',
    });
    expect((await call<ErrorBody>('POST', '/v2/payments', { body: paymentBody('10.00', 'XYZ') })).body.field).toBe(
      'amount.currency',
    );
    expect(
      (await call<ErrorBody>('POST', '/v2/payments', { body: { ...paymentBody(), description: undefined } })).body
        .field,
    ).toBe('description');
  });

  it('replays idempotent POSTs and rejects a reused key with another body', async () => {
    const first = await call<FakePayment>('POST', '/v2/payments', {
      body: paymentBody('50.00'),
      idempotencyKey: 'pay-link-1:5000:0',
    });
    const again = await call<FakePayment>('POST', '/v2/payments', {
      body: paymentBody('50.00'),
      idempotencyKey: 'pay-link-1:5000:0',
    });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(fake.requests.at(-1)).toMatchObject({ replayed: true, status: 201, idempotencyKey: 'pay-link-1:5000:0' });
    const mismatch = await call<ErrorBody>('POST', '/v2/payments', {
      body: paymentBody('60.00'),
      idempotencyKey: 'pay-link-1:5000:0',
    });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.detail).toBe('The idempotency key was already used with a different request body');
    const otherAccount = await call<FakePayment>('POST', '/v2/payments', {
      key: OTHER_KEY,
      body: paymentBody('50.00'),
      idempotencyKey: 'pay-link-1:5000:0',
    });
    expect(otherAccount.body.id).not.toBe(first.body.id);
  });

  it('pays on the hosted page, redirects and calls the webhook with the workspace Host', async () => {
    const receiver = await startWebhookReceiver('OK');
    try {
      fake.autoDeliver = { baseUrl: receiver.url };
      const { body: payment } = await call<FakePayment>('POST', '/v2/payments', { body: paymentBody('25.00') });
      const html = await (await fetch(payment._links.checkout?.href ?? '')).text();
      expect(html).toContain('<title>Fake Mollie Checkout</title>');
      expect(html).toContain('25.00 EUR');
      expect(html).toContain('<button id="pay"');
      expect(html).toContain('<button id="fail"');
      expect(html).toContain('<a id="cancel" href="http://localhost:4001/pay/cancel">');
      const paid = await fetch(`${fake.url}/checkout/mollie/${payment.id}/pay`, { method: 'POST', redirect: 'manual' });
      expect(paid.status).toBe(303);
      expect(paid.headers.get('location')).toBe('http://localhost:4001/pay/success');
      await fake.flushDeliveries();
      expect(receiver.hits).toHaveLength(1);
      expect(receiver.hits[0]).toMatchObject({ url: '/api/finance/payments/mollie/webhook', body: `id=${payment.id}` });
      expect(receiver.hits[0].headers.host).toBe('acme.workestra.app');
      expect(receiver.hits[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(fake.deliveries.at(-1)).toMatchObject({ paymentId: payment.id, status: 200, host: 'acme.workestra.app' });
      const after = (await call<FakePayment>('GET', `/v2/payments/${payment.id}`)).body;
      expect(after).toMatchObject({
        status: 'paid',
        amountRefunded: { currency: 'EUR', value: '0.00' },
        amountRemaining: { currency: 'EUR', value: '25.00' },
      });
      expect(after.paidAt).toEqual(expect.any(String));
      expect(after._links.checkout).toBeUndefined();
      expect((await fetch(payment._links.checkout?.href ?? '')).status).toBe(409);

      const { body: other } = await call<FakePayment>('POST', '/v2/payments', { body: paymentBody() });
      const canceled = await fetch(`${fake.url}/checkout/mollie/${other.id}/cancel`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(canceled.headers.get('location')).toBe('http://localhost:4001/pay/cancel');
      await fake.flushDeliveries();
      expect(fake.payments.get(other.id)?.status).toBe('canceled');
      expect(receiver.hits.at(-1)?.body).toBe(`id=${other.id}`);
      const manual = await fake.notify(other.id);
      expect(manual).toMatchObject({ paymentId: other.id, status: 200 });
      expect(receiver.hits).toHaveLength(3);
    } finally {
      await receiver.close();
    }
  });

  it('refunds paid payments only, never above the remaining amount, and embeds refunds', async () => {
    const { body: open } = await call<FakePayment>('POST', '/v2/payments', { body: paymentBody() });
    const early = await call<ErrorBody>('POST', `/v2/payments/${open.id}/refunds`, {
      body: { amount: { currency: 'EUR', value: '1.00' } },
    });
    expect(early.status).toBe(422);
    const payment = await createPaid('10.00');
    const refundBody = {
      amount: { currency: 'EUR', value: '4.00' },
      description: 'Goodwill',
      metadata: { refund_id: 'r-1' },
    };
    const created = await call<FakeRefund>('POST', `/v2/payments/${payment.id}/refunds`, {
      body: refundBody,
      idempotencyKey: 'ws-1:refund-1',
    });
    expect(created.status).toBe(201);
    const refund = created.body;
    expect(refund).toMatchObject({
      resource: 'refund',
      amount: { currency: 'EUR', value: '4.00' },
      status: 'pending',
      description: 'Goodwill',
      metadata: { refund_id: 'r-1' },
      paymentId: payment.id,
    });
    expect(refund.id).toMatch(/^re_[A-Za-z0-9]{10}$/);
    expect(refund._links.self?.href).toBe(`${fake.url}/v2/payments/${payment.id}/refunds/${refund.id}`);
    const over = await call<ErrorBody>('POST', `/v2/payments/${payment.id}/refunds`, {
      body: { amount: { currency: 'EUR', value: '6.01' } },
    });
    expect(over.body).toMatchObject({
      status: 422,
      detail: 'The refund amount is higher than the amount that is refundable',
      field: 'amount.value',
    });
    const listed = await call<{ count: number; _embedded: { refunds: FakeRefund[] } }>(
      'GET',
      `/v2/payments/${payment.id}/refunds`,
    );
    expect(listed.body.count).toBe(1);
    expect(listed.body._embedded.refunds).toEqual([refund]);
    expect((await call<FakeRefund>('GET', `/v2/payments/${payment.id}/refunds/${refund.id}`)).body).toEqual(refund);
    const embedded = (await call<FakePayment>('GET', `/v2/payments/${payment.id}?embed=refunds,chargebacks`)).body;
    expect(embedded._embedded).toEqual({ refunds: [refund], chargebacks: [] });
    expect(embedded).toMatchObject({ amountRefunded: { value: '4.00' }, amountRemaining: { value: '6.00' } });
    expect(embedded._links.refunds?.href).toBe(`${fake.url}/v2/payments/${payment.id}/refunds`);
    expect((await fake.settleRefund(payment.id, refund.id, 'failed')).status).toBe('failed');
    expect(fake.payments.get(payment.id)?.amountRemaining).toEqual({ currency: 'EUR', value: '10.00' });
    const dashboard = await fake.refundOutsideApi(payment.id, '2.50');
    await fake.addChargeback(payment.id, '7.50');
    expect(fake.payments.get(payment.id)).toMatchObject({
      amountRefunded: { value: '2.50' },
      amountRemaining: { value: '0.00' },
      amountChargedBack: { value: '7.50' },
    });
    expect(dashboard.status).toBe('pending');
    const none = await call<ErrorBody>('POST', `/v2/payments/${payment.id}/refunds`, {
      body: { amount: { currency: 'EUR', value: '1.00' } },
    });
    expect(none.status).toBe(422);
  });

  it('hides other accounts’ objects, cancels only cancelable payments and simulates outages', async () => {
    const payment = await createPaid();
    const { body: refund } = await call<FakeRefund>('POST', `/v2/payments/${payment.id}/refunds`, {
      body: { amount: { currency: 'EUR', value: '1.00' } },
    });
    const missing = await call<ErrorBody>('GET', `/v2/payments/${payment.id}`, { key: OTHER_KEY });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      status: 404,
      title: 'Not Found',
      detail: `No payment exists with token ${payment.id}.`,
      _links: { documentation: expect.objectContaining({ type: 'text/html' }) },
    });
    expect((await call('GET', `/v2/payments/${payment.id}/refunds/${refund.id}`, { key: OTHER_KEY })).status).toBe(404);
    expect(
      (
        await call('POST', `/v2/payments/${payment.id}/refunds`, {
          key: OTHER_KEY,
          body: { amount: { currency: 'EUR', value: '1.00' } },
        })
      ).status,
    ).toBe(404);
    expect((await call('GET', `/v2/payments/${payment.id}`, { key: LIVE_KEY })).status).toBe(404);

    const { body: card } = await call<FakePayment>('POST', '/v2/payments', {
      body: paymentBody('10.00', 'EUR', { method: 'creditcard' }),
    });
    expect(card.method).toBe('creditcard');
    expect((await call<ErrorBody>('DELETE', `/v2/payments/${card.id}`)).status).toBe(422);
    const { body: transfer } = await call<FakePayment>('POST', '/v2/payments', {
      body: paymentBody('10.00', 'EUR', { method: 'banktransfer' }),
    });
    expect(transfer.isCancelable).toBe(true);
    const canceled = await call<FakePayment>('DELETE', `/v2/payments/${transfer.id}`);
    expect(canceled.body).toMatchObject({ status: 'canceled', isCancelable: false, canceledAt: expect.any(String) });

    fake.setOutage(true);
    const outage = await call<ErrorBody>('GET', '/v2/methods');
    expect(outage.status).toBe(503);
    expect(outage.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
    fake.setOutage(false);
    expect((await call('GET', '/v2/methods')).status).toBe(200);
  });
});
