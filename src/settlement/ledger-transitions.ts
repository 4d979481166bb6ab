import { LedgerStatus } from '../entities/index.js';

/** Ledger statuses whose amount counts as paid (refunds are subtracted separately). */
export const PAID_STATUSES: readonly LedgerStatus[] = [LedgerStatus.SUCCEEDED, LedgerStatus.PARTIALLY_REFUNDED, LedgerStatus.REFUNDED];
const PAID_SQL = PAID_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * Forward-only transitions of a ledger row, as the SQL condition of the upsert (`p` = the stored row, `excluded` = the
 * event's). Money taken is never undone by a late or reordered event: nothing moves a settled row; a success moves
 * any other row (the card was charged even after an `expired` or `failed`); `failed`/`cancelled` only end a pending
 * row; `pending` never overwrites anything.
 */
export const LEDGER_TRANSITION_ALLOWED = `(p.status not in (${PAID_SQL}) and (excluded.status = 'succeeded' or (excluded.status in ('failed', 'cancelled') and p.status = 'pending')))`;

/**
 * Upserts the ledger row of one provider payment (keyed by provider + reference) under the forward-only rule and
 * returns its invoice and whether the event changed it.
 */
export const UPSERT_LEDGER_ROW = `
  insert into invoice_payments as p (id, workspace_id, invoice_id, provider, provider_reference, provider_payment_id, event_id, status, amount_minor, currency, paid_at)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  on conflict (provider, provider_reference) do update set
    provider_payment_id = coalesce(p.provider_payment_id, excluded.provider_payment_id),
    status = case when ${LEDGER_TRANSITION_ALLOWED} then excluded.status else p.status end,
    event_id = case when ${LEDGER_TRANSITION_ALLOWED} then excluded.event_id else p.event_id end,
    amount_minor = case when ${LEDGER_TRANSITION_ALLOWED} and excluded.status = 'succeeded' then excluded.amount_minor else p.amount_minor end,
    paid_at = case when ${LEDGER_TRANSITION_ALLOWED} and excluded.status = 'succeeded' then excluded.paid_at else p.paid_at end,
    updated_at = case when ${LEDGER_TRANSITION_ALLOWED} then now() else p.updated_at end
  returning invoice_id, status`;

/**
 * The settlement rule (DESIGN.md), recomputed from the ledger under the invoice row lock: paid = Σ settled payments −
 * Σ succeeded refunds; then paid ≥ total → paid, 0 < paid < total → partial, otherwise sent, or overdue when the due
 * date is before today (UTC). Draft and void invoices get the amount but keep their status.
 */
export const RECOMPUTE_INVOICE = `
  with totals as (
    select greatest(0,
      (select coalesce(sum(amount_minor), 0) from invoice_payments where invoice_id = ? and status in (${PAID_SQL}))
      - (select coalesce(sum(amount_minor), 0) from payment_refunds where invoice_id = ? and status = 'succeeded')) as paid)
  update invoices i set
    paid_minor = t.paid,
    status = case
      when i.status in ('draft', 'void') then i.status
      when t.paid > 0 and t.paid >= i.total_minor then 'paid'
      when t.paid > 0 then 'partial'
      when i.due_date < (now() at time zone 'utc')::date then 'overdue'
      else 'sent' end,
    updated_at = now()
  from totals t
  where i.id = ?
  returning i.status, i.paid_minor`;

/** Payment status from its refunds: REFUNDED when succeeded refunds cover the amount, PARTIALLY_REFUNDED when some. */
export function statusAfterRefunds(amountMinor: number, refundedMinor: number): LedgerStatus {
  if (refundedMinor <= 0) return LedgerStatus.SUCCEEDED;
  return refundedMinor >= amountMinor ? LedgerStatus.REFUNDED : LedgerStatus.PARTIALLY_REFUNDED;
}
