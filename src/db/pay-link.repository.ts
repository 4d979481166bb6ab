import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { newPayToken } from '../crypto/pay-token.js';
import { PayLink, type Invoice } from '../entities/index.js';

/** Pay links: one stable token per invoice (full balance) and per partial amount, created on first use. */

/** The stable partial link of (invoice, amount); created on first request. */
export async function ensurePartialLink(em: EntityManager, invoice: Invoice, amountMinor: number): Promise<PayLink> {
  await em
    .getConnection()
    .execute(
      'insert into pay_links (id, token, workspace_id, invoice_id, amount_minor) values (?, ?, ?, ?, ?) on conflict do nothing',
      [randomUUID(), newPayToken(), invoice.workspaceId, invoice.id, amountMinor],
    );
  return em.findOneOrFail(PayLink, { invoiceId: invoice.id, workspaceId: invoice.workspaceId, amountMinor });
}

/**
 * The full-balance tokens of a workspace's invoices, creating the missing ones: one statement per batch (a second
 * only when a concurrent request inserted a link after our snapshot). `invoiceIds` are well-formed lower-case uuids.
 */
export async function fullBalanceTokens(
  em: EntityManager,
  workspaceId: string,
  invoiceIds: string[],
): Promise<Map<string, string>> {
  // uuids and base64url tokens contain no array-literal metacharacters, so literals are safe here.
  const ids = `{${invoiceIds.join(',')}}`;
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
        `{${invoiceIds.map(() => newPayToken()).join(',')}}`,
        `{${invoiceIds.map(() => randomUUID()).join(',')}}`,
        workspaceId,
        ids,
        workspaceId,
      ]);
  let rows = await load();
  if (rows.length < invoiceIds.length) rows = await load();
  return new Map(rows.map((row) => [row.invoice_id, row.token]));
}

/** Moves a link to its next checkout-session generation (part of the provider Idempotency-Key); returns it. */
export async function nextSessionGeneration(em: EntityManager, linkId: string): Promise<number> {
  const [row] = await em
    .getConnection()
    .execute<Array<{ g: number }>>(
      'update pay_links set session_generation = session_generation + 1 where id = ? returning session_generation as g',
      [linkId],
    );
  return row.g;
}
