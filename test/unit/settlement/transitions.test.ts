import { describe, expect, it } from 'vitest';
import { LedgerStatus } from '../../../src/vocabulary/index.js';
import { statusAfterRefunds } from '../../../src/settlement/ledger-rules.js';

const { SUCCEEDED, REFUNDED, PARTIALLY_REFUNDED } = LedgerStatus;

describe('statusAfterRefunds', () => {
  it.each([
    [1000, 0, SUCCEEDED],
    [1000, 1, PARTIALLY_REFUNDED],
    [1000, 999, PARTIALLY_REFUNDED],
    [1000, 1000, REFUNDED],
  ] as const)('amount %i with %i refunded → %s', (amount, refunded, expected) => {
    expect(statusAfterRefunds(amount, refunded)).toBe(expected);
  });
});
