import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * Pieces of the local playground (README "Local playground") shared by `npm run demo` and the `dev:*` scripts:
 * a gateway-style token and a sent invoice row as the Invoices service would write it.
 */

/** Signs an HS256 token with the claims the gateway forwards (docs/contract.md, "Auth"). */
export async function signDevToken(options: {
  secret: string;
  workspaceId: string;
  workspaceDomain: string;
  roles: string[];
  subject?: string;
  expiresIn?: string;
}): Promise<string> {
  return new SignJWT({
    workspace_id: options.workspaceId,
    workspace_domain: options.workspaceDomain,
    roles: options.roles,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.subject ?? 'dev-user')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(options.secret));
}

export interface SentInvoice {
  id: string;
  workspaceId: string;
  number: string;
  currency: string;
  totalMinor: number;
  customerEmail: string | null;
}

/** Runs one parameterised statement (`?` placeholders): MikroORM's `execute` or a pg client adapter. */
export type Execute = (sql: string, params: unknown[]) => Promise<unknown>;

/** Inserts a `sent` invoice due in 14 days, as the Invoices service would (plain SQL: it owns the table). */
export async function insertSentInvoice(
  execute: Execute,
  values: Partial<SentInvoice> & { workspaceId: string },
): Promise<SentInvoice> {
  const invoice: SentInvoice = {
    id: randomUUID(),
    number: `INV-${1000 + Math.floor(Math.random() * 9000)}`,
    currency: 'EUR',
    totalMinor: 12_000,
    customerEmail: 'payer@example.com',
    // an option left out (undefined) keeps its default
    ...(Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as typeof values),
  };
  await execute(
    `insert into invoices (id, workspace_id, number, status, currency, total_minor, paid_minor, due_date, customer_email, customer_name)
     values (?, ?, ?, 'sent', ?, ?, 0, current_date + 14, ?, 'Payer Ltd')`,
    [invoice.id, invoice.workspaceId, invoice.number, invoice.currency, invoice.totalMinor, invoice.customerEmail],
  );
  return invoice;
}

/** `?` placeholders → `$1…` for a plain pg client. */
export const toPgPlaceholders = (sql: string) => {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
};
