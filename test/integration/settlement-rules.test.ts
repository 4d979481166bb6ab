import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../src/crypto/key-ring.js';
import { openOrm } from '../../src/db/orm.js';
import { Provider, type PaymentOutcome } from '../../src/vocabulary/index.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { AccountSecrets } from '../../src/crypto/account-secrets.js';
import { SettlementService } from '../../src/settlement/settlement.service.js';
import { recomputeInvoice, settlePaymentRow } from '../../src/db/ledger.repository.js';
import { TEST_ENCRYPTION_KEYS, testDatabaseUrl } from '../helpers/env.js';
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

  /** Runs the settle statement for one event and returns the ledger row's status afterwards. */
  const upsert = async (workspaceId: string, invoiceId: string, reference: string, status: string, amount: number) => {
    const em = orm.em.fork();
    await settlePaymentRow(em, {
      workspaceId,
      invoiceId,
      provider: 'stripe',
      reference,
      providerPaymentId: 'pi_x',
      eventId: `evt_${randomUUID()}`,
      outcome: status as PaymentOutcome,
      amountMinor: amount,
      currency: 'EUR',
      paidAt: null,
    });
    return (
      await em.execute<Array<{ status: string }>>('select status from invoice_payments where provider_reference = ?', [
        reference,
      ])
    )[0].status;
  };

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

  it('never touches a ledger row of another invoice with the same reference', async () => {
    const workspaceId = randomUUID();
    const first = await insertInvoice(orm, { workspaceId });
    const second = await insertInvoice(orm, { workspaceId });
    const reference = `cs_test_${randomUUID()}`;
    await upsert(workspaceId, first.id, reference, 'pending', 500);
    const em = orm.em.fork();
    const updated = await settlePaymentRow(em, {
      workspaceId,
      invoiceId: second.id,
      provider: 'stripe',
      reference,
      providerPaymentId: 'pi_x',
      eventId: 'evt_x',
      outcome: 'succeeded',
      amountMinor: 500,
      currency: 'EUR',
      paidAt: null,
    });
    expect(updated).toBeNull(); // nothing updated
    expect(
      await em.execute('select invoice_id, status from invoice_payments where provider_reference = ?', [reference]),
    ).toEqual([{ invoice_id: first.id, status: 'pending' }]);
  });

  it('a success updates the amount to what was charged; a late non-success leaves amount and event id alone', async () => {
    const workspaceId = randomUUID();
    const invoice = await insertInvoice(orm, { workspaceId });
    const reference = `cs_test_${randomUUID()}`;
    await upsert(workspaceId, invoice.id, reference, 'pending', 900);
    await upsert(workspaceId, invoice.id, reference, 'succeeded', 1000);
    const [before] = await orm.em
      .fork()
      .execute<Array<{ amount_minor: string; event_id: string }>>(
        'select amount_minor, event_id from invoice_payments where provider_reference = ?',
        [reference],
      );
    await upsert(workspaceId, invoice.id, reference, 'cancelled', 1);
    const [after] = await orm.em
      .fork()
      .execute<Array<{ amount_minor: string; event_id: string }>>(
        'select amount_minor, event_id from invoice_payments where provider_reference = ?',
        [reference],
      );
    expect(before.amount_minor).toBe('1000');
    expect(after).toEqual(before);
  });

  it('a batch commits its good events and gives each bad one its own error, writing nothing for it', async () => {
    const settlement = new SettlementService(
      orm,
      new ProviderRegistry([]),
      new AccountSecrets(parseKeyRing(TEST_ENCRYPTION_KEYS)),
    );
    const workspaceId = randomUUID();
    const invoice = await insertInvoice(orm, { workspaceId, totalMinor: 1000 });
    const other = await insertInvoice(orm, { workspaceId, totalMinor: 1000 });
    const item = (eventId: string, invoiceId: string, amountMinor: number, currency = 'EUR') => ({
      provider: Provider.STRIPE,
      workspaceId,
      eventId,
      type: 'checkout.session.completed',
      streamSequence: null,
      update: {
        kind: 'payment' as const,
        reference: `cs_test_${randomUUID()}`,
        providerPaymentId: null,
        outcome: 'succeeded' as const,
        amountMinor,
        currency,
        invoiceId,
        metadataWorkspaceId: workspaceId,
        occurredAt: new Date(),
      },
    });
    const good = item(`evt_${randomUUID()}`, invoice.id, 400);
    const outcomes = await settlement.applyPayments([
      good,
      item(`evt_${randomUUID()}`, randomUUID(), 400),
      item(`evt_${randomUUID()}`, other.id, 400, 'USD'),
      { ...item(`evt_${randomUUID()}`, invoice.id, 400), workspaceId: randomUUID() },
      item(`evt_${randomUUID()}`, other.id, 1000),
      good,
    ]);
    expect(outcomes.map((outcome) => (outcome instanceof Error ? outcome.message : outcome))).toEqual([
      'applied',
      expect.stringMatching(/^invoice .* does not exist/),
      expect.stringMatching(/is in USD but invoice/),
      'ignored', // Round 2: metadata naming another workspace is acknowledged and recorded as ignored, never settled
      'applied',
      'duplicate',
    ]);
    const rows = await orm.em
      .fork()
      .execute<Array<{ id: string; status: string; paid_minor: string }>>(
        'select id, status, paid_minor from invoices where id in (?, ?)',
        [invoice.id, other.id],
      );
    expect(new Map(rows.map((row) => [row.id, [row.status, row.paid_minor]]))).toEqual(
      new Map([
        [invoice.id, ['partial', '400']],
        [other.id, ['paid', '1000']],
      ]),
    );
    expect(
      await orm.em
        .fork()
        .execute('select count(*)::int as n from webhook_events where workspace_id = ?', [workspaceId]),
    ).toEqual([{ n: 2 }]);
  });

  it('an event that fails in SQL never fails its batch: the others commit at once, it alone gets the error', async () => {
    const settlement = new SettlementService(
      orm,
      new ProviderRegistry([]),
      new AccountSecrets(parseKeyRing(TEST_ENCRYPTION_KEYS)),
    );
    const workspaceId = randomUUID();
    const invoices = await Promise.all([1, 2, 3].map(() => insertInvoice(orm, { workspaceId, totalMinor: 500 })));
    const item = (invoiceId: string, reference: string) => ({
      provider: Provider.STRIPE,
      workspaceId,
      eventId: `evt_${randomUUID()}`,
      type: 'checkout.session.completed',
      streamSequence: null,
      update: {
        kind: 'payment' as const,
        reference,
        providerPaymentId: null,
        outcome: 'succeeded' as const,
        amountMinor: 500,
        currency: 'EUR',
        invoiceId,
        metadataWorkspaceId: workspaceId,
        occurredAt: new Date(),
      },
    });
    // PostgreSQL cannot store a NUL character: that event's statement fails inside the shared transaction
    const outcomes = await settlement.applyPayments([
      item(invoices[0].id, `cs_test_${randomUUID()}`),
      item(invoices[1].id, 'cs_test_\u0000poison'),
      item(invoices[2].id, `cs_test_${randomUUID()}`),
    ]);
    expect(outcomes.map((outcome) => (outcome instanceof Error ? 'error' : outcome))).toEqual([
      'applied',
      'error',
      'applied',
    ]);
    const rows = await orm.em
      .fork()
      .execute<Array<{ status: string }>>('select status from invoices where id in (?, ?) order by status', [
        invoices[0].id,
        invoices[2].id,
      ]);
    expect(rows).toEqual([{ status: 'paid' }, { status: 'paid' }]);
    expect((await orm.em.fork().execute('select status from invoices where id = ?', [invoices[1].id]))[0]).toEqual({
      status: 'sent',
    });
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
    const row = await recomputeInvoice(orm.em.fork(), invoice.id);
    expect(row).toEqual({ status: expected, paidMinor: settled });
    // The payment statement computes the same: a settled payment added on top of the recomputed state.
    if (status !== 'draft' && status !== 'void') {
      await upsert(workspaceId, invoice.id, `cs_test_${randomUUID()}`, 'succeeded', total);
      const [after] = await orm.em
        .fork()
        .execute<Array<{ status: string; paid_minor: string }>>(
          'select status, paid_minor from invoices where id = ?',
          [invoice.id],
        );
      expect(after).toEqual({ status: 'paid', paid_minor: String(settled + total) });
    }
  });
});
