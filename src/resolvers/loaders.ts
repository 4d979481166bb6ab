import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Invoice, InvoicePayment, PaymentDispute, PaymentProviderAccount, PaymentRefund } from '../entities/index.js';
import { fullBalanceTokens } from '../db/pay-link.repository.js';
import { isRefundStandIn, RefundState } from '../vocabulary/index.js';
import { UUID } from '../uuid.js';

/** Keeps only well-formed uuids (anything else cannot exist, and must not reach a uuid cast in SQL). */
const validIds = (ids: readonly string[]) => [
  ...new Set(ids.filter((id) => UUID.test(id)).map((id) => id.toLowerCase())),
];

/** Request-scoped batch loaders, all restricted to the caller's workspace: one SQL statement per batch. */
export interface Loaders {
  invoice: DataLoader<string, Invoice | null>;
  payment: DataLoader<string, InvoicePayment | null>;
  paymentsByInvoice: DataLoader<string, InvoicePayment[]>;
  refundsByPayment: DataLoader<string, PaymentRefund[]>;
  disputesByPayment: DataLoader<string, PaymentDispute[]>;
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
    payment: new DataLoader(async (ids) => {
      const wanted = validIds(ids);
      const rows = wanted.length ? await em.find(InvoicePayment, { id: { $in: wanted }, workspaceId }) : [];
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
      // A stand-in for refunds known only by a payment's refunded total disappears once the real refunds explain it.
      const shown = rows.filter(
        (row) => !(row.status === RefundState.CANCELLED && isRefundStandIn(row.providerRefundId)),
      );
      const groups = groupBy(shown, (row) => row.paymentId);
      return paymentIds.map((id) => groups.get(id.toLowerCase()) ?? []);
    }),
    disputesByPayment: new DataLoader(async (paymentIds) => {
      const wanted = validIds(paymentIds);
      const rows = wanted.length
        ? await em.find(
            PaymentDispute,
            { paymentId: { $in: wanted }, workspaceId },
            { orderBy: { createdAt: 'desc', id: 'desc' } },
          )
        : [];
      const groups = groupBy(rows, (row) => row.paymentId);
      return paymentIds.map((id) => groups.get(id.toLowerCase()) ?? []);
    }),
    fullBalanceToken: new DataLoader(async (invoiceIds) => {
      const wanted = validIds(invoiceIds);
      const byInvoice = await fullBalanceTokens(em, workspaceId, wanted);
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
