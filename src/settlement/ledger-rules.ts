import { LedgerStatus } from '../vocabulary/index.js';

/** Payment status from its refunds: REFUNDED when succeeded refunds cover the amount, PARTIALLY_REFUNDED when some. */
export function statusAfterRefunds(amountMinor: number, refundedMinor: number): LedgerStatus {
  if (refundedMinor <= 0) return LedgerStatus.SUCCEEDED;
  return refundedMinor >= amountMinor ? LedgerStatus.REFUNDED : LedgerStatus.PARTIALLY_REFUNDED;
}
