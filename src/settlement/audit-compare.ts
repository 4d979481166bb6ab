import type { ActivityKind, ProviderActivity } from '../providers/payment-provider.js';
import {
  DISPUTE_STATE_RANK,
  isRefundStandIn,
  LedgerStatus,
  PAID_STATUSES,
  type DisputeState,
  type LedgerStatus as LedgerStatusType,
  type Provider,
  type SettlementUpdate,
} from '../vocabulary/index.js';

/**
 * `missing`: the provider has it, the ledger does not. `status`: both have it in different states. `amount`: in
 * different amounts (or currencies). `unknown`: a ledger row the provider does not know.
 */
export type DiscrepancyKind = 'missing' | 'status' | 'amount' | 'unknown';

/** A ledger row (payment, refund or dispute) as the audit compares it. */
export interface LedgerEntry {
  kind: ActivityKind;
  /** The provider reference of a payment, the provider id of a refund or dispute. */
  reference: string;
  invoiceId: string;
  amountMinor: number;
  currency: string;
  /** The row's status as stored. */
  state: string;
}

/** One side of a discrepancy: what the ledger or the provider says. */
export interface ObjectState {
  object: ActivityKind;
  status: string;
  amountMinor: number;
  currency: string;
}

export interface Discrepancy {
  kind: DiscrepancyKind;
  workspaceId: string;
  invoiceId: string | null;
  provider: Provider;
  reference: string;
  ledger: ObjectState | null;
  providerState: ObjectState | null;
  /**
   * The update a fix publishes: for `missing`, and for `status` when the ledger's forward-only rules would take it (a
   * payment the provider says succeeded, a pending row, a dispute further on); else null (a person decides).
   */
  fix: SettlementUpdate | null;
}

const key = (kind: ActivityKind, reference: string) => `${kind}:${reference}`;

/** The ledger's status in the provider's terms: refunds are the ledger's own bookkeeping on a succeeded payment. */
function comparableState(row: LedgerEntry): string {
  if (row.kind === 'payment' && (row.state === LedgerStatus.REFUNDED || row.state === LedgerStatus.PARTIALLY_REFUNDED))
    return LedgerStatus.SUCCEEDED;
  return row.state;
}

/** Whether settling the provider's state would change the row (the ledger's transitions only move forward). */
function movesForward(row: LedgerEntry, object: ProviderActivity): boolean {
  if (row.kind === 'dispute')
    return DISPUTE_STATE_RANK[object.state as DisputeState] > DISPUTE_STATE_RANK[row.state as DisputeState];
  if (row.kind === 'payment')
    return (
      row.state === LedgerStatus.PENDING ||
      (object.state === LedgerStatus.SUCCEEDED && !PAID_STATUSES.includes(row.state as LedgerStatusType))
    );
  // refunds: failed and cancelled are final, and a succeeded refund never goes back to pending
  return (
    row.state !== 'failed' && row.state !== 'cancelled' && !(row.state === 'succeeded' && object.state === 'pending')
  );
}

const ledgerSide = (row: LedgerEntry): ObjectState => ({
  object: row.kind,
  status: row.state,
  amountMinor: row.amountMinor,
  currency: row.currency,
});

const providerSide = (object: ProviderActivity): ObjectState => ({
  object: object.kind,
  status: object.state,
  amountMinor: object.amountMinor,
  currency: object.currency,
});

/**
 * Compares one account's provider objects with its ledger rows (a pure function): every object without a row is
 * `missing`, every row without an object `unknown`; a pair may differ in `amount` and in `status` (both are reported).
 * Refund stand-ins (amounts known only from a payment's refunded total) are the ledger's own and never `unknown`.
 */
export function compareLedger(
  provider: Provider,
  workspaceId: string,
  objects: readonly ProviderActivity[],
  rows: readonly LedgerEntry[],
): Discrepancy[] {
  const byKey = new Map<string, LedgerEntry>();
  for (const row of rows) if (!isRefundStandIn(row.reference)) byKey.set(key(row.kind, row.reference), row);
  const found: Discrepancy[] = [];
  const report = (
    kind: DiscrepancyKind,
    reference: string,
    row: LedgerEntry | undefined,
    object: ProviderActivity | undefined,
  ) =>
    found.push({
      kind,
      workspaceId,
      invoiceId: row?.invoiceId ?? object?.invoiceId ?? null,
      provider,
      reference,
      ledger: row ? ledgerSide(row) : null,
      providerState: object ? providerSide(object) : null,
      fix:
        object && (kind === 'missing' || (kind === 'status' && row && movesForward(row, object)))
          ? object.update
          : null,
    });

  for (const object of objects) {
    const row = byKey.get(key(object.kind, object.reference));
    if (!row) {
      report('missing', object.reference, undefined, object);
      continue;
    }
    byKey.delete(key(object.kind, object.reference));
    if (row.amountMinor !== object.amountMinor || row.currency.toUpperCase() !== object.currency.toUpperCase())
      report('amount', object.reference, row, object);
    const state = comparableState(row);
    if (state !== object.state && !object.agreesWith?.includes(state)) report('status', object.reference, row, object);
  }
  for (const row of byKey.values()) report('unknown', row.reference, row, undefined);
  return found;
}
