import { describe, expect, it } from 'vitest';
import type { MollieChargeback, MolliePayment, MollieRefund } from '../../../src/providers/mollie/mollie.client.js';
import { interpretMolliePayment, verifyMollieWebhook } from '../../../src/providers/mollie/mollie.webhook.js';
import { WebhookRejectedError } from '../../../src/providers/payment-provider.js';
import type { DisputeUpdate, PaymentUpdate, RefundUpdate } from '../../../src/vocabulary/settlement-event.js';

const PAID_AT = '2026-11-30T10:00:00.000Z';

const payment = (overrides: Partial<MolliePayment> = {}): MolliePayment => ({
  resource: 'payment',
  id: 'tr_WDqYK6vllg',
  mode: 'test',
  amount: { currency: 'EUR', value: '125.00' },
  description: 'Invoice 42',
  status: 'paid',
  metadata: { invoice_id: 'inv-1', workspace_id: 'ws-1' },
  paidAt: PAID_AT,
  _links: {},
  ...overrides,
});
const refund = (overrides: Partial<MollieRefund> = {}): MollieRefund => ({
  resource: 'refund',
  id: 're_4qqhO89gsT',
  amount: { currency: 'EUR', value: '30.00' },
  status: 'refunded',
  description: 'requested_by_customer',
  metadata: { workestra_refund_id: 'local-1' },
  paymentId: 'tr_WDqYK6vllg',
  createdAt: PAID_AT,
  ...overrides,
});
const chargeback = (overrides: Partial<MollieChargeback> = {}): MollieChargeback => ({
  resource: 'chargeback',
  id: 'chb_n9z0tp',
  amount: { currency: 'EUR', value: '10.00' },
  settlementAmount: { currency: 'EUR', value: '-10.00' },
  reason: { code: 'AC01', description: 'Account identifier incorrect (i.e. invalid IBAN)' },
  paymentId: 'tr_WDqYK6vllg',
  settlementId: null,
  createdAt: PAID_AT,
  reversedAt: null,
  ...overrides,
});
const withEmbedded = (embedded: MolliePayment['_embedded'], overrides: Partial<MolliePayment> = {}) =>
  payment({ _embedded: embedded, ...overrides });

