import { describe, it, expect } from 'vitest';
import {
  MoneyError,
  SUPPORTED_CURRENCIES,
  currencyExponent,
  formatMinor,
  isSafeMinor,
  isSupportedCurrency,
  minimumChargeMinor,
  normalizeCurrency,
  parseDecimalToMinor,
  parseDecimalToMinorBigInt,
} from '../../../src/money/money.js';

describe('currencies', () => {
  it.each([
    ['eur', 'EUR', 2],
    ['USD', 'USD', 2],
    [' gbp ', 'GBP', 2],
    ['jpy', 'JPY', 0],
    ['KRW', 'KRW', 0],
    ['isk', 'ISK', 0],
    ['XOF', 'XOF', 0],
    ['uyi', 'UYI', 0],
    ['kwd', 'KWD', 3],
    ['BHD', 'BHD', 3],
    ['JOD', 'JOD', 3],
    ['OMR', 'OMR', 3],
    ['TND', 'TND', 3],
    ['IQD', 'IQD', 3],
    ['LYD', 'LYD', 3],
  ])('%j → %s with exponent %i', (input, code, exponent) => {
    expect(normalizeCurrency(input)).toBe(code);
    expect(currencyExponent(input)).toBe(exponent);
    expect(isSupportedCurrency(input)).toBe(true);
  });

  it.each(['', 'EU', 'EURO', 'E1R', 'XXX', 'EUD', 'ZWL'])('rejects %j', (code) => {
    expect(() => normalizeCurrency(code)).toThrow(MoneyError);
    expect(isSupportedCurrency(code)).toBe(false);
  });

  it('lists every ISO zero- and three-decimal currency among ≥ 40 supported codes', () => {
    const required = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF BHD IQD JOD KWD LYD OMR TND';
    expect(SUPPORTED_CURRENCIES).toEqual(expect.arrayContaining(required.split(' ')));
    expect(SUPPORTED_CURRENCIES.length).toBeGreaterThanOrEqual(40);
    expect(SUPPORTED_CURRENCIES.every((c) => /^[A-Z]{3}$/.test(c))).toBe(true);
  });
});

describe('formatMinor', () => {
  it.each<[number | bigint, string, string]>([
    [12345, 'EUR', '123.45'],
    [5, 'EUR', '0.05'],
    [0, 'EUR', '0.00'],
    [100, 'eur', '1.00'],
    [-5, 'EUR', '-0.05'],
    [-12345, 'USD', '-123.45'],
    [-0, 'EUR', '0.00'],
    [5, 'JPY', '5'],
    [0, 'JPY', '0'],
    [-1500, 'JPY', '-1500'],
    [1234, 'KWD', '1.234'],
    [5, 'KWD', '0.005'],
    [1000, 'BHD', '1.000'],
    [-1, 'TND', '-0.001'],
    [Number.MAX_SAFE_INTEGER, 'EUR', '90071992547409.91'],
    [12345n, 'EUR', '123.45'],
    [-5n, 'EUR', '-0.05'],
    [7n, 'JPY', '7'],
    [2n ** 53n + 1n, 'EUR', '90071992547409.93'],
    [123456789012345678901234567890n, 'KWD', '123456789012345678901234567.890'],
    [-(10n ** 30n), 'JPY', '-1000000000000000000000000000000'],
  ])('%s %s → %s', (minor, currency, expected) => {
    expect(formatMinor(minor, currency)).toBe(expected);
  });

  it.each([1.5, NaN, Infinity, 2 ** 53, 0.1 + 0.2])('refuses the unsafe number %s', (n) => {
    expect(() => formatMinor(n, 'EUR')).toThrow(MoneyError);
  });

  it('refuses unsupported currencies', () => {
    expect(() => formatMinor(1, 'XXX')).toThrow(MoneyError);
  });
});

