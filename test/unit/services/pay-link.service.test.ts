import { describe, expect, it } from 'vitest';
import type { Invoice, PaymentProviderAccount } from '../../../src/entities/index.js';
import { BadUserInputError } from '../../../src/errors.js';
import { mollieClientFactory, MollieProvider } from '../../../src/providers/mollie/mollie.provider.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { stripeClientFactory } from '../../../src/providers/stripe/stripe.client.js';
import { StripeProvider } from '../../../src/providers/stripe/stripe.provider.js';
import { PayLinkService } from '../../../src/services/pay-link.service.js';
import type { Provider } from '../../../src/vocabulary/index.js';

/** The registry of the real adapters, as the composition root builds it (no client is made until a call needs one). */
const registry = new ProviderRegistry([
  new StripeProvider(stripeClientFactory(null)),
  new MollieProvider(mollieClientFactory(null)),
]);
const service = new PayLinkService(registry, 'https://pay.example');

const invoice = (values: { status?: string; totalMinor?: number; paidMinor?: number; currency?: string } = {}) =>
  ({ status: 'sent', totalMinor: 10_000, paidMinor: 0, currency: 'EUR', ...values }) as unknown as Invoice;
const account = (provider: Provider = 'stripe') =>
  ({ provider, active: true, offerCardPayments: true, secretKeySealed: 'sealed' }) as unknown as PaymentProviderAccount;

describe('PayLinkService.plan', () => {
  it.each([
    ['sent', { ok: true, amountMinor: 10_000 }],
    ['overdue', { ok: true, amountMinor: 10_000 }],
    ['partial', { ok: true, amountMinor: 10_000 }],
    ['draft', { ok: false, reason: 'not_payable' }],
    ['paid', { ok: false, reason: 'not_payable' }],
    ['void', { ok: false, reason: 'not_payable' }],
  ])('an invoice in status %s', (status, expected) => {
    expect(service.plan(invoice({ status }), account(), null)).toEqual(expected);
  });

  it.each([
    ['nothing left to pay', { totalMinor: 10_000, paidMinor: 10_000 }],
    ['more paid than owed', { totalMinor: 10_000, paidMinor: 12_000 }],
    ['a zero total', { totalMinor: 0, paidMinor: 0 }],
  ])('is not payable with %s', (_name, values) => {
    expect(service.plan(invoice(values), account(), null)).toEqual({ ok: false, reason: 'not_payable' });
    expect(service.plan(invoice(values), account(), 1000)).toEqual({ ok: false, reason: 'not_payable' });
  });

  it('needs a provider account, but says not_payable first', () => {
    expect(service.plan(invoice(), null, null)).toEqual({ ok: false, reason: 'no_provider' });
    expect(service.plan(invoice({ status: 'draft' }), null, null)).toEqual({ ok: false, reason: 'not_payable' });
  });

  it.each<[string, Provider, Parameters<typeof invoice>[0], number | null, unknown]>([
    ['the balance after a partial payment', 'stripe', { paidMinor: 2500 }, null, { ok: true, amountMinor: 7500 }],
    ['a link amount below the balance', 'stripe', {}, 3000, { ok: true, amountMinor: 3000 }],
    ['a link amount capped at the balance', 'stripe', { paidMinor: 8000 }, 5000, { ok: true, amountMinor: 2000 }],
    ['the EUR minimum', 'stripe', { totalMinor: 50 }, null, { ok: true, amountMinor: 50 }],
    ['a balance below the EUR minimum', 'stripe', { totalMinor: 49 }, null, { ok: false, reason: 'too_small' }],
    ['a remainder below the minimum', 'mollie', { paidMinor: 9960 }, null, { ok: false, reason: 'too_small' }],
    ['a link amount below the minimum', 'mollie', {}, 49, { ok: false, reason: 'too_small' }],
    ['a capped link amount below the minimum', 'stripe', { paidMinor: 9990 }, 5000, { ok: false, reason: 'too_small' }],
    [
      'the JPY minimum (zero decimals)',
      'stripe',
      { currency: 'JPY', totalMinor: 50 },
      null,
      { ok: true, amountMinor: 50 },
    ],
    ['below the JPY minimum', 'mollie', { currency: 'JPY', totalMinor: 49 }, null, { ok: false, reason: 'too_small' }],
  ])('%s (%s)', (_name, provider, values, linkAmount, expected) => {
    expect(service.plan(invoice(values), account(provider), linkAmount)).toEqual(expected);
  });

  it.each<[string, Provider, number, number | null, unknown]>([
    ['Stripe rounds a KWD balance down to a multiple of 10', 'stripe', 5124, null, { ok: true, amountMinor: 5120 }],
    ['Stripe charges a KWD balance ending in 0 as it is', 'stripe', 5120, null, { ok: true, amountMinor: 5120 }],
    ['Mollie charges a KWD balance as it is', 'mollie', 5124, null, { ok: true, amountMinor: 5124 }],
    ['Stripe refuses a KWD link amount not ending in 0', 'stripe', 10_000, 5124, { ok: false, reason: 'too_small' }],
    ['Stripe takes a KWD link amount ending in 0', 'stripe', 10_000, 5120, { ok: true, amountMinor: 5120 }],
    ['Stripe refuses a capped KWD amount not ending in 0', 'stripe', 5124, 6000, { ok: false, reason: 'too_small' }],
    ['the KWD minimum after rounding down', 'stripe', 509, null, { ok: true, amountMinor: 500 }],
    ['below the KWD minimum after rounding down', 'stripe', 499, null, { ok: false, reason: 'too_small' }],
  ])('%s', (_name, provider, totalMinor, linkAmount, expected) => {
    expect(service.plan(invoice({ currency: 'KWD', totalMinor }), account(provider), linkAmount)).toEqual(expected);
  });
});

