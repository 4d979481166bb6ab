/**
 * Stripe's own amount units. Our ledger stores ISO 4217 minor units; Stripe's API differs for a
 * few currencies, and these helpers translate at the provider boundary (and nowhere else).
 */
import { formatMinor, MoneyError, normalizeCurrency } from '../../money/money.js';

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

/**
 * Three-decimal currencies Stripe supports. Stripe takes their amounts in 1/1000 units (fils,
 * baisa) but, for compatibility with its acquiring partners, requires the last digit to be 0,
 * i.e. `minor % 10 === 0`: 5.120 KWD (5120) is fine, 5.124 KWD (5124) is refused.
 * See https://docs.stripe.com/currencies#three-decimal.
 */
const STRIPE_THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/**
 * Stripe's three-decimal rule: for BHD, JOD, KWD, OMR and TND an amount in minor units must end
 * in 0. Returns why Stripe would refuse `minor` in `currency`, as a sentence for the user, or
 * null when the rule is satisfied (always for other currencies). We never round silently: the
 * invoice balance is the customer's debt, so the caller decides (e.g. refuse a partial link).
 * @throws MoneyError for an unsupported currency or an unsafe number.
 */
export function stripeAmountIssue(minor: number | bigint, currency: string): string | null {
  const code = normalizeCurrency(currency);
  const value = typeof minor === 'bigint' ? minor : BigInt(toStripeSafe(minor));
  if (!STRIPE_THREE_DECIMAL.has(code) || value % 10n === 0n) return null;
  const down = value - (value % 10n);
  return (
    `Stripe can only charge ${code} in steps of 0.010 (the third decimal must be 0): ` +
    `${formatMinor(value, code)} ${code} is not, use ${formatMinor(down, code)} or ${formatMinor(down + (value < 0n ? -10n : 10n), code)}`
  );
}

function toStripeSafe(minor: number): number {
  if (!Number.isSafeInteger(minor)) throw new MoneyError(`minor units must be a safe integer, got ${String(minor)}`);
  return minor;
}

/** Full-balance links round a three-decimal balance down to a multiple of 10: never charge more than owed. */
export function stripeChargeableAmount(amountMinor: number, currency: string): number {
  return STRIPE_THREE_DECIMAL.has(normalizeCurrency(currency)) ? amountMinor - (amountMinor % 10) : amountMinor;
}
