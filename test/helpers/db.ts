import type { MikroORM } from '@mikro-orm/postgresql';
import { eventually } from './wait.js';

/** Raw SQL against the run's test database: `await sql<Row>('select …', [params])` resolves with the rows. */
export type Sql = <T = Record<string, unknown>>(query: string, params?: unknown[]) => Promise<T[]>;

/** A `sql` helper over the ORM that `orm()` returns when called (so it can be made before `beforeAll` starts it). */
export const sqlOn =
  (orm: () => MikroORM): Sql =>
  (query, params = []) =>
    orm().em.getConnection().execute(query, params);

/** An invoice's settlement columns as stored (PostgreSQL returns bigint as a string). */
export interface InvoiceRow {
  status: string;
  paid_minor: string;
}

export async function invoiceRow(sql: Sql, invoiceId: string): Promise<InvoiceRow> {
  return (await sql<InvoiceRow>('select status, paid_minor from invoices where id = ?', [invoiceId]))[0];
}

/** Waits until the stored invoice has every value in `expected`; resolves with its row. */
export function untilInvoice(
  sql: Sql,
  invoiceId: string,
  expected: Partial<InvoiceRow>,
  wait: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<InvoiceRow> {
  return eventually(
    async () => {
      const row = await invoiceRow(sql, invoiceId);
      return Object.entries(expected).every(([key, value]) => row[key as keyof InvoiceRow] === value) ? row : null;
    },
    wait.timeoutMs,
    { what: `invoice ${invoiceId} to reach ${JSON.stringify(expected)}`, intervalMs: wait.intervalMs },
  );
}
