import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm } from '../../src/db/orm.js';
import { Invoice } from '../../src/entities/index.js';
import { InvoiceStatus } from '../../src/vocabulary/index.js';
import { testDatabaseUrl } from '../helpers/env.js';
import { insertInvoice } from '../helpers/fixtures.js';

/** Real PostgreSQL: bigint money columns read and written through MikroORM never round. */
describe('money columns (SafeBigIntType) on PostgreSQL', () => {
  let orm: MikroORM;
  beforeAll(async () => {
    orm = await openOrm(testDatabaseUrl());
  });
  afterAll(async () => {
    await orm?.close();
  });

  it('reads the largest safe integer exactly', async () => {
    const invoice = await insertInvoice(orm, { workspaceId: randomUUID(), totalMinor: Number.MAX_SAFE_INTEGER });
    const read = await orm.em.fork().findOneOrFail(Invoice, invoice.id);
    expect(read.totalMinor).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each(['9007199254740993', '9223372036854775807', '-9007199254740993'])(
    'a bigint of %s written with SQL is a clear error when read, not a rounded number',
    async (value) => {
      const invoice = await insertInvoice(orm, { workspaceId: randomUUID() });
      await orm.em
        .getConnection()
        .execute(`update invoices set total_minor = ${value}::bigint where id = ?`, [invoice.id]);
      await expect(orm.em.fork().findOneOrFail(Invoice, invoice.id)).rejects.toThrow(
        new RegExp(`bigint value ${value} read from the database is outside the safe integer range`),
      );
    },
  );

  it.each([2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1.5, Number.NaN])('refuses to write %s', async (totalMinor) => {
    const em = orm.em.fork();
    const id = randomUUID();
    em.create(Invoice, {
      id,
      workspaceId: randomUUID(),
      number: 'INV-BIG',
      status: InvoiceStatus.SENT,
      currency: 'EUR',
      totalMinor,
    });
    await expect(em.flush()).rejects.toThrow(/is not a safe integer; refusing to store it/);
    const [row] = await orm.em.getConnection().execute('select count(*)::int as n from invoices where id = ?', [id]);
    expect(row.n).toBe(0);
  });
});
