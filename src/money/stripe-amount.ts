/**
 * Stripe's own amount units. Our ledger stores ISO 4217 minor units; Stripe's API differs for a
 * few currencies, and these helpers translate at the provider boundary (and nowhere else).
 */
import { MoneyError, normalizeCurrency } from './currency.js';

/**
 * ISO says ISK and UGX have no minor unit, but Stripe's API still treats them as two-decimal
 * for backwards compatibility: to charge 5 ISK you send `500`, and the value must be divisible
 * by 100. See https://docs.stripe.com/currencies#special-cases.
 */
const STRIPE_TWO_DECIMAL_LEGACY = new Set(['ISK', 'UGX']);

/**
 * Convert ISO minor units to the integer Stripe expects in `amount` / `unit_amount`
 * (identical except for ISK and UGX, which are multiplied by 100).
 */
export function toStripeAmount(minor: number, currency: string): number {
  const code = normalizeCurrency(currency);
  if (!Number.isSafeInteger(minor)) throw new MoneyError(`minor units must be a safe integer, got ${String(minor)}`);
  const stripe = STRIPE_TWO_DECIMAL_LEGACY.has(code) ? minor * 100 : minor;
  if (!Number.isSafeInteger(stripe)) throw new MoneyError(`amount is too large for Stripe`);
  return stripe;
}

/**
 * Convert an amount reported by Stripe (`amount_total`, `amount_refunded`…) back to ISO minor
 * units. @throws MoneyError when an ISK/UGX amount has a fractional unit we cannot represent.
 */
export function fromStripeAmount(stripeAmount: number, currency: string): number {
  const code = normalizeCurrency(currency);
  if (!Number.isSafeInteger(stripeAmount))
    throw new MoneyError(`Stripe amount must be a safe integer, got ${String(stripeAmount)}`);
  if (!STRIPE_TWO_DECIMAL_LEGACY.has(code)) return stripeAmount;
  if (stripeAmount % 100 !== 0) {
    throw new MoneyError(`Stripe ${code} amount ${stripeAmount} is not a whole number of ${code}`);
  }
  return stripeAmount / 100;
}
