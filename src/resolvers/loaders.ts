import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Invoice, InvoicePayment, PaymentProviderAccount, PaymentRefund } from '../entities/index.js';
import { newPayToken } from '../services/pay-link.service.js';
import { UUID } from '../uuid.js';

/** Keeps only well-formed uuids (anything else cannot exist, and must not reach a uuid cast in SQL). */
const validIds = (ids: readonly string[]) => [
  ...new Set(ids.filter((id) => UUID.test(id)).map((id) => id.toLowerCase())),
];

/** Request-scoped batch loaders, all restricted to the caller's workspace: one SQL statement per batch. */
export interface Loaders {
  invoice: DataLoader<string, Invoice | null>;
  paymentsByInvoice: DataLoader<string, InvoicePayment[]>;
  refundsByPayment: DataLoader<string, PaymentRefund[]>;
  /** Full-balance pay-link token per invoice id, created on first use (one statement per batch). */
  fullBalanceToken: DataLoader<string, string>;
  /** The workspace's provider accounts (one query per request). */
  accounts(): Promise<PaymentProviderAccount[]>;
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(key(row));
    if (list) list.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}

export function createLoaders(em: EntityManager, workspaceId: string): Loaders {
  let accounts: Promise<PaymentProviderAccount[]> | undefined;
  return {
    invoice: new DataLoader(async (ids) => {
      const wanted = validIds(ids);
      const rows = wanted.length ? await em.find(Invoice, { id: { $in: wanted }, workspaceId }) : [];
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    paymentsByInvoice: new DataLoader(async (invoiceIds) => {
      const wanted = validIds(invoiceIds);
      const rows = wanted.length
        ? await em.find(
            InvoicePayment,
            { invoiceId: { $in: wanted }, workspaceId },
            { orderBy: { createdAt: 'desc', id: 'desc' } },
          )
        : [];
      const groups = groupBy(rows, (row) => row.invoiceId);
      return invoiceIds.map((id) => groups.get(id.toLowerCase()) ?? []);
    }),
    refundsByPayment: new DataLoader(async (paymentIds) => {
      const wanted = validIds(paymentIds);
      const rows = wanted.length
        ? await em.find(
            PaymentRefund,
            { paymentId: { $in: wanted }, workspaceId },
            { orderBy: { createdAt: 'desc', id: 'desc' } },
          )
        : [];
      const groups = groupBy(rows, (row) => row.paymentId);
      return paymentIds.map((id) => groups.get(id.toLowerCase()) ?? []);
    }),
    fullBalanceToken: new DataLoader(async (invoiceIds) => {
      const wanted = validIds(invoiceIds);
      // uuids and base64url tokens contain no array-literal metacharacters, so literals are safe here.
      const ids = `{${wanted.join(',')}}`;
      const sql = `with wanted as (select * from unnest(?::uuid[], ?::text[], ?::uuid[]) as w(invoice_id, token, id)),
        inserted as (
          insert into pay_links (id, token, workspace_id, invoice_id, amount_minor)
          select w.id, w.token, ?, w.invoice_id, null from wanted w
          where not exists (select 1 from pay_links p where p.invoice_id = w.invoice_id and p.amount_minor is null)
          on conflict do nothing
          returning invoice_id, token)
        select invoice_id, token from pay_links where invoice_id = any(?::uuid[]) and amount_minor is null and workspace_id = ?
        union all select invoice_id, token from inserted`;
      const load = () =>
        em
          .getConnection()
          .execute<Array<{ invoice_id: string; token: string }>>(sql, [
            ids,
            `{${wanted.map(() => newPayToken()).join(',')}}`,
            `{${wanted.map(() => randomUUID()).join(',')}}`,
            workspaceId,
            ids,
            workspaceId,
          ]);
      let rows = await load();
      // A concurrent request may have inserted a link after our snapshot: then one more pass finds it.
      if (rows.length < wanted.length) rows = await load();
      const byInvoice = new Map(rows.map((row) => [row.invoice_id, row.token]));
      return invoiceIds.map((id) => byInvoice.get(id.toLowerCase()) ?? new Error(`no pay link for ${id}`));
    }),
    accounts() {
      accounts ??= em.find(
        PaymentProviderAccount,
        { workspaceId, disconnectedAt: null },
        { orderBy: { provider: 'asc' } },
      );
      return accounts;
    },
  };
}
