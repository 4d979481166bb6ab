import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';

export interface InvoiceFixture {
  id: string;
  workspaceId: string;
  number: string;
  status: string;
  currency: string;
  totalMinor: number;
  paidMinor: number;
  dueDate: string | null;
  customerEmail: string | null;
}

/** Inserts an invoice row the way the Invoices service would (plain SQL, not through our entities). */
export async function insertInvoice(
  orm: MikroORM,
  values: Partial<InvoiceFixture> & { workspaceId: string },
): Promise<InvoiceFixture> {
  const invoice: InvoiceFixture = {
    id: randomUUID(),
    number: `INV-${Math.floor(Math.random() * 1e6)}`,
    status: 'sent',
    currency: 'EUR',
    totalMinor: 10_000,
    paidMinor: 0,
    dueDate: '2099-12-31',
    customerEmail: 'customer@example.com',
    ...values,
  };
  await orm.em.getConnection().execute(
    `insert into invoices (id, workspace_id, number, status, currency, total_minor, paid_minor, due_date, customer_email, customer_name)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Customer Ltd')`,
    [
      invoice.id,
      invoice.workspaceId,
      invoice.number,
      invoice.status,
      invoice.currency,
      invoice.totalMinor,
      invoice.paidMinor,
      invoice.dueDate,
      invoice.customerEmail,
    ],
  );
  return invoice;
}

export async function insertPayment(
  orm: MikroORM,
  values: {
    workspaceId: string;
    invoiceId: string;
    amountMinor: number;
    currency?: string;
    status?: string;
    createdAt?: Date;
    provider?: string;
  },
): Promise<string> {
  const id = randomUUID();
  await orm.em.getConnection().execute(
    `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, status, amount_minor, currency, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      values.workspaceId,
      values.invoiceId,
      values.provider ?? 'stripe',
      `cs_test_${randomUUID().replace(/-/g, '')}`,
      values.status ?? 'succeeded',
      values.amountMinor,
      values.currency ?? 'EUR',
      values.createdAt ?? new Date(),
      values.createdAt ?? new Date(),
    ],
  );
  return id;
}

/** `count` invoices of the workspace, each with one succeeded payment (the i-th of 100 + i minor units). */
export async function insertInvoicesWithPayments(
  orm: MikroORM,
  workspaceId: string,
  count: number,
): Promise<InvoiceFixture[]> {
  const invoices: InvoiceFixture[] = [];
  for (let i = 0; i < count; i++) {
    const invoice = await insertInvoice(orm, { workspaceId });
    await insertPayment(orm, { workspaceId, invoiceId: invoice.id, amountMinor: 100 + i });
    invoices.push(invoice);
  }
  return invoices;
}

/** A refund row of a payment, as settlement or `refundPayment` records it. */
export async function insertRefund(
  orm: MikroORM,
  values: { workspaceId: string; invoiceId: string; paymentId: string; amountMinor: number; currency?: string },
): Promise<string> {
  const id = randomUUID();
  await orm.em.getConnection().execute(
    `insert into payment_refunds (id, workspace_id, payment_id, invoice_id, provider, provider_refund_id, amount_minor, currency, status)
     values (?, ?, ?, ?, 'stripe', ?, ?, ?, 'succeeded')`,
    [
      id,
      values.workspaceId,
      values.paymentId,
      values.invoiceId,
      `re_${randomUUID().replace(/-/g, '')}`,
      values.amountMinor,
      values.currency ?? 'EUR',
    ],
  );
  return id;
}