describe('PayLinkService.checkPartialAmount', () => {
  const message = (run: () => void): string | null => {
    try {
      run();
      return null;
    } catch (error) {
      expect(error).toBeInstanceOf(BadUserInputError);
      return (error as Error).message;
    }
  };
  const between = 'amountMinor must be between 1 and the outstanding balance, 7500 (75.00 EUR)';

  it.each<[string, number, string | null]>([
    ['one cent above the minimum', 51, null],
    ['the minimum', 50, null],
    ['the whole balance', 7500, null],
    ['one more than the balance', 7501, between],
    ['zero', 0, between],
    ['a negative amount', -100, between],
    ['a fraction', 100.5, between],
    ['NaN', Number.NaN, between],
    ['an unsafe integer', 2 ** 53, between],
    ['below the minimum', 49, 'amountMinor is below the minimum card payment of 50 (0.50 EUR)'],
  ])('%s', (_name, amount, expected) => {
    for (const provider of ['stripe', 'mollie'] as const) {
      expect(message(() => service.checkPartialAmount(invoice({ paidMinor: 2500 }), account(provider), amount))).toBe(
        expected,
      );
    }
  });

  it.each<[string, Provider, string, number, number, string | null]>([
    [
      'Stripe refuses a KWD amount not ending in 0',
      'stripe',
      'KWD',
      10_000,
      5124,
      'Stripe can only charge KWD in steps of 0.010 (the third decimal must be 0): 5.124 KWD is not, use 5.120 or 5.130',
    ],
    ['Stripe takes a KWD amount ending in 0', 'stripe', 'KWD', 10_000, 5120, null],
    ['Mollie takes a KWD amount not ending in 0', 'mollie', 'KWD', 10_000, 5124, null],
    [
      'the KWD minimum comes before the provider rule',
      'stripe',
      'KWD',
      10_000,
      499,
      'amountMinor is below the minimum card payment of 500 (0.500 KWD)',
    ],
    [
      'the KWD balance in the message',
      'stripe',
      'KWD',
      5124,
      5125,
      'amountMinor must be between 1 and the outstanding balance, 5124 (5.124 KWD)',
    ],
    ['the JPY minimum', 'mollie', 'JPY', 10_000, 49, 'amountMinor is below the minimum card payment of 50 (50 JPY)'],
  ])('%s', (_name, provider, currency, totalMinor, amount, expected) => {
    expect(
      message(() => service.checkPartialAmount(invoice({ currency, totalMinor }), account(provider), amount)),
    ).toBe(expected);
  });
});
