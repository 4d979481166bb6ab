/**
 * Integer minor-unit money helpers. Amounts are never floats: a number here is always a safe
 * integer count of minor units (cents, fils, yen), and decimal strings are built and parsed
 * digit by digit with BigInt so 0.1 + 0.2 style errors cannot happen.
 */
import { currencyExponent, MoneyError, normalizeCurrency } from './currency.js';

export {
  MoneyError,
  normalizeCurrency,
  currencyExponent,
  isSupportedCurrency,
  SUPPORTED_CURRENCIES,
} from './currency.js';

/** Beyond this a decimal string is not an invoice amount but an attack on BigInt parsing. */
const MAX_DECIMAL_LENGTH = 64;
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether `n` is an integer within ±(2^53 − 1), as a number or a bigint. */
export function isSafeMinor(n: unknown): n is number | bigint {
  if (typeof n === 'number') return Number.isSafeInteger(n);
  if (typeof n === 'bigint') return n >= -MAX_SAFE && n <= MAX_SAFE;
  return false;
}

function toBigInt(minor: number | bigint): bigint {
  if (typeof minor === 'bigint') return minor;
  // A non-integer or unsafe number has already lost precision; refuse rather than format a guess.
  if (!Number.isSafeInteger(minor)) {
    throw new MoneyError(`minor units must be a safe integer (pass a bigint beyond 2^53), got ${String(minor)}`);
  }
  return BigInt(minor);
}

/**
 * Format minor units as a plain decimal string with exactly the currency's exponent of
 * decimals: 12345 EUR → "123.45", 5 JPY → "5", 1234 KWD → "1.234", -5 EUR → "-0.05".
 * No grouping separators or symbols (this is the GraphQL `Money.amount` and the decimal amount some provider APIs take).
 * @throws MoneyError for an unsupported currency or a number that is not a safe integer.
 */
export function formatMinor(minorUnits: number | bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const value = toBigInt(minorUnits);
  const sign = value < 0n ? '-' : '';
  const digits = (value < 0n ? -value : value).toString();
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, '0');
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/**
 * Parse a plain decimal string ("10.00", "10", "-0.5") into minor units as a bigint.
 * Fewer decimals than the exponent are fine ("10.5" EUR → 1050n); more are rejected even when
 * they are zeros, because they mean the sender disagrees with us about the currency.
 * @throws MoneyError for anything else: signs other than a leading "-", spaces, exponents, separators.
 */
export function parseDecimalToMinorBigInt(decimal: string, currency: string): bigint {
  const exponent = currencyExponent(currency);
  const match = typeof decimal === 'string' && decimal.length <= MAX_DECIMAL_LENGTH ? DECIMAL.exec(decimal) : null;
  if (!match) {
    throw new MoneyError(
      `amount must be a plain decimal such as "10.00", got ${JSON.stringify(String(decimal).slice(0, 32))}`,
    );
  }
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > exponent) {
    throw new MoneyError(
      `amount "${decimal}" has ${fraction.length} decimals but ${normalizeCurrency(currency)} allows ${exponent}`,
    );
  }
  const value = BigInt(whole + fraction.padEnd(exponent, '0'));
  return sign === '-' ? -value : value;
}

/**
 * Like {@link parseDecimalToMinorBigInt} but returns a number (e.g. a provider's "10.00" EUR → 1000).
 * @throws MoneyError also when the result is not a safe integer.
 */
export function parseDecimalToMinor(decimal: string, currency: string): number {
  const value = parseDecimalToMinorBigInt(decimal, currency);
  if (!isSafeMinor(value)) throw new MoneyError(`amount "${decimal}" is too large`);
  return Number(value);
}

/**
 * The strictest published card minimum per presentment currency among the providers this service supports, in ISO
 * minor units (roughly 0.50 USD worth). Using the strictest keeps a pay link valid whichever provider the workspace
 * switches to.
 */
const PUBLISHED_MINIMUMS: Readonly<Record<string, number>> = {
  USD: 50,
  EUR: 50,
  CHF: 50,
  CAD: 50,
  AUD: 50,
  NZD: 50,
  SGD: 50,
  BRL: 50,
  INR: 50,
  GBP: 30,
  JPY: 50,
  DKK: 250,
  NOK: 300,
  SEK: 300,
  PLN: 200,
  CZK: 1500,
  HUF: 17500,
  MXN: 1000,
  HKD: 400,
  AED: 200,
  BGN: 100,
  MYR: 200,
  RON: 200,
  THB: 1000,
};

/**
 * The smallest amount (minor units) worth offering a checkout for, whichever provider.
 *
 * Known currencies use the published table above. For the rest there is no FX rate here, so we
 * are unsure of the 0.50 USD equivalent and fall back to 0.50 of the major unit, rounded up to
 * a whole minor unit (2 decimals → 50, 3 decimals → 500 i.e. 0.500 KWD, 0 decimals → 1). That is a
 * floor, not a guarantee: for weak currencies (KRW, VND, IDR…) the provider may still refuse a
 * small amount, and its error is surfaced as usual.
 */
export function minimumChargeMinor(currency: string): number {
  const code = normalizeCurrency(currency);
  const published = PUBLISHED_MINIMUMS[code];
  if (published !== undefined) return published;
  return Math.ceil(5 * 10 ** (currencyExponent(code) - 1));
}
