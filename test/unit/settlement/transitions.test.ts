import { describe, expect, it } from 'vitest';
import { LedgerStatus } from '../../../src/entities/index.js';
import { nextInvoiceStatus } from '../../../src/settlement/invoice-status.js';
import { nextLedgerStatus, statusAfterRefunds } from '../../../src/settlement/ledger-transitions.js';

const { PENDING, SUCCEEDED, FAILED, CANCELLED, REFUNDED, PARTIALLY_REFUNDED } = LedgerStatus;

describe('nextLedgerStatus: forward-only', () => {
  it.each([
    [null, 'pending', PENDING],
    [null, 'succeeded', SUCCEEDED],
    [null, 'failed', FAILED],
    [null, 'cancelled', CANCELLED],
    [PENDING, 'succeeded', SUCCEEDED],
    [PENDING, 'failed', FAILED],
    [PENDING, 'cancelled', CANCELLED],
    [PENDING, 'pending', null],
    [SUCCEEDED, 'cancelled', null],
    [SUCCEEDED, 'failed', null],
    [SUCCEEDED, 'pending', null],
    [SUCCEEDED, 'succeeded', null],
    [REFUNDED, 'succeeded', null],
    [PARTIALLY_REFUNDED, 'failed', null],
    [CANCELLED, 'succeeded', SUCCEEDED],
    [FAILED, 'succeeded', SUCCEEDED],
    [CANCELLED, 'failed', null],
  ] as const)('%s + %s → %s', (current, outcome, expected) => {
    expect(nextLedgerStatus(current, outcome)).toBe(expected);
  });

  it.each([
    [1000, 0, SUCCEEDED],
    [1000, 1, PARTIALLY_REFUNDED],
    [1000, 999, PARTIALLY_REFUNDED],
    [1000, 1000, REFUNDED],
  ] as const)('amount %i with %i refunded → %s', (amount, refunded, expected) => {
    expect(statusAfterRefunds(amount, refunded)).toBe(expected);
  });
});

describe('nextInvoiceStatus', () => {
  const now = new Date('2026-11-27T10:00:00Z');
  it.each([
    ['sent', 1000, 1000, '2026-12-01', 'paid'],
    ['sent', 1000, 1500, '2026-12-01', 'paid'],
    ['sent', 1000, 1, '2026-12-01', 'partial'],
    ['paid', 1000, 0, '2026-12-01', 'sent'],
    ['paid', 1000, 0, '2026-11-26', 'overdue'],
    ['paid', 1000, 0, '2026-11-27', 'sent'],
    ['partial', 1000, 0, null, 'sent'],
    ['overdue', 1000, 400, '2026-01-01', 'partial'],
    ['draft', 1000, 1000, null, 'draft'],
    ['void', 1000, 1000, null, 'void'],
  ] as const)('%s, total %i, paid %i, due %s → %s', (status, total, paid, due, expected) => {
    expect(nextInvoiceStatus(status, total, paid, due, now)).toBe(expected);
  });
});
