import type { EntityManager } from '@mikro-orm/postgresql';
import { claimEvent, failClaim, type InboxClaim } from '../db/inbox.repository.js';
import { claimAndLockInvoices, settlePaymentRows } from '../db/ledger-batch.repository.js';
import type { LedgerPayment, SettledRow } from '../db/ledger.repository.js';
import { InboxStatus, InvoiceStatus, type IgnoreReason } from '../vocabulary/index.js';
import {
  anotherInvoice,
  checkInvoice,
  checkPaymentTarget,
  toLedgerPayment,
  type Foreign,
  type PaymentItem,
  type SettleOutcome,
} from './payment-item.js';

/** One event's outcome inside a unit of work, with what to tell the hooks once it commits. */
export interface Applied {
  outcome: SettleOutcome;
  ignored?: IgnoreReason;
  /** The event paid its invoice while other checkouts of it are still open: they are to be closed. */
  closeOthers?: boolean;
}

/** Whether a settled payment leaves open checkouts to close: it paid its invoice, and others are still pending. */
export const closesOthers = (row: SettledRow, payment: LedgerPayment) =>
  row.othersPending && row.invoiceStatus === InvoiceStatus.PAID && payment.outcome === 'succeeded';

/** Records an event as ignored (once): it names no invoice of its workspace. */
export async function ignoreEvent(
  tx: Pick<EntityManager, 'execute'>,
  claim: InboxClaim,
  { ignored }: Foreign,
): Promise<Applied> {
  const claimed = await claimEvent(tx, claim, InboxStatus.IGNORED, ignored);
  return claimed ? { outcome: 'ignored', ignored } : { outcome: 'duplicate' };
}

/**
 * Whether a batch can go through `settleBatch`: one statement may not touch a row twice, so no two events may share
 * an inbox key or a ledger reference (a replayed event, or two events of one checkout, take the one-by-one path).
 */
export function batchable(items: PaymentItem[]): boolean {
  const events = new Set<string>();
  const references = new Set<string>();
  for (const { provider, workspaceId, eventId, update } of items) {
    events.add(`${provider}\u0000${workspaceId}\u0000${eventId}`);
    references.add(`${provider}\u0000${update.reference}`);
  }
  return events.size === items.length && references.size === items.length;
}

/**
 * Settles a batch of payment events in two statements inside the caller's transaction, with the same per-event
 * outcomes as settling them one by one: foreign events are recorded as ignored; one whose invoice is missing or in
 * another currency gets its own error and writes nothing; a reference recorded for another invoice gives the claim
 * back (retried, not lost). An SQL error fails the whole transaction: the caller then settles one by one.
 */
export async function settleBatch(
  tx: Pick<EntityManager, 'execute'>,
  items: PaymentItem[],
): Promise<Array<Applied | Error>> {
  const results = new Array<Applied | Error>(items.length);
  const local: number[] = [];
  for (const [index, item] of items.entries()) {
    const foreign = checkPaymentTarget(item);
    if (foreign) results[index] = await ignoreEvent(tx, item, foreign);
    else local.push(index);
  }
  if (local.length === 0) return results;
  const payments = local.map((index) => toLedgerPayment(items[index]));
  const locks = await claimAndLockInvoices(
    tx,
    local.map((index, k) => ({
      claim: items[index],
      invoiceId: payments[k].invoiceId,
      currency: payments[k].currency,
    })),
  );
  const claimed: number[] = [];
  for (const [k, index] of local.entries()) {
    const item = items[index];
    const lock = locks[k];
    if (lock.owner && lock.owner !== item.workspaceId) {
      results[index] = await ignoreEvent(tx, item, { ignored: 'invoice_of_other_workspace' });
      continue;
    }
    const problem = checkInvoice(item, payments[k].invoiceId, lock.currency);
    if (problem) results[index] = problem;
    else if (!lock.claimed) results[index] = { outcome: 'duplicate' };
    else claimed.push(k);
  }
  if (claimed.length === 0) return results;
  const settled = await settlePaymentRows(
    tx,
    claimed.map((k) => payments[k]),
  );
  for (const [j, k] of claimed.entries()) {
    const index = local[k];
    const row = settled[j];
    if (!row) {
      // The reference belongs to another invoice: undo the claim in this transaction, so the event is retried, not lost.
      const error = anotherInvoice(items[index], payments[k].invoiceId);
      await failClaim(tx, items[index], error.message);
      results[index] = error;
    } else {
      results[index] = { outcome: 'applied', closeOthers: closesOthers(row, payments[k]) };
    }
  }
  return results;
}
