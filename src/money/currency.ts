/**
 * ISO 4217 currencies this service accepts, and their minor-unit exponents.
 *
 * The list is explicit on purpose: an invoice in a code we have never reasoned about (a fund
 * code, a withdrawn currency, a typo like "EUD") must fail loudly instead of defaulting to two
 * decimals and mis-charging. It covers what the card providers commonly present, plus every
 * ISO zero- and three-decimal currency so their exponents are never guessed.
 */

/** ISO 4217 exponent 0 (no minor unit). UYI is a fund code but kept: ISO gives it exponent 0. */
const ZERO_DECIMAL = [
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'PYG',
  'RWF',
  'UGX',
  'UYI',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
] as const;

/** ISO 4217 exponent 3 (1/1000 minor unit). */
const THREE_DECIMAL = ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'] as const;

/** Common two-decimal currencies the supported providers accept. */
const TWO_DECIMAL = [
  'AED',
  'ARS',
  'AUD',
  'BAM',
  'BDT',
  'BGN',
  'BRL',
  'CAD',
  'CHF',
  'CNY',
  'COP',
  'CRC',
  'CZK',
  'DKK',
  'DOP',
  'EGP',
  'EUR',
  'GBP',
  'GEL',
  'GHS',
  'HKD',
  'HUF',
  'IDR',
  'ILS',
  'INR',
  'JMD',
  'KES',
  'KZT',
  'LKR',
  'MAD',
  'MXN',
  'MYR',
  'NGN',
  'NOK',
  'NZD',
  'PEN',
  'PHP',
  'PKR',
  'PLN',
  'QAR',
  'RON',
  'RSD',
  'SAR',
  'SEK',
  'SGD',
  'THB',
  'TRY',
  'TTD',
  'TWD',
  'UAH',
  'USD',
  'UYU',
  'ZAR',
] as const;

const EXPONENTS: ReadonlyMap<string, 0 | 2 | 3> = new Map<string, 0 | 2 | 3>([
  ...ZERO_DECIMAL.map((c) => [c, 0] as const),
  ...THREE_DECIMAL.map((c) => [c, 3] as const),
  ...TWO_DECIMAL.map((c) => [c, 2] as const),
]);

/** Every supported code, sorted. */
export const SUPPORTED_CURRENCIES: readonly string[] = [...EXPONENTS.keys()].sort();

/**
 * Bad money input: an unsupported currency, a malformed decimal, an unsafe amount. The message is
 * written for the person who typed the value; callers decide what it means where they are (a
 * provider amount that fails is a malformed event, an invoice currency we cannot charge is no pay link).
 */
export class MoneyError extends Error {
  override readonly name = 'MoneyError';
}

/** Whether `code` (any case) is a supported currency. */
export function isSupportedCurrency(code: string): boolean {
  return typeof code === 'string' && EXPONENTS.has(code.trim().toUpperCase());
}

/**
 * Validate and upper-case a currency code (`"eur"` → `"EUR"`; some providers report lower case).
 * @throws MoneyError for anything that is not a supported ISO 4217 code.
 */
export function normalizeCurrency(code: string): string {
  const upper = typeof code === 'string' ? code.trim().toUpperCase() : '';
  if (!/^[A-Z]{3}$/.test(upper)) {
    throw new MoneyError(`currency must be a 3-letter ISO 4217 code, got ${JSON.stringify(String(code).slice(0, 16))}`);
  }
  if (!EXPONENTS.has(upper)) throw new MoneyError(`currency ${upper} is not supported`);
  return upper;
}

/** Number of decimal places of the minor unit (0, 2 or 3). @throws MoneyError for unsupported codes. */
export function currencyExponent(code: string): 0 | 2 | 3 {
  return EXPONENTS.get(normalizeCurrency(code)) as 0 | 2 | 3;
}
