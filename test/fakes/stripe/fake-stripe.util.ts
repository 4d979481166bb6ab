import { createHash, randomBytes } from 'node:crypto';
import { type Metadata, type Owner, StripeApiError, type StripeErrorBody } from './fake-stripe.types';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random base62 string (Stripe ids and secrets are alphanumeric). */
export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

export function newId(prefix: string, length = 24): string {
  return `${prefix}_${randomToken(length)}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export const API_KEY_PATTERN = /^(sk|rk)_(test|live)_[A-Za-z0-9]+$/;

/**
 * The account a key belongs to. `sk_test_X`, `sk_live_X` and `rk_test_X` share an account (as a real
 * account's test and live keys do); objects are visible only to the same account and mode.
 */
export function ownerOfKey(apiKey: string): Owner {
  const match = /^(?:sk|rk)_(test|live)_(.+)$/.exec(apiKey);
  const body = match?.[2] ?? apiKey;
  const account = `acct_${createHash('sha256').update(body).digest('hex').slice(0, 16)}`;
  return { account, livemode: match?.[1] === 'live' };
}

/** Stripe masks keys in error messages: the mode prefix, asterisks, the last four characters. */
export function maskKey(apiKey: string): string {
  const prefix = /^[a-z]{2,3}_(?:test|live)_/.exec(apiKey)?.[0] ?? '';
  const rest = apiKey.slice(prefix.length);
  if (rest.length <= 4) return prefix + '*'.repeat(rest.length);
  return prefix + '*'.repeat(rest.length - 4) + rest.slice(-4);
}

export function stripeError(status: number, body: StripeErrorBody, storeForIdempotency = true): StripeApiError {
  const withDoc: StripeErrorBody = body.code
    ? { ...body, doc_url: `https://stripe.com/docs/error-codes/${body.code.replace(/_/g, '-')}` }
    : body;
  return new StripeApiError(status, withDoc, storeForIdempotency);
}

/** A 400 for a malformed request; Stripe stores no idempotent result for those. */
export function invalidParam(message: string, param?: string, code?: string): StripeApiError {
  return stripeError(400, { code, message, param, type: 'invalid_request_error' }, false);
}

export function missingParam(param: string): StripeApiError {
  return invalidParam(`Missing required param: ${param}.`, param, 'parameter_missing');
}

export function noSuch(kind: string, id: string, param = 'id'): StripeApiError {
  return stripeError(404, {
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    param,
    type: 'invalid_request_error',
  });
}

export type Params = Record<string, unknown>;

export function isParams(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optString(params: Params, key: string, path = key): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParam(`Invalid string: ${path} must be a string.`, path);
  return value;
}

export function reqString(params: Params, key: string, path = key): string {
  const value = optString(params, key, path);
  if (value === undefined || value === '') throw missingParam(path);
  return value;
}

/** Integers arrive as decimal strings on the wire. */
export function optInteger(params: Params, key: string, path = key, min = 0): number | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw invalidParam(`Invalid integer: ${String(value)}`, path, 'parameter_invalid_integer');
  }
  const parsed = Number(value);
  if (parsed < min) {
    throw invalidParam(`This value must be greater than or equal to ${min}.`, path, 'parameter_invalid_integer');
  }
  return parsed;
}

export function optObject(params: Params, key: string, path = key): Params | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (!isParams(value)) throw invalidParam(`Invalid object: ${path} must be a hash.`, path);
  return value;
}

/** Indexed arrays (`a[0]=x&a[1]=y`); qs may hand back an index-keyed object, which is accepted too. */
export function optArray(params: Params, key: string, path = key): unknown[] | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value;
  if (isParams(value) && Object.keys(value).every((k) => /^\d+$/.test(k))) {
    return Object.keys(value)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => value[k]);
  }
  throw invalidParam(`Invalid array: ${path} must be an array.`, path);
}

/** Stripe's metadata rules: ≤ 50 keys, keys ≤ 40 chars, values ≤ 500 chars; empty values are dropped. */
export function optMetadata(params: Params, key = 'metadata', path = key): Metadata {
  const value = params[key];
  if (value === undefined || value === '') return {};
  if (!isParams(value)) throw invalidParam(`Invalid object: ${path} must be a hash.`, path);
  const out: Metadata = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalidParam(`Invalid string: ${path}[${k}] must be a string.`, `${path}[${k}]`);
    if (k.length > 40) throw invalidParam(`Invalid metadata key: ${k} is longer than 40 characters.`, `${path}[${k}]`);
    if (v.length > 500)
      throw invalidParam(`Invalid metadata value for ${k}: longer than 500 characters.`, `${path}[${k}]`);
    if (v !== '') out[k] = v;
  }
  if (Object.keys(out).length > 50) throw invalidParam('Metadata can have at most 50 keys.', path);
  return out;
}

/** `expand[0]=payment_intent` → ['payment_intent'] (from a query or a body). */
export function expandList(params: Params): string[] {
  const list = optArray(params, 'expand') ?? [];
  return list.filter((item): item is string => typeof item === 'string');
}

export const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
/** Three-decimal currencies: Stripe requires amounts whose last minor-unit digit is 0. */
export const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Minimum charge amounts (minor units) Stripe enforces for Checkout, for the common currencies. */
export const MINIMUM_AMOUNT: Readonly<Record<string, number>> = {
  aud: 50,
  brl: 50,
  cad: 50,
  chf: 50,
  czk: 1500,
  dkk: 250,
  eur: 50,
  gbp: 30,
  hkd: 400,
  huf: 17500,
  inr: 50,
  jpy: 50,
  mxn: 1000,
  nok: 300,
  nzd: 50,
  pln: 200,
  ron: 200,
  sek: 300,
  sgd: 50,
  usd: 50,
};

export function currencyExponent(currency: string): number {
  const lower = currency.toLowerCase();
  if (ZERO_DECIMAL.has(lower)) return 0;
  return THREE_DECIMAL.has(lower) ? 3 : 2;
}

/** 1234 eur → "12.34 EUR". */
export function formatAmount(amount: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const digits = String(Math.abs(amount)).padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return `${amount < 0 ? '-' : ''}${whole} ${currency.toUpperCase()}`;
}

/** Order-independent JSON, used to compare the parameters of idempotent requests. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isParams(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
