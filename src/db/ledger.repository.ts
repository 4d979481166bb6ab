import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Invoice, InvoicePayment } from '../entities/index.js';
import { InvoiceStatus, LedgerStatus, PAID_STATUSES, type PaymentOutcome, type Provider } from '../vocabulary/index.js';
import { CLAIM_FROM_ROW, type InboxClaim } from './inbox.repository.js';

/**
 * The ledger's SQL: the settlement rule (paid = payments − refunds − withdrawn disputes, status from paid), forward-only ledger upserts and
 * the invoice lock. Everything here runs inside the caller's unit of work.
 */

export const PAID_SQL = PAID_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * Forward-only transitions of a ledger row, as the SQL condition of the upsert (`p` = the stored row, `excluded` = the
 * event's). Money taken is never undone by a late or reordered event: nothing moves a settled row; a success moves
 * any other row (the card was charged even after an `expired` or `failed`); `failed`/`cancelled` only end a pending
 * row; `pending` never overwrites anything.
 */
export const LEDGER_TRANSITION_ALLOWED = `(p.status not in (${PAID_SQL}) and (excluded.status = 'succeeded' or (excluded.status in ('failed', 'cancelled') and p.status = 'pending')))`;

/** The invoice status for a recomputed `paid` amount (`i` = the invoice row): the settlement rule. */
export const statusFor = (paid: string) => `case
      when i.status in ('draft', 'void') then i.status
      when ${paid} > 0 and ${paid} >= i.total_minor then 'paid'
      when ${paid} > 0 then 'partial'
      when i.due_date < (now() at time zone 'utc')::date then 'overdue'
      else 'sent' end`;

/**
 * The settlement rule, in one place: paid = Σ settled payments − Σ succeeded refunds − Σ dispute amounts whose funds
 * were withdrawn and not reinstated, floored at 0. `payments` is the SQL of the payment rows to add up (its own
 * parameters first), then the invoice id twice (refunds, disputes): a parameter unless `invoiceId` names a column.
 */
export const paidFrom = (payments: string, invoiceId = '?') => `greatest(0, (${payments})
      - (select coalesce(sum(amount_minor), 0) from payment_refunds where invoice_id = ${invoiceId} and status = 'succeeded')
      - (select coalesce(sum(amount_minor), 0) from payment_disputes
          where invoice_id = ${invoiceId} and funds_withdrawn and not funds_reinstated))`;

const SETTLED_PAYMENTS = `select coalesce(sum(amount_minor), 0) from invoice_payments where invoice_id = ? and status in (${PAID_SQL})`;

/**
 * Locks the invoice row, then claims the event in the inbox, but only when the invoice exists in the workspace and its
 * currency matches, so a rejected event writes nothing. `claimed` false with a currency means it was applied before.
 */
const CLAIM_AND_LOCK = `
  with inv as (select currency from invoices where id = ? and workspace_id = ? for update),
  claim as (${CLAIM_FROM_ROW('inv', 'upper(trim(inv.currency)) = ?')} returning 1)
  select (select currency from inv) as currency, (select count(*) from claim)::int as claimed,
    case when not exists (select 1 from inv) then (select workspace_id::text from invoices where id = ?) end as owner`;

/**
 * The forward-only upsert of ledger rows (`p` = the stored row), never across invoices: a reference recorded for
 * another invoice is left alone (and returns no row).
 */
export const LEDGER_UPSERT = `on conflict (provider, provider_reference) do update set
      provider_payment_id = coalesce(p.provider_payment_id, excluded.provider_payment_id),
      status = case when ${LEDGER_TRANSITION_ALLOWED} then excluded.status else p.status end,
      event_id = case when ${LEDGER_TRANSITION_ALLOWED} then excluded.event_id else p.event_id end,
      amount_minor = case when ${LEDGER_TRANSITION_ALLOWED} and excluded.status = 'succeeded' then excluded.amount_minor else p.amount_minor end,
      paid_at = case when ${LEDGER_TRANSITION_ALLOWED} and excluded.status = 'succeeded' then excluded.paid_at else p.paid_at end,
      updated_at = case when ${LEDGER_TRANSITION_ALLOWED} then now() else p.updated_at end
      where p.invoice_id = excluded.invoice_id`;

/**
 * The SQL of an invoice's PENDING ledger rows other than `(provider, reference)`, as the statement sees the table (alias
 * `o`): a paid invoice's other open checkouts, to be closed (one invoice, one payment).
 */
export const otherPendingRows = (invoiceId: string, provider: string, reference: string) =>
  `select 1 from invoice_payments o where o.invoice_id = ${invoiceId} and o.status = '${LedgerStatus.PENDING}'
        and not (o.provider = ${provider} and o.provider_reference = ${reference})`;

/**
 * Under the lock (a new statement, so its snapshot includes every committed change): upserts the ledger row
 * forward-only and recomputes the invoice from the ledger, in one statement. The row's new version comes from the
 * upsert; the table contributes every other row. Nothing is updated when the reference belongs to another invoice.
 * Returns the new status and, once paid, whether other checkouts of the invoice are still open.
 */
const SETTLE_PAYMENT = `
  with up as (
    insert into invoice_payments as p (id, workspace_id, invoice_id, provider, provider_reference, provider_payment_id, event_id, status, amount_minor, currency, paid_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ${LEDGER_UPSERT}
    returning status, amount_minor),
  -- materialized: inlined, the sums would run again for every use of paid in the status case
  totals as materialized (
    select ${paidFrom(`${SETTLED_PAYMENTS} and not (provider = ? and provider_reference = ?)) + (select coalesce(sum(amount_minor), 0) from up where status in (${PAID_SQL})`)} as paid,
      (select count(*) from up)::int as upserted)
  update invoices i set paid_minor = t.paid, status = ${statusFor('t.paid')}, updated_at = now()
  from totals t
  where i.id = ? and t.upserted = 1
  returning i.status,
    case when i.status = '${InvoiceStatus.PAID}' then exists (${otherPendingRows('i.id', '?', '?')}) else false end
      as others_pending`;

/** Recomputes an invoice from its ledger (the caller holds the invoice row lock). */
const RECOMPUTE_INVOICE = `
  -- materialized: inlined, the sums would run again for every use of paid in the status case
  with totals as materialized (select ${paidFrom(SETTLED_PAYMENTS)} as paid)
  update invoices i set paid_minor = t.paid, status = ${statusFor('t.paid')}, updated_at = now()
  from totals t
  where i.id = ?
  returning i.status, i.paid_minor`;

/** A payment as the ledger records it. */
export interface LedgerPayment {
  workspaceId: string;
  invoiceId: string;
  provider: Provider;
  reference: string;
  providerPaymentId: string | null;
  eventId: string;
  outcome: PaymentOutcome;
  amountMinor: number;
  currency: string;
  /** When the money was taken (succeeded payments only). */
  paidAt: Date | null;
}

/**
 * The invoice row's lock and the event's inbox claim, in one round trip. When the invoice is not in the workspace,
 * `owner` is the workspace it does exist in (null: in none, yet).
 */
export async function claimAndLockInvoice(
  tx: EntityManager,
  claim: InboxClaim,
  invoiceId: string,
  currency: string,
): Promise<{ currency: string | null; claimed: boolean; owner: string | null }> {
  const [row] = await tx.execute<Array<{ currency: string | null; claimed: number; owner: string | null }>>(
    CLAIM_AND_LOCK,
    [
      invoiceId,
      claim.workspaceId,
      randomUUID(),
      claim.provider,
      claim.eventId,
      claim.workspaceId,
      claim.type,
      claim.streamSequence,
      currency,
      invoiceId,
    ],
  );
  return { currency: row.currency, claimed: row.claimed > 0, owner: row.owner };
}

/** What settling a payment row did to its invoice. */
export interface SettledRow {
  invoiceStatus: string;
  /** The invoice is paid and has other open (PENDING) checkouts: they are to be closed. */
  othersPending: boolean;
}

/**
 * Upserts a payment's ledger row and recomputes its invoice (under the invoice lock); returns the invoice's new status,
 * or null when the reference is another invoice's (nothing was written).
 */
export async function settlePaymentRow(
  tx: Pick<EntityManager, 'execute'>,
  payment: LedgerPayment,
): Promise<SettledRow | null> {
  const settled = await tx.execute<Array<{ status: string; others_pending: boolean }>>(SETTLE_PAYMENT, [
    randomUUID(),
    payment.workspaceId,
    payment.invoiceId,
    payment.provider,
    payment.reference,
    payment.providerPaymentId,
    payment.eventId,
    payment.outcome,
    payment.amountMinor,
    payment.currency,
    payment.paidAt,
    payment.invoiceId,
    payment.provider,
    payment.reference,
    payment.invoiceId,
    payment.invoiceId,
    payment.invoiceId,
    payment.provider,
    payment.reference,
  ]);
  const [row] = settled;
  return row ? { invoiceStatus: row.status, othersPending: row.others_pending } : null;
}

/** The workspace an invoice exists in, whichever it is; null when it exists nowhere (yet). */
export async function invoiceOwner(tx: Pick<EntityManager, 'execute'>, invoiceId: string): Promise<string | null> {
  const [row] = await tx.execute<Array<{ workspace_id: string }>>('select workspace_id from invoices where id = ?', [
    invoiceId,
  ]);
  return row?.workspace_id ?? null;
}

/** The workspaces whose ledgers hold a provider payment (by the provider's payment id). */
export async function paymentOwners(
  tx: Pick<EntityManager, 'execute'>,
  provider: Provider,
  providerPaymentId: string,
): Promise<string[]> {
  const rows = await tx.execute<Array<{ workspace_id: string }>>(
    'select distinct workspace_id from invoice_payments where provider = ? and provider_payment_id = ?',
    [provider, providerPaymentId],
  );
  return rows.map((row) => row.workspace_id);
}

/** Recomputes an invoice's paid amount and status from its ledger (under the invoice lock). */
export async function recomputeInvoice(
  tx: Pick<EntityManager, 'execute'>,
  invoiceId: string,
): Promise<{ status: string; paidMinor: number } | null> {
  const [row] = await tx.execute<Array<{ status: string; paid_minor: string }>>(RECOMPUTE_INVOICE, [
    invoiceId,
    invoiceId,
    invoiceId,
    invoiceId,
  ]);
  return row ? { status: row.status, paidMinor: Number(row.paid_minor) } : null;
}

/** The invoice of a workspace, locked for the unit of work; null when it does not (yet) exist there. */
export function lockInvoice(tx: EntityManager, workspaceId: string, invoiceId: string): Promise<Invoice | null> {
  return tx.findOne(Invoice, { id: invoiceId.toLowerCase(), workspaceId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
}

/** Records a checkout the service created as a PENDING row; a replayed session (same reference) keeps its one row. */
export async function recordPendingCheckout(
  em: Pick<EntityManager, 'execute'>,
  row: {
    workspaceId: string;
    invoiceId: string;
    provider: Provider;
    reference: string;
    amountMinor: number;
    currency: string;
    payLinkId: string;
    checkoutUrl: string | null;
    expiresAt: Date | null;
  },
): Promise<void> {
  await em.execute(
    `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, status, amount_minor, currency, pay_link_id, checkout_url, expires_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (provider, provider_reference) do nothing`,
    [
      randomUUID(),
      row.workspaceId,
      row.invoiceId,
      row.provider,
      row.reference,
      LedgerStatus.PENDING,
      row.amountMinor,
      row.currency,
      row.payLinkId,
      row.checkoutUrl,
      row.expiresAt,
    ],
  );
}

/** A PENDING checkout the provider has closed becomes CANCELLED (a row that moved on meanwhile is left alone). */
export async function cancelPendingCheckout(em: Pick<EntityManager, 'execute'>, paymentId: string): Promise<boolean> {
  const rows = await em.execute<Array<{ id: string }>>(
    `update invoice_payments set status = ?, updated_at = now() where id = ? and status = ? returning id`,
    [LedgerStatus.CANCELLED, paymentId, LedgerStatus.PENDING],
  );
  return rows.length > 0;
}

/** The PENDING checkouts of an invoice (other than `exceptReference`), or of a workspace at a provider. */
export async function pendingCheckouts(
  em: EntityManager,
  where: { invoiceId: string; exceptReference?: string } | { workspaceId: string; provider: Provider },
): Promise<InvoicePayment[]> {
  const filter =
    'invoiceId' in where
      ? {
          invoiceId: where.invoiceId,
          ...(where.exceptReference ? { providerReference: { $ne: where.exceptReference } } : {}),
        }
      : { workspaceId: where.workspaceId, provider: where.provider };
  return em.find(InvoicePayment, { ...filter, status: LedgerStatus.PENDING }, { orderBy: { createdAt: 'asc' } });
}
