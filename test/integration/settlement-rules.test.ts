import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm } from '../../src/db/orm.js';
import { RECOMPUTE_INVOICE, UPSERT_LEDGER_ROW } from '../../src/settlement/ledger-transitions.js';
import { testDatabaseUrl } from '../helpers/env.js';
import { insertInvoice, insertPayment } from '../helpers/fixtures.js';

/** The settlement rules are SQL run under the invoice lock; these tables run that exact SQL against PostgreSQL. */
describe('settlement rules (the SQL itself)', () => {
  let orm: MikroORM;
  beforeAll(async () => {
    orm = await openOrm(testDatabaseUrl());
  });
  afterAll(async () => {
    await orm?.close();
  });

  const upsert = async (workspaceId: string, invoiceId: string, reference: string, status: string, amount: number) =>
    (await orm.em.fork().execute<Array<{ status: string }>>(UPSERT_LEDGER_ROW, [randomUUID(), workspaceId, invoiceId, 'stripe', reference, 'pi_x', `evt_${randomUUID()}`, status, amount, 'EUR', null]))[0].status;

  it.each([
    [null, 'pending', 'pending'],
    [null, 'succeeded', 'succeeded'],
    [null, 'failed', 'failed'],
    [null, 'cancelled', 'cancelled'],
    ['pending', 'succeeded', 'succeeded'],
    ['pending', 'failed', 'failed'],
    ['pending', 'cancelled', 'cancelled'],
    ['pending', 'pending', 'pending'],
    ['succeeded', 'cancelled', 'succeeded'],
    ['succeeded', 'failed', 'succeeded'],
    ['succeeded', 'pending', 'succeeded'],
    ['refunded', 'succeeded', 'refunded'],
    ['partially_refunded', 'failed', 'partially_refunded'],
    ['cancelled', 'succeeded', 'succeeded'],
    ['failed', 'succeeded', 'succeeded'],
    ['cancelled', 'failed', 'cancelled'],
    ['failed', 'pending', 'failed'],
  ])('ledger row %s + event %s → %s (forward only)', async (current, incoming, expected) => {
    const workspaceId = randomUUID();
    const invoice = await insertInvoice(orm, { workspaceId });
    const reference = `cs_test_${randomUUID()}`;
    if (current) expect(await upsert(workspaceId, invoice.id, reference, current, 500)).toBe(current); // a new row takes any status
    expect(await upsert(workspaceId, invoice.id, reference, incoming, 500)).toBe(expected);
  });

  it('a success updates the amount to what was charged; a late non-success leaves amount and event id alone', async () => {
    const workspaceId = randomUUID();
    const invoice = await insertInvoice(orm, { workspaceId });
    const reference = `cs_test_${randomUUID()}`;
    await upsert(workspaceId, invoice.id, reference, 'pending', 900);
    await upsert(workspaceId, invoice.id, reference, 'succeeded', 1000);
    const [before] = await orm.em.fork().execute<Array<{ amount_minor: string; event_id: string }>>('select amount_minor, event_id from invoice_payments where provider_reference = ?', [reference]);
    await upsert(workspaceId, invoice.id, reference, 'cancelled', 1);
    const [after] = await orm.em.fork().execute<Array<{ amount_minor: string; event_id: string }>>('select amount_minor, event_id from invoice_payments where provider_reference = ?', [reference]);
    expect(before.amount_minor).toBe('1000');
    expect(after).toEqual(before);
  });

  const today = new Date().toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  it.each([
    ['sent', 1000, 1000, '2999-12-01', 'paid'],
    ['sent', 1000, 1500, '2999-12-01', 'paid'],
    ['sent', 1000, 1, '2999-12-01', 'partial'],
    ['paid', 1000, 0, '2999-12-01', 'sent'],
    ['paid', 1000, 0, yesterday, 'overdue'],
    ['paid', 1000, 0, today, 'sent'],
    ['partial', 1000, 0, null, 'sent'],
    ['overdue', 1000, 400, '2020-01-01', 'partial'],
    ['draft', 1000, 1000, null, 'draft'],
    ['void', 1000, 1000, null, 'void'],
  ])('invoice %s, total %i, settled %i, due %s → %s', async (status, total, settled, due, expected) => {
    const workspaceId = randomUUID();
    const invoice = await insertInvoice(orm, { workspaceId, status, totalMinor: total, dueDate: due });
    if (settled) await insertPayment(orm, { workspaceId, invoiceId: invoice.id, amountMinor: settled });
    await insertPayment(orm, { workspaceId, invoiceId: invoice.id, amountMinor: 777, status: 'pending' });
    const [row] = await orm.em.fork().execute<Array<{ status: string; paid_minor: string }>>(RECOMPUTE_INVOICE, [invoice.id, invoice.id, invoice.id]);
    expect(row).toEqual({ status: expected, paid_minor: String(settled) });
  });
});