describe('parseDecimalToMinor', () => {
  it.each<[string, string, number]>([
    ['10.00', 'EUR', 1000],
    ['10', 'EUR', 1000],
    ['10.5', 'EUR', 1050],
    ['0.01', 'EUR', 1],
    ['0.10', 'EUR', 10],
    ['123.45', 'usd', 12345],
    ['-0.05', 'EUR', -5],
    ['-0.00', 'EUR', 0],
    ['007.50', 'EUR', 750],
    ['5', 'JPY', 5],
    ['1500', 'JPY', 1500],
    ['-3', 'JPY', -3],
    ['1.234', 'KWD', 1234],
    ['1.23', 'KWD', 1230],
    ['0.005', 'BHD', 5],
    ['12', 'TND', 12000],
    ['90071992547409.91', 'EUR', Number.MAX_SAFE_INTEGER],
  ])('%j %s → %i', (decimal, currency, expected) => {
    expect(parseDecimalToMinor(decimal, currency)).toBe(expected);
    expect(Object.is(parseDecimalToMinor(decimal, currency), -0)).toBe(false);
  });

  it.each<[string, string]>([
    ['1.001', 'EUR'],
    ['10.00', 'JPY'],
    ['5.5', 'JPY'],
    ['1.2345', 'KWD'],
    ['', 'EUR'],
    ['abc', 'EUR'],
    ['1,00', 'EUR'],
    ['1,000.00', 'EUR'],
    ['1e3', 'EUR'],
    ['+1.00', 'EUR'],
    [' 1.00', 'EUR'],
    ['1.00 ', 'EUR'],
    ['.5', 'EUR'],
    ['5.', 'EUR'],
    ['--1', 'EUR'],
    ['0x10', 'EUR'],
    ['NaN', 'EUR'],
    ['Infinity', 'EUR'],
    ['1'.repeat(65), 'EUR'],
    ['10.00', 'XXX'],
  ])('rejects %j %s', (decimal, currency) => {
    expect(() => parseDecimalToMinor(decimal, currency)).toThrow(MoneyError);
  });

  it('names the currency and its exponent when there are too many decimals', () => {
    expect(() => parseDecimalToMinor('10.00', 'jpy')).toThrow('has 2 decimals but JPY allows 0');
  });

  it('returns bigints beyond 2^53 and refuses them as numbers', () => {
    expect(parseDecimalToMinorBigInt('90071992547409.93', 'EUR')).toBe(2n ** 53n + 1n);
    expect(parseDecimalToMinorBigInt('-123456789012345678901234567.890', 'KWD')).toBe(-123456789012345678901234567890n);
    expect(() => parseDecimalToMinor('90071992547409.93', 'EUR')).toThrow(MoneyError);
  });

  it.each([
    ['EUR', 12345n],
    ['JPY', -987654321n],
    ['KWD', 2n ** 60n],
    ['USD', 0n],
  ] as const)('round-trips formatMinor in %s', (currency, minor) => {
    expect(parseDecimalToMinorBigInt(formatMinor(minor, currency), currency)).toBe(minor);
  });
});

describe('isSafeMinor', () => {
  it.each<[unknown, boolean]>([
    [0, true],
    [-5, true],
    [Number.MAX_SAFE_INTEGER, true],
    [-Number.MAX_SAFE_INTEGER, true],
    [2 ** 53, false],
    [1.5, false],
    [NaN, false],
    [Infinity, false],
    [5n, true],
    [BigInt(Number.MAX_SAFE_INTEGER), true],
    [2n ** 53n, false],
    [-(2n ** 53n), false],
    ['5', false],
    [null, false],
    [undefined, false],
  ])('%s → %s', (n, expected) => {
    expect(isSafeMinor(n)).toBe(expected);
  });
});

describe('minimumChargeMinor', () => {
  it.each([
    ['USD', 50],
    ['eur', 50],
    ['CHF', 50],
    ['GBP', 30],
    ['JPY', 50],
    ['DKK', 250],
    ['NOK', 300],
    ['SEK', 300],
    ['PLN', 200],
    ['CZK', 1500],
    ['HUF', 17500],
    ['MXN', 1000],
    ['HKD', 400],
    ['BRL', 50],
    ['INR', 50],
    // No published figure: 0.50 of the major unit.
    ['KWD', 500],
    ['BHD', 500],
    ['OMR', 500],
    ['JOD', 500],
    ['TND', 500],
    ['ZAR', 50],
    ['KRW', 1],
    ['XOF', 1],
  ])('%s → %i', (currency, minimum) => {
    expect(minimumChargeMinor(currency)).toBe(minimum);
    expect(Number.isSafeInteger(minimumChargeMinor(currency))).toBe(true);
  });

  it('refuses unsupported currencies', () => {
    expect(() => minimumChargeMinor('XXX')).toThrow(MoneyError);
  });
});
