import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountSecrets } from '../../src/crypto/account-secrets.js';
import { parseKeyRing } from '../../src/crypto/key-ring.js';
import { openOrm } from '../../src/db/orm.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { SettlementService } from '../../src/settlement/settlement.service.js';
import { Provider, type PaymentOutcome } from '../../src/vocabulary/index.js';
import { TEST_ENCRYPTION_KEYS, testDatabaseUrl } from '../helpers/env.js';
import { insertInvoice, insertPayment } from '../helpers/fixtures.js';

/** Real PostgreSQL: the batched path (two statements per batch) gives every event the outcome it gets alone. */
describe('settlement batch (two statements for a batch of payment events)', () => {
  let orm: MikroORM;
  const statements: string[] = [];
  beforeAll(async () => {
    orm = await openOrm(testDatabaseUrl(), (sql) => statements.push(sql));
  });
  afterAll(async () => {
    await orm?.close();
  });

  it('settles a mixed batch in a few statements with the per-event outcomes of the one-by-one path', async () => {
    const settlement = new SettlementService(
      orm,
      new ProviderRegistry([]),
      new AccountSecrets(parseKeyRing(TEST_ENCRYPTION_KEYS)),
    );
    const workspaceId = randomUUID();
    const shared = await insertInvoice(orm, { workspaceId, totalMinor: 1000 });
    const other = await insertInvoice(orm, { workspaceId, totalMinor: 1000, currency: 'EUR' });
    const foreignInvoice = await insertInvoice(orm, { workspaceId: randomUUID(), totalMinor: 1000 });
    const taken = `cs_test_${randomUUID()}`;
    await orm.em.fork().execute(
      `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, status, amount_minor, currency)
         values (?, ?, ?, 'stripe', ?, 'pending', 1000, 'EUR')`,
      [randomUUID(), workspaceId, other.id, taken],
    );
    await insertPayment(orm, { workspaceId, invoiceId: shared.id, amountMinor: 100 });
    const item = (
      invoiceId: string | null,
      amountMinor: number,
      options: { currency?: string; reference?: string; outcome?: PaymentOutcome } = {},
    ) => ({
      provider: Provider.STRIPE,
      workspaceId,
      eventId: `evt_${randomUUID()}`,
      type: 'checkout.session.completed',
      streamSequence: 7,
      update: {
        kind: 'payment' as const,
        reference: options.reference ?? `cs_test_${randomUUID()}`,
        providerPaymentId: null,
        outcome: options.outcome ?? ('succeeded' as const),
        amountMinor,
        currency: options.currency ?? 'EUR',
        invoiceId,
        metadataWorkspaceId: workspaceId,
        occurredAt: new Date(),
      },
    });
    const before = item(shared.id, 100);
    expect(await settlement.applyPayments([before])).toEqual(['applied']);
    const replayed = { ...item(shared.id, 100), eventId: before.eventId, update: { ...before.update } };

    statements.length = 0;
    const outcomes = await settlement.applyPayments([
      item(shared.id, 300), // two payments of one invoice in one batch: both count
      item(null, 100), // names no invoice: ignored
      item(randomUUID(), 100), // no such invoice (yet): its own error
      item(other.id, 100, { currency: 'USD' }), // wrong currency: its own error
      item(foreignInvoice.id, 100), // an invoice of another workspace: ignored
      item(shared.id, 500),
      item(shared.id, 100, { reference: taken }), // the reference is another invoice's: error, claim given back
      replayed, // applied before: duplicate
      item(other.id, 0, { outcome: 'pending' }),
    ]);
    expect(outcomes.map((outcome) => (outcome instanceof Error ? outcome.message : outcome))).toEqual([
      'applied',
      'ignored',
      expect.stringMatching(/^invoice .* does not exist/),
      expect.stringMatching(/is in USD but invoice/),
      'ignored',
      'applied',
      expect.stringMatching(/is recorded for another invoice/),
      'duplicate',
      'applied',
    ]);
    // begin, claim-and-lock, two ignored claims, settle, the given-back claim, commit: not two per event
    expect(statements.length).toBeLessThanOrEqual(8);

    const rows = await orm.em
      .fork()
      .execute<Array<{ id: string; status: string; paid_minor: string }>>(
        'select id, status, paid_minor from invoices where id in (?, ?)',
        [shared.id, other.id],
      );
    expect(new Map(rows.map((row) => [row.id, [row.status, row.paid_minor]]))).toEqual(
      new Map([
        [shared.id, ['paid', '1000']], // 100 before + 100 + 300 + 500
        [other.id, ['sent', '0']],
      ]),
    );
    const inbox = await orm.em
      .fork()
      .execute<Array<{ status: string; n: number }>>(
        'select status, count(*)::int as n from webhook_events where workspace_id = ? group by status order by status',
        [workspaceId],
      );
    expect(inbox).toEqual([
      { status: 'applied', n: 4 },
      { status: 'failed', n: 1 },
      { status: 'ignored', n: 2 },
    ]);
  });
  it('tells the paid hook only about paid invoices that still have other open checkouts, in a batch and alone', async () => {
    const paid: string[] = [];
    const settlement = new SettlementService(
      orm,
      new ProviderRegistry([]),
      new AccountSecrets(parseKeyRing(TEST_ENCRYPTION_KEYS)),
      { paid: (event) => paid.push(event.invoiceId) },
    );
    const workspaceId = randomUUID();
    const pendingRow = (invoiceId: string, reference: string) =>
      orm.em.fork().execute(
        `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, status, amount_minor, currency)
             values (?, ?, ?, 'stripe', ?, 'pending', 1000, 'EUR')`,
        [randomUUID(), workspaceId, invoiceId, reference],
      );
    const event = (
      invoiceId: string,
      amountMinor: number,
      reference: string,
      outcome: PaymentOutcome = 'succeeded',
    ) => ({
      provider: Provider.STRIPE,
      workspaceId,
      eventId: `evt_${randomUUID()}`,
      type: 'checkout.session.completed',
      streamSequence: 9,
      update: {
        kind: 'payment' as const,
        reference,
        providerPaymentId: null,
        outcome,
        amountMinor,
        currency: 'EUR',
        invoiceId,
        metadataWorkspaceId: workspaceId,
        occurredAt: new Date(),
      },
    });
    const ref = () => `cs_test_${randomUUID()}`;
    const [withOpen, alone, openedInBatch, openOnePaid, partial] = await Promise.all(
      [1, 2, 3, 4, 5].map(() => insertInvoice(orm, { workspaceId, totalMinor: 1000 })),
    );
    await pendingRow(withOpen.id, ref()); // another checkout is still open at the provider
    const paidThroughIt = ref();
    await pendingRow(openOnePaid.id, paidThroughIt); // its only open checkout is the one this batch pays
    await pendingRow(partial.id, ref());

    const outcomes = await settlement.applyPayments([
      event(withOpen.id, 1000, ref()),
      event(alone.id, 1000, ref()),
      event(openedInBatch.id, 0, ref(), 'pending'), // opened by an event of this same batch
      event(openedInBatch.id, 1000, ref()),
      event(openOnePaid.id, 1000, paidThroughIt),
      event(partial.id, 400, ref()), // not paid: nothing to close yet
    ]);
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
    expect(paid.sort()).toEqual([withOpen.id, openedInBatch.id].sort());

    // one event alone takes the one-by-one statement: it knows the same
    paid.length = 0;
    const [aloneWithOpen, aloneOnly] = await Promise.all(
      [1, 2].map(() => insertInvoice(orm, { workspaceId, totalMinor: 1000 })),
    );
    await pendingRow(aloneWithOpen.id, ref());
    expect(await settlement.applyPayments([event(aloneWithOpen.id, 1000, ref())])).toEqual(['applied']);
    expect(await settlement.applyPayments([event(aloneOnly.id, 1000, ref())])).toEqual(['applied']);
    expect(paid).toEqual([aloneWithOpen.id]);
  });
});
