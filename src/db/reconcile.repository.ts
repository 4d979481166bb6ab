import type { EntityManager } from '@mikro-orm/postgresql';
import type { Provider } from '../vocabulary/index.js';

/** A PENDING ledger row the reconciler should ask the provider about, with what decides the action. */
export interface ReconcileCandidate {
  id: string;
  workspaceId: string;
  invoiceId: string;
  provider: Provider;
  providerReference: string;
  amountMinor: number;
  currency: string;
  /** The row's creation time exactly as stored (microseconds): the keyset cursor. */
  cursor: string;
  /** The invoice is paid already: an open checkout must be closed (one invoice, one payment). */
  invoicePaid: boolean;
  /** The account is disconnected (its grace window keeps its keys): an open checkout must be closed. */
  accountDisconnected: boolean;
}

/**
 * PENDING rows worth asking about, oldest first, after `after` (keyset paging): expired or long-pending checkouts,
 * checkouts of paid invoices and of disconnected accounts. Rows of accounts without keys (nothing to ask with) and
 * rows deferred after a failed check are skipped, so they never block the rows behind them.
 */
export async function reconcileCandidates(
  em: EntityManager,
  query: {
    pendingBefore: Date;
    workspaceId?: string;
    after: { cursor: string; id: string } | null;
    limit: number;
  },
): Promise<ReconcileCandidate[]> {
  const rows = await em.execute<
    Array<{
      id: string;
      workspace_id: string;
      invoice_id: string;
      provider: Provider;
      provider_reference: string;
      amount_minor: string;
      currency: string;
      cursor: string;
      invoice_paid: boolean;
      account_disconnected: boolean;
    }>
  >(
    `select p.id, p.workspace_id, p.invoice_id, p.provider, p.provider_reference, p.amount_minor, p.currency,
            p.created_at::text as cursor, coalesce(i.status = 'paid', false) as invoice_paid,
            a.disconnected_at is not null as account_disconnected
     from invoice_payments p
     join payment_provider_accounts a on a.workspace_id = p.workspace_id and a.provider = p.provider
       and a.secret_key_sealed is not null
     left join invoices i on i.id = p.invoice_id
     where p.status = 'pending'
       and (p.reconcile_after is null or p.reconcile_after <= now())
       and (p.expires_at < now() or p.created_at < ? or i.status = 'paid' or a.disconnected_at is not null)
       ${query.workspaceId ? 'and p.workspace_id = ?' : ''}
       ${query.after ? 'and (p.created_at, p.id) > (?::timestamptz, ?)' : ''}
     order by p.created_at, p.id
     limit ?`,
    [
      query.pendingBefore,
      ...(query.workspaceId ? [query.workspaceId] : []),
      ...(query.after ? [query.after.cursor, query.after.id] : []),
      query.limit,
    ],
  );
  return rows.map((row) => ({
    id: row.id,
    workspaceId: row.workspace_id,
    invoiceId: row.invoice_id,
    provider: row.provider,
    providerReference: row.provider_reference,
    amountMinor: Number(row.amount_minor),
    currency: row.currency.trim(),
    cursor: row.cursor,
    invoicePaid: row.invoice_paid,
    accountDisconnected: row.account_disconnected,
  }));
}

/** Rows the reconciler could not resolve are asked about again only after `until`. */
export async function deferReconcile(em: EntityManager, ids: string[], until: Date): Promise<void> {
  if (ids.length === 0) return;
  await em.execute(`update invoice_payments set reconcile_after = ? where id = any(?::uuid[])`, [
    until,
    `{${ids.join(',')}}`,
  ]);
}
