import type { EntityManager } from '@mikro-orm/postgresql';
import { PaymentProviderAccount } from '../entities/index.js';
import type { Provider } from '../vocabulary/index.js';

/** A ledger row as the audit reads it: a payment, a refund or a dispute of one workspace at one provider. */
export interface AuditLedgerRow {
  kind: 'payment' | 'refund' | 'dispute';
  reference: string;
  invoiceId: string;
  amountMinor: number;
  currency: string;
  state: string;
  /** The row's creation time exactly as stored (microseconds): the keyset cursor, with kind and reference. */
  cursor: string;
}

interface RawRow {
  kind: AuditLedgerRow['kind'];
  reference: string;
  invoice_id: string;
  amount_minor: string;
  currency: string;
  state: string;
  cursor: string;
}

/** The three ledgers as one relation; refunds not yet known to the provider (no id) are left out. */
const LEDGER = `
  select 'payment' as kind, p.provider_reference as reference, p.invoice_id, p.amount_minor, p.currency, p.status as state,
         p.created_at, p.workspace_id, p.provider
  from invoice_payments p
  union all
  select 'refund', r.provider_refund_id, r.invoice_id, r.amount_minor, r.currency, r.status, r.created_at, r.workspace_id,
         r.provider
  from payment_refunds r where r.provider_refund_id is not null
  union all
  select 'dispute', d.provider_dispute_id, d.invoice_id, d.amount_minor, d.currency, d.status, d.created_at,
         d.workspace_id, d.provider
  from payment_disputes d`;

const toRow = (row: RawRow): AuditLedgerRow => ({
  kind: row.kind,
  reference: row.reference,
  invoiceId: row.invoice_id,
  amountMinor: Number(row.amount_minor),
  currency: row.currency.trim(),
  state: row.state,
  cursor: row.cursor,
});

/** One page of a workspace's ledger rows at a provider created in [since, until], after `after` (keyset paging). */
export async function ledgerRowsInRange(
  em: EntityManager,
  query: {
    workspaceId: string;
    provider: Provider;
    since: Date;
    until: Date;
    after: Pick<AuditLedgerRow, 'cursor' | 'kind' | 'reference'> | null;
    limit: number;
  },
): Promise<AuditLedgerRow[]> {
  const rows = await em.execute<RawRow[]>(
    `select kind, reference, invoice_id, amount_minor, currency, state, created_at::text as cursor
     from (${LEDGER}) ledger
     where workspace_id = ? and provider = ? and created_at >= ? and created_at <= ?
       ${query.after ? 'and (created_at, kind, reference) > (?::timestamptz, ?, ?)' : ''}
     order by created_at, kind, reference
     limit ?`,
    [
      query.workspaceId,
      query.provider,
      query.since,
      query.until,
      ...(query.after ? [query.after.cursor, query.after.kind, query.after.reference] : []),
      query.limit,
    ],
  );
  return rows.map(toRow);
}

/** The workspace's ledger rows for these provider objects (any creation time). */
export async function ledgerRowsByReference(
  em: EntityManager,
  workspaceId: string,
  provider: Provider,
  keys: ReadonlyArray<{ kind: AuditLedgerRow['kind']; reference: string }>,
): Promise<AuditLedgerRow[]> {
  if (keys.length === 0) return [];
  const rows = await em.execute<RawRow[]>(
    `select kind, reference, invoice_id, amount_minor, currency, state, created_at::text as cursor
     from (${LEDGER}) ledger
     where workspace_id = ? and provider = ?
       and (kind, reference) in (select kind, reference from jsonb_to_recordset(?::jsonb) as k(kind text, reference text))`,
    [workspaceId, provider, JSON.stringify(keys.map(({ kind, reference }) => ({ kind, reference })))],
  );
  return rows.map(toRow);
}

/** Which workspace and invoice each provider payment id belongs to in the ledger (refunds and disputes name it). */
export async function ledgerPaymentsByProviderId(
  em: EntityManager,
  provider: Provider,
  providerPaymentIds: readonly string[],
): Promise<Map<string, { workspaceId: string; invoiceId: string }>> {
  if (providerPaymentIds.length === 0) return new Map();
  const rows = await em.execute<Array<{ provider_payment_id: string; workspace_id: string; invoice_id: string }>>(
    `select provider_payment_id, workspace_id, invoice_id from invoice_payments
     where provider = ? and provider_payment_id in (select jsonb_array_elements_text(?::jsonb))`,
    [provider, JSON.stringify(providerPaymentIds)],
  );
  return new Map(
    rows.map((row) => [row.provider_payment_id, { workspaceId: row.workspace_id, invoiceId: row.invoice_id }]),
  );
}

/** Accounts the audit asks: connected, or disconnected and still in their grace window (their keys are kept). */
export function auditedAccounts(
  em: EntityManager,
  scope: { workspaceId?: string; provider?: Provider },
): Promise<PaymentProviderAccount[]> {
  return em.find(
    PaymentProviderAccount,
    {
      secretKeySealed: { $ne: null },
      ...(scope.workspaceId ? { workspaceId: scope.workspaceId } : {}),
      ...(scope.provider ? { provider: scope.provider } : {}),
    },
    { orderBy: { workspaceId: 'asc', provider: 'asc' } },
  );
}

const AUDIT_LOCK = 'workestra-payments:audit';

/**
 * Runs `run` as the scheduled audit of this interval, or not at all: the first worker to take the PostgreSQL advisory
 * lock (held by this transaction) and find no run started within `minGapMs` records one and runs; every other worker
 * skips. Resolves with null when skipped.
 */
export async function asScheduledRun<T>(em: EntityManager, minGapMs: number, run: () => Promise<T>): Promise<T | null> {
  return em.transactional(async (tx) => {
    const [lock] = await tx.execute<Array<{ locked: boolean }>>(
      'select pg_try_advisory_xact_lock(hashtext(?)) as locked',
      [AUDIT_LOCK],
    );
    if (!lock?.locked) return null;
    const [recent] = await tx.execute<Array<{ recent: boolean }>>(
      `select exists (select 1 from audit_runs where started_at > now() - (? * interval '1 millisecond')) as recent`,
      [minGapMs],
    );
    if (recent?.recent) return null;
    const [started] = await tx.execute<Array<{ id: string }>>(
      'insert into audit_runs (started_at) values (now()) returning id',
    );
    const result = await run();
    await tx.execute('update audit_runs set finished_at = now(), summary = ? where id = ?', [
      JSON.stringify(result),
      started.id,
    ]);
    return result;
  });
}
