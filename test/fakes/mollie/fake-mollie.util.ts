import { createHash, randomBytes } from 'node:crypto';
import {
  type Amount,
  type Link,
  type Links,
  MollieApiError,
  type MollieErrorBody,
  type Owner,
} from './fake-mollie.types';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomToken(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** Mollie ids: a resource prefix and 10 alphanumerics (`tr_WDqYK6vllg`). */
export function newId(prefix: string, length = 10): string {
  return `${prefix}_${randomToken(length)}`;
}

/** ISO 8601 without milliseconds, like Mollie (`2024-03-20T09:13:37+00:00`). */
export function isoTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export const API_KEY_PATTERN = /^(test|live)_[A-Za-z0-9]{30,}$/;

export function ownerOfKey(apiKey: string): Owner {
  const digest = createHash('sha256').update(apiKey).digest('hex');
  return { apiKey, mode: apiKey.startsWith('live_') ? 'live' : 'test', profileId: `pfl_${digest.slice(0, 10)}` };
}

/** Decimals Mollie expects in `amount.value`, per ISO 4217 (0 for JPY, 3 for KWD). */
const DECIMALS: Readonly<Record<string, number>> = {
  AED: 2,
  AUD: 2,
  BGN: 2,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CZK: 2,
  DKK: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 2,
  ILS: 2,
  MXN: 2,
  MYR: 2,
  NOK: 2,
  NZD: 2,
  PHP: 2,
  PLN: 2,
  RON: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TWD: 2,
  USD: 2,
  ZAR: 2,
  ISK: 0,
  JPY: 0,
  KRW: 0,
  BHD: 3,
  JOD: 3,
  KWD: 3,
  OMR: 3,
  TND: 3,
};

export function currencyDecimals(currency: string): number | undefined {
  return DECIMALS[currency];
}

export function toMinor(amount: Amount): number {
  const decimals = currencyDecimals(amount.currency) ?? 2;
  const [whole, fraction = ''] = amount.value.split('.');
  return Number(whole) * 10 ** decimals + Number(fraction.padEnd(decimals, '0') || '0');
}

export function fromMinor(minor: number, currency: string): Amount {
  const decimals = currencyDecimals(currency) ?? 2;
  const digits = String(Math.abs(minor)).padStart(decimals + 1, '0');
  const value = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return { currency, value: minor < 0 ? `-${value}` : value };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function unprocessable(detail: string, field?: string): MollieApiError {
  return new MollieApiError(422, 'Unprocessable Entity', detail, field);
}

export function notFound(kind: string, id: string): MollieApiError {
  return new MollieApiError(404, 'Not Found', `No ${kind} exists with token ${id}.`);
}

/**
 * Parses `{ currency, value }` the way Mollie validates it: a known upper-case currency and a string
 * value with exactly the currency's decimals ("100" JPY, "10.00" EUR, "1.250" KWD).
 */
export function parseAmount(input: unknown, field: string): Amount {
  if (input === undefined || input === null) throw unprocessable(`The ${field} is required`, field);
  if (!isRecord(input)) throw unprocessable(`The ${field} must be an object with currency and value`, field);
  const { currency, value } = input;
  if (typeof currency !== 'string' || currencyDecimals(currency) === undefined) {
    throw unprocessable('The currency is invalid or not supported', `${field}.currency`);
  }
  const decimals = currencyDecimals(currency) ?? 2;
  const pattern = decimals === 0 ? /^\d+$/ : new RegExp(`^\\d+\\.\\d{${decimals}}$`);
  if (typeof value !== 'string' || !pattern.test(value)) {
    const expected = decimals === 0 ? 'no decimals' : `exactly ${decimals} decimals`;
    throw unprocessable(
      `The amount contains an invalid value: ${currency} amounts must be a string with ${expected}`,
      `${field}.value`,
    );
  }
  return { currency, value };
}

const DOCS = 'https://docs.mollie.com';

export function link(href: string, type = 'application/hal+json'): Link {
  return { href, type };
}

export function docLink(path: string): Link {
  return link(`${DOCS}${path}`, 'text/html');
}

export function errorBody(error: MollieApiError): MollieErrorBody {
  const links: Links = {
    documentation: docLink(error.status === 401 ? '/overview/authentication' : '/overview/handling-errors'),
  };
  return {
    status: error.status,
    title: error.title,
    detail: error.detail,
    ...(error.field === undefined ? {} : { field: error.field }),
    _links: links,
  };
}

/** Order-independent JSON, used to compare the bodies of idempotent requests. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
