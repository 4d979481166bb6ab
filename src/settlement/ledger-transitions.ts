import { LedgerStatus } from '../entities/index.js';
import type { PaymentUpdate } from './settlement-event.js';

const SETTLED = new Set<LedgerStatus>([LedgerStatus.SUCCEEDED, LedgerStatus.PARTIALLY_REFUNDED, LedgerStatus.REFUNDED]);

/** Ledger statuses whose amount counts as paid (refunds are subtracted separately). */
export const PAID_STATUSES: readonly LedgerStatus[] = [...SETTLED];

/**
 * Forward-only transitions of a ledger row. Money taken is never undone by a late or reordered event: a late
 * `expired` or `failed` never overwrites a success, and a success after `expired`/`failed` still counts (the card
 * was charged). Returns the new status, or null when the event changes nothing.
 */
export function nextLedgerStatus(current: LedgerStatus | null, outcome: PaymentUpdate['outcome']): LedgerStatus | null {
  if (current !== null && SETTLED.has(current)) return null;
  switch (outcome) {
    case 'succeeded':
      return LedgerStatus.SUCCEEDED;
    case 'pending':
      return current === null ? LedgerStatus.PENDING : null;
    case 'failed':
      return current === null || current === LedgerStatus.PENDING ? LedgerStatus.FAILED : null;
    case 'cancelled':
      return current === null || current === LedgerStatus.PENDING ? LedgerStatus.CANCELLED : null;
  }
}

/** Payment status from its refunds: REFUNDED when succeeded refunds cover the amount, PARTIALLY_REFUNDED when some. */
export function statusAfterRefunds(amountMinor: number, refundedMinor: number): LedgerStatus {
  if (refundedMinor <= 0) return LedgerStatus.SUCCEEDED;
  return refundedMinor >= amountMinor ? LedgerStatus.REFUNDED : LedgerStatus.PARTIALLY_REFUNDED;
}
