import { describe, it, expect } from 'vitest';
import { MoneyError } from '../../../src/money/money.js';
import { fromStripeAmount, stripeAmountIssue, toStripeAmount } from '../../../src/providers/stripe/stripe.amount.js';

describe("Stripe's three-decimal rule", () => {
  it.each<[number | bigint, string]>([
    [5120, 'KWD'],
    [5130, 'kwd'],
    [0, 'BHD'],
    [1000, 'JOD'],
    [10n, 'OMR'],
    [-20, 'TND'],
    [1234, 'IQD'],
    [5124, 'EUR'],
    [7, 'JPY'],
  ])('accepts %s %s', (minor, currency) => {
    expect(stripeAmountIssue(minor, currency)).toBeNull();
  });

  it.each<[number | bigint, string, string]>([
    [5124, 'KWD', '5.124 KWD is not, use 5.120 or 5.130'],
    [1, 'BHD', '0.001 BHD is not, use 0.000 or 0.010'],
    [1005, 'JOD', '1.005 JOD'],
    [99999n, 'OMR', '99.999 OMR'],
    [3, 'TND', '0.003 TND'],
  ])('refuses %s %s', (minor, currency, fragment) => {
    const issue = stripeAmountIssue(minor, currency);
    expect(issue).toContain('Stripe');
    expect(issue).toContain(fragment);
  });
});

describe('Stripe amount units', () => {
  it.each([
    [1000, 'EUR', 1000],
    [500, 'JPY', 500],
    [5120, 'KWD', 5120],
    [5, 'ISK', 500],
    [2000, 'ugx', 200000],
  ])('%i %s ↔ %i', (minor, currency, stripe) => {
    expect(toStripeAmount(minor, currency)).toBe(stripe);
    expect(fromStripeAmount(stripe, currency)).toBe(minor);
  });

  it('refuses a fractional ISK amount from Stripe and unsafe numbers', () => {
    expect(() => fromStripeAmount(550, 'ISK')).toThrow(MoneyError);
    expect(() => toStripeAmount(1.5, 'EUR')).toThrow(MoneyError);
    expect(() => toStripeAmount(Number.MAX_SAFE_INTEGER, 'ISK')).toThrow(MoneyError);
  });
});