describe('interpretMolliePayment', () => {
  it.each([
    ['open', 'pending'],
    ['pending', 'pending'],
    ['authorized', 'pending'],
    ['paid', 'succeeded'],
    ['failed', 'failed'],
    ['canceled', 'cancelled'],
    ['expired', 'cancelled'],
  ] as const)('status %s → %s', (status, outcome) => {
    const result = interpretMolliePayment(payment({ status }));
    expect(result.type).toBe(`payment.${status}`);
    expect(result.eventId).toMatch(new RegExp(`^tr_WDqYK6vllg:${status}:[0-9a-f]{16}$`));
    expect(result.updates).toEqual([
      {
        kind: 'payment',
        reference: 'tr_WDqYK6vllg',
        providerPaymentId: 'tr_WDqYK6vllg',
        outcome,
        amountMinor: 12_500,
        currency: 'EUR',
        invoiceId: 'inv-1',
        metadataWorkspaceId: 'ws-1',
        occurredAt: new Date(PAID_AT),
      } satisfies PaymentUpdate,
    ]);
  });

  it('treats a status it does not know as pending', () => {
    const [update] = interpretMolliePayment(payment({ status: 'settling' as MolliePayment['status'] })).updates;
    expect(update).toMatchObject({ kind: 'payment', outcome: 'pending' });
  });

  it.each([
    ['JPY', '5000', 5000],
    ['KWD', '5.125', 5125],
    ['eur', '0.50', 50],
  ])('reads %s %s as %d minor units', (currency, value, minor) => {
    const [update] = interpretMolliePayment(payment({ amount: { currency, value } })).updates;
    expect(update).toMatchObject({ amountMinor: minor, currency: currency.toUpperCase() });
  });

  it.each([
    ['no metadata', null, { invoiceId: null, metadataWorkspaceId: null }],
    ['empty strings', { invoice_id: '', workspace_id: '' }, { invoiceId: null, metadataWorkspaceId: null }],
    ['non-string values', { invoice_id: 42, workspace_id: true }, { invoiceId: null, metadataWorkspaceId: null }],
  ])('reads %s as no invoice and no workspace', (_name, metadata, expected) => {
    const [update] = interpretMolliePayment(payment({ metadata })).updates;
    expect(update).toMatchObject(expected);
  });

  it('takes an unpaid payment as happening now', () => {
    const before = Date.now();
    const [update] = interpretMolliePayment(payment({ status: 'open', paidAt: undefined })).updates as PaymentUpdate[];
    expect(update.occurredAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(update.occurredAt.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it.each([
    ['queued', 'pending'],
    ['pending', 'pending'],
    ['processing', 'pending'],
    ['refunded', 'succeeded'],
    ['failed', 'failed'],
    ['canceled', 'cancelled'],
  ] as const)('an embedded refund %s → %s', (status, expected) => {
    const [, update] = interpretMolliePayment(withEmbedded({ refunds: [refund({ status })] })).updates;
    expect(update).toEqual({
      kind: 'refund',
      providerRefundId: 're_4qqhO89gsT',
      providerPaymentId: 'tr_WDqYK6vllg',
      amountMinor: 3000,
      currency: 'EUR',
      status: expected,
      reason: 'requested_by_customer',
      localRefundId: 'local-1',
    } satisfies RefundUpdate);
  });

  it('reads a refund without description or metadata, and one with a status it does not know as pending', () => {
    const updates = interpretMolliePayment(
      withEmbedded({
        refunds: [
          refund({ description: '', metadata: null }),
          refund({ id: 're_2', status: 'settling' as MollieRefund['status'], description: undefined, metadata: {} }),
        ],
      }),
    ).updates;
    expect(updates.slice(1)).toEqual([
      expect.objectContaining({ providerRefundId: 're_4qqhO89gsT', reason: null, localRefundId: null }),
      expect.objectContaining({ providerRefundId: 're_2', status: 'pending', reason: null, localRefundId: null }),
    ]);
  });

  it.each([
    ['a chargeback is a lost dispute whose funds are withdrawn', null, 'lost', false],
    ['a reversed chargeback is won and its funds reinstated', '2026-12-02T09:00:00.000Z', 'won', true],
  ] as const)('%s', (_name, reversedAt, status, fundsReinstated) => {
    const [, update] = interpretMolliePayment(withEmbedded({ chargebacks: [chargeback({ reversedAt })] })).updates;
    expect(update).toEqual({
      kind: 'dispute',
      providerDisputeId: 'chb_n9z0tp',
      providerPaymentId: 'tr_WDqYK6vllg',
      amountMinor: 1000,
      currency: 'EUR',
      status,
      reason: 'AC01',
      evidenceDueBy: null,
      fundsWithdrawn: true,
      fundsReinstated,
    } satisfies DisputeUpdate);
  });

  it('a chargeback without a reason has none', () => {
    const [, update] = interpretMolliePayment(withEmbedded({ chargebacks: [chargeback({ reason: null })] })).updates;
    expect(update).toMatchObject({ kind: 'dispute', reason: null });
  });

  it('lists the payment first, then refunds, then chargebacks', () => {
    const updates = interpretMolliePayment(
      withEmbedded({
        refunds: [refund(), refund({ id: 're_2' })],
        chargebacks: [chargeback()],
      }),
    ).updates;
    expect(
      updates.map((update) =>
        update.kind === 'payment'
          ? update.reference
          : update.kind === 'refund'
            ? update.providerRefundId
            : update.kind === 'dispute' && update.providerDisputeId,
      ),
    ).toEqual(['tr_WDqYK6vllg', 're_4qqhO89gsT', 're_2', 'chb_n9z0tp']);
  });
});

describe('interpretMolliePayment: the event id is a fingerprint of the state', () => {
  const base = withEmbedded({ refunds: [refund({ status: 'pending' })], chargebacks: [chargeback()] });
  const idOf = (value: MolliePayment) => interpretMolliePayment(value).eventId;

  it.each([
    ['the same payment again', structuredClone(base)],
    ['another description', { ...base, description: 'changed' }],
    ['another paidAt', { ...base, paidAt: '2026-12-01T00:00:00.000Z' }],
    ['other metadata', { ...base, metadata: { invoice_id: 'inv-2' } }],
    [
      'the same embedded objects built again',
      { ...payment(), _embedded: { refunds: [refund({ status: 'pending' })], chargebacks: [chargeback()] } },
    ],
  ])('same state, same id: %s', (_name, other) => {
    expect(idOf(other)).toBe(idOf(base));
  });

  it('no embedded lists and empty ones are the same state', () => {
    expect(idOf(payment())).toBe(idOf(withEmbedded({ refunds: [], chargebacks: [] })));
  });

  it.each([
    ['the status', { ...base, status: 'failed' as const }],
    [
      'a refund added',
      withEmbedded({ refunds: [refund({ status: 'pending' }), refund({ id: 're_2' })], chargebacks: [chargeback()] }),
    ],
    ['a refund removed', withEmbedded({ refunds: [], chargebacks: [chargeback()] })],
    ['a refund status', withEmbedded({ refunds: [refund({ status: 'refunded' })], chargebacks: [chargeback()] })],
    [
      'a refund amount',
      withEmbedded({
        refunds: [refund({ status: 'pending', amount: { currency: 'EUR', value: '31.00' } })],
        chargebacks: [chargeback()],
      }),
    ],
    [
      'a refund id',
      withEmbedded({ refunds: [refund({ id: 're_other', status: 'pending' })], chargebacks: [chargeback()] }),
    ],
    [
      'a chargeback added',
      withEmbedded({
        refunds: [refund({ status: 'pending' })],
        chargebacks: [chargeback(), chargeback({ id: 'chb_2' })],
      }),
    ],
    [
      'a chargeback reversed',
      withEmbedded({ refunds: [refund({ status: 'pending' })], chargebacks: [chargeback({ reversedAt: PAID_AT })] }),
    ],
  ])('any change, a new id: %s', (_name, other) => {
    expect(idOf(other)).not.toBe(idOf(base));
  });

  it('the fingerprint differs for a changed refund even though the status prefix is the same', () => {
    const [before, after] = [
      base,
      withEmbedded({ refunds: [refund({ status: 'refunded' })], chargebacks: [chargeback()] }),
    ].map(idOf);
    expect(before.split(':').slice(0, 2)).toEqual(after.split(':').slice(0, 2));
    expect(before.split(':')[2]).not.toBe(after.split(':')[2]);
  });
});

describe('verifyMollieWebhook', () => {
  const now = 1_790_000_000_250; // 250 ms into its one-second coalescing window
  const verify = (body: string, at = now) => verifyMollieWebhook(Buffer.from(body), at);

  it.each([
    ['id=tr_WDqYK6vllg', 'tr_WDqYK6vllg'],
    ['id=tr_WDqYK6vllg&testmode=true', 'tr_WDqYK6vllg'],
    ['foo=bar&id=tr_WDqYK6vllg', 'tr_WDqYK6vllg'],
    ['id=tr%5FWDqYK6vllg', 'tr_WDqYK6vllg'],
    ['id=tr_WDqYK6vllg&id=garbage', 'tr_WDqYK6vllg'],
    ['id=tr_abcd', 'tr_abcd'],
    [`id=tr_${'a'.repeat(64)}`, `tr_${'a'.repeat(64)}`],
  ])('accepts %s', (body, id) => {
    const verified = verify(body);
    expect(verified).toMatchObject({ type: 'payment.notification', livemode: null });
    expect(verified.eventId).toBe(`${id}@1790000000`);
    // the worker fetches only after the window has ended: after every notification it coalesced
    expect(JSON.parse(verified.body.toString('utf8'))).toEqual({ id, notBefore: 1_790_000_001_000 });
  });

  it('coalesces the notifications of one payment within a second into one message; a later one is a new message', () => {
    const first = verify('id=tr_WDqYK6vllg', now);
    expect(verify('id=tr_WDqYK6vllg', now + 700).eventId).toBe(first.eventId);
    expect(verify('id=tr_WDqYK6vllg', now + 750).eventId).not.toBe(first.eventId);
    expect(verify('id=tr_Other0000', now).eventId).not.toBe(first.eventId);
  });

  it.each([
    ['an empty body', ''],
    ['no id', 'foo=bar'],
    ['an empty id', 'id='],
    ['an upper-case parameter', 'ID=tr_WDqYK6vllg'],
    ['another prefix', 'id=cs_test_WDqYK6vllg'],
    ['an upper-case prefix', 'id=TR_WDqYK6vllg'],
    ['too short an id', 'id=tr_abc'],
    ['too long an id', `id=tr_${'a'.repeat(65)}`],
    ['a dash in the id', 'id=tr_WDqY-K6vllg'],
    ['unicode in the id', 'id=tr_WDqYK6vllgü'],
    ['a JSON body', '{"id":"tr_WDqYK6vllg"}'],
    ['a garbage first id', 'id=garbage&id=tr_WDqYK6vllg'],
  ])('rejects %s', (_name, body) => {
    expect(() => verify(body)).toThrow(WebhookRejectedError);
    expect(() => verify(body)).toThrow('expected a form body id=tr_…');
  });
});
