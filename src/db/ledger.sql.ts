import { LedgerStatus } from '../vocabulary/index.js';

/** Ledger statuses whose amount counts as paid (refunds are subtracted separately). */
export const PAID_STATUSES: readonly LedgerStatus[] = [
  LedgerStatus.SUCCEEDED,
  LedgerStatus.PARTIALLY_REFUNDED,
  LedgerStatus.REFUNDED,
];
const PAID_SQL = PAID_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * Forward-only transitions of a ledger row, as the SQL condition of the upsert (`p` = the stored row, `excluded` = the
 * event's). Money taken is never undone by a late or reordered event: nothing moves a settled row; a success moves
 * any other row (the card was charged even after an `expired` or `failed`); `failed`/`cancelled` only end a pending
 * row; `pending` never overwrites anything.
 */
export const LEDGER_TRANSITION_ALLOWED = `(p.status not in (${PAID_SQL}) and (excluded.status = 'succeeded' or (excluded.status in ('failed', 'cancelled') and p.status = 'pending')))`;

/** The invoice status for a recomputed `paid` amount (`i` = the invoice row): the settlement rule of DESIGN.md. */
const statusFor = (paid: string) => `case
      when i.status in ('draft', 'void') then i.status
      when ${paid} > 0 and ${paid} >= i.total_minor then 'paid'
      when ${paid} > 0 then 'partial'
      when i.due_date < (now() at time zone 'utc')::date then 'overdue'
      else 'sent' end`;

const SUCCEEDED_REFUNDS =
  "(select coalesce(sum(amount_minor), 0) from payment_refunds where invoice_id = ? and status = 'succeeded')";

/**
 * Step 1 of a payment event: lock the invoice row, then claim the event in the inbox, but only when the invoice exists
 * in the workspace and its currency matches, so a rejected event writes nothing. `claimed` = 0 with a currency means
 * the event was applied before.
 * Parameters: invoice id, workspace id, inbox id, provider, event id, workspace id, type, stream sequence, currency.
 */
export const CLAIM_AND_LOCK = `
  with inv as (select currency from invoices where id = ? and workspace_id = ? for update),
  claim as (
    insert into webhook_events (id, provider, event_id, workspace_id, type, status, attempts, stream_sequence, processed_at)
    select ?, ?, ?, ?, ?, 'applied', 1, ?, now() from inv where upper(trim(inv.currency)) = ?
    on conflict (provider, event_id) do update
      set status = 'applied', attempts = webhook_events.attempts + 1, last_error = null,
          stream_sequence = coalesce(excluded.stream_sequence, webhook_events.stream_sequence), processed_at = now()
      where webhook_events.status = 'failed'
    returning 1)
  select (select currency from inv) as currency, (select count(*) from claim)::int as claimed`;

/**
 * Step 2, under the lock (a new statement, so its snapshot includes every committed change): upsert the ledger row
 * forward-only and recompute the invoice from the ledger, in one statement. The row's new version comes from the
 * upsert; the table contributes every other row. Nothing is updated when the reference belongs to another invoice.
 * Parameters: the 11 ledger values, invoice id, provider, reference, invoice id (refunds), invoice id.
 */
export const SETTLE_PAYMENT = `
  with up as (
    insert into invoice_payments as p (id, workspace_id, invoice_id, provider, provider_reference, provider_payment_id, event_id, status, amount_minor, currency, paid_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    on conflict (provider, provider_reference) do update set
      provider_payment_id = coalesce(p.provider_payment_id, excluded.provider_payment_id),
      status = case when ${LEDGER_TRANSITION_ALLOWED} then excluded.status else p.status end,
      event_id = case when ${LEDGER_TRANSITION_ALLOWED} then excluded.event_id else p.event_id end,
      amount_minor = case when ${LEDGER_TRANSITION_ALLOWED} and excluded.status = 'succeeded' then excluded.amount_minor else p.amount_minor end,
      paid_at = case when ${LEDGER_TRANSITION_ALLOWED} and excluded.status = 'succeeded' then excluded.paid_at else p.paid_at end,
      updated_at = case when ${LEDGER_TRANSITION_ALLOWED} then now() else p.updated_at end
      where p.invoice_id = excluded.invoice_id
    returning status, amount_minor),
  totals as (
    select greatest(0,
      (select coalesce(sum(amount_minor), 0) from invoice_payments where invoice_id = ? and status in (${PAID_SQL}) and not (provider = ? and provider_reference = ?))
      + (select coalesce(sum(amount_minor), 0) from up where status in (${PAID_SQL}))
      - ${SUCCEEDED_REFUNDS}) as paid,
      (select count(*) from up)::int as upserted)
  update invoices i set paid_minor = t.paid, status = ${statusFor('t.paid')}, updated_at = now()
  from totals t
  where i.id = ? and t.upserted = 1
  returning i.status`;

/** Recomputes an invoice from its ledger (refund paths; the caller holds the invoice row lock). Parameters: invoice id ×3. */
export const RECOMPUTE_INVOICE = `
  with totals as (
    select greatest(0,
      (select coalesce(sum(amount_minor), 0) from invoice_payments where invoice_id = ? and status in (${PAID_SQL}))
      - ${SUCCEEDED_REFUNDS}) as paid)
  update invoices i set paid_minor = t.paid, status = ${statusFor('t.paid')}, updated_at = now()
  from totals t
  where i.id = ?
  returning i.status, i.paid_minor`;

/** Payment status from its refunds: REFUNDED when succeeded refunds cover the amount, PARTIALLY_REFUNDED when some. */
export function statusAfterRefunds(amountMinor: number, refundedMinor: number): LedgerStatus {
  if (refundedMinor <= 0) return LedgerStatus.SUCCEEDED;
  return refundedMinor >= amountMinor ? LedgerStatus.REFUNDED : LedgerStatus.PARTIALLY_REFUNDED;
}
