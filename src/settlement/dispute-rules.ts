import { DISPUTE_STATE_RANK, type DisputeState, type DisputeUpdate } from '../vocabulary/index.js';

/** What the ledger knows of one dispute. */
export interface DisputeFacts {
  amountMinor: number;
  status: DisputeState;
  reason: string | null;
  evidenceDueBy: Date | null;
  fundsWithdrawn: boolean;
  fundsReinstated: boolean;
}

/**
 * Merges a dispute update into what the ledger knows, forward-only, so the result does not depend on the order or the
 * number of times updates arrive (a join: each field only moves up its own order):
 * - the status only moves up NEEDS_RESPONSE → UNDER_REVIEW → LOST → WON (a chargeback can be reversed; a won dispute is
 *   never lost again);
 * - funds withdrawn and funds reinstated are facts: once true they stay true (reinstated funds had been withdrawn);
 * - amount, reason and evidence deadline come from the update of the highest status seen, else fill in what is missing.
 */
export function mergeDispute(current: DisputeFacts | null, update: DisputeUpdate): DisputeFacts {
  const fundsReinstated = (current?.fundsReinstated ?? false) || update.fundsReinstated;
  const fundsWithdrawn = (current?.fundsWithdrawn ?? false) || update.fundsWithdrawn || fundsReinstated;
  if (!current) {
    return {
      amountMinor: update.amountMinor,
      status: update.status,
      reason: update.reason,
      evidenceDueBy: update.evidenceDueBy,
      fundsWithdrawn,
      fundsReinstated,
    };
  }
  const newer = DISPUTE_STATE_RANK[update.status] > DISPUTE_STATE_RANK[current.status];
  return {
    amountMinor: Math.max(current.amountMinor, update.amountMinor),
    status: newer ? update.status : current.status,
    reason: newer ? (update.reason ?? current.reason) : (current.reason ?? update.reason),
    evidenceDueBy: latest(current.evidenceDueBy, update.evidenceDueBy),
    fundsWithdrawn,
    fundsReinstated,
  };
}

/** What a dispute takes off the paid amount: its amount while the funds are withdrawn and not reinstated. */
export const withdrawnMinor = (dispute: Pick<DisputeFacts, 'amountMinor' | 'fundsWithdrawn' | 'fundsReinstated'>) =>
  dispute.fundsWithdrawn && !dispute.fundsReinstated ? dispute.amountMinor : 0;

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}
