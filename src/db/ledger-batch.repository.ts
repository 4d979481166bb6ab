import type { EntityManager } from '@mikro-orm/postgresql';
import { InboxStatus, InvoiceStatus, LedgerStatus } from '../vocabulary/index.js';
import { CLAIM_SELECT, type InboxClaim } from './inbox.repository.js';
import {
  LEDGER_UPSERT,
  otherPendingRows,
  PAID_SQL,
  paidFrom,
  statusFor,
  type LedgerPayment,
  type SettledRow,
} from './ledger.repository.js';

/**
 * The ledger's batched hot path: the same two steps as `claimAndLockInvoice` and `settlePaymentRow`, each one
 * statement for a whole batch of payment events (the events travel as one jsonb array). The caller guarantees that no
 * two events of a batch share an inbox key or a ledger reference (one statement cannot touch a row twice).
 */

/** Locks the batch's invoices (id order, only those in the event's workspace), then claims each event whose invoice
 * exists there in its currency. Per event, in order: the invoice currency (null: not in the workspace), whether it was
 * claimed now, and the workspace the invoice exists in otherwise. */
const CLAIM_AND_LOCK_BATCH = `
  with ev as (select * from jsonb_to_recordset(?::jsonb) as t(k int, provider text, event_id text, workspace_id uuid,
      type text, stream_sequence bigint, invoice_id uuid, currency text)),
  inv as (select i.id, i.workspace_id, i.currency from invoices i
    where i.id in (select invoice_id from ev)
      and exists (select 1 from ev where ev.invoice_id = i.id and ev.workspace_id = i.workspace_id)
    order by i.id for update),
  claim as (${CLAIM_SELECT(`select gen_random_uuid(), ev.provider, ev.event_id, ev.workspace_id, ev.type,
      '${InboxStatus.APPLIED}', 1, ev.stream_sequence, now(), null
    from ev join inv on inv.id = ev.invoice_id and inv.workspace_id = ev.workspace_id
    where upper(trim(inv.currency)) = ev.currency`)}
    returning provider, workspace_id, event_id)
  select ev.k, inv.currency, c.event_id is not null as claimed,
    case when inv.id is null then (select o.workspace_id::text from invoices o where o.id = ev.invoice_id) end as owner
  from ev
  left join inv on inv.id = ev.invoice_id and inv.workspace_id = ev.workspace_id
  left join claim c on c.provider = ev.provider and c.workspace_id = ev.workspace_id and c.event_id = ev.event_id
  order by ev.k`;

/**
 * Under the locks (a new statement, so its snapshot includes every committed change): upserts the batch's ledger rows
 * forward-only and recomputes each touched invoice once. The upserted rows' new versions come from `up`, the table
 * contributes every other row. Per event, in order: whether its row was upserted (false: the reference belongs to
 * another invoice; nothing written), its invoice's new status, and, once paid, whether the invoice has other open
 * (PENDING) checkouts after this batch.
 */
const SETTLE_BATCH = `
  with ev as (select * from jsonb_to_recordset(?::jsonb) as t(k int, workspace_id uuid, invoice_id uuid, provider text,
      reference text, provider_payment_id text, event_id text, status text, amount_minor bigint, currency text,
      paid_at timestamptz)),
  up as (
    insert into invoice_payments as p (id, workspace_id, invoice_id, provider, provider_reference, provider_payment_id,
      event_id, status, amount_minor, currency, paid_at)
    select gen_random_uuid(), workspace_id, invoice_id, provider, reference, provider_payment_id, event_id, status,
      amount_minor, currency, paid_at from ev order by k
    ${LEDGER_UPSERT}
    returning p.invoice_id, p.provider, p.provider_reference, p.status, p.amount_minor),
  added as (
    select invoice_id, coalesce(sum(amount_minor) filter (where status in (${PAID_SQL})), 0) as amount
    from up group by invoice_id),
  -- materialized: inlined, the sums would run again for every use of paid in the status case
  totals as materialized (
    select a.invoice_id, ${paidFrom(
      `select coalesce(sum(l.amount_minor), 0) from invoice_payments l
        where l.invoice_id = a.invoice_id and l.status in (${PAID_SQL})
          and not exists (select 1 from up u where u.provider = l.provider and u.provider_reference = l.provider_reference)) + (a.amount`,
      'a.invoice_id',
    )} as paid
    from added a),
  done as (
    update invoices i set paid_minor = t.paid, status = ${statusFor('t.paid')}, updated_at = now()
    from totals t where i.id = t.invoice_id
    returning i.id, i.status)
  select ev.k, u.provider_reference is not null as upserted, d.status,
    case when d.status = '${InvoiceStatus.PAID}' then
      -- other open checkouts: written by this batch, or in the table and not moved on by this batch
      exists (select 1 from up o where o.invoice_id = ev.invoice_id and o.status = '${LedgerStatus.PENDING}'
          and not (o.provider = ev.provider and o.provider_reference = ev.reference))
        or exists (${otherPendingRows('ev.invoice_id', 'ev.provider', 'ev.reference')}
          and not exists (select 1 from up u where u.provider = o.provider and u.provider_reference = o.provider_reference))
      else false end as others_pending
  from ev
  left join up u on u.provider = ev.provider and u.provider_reference = ev.reference
  left join done d on d.id = ev.invoice_id
  order by ev.k`;

/** One event of a batch: its inbox claim, its invoice and the currency it pays in. */
export interface BatchClaim {
  claim: InboxClaim;
  invoiceId: string;
  currency: string;
}

/** `claimAndLockInvoice` for a batch, in one round trip; results in the order of `entries`. */
export async function claimAndLockInvoices(
  tx: Pick<EntityManager, 'execute'>,
  entries: BatchClaim[],
): Promise<Array<{ currency: string | null; claimed: boolean; owner: string | null }>> {
  const events = entries.map(({ claim, invoiceId, currency }, k) => ({
    k,
    provider: claim.provider,
    event_id: claim.eventId,
    workspace_id: claim.workspaceId,
    type: claim.type,
    stream_sequence: claim.streamSequence,
    invoice_id: invoiceId,
    currency,
  }));
  const rows = await tx.execute<Array<{ currency: string | null; claimed: boolean; owner: string | null }>>(
    CLAIM_AND_LOCK_BATCH,
    [JSON.stringify(events)],
  );
  return rows.map((row) => ({ currency: row.currency, claimed: row.claimed, owner: row.owner }));
}

/**
 * `settlePaymentRow` for a batch, in one round trip: per payment (in order) its invoice's new status and whether the
 * invoice has other open checkouts, or null when the reference is another invoice's (nothing was written for it).
 */
export async function settlePaymentRows(
  tx: Pick<EntityManager, 'execute'>,
  payments: LedgerPayment[],
): Promise<Array<SettledRow | null>> {
  const events = payments.map((payment, k) => ({
    k,
    workspace_id: payment.workspaceId,
    invoice_id: payment.invoiceId,
    provider: payment.provider,
    reference: payment.reference,
    provider_payment_id: payment.providerPaymentId,
    event_id: payment.eventId,
    status: payment.outcome,
    amount_minor: payment.amountMinor,
    currency: payment.currency,
    paid_at: payment.paidAt,
  }));
  const rows = await tx.execute<Array<{ upserted: boolean; status: string | null; others_pending: boolean }>>(
    SETTLE_BATCH,
    [JSON.stringify(events)],
  );
  return rows.map((row) =>
    row.upserted && row.status ? { invoiceStatus: row.status, othersPending: row.others_pending } : null,
  );
}
