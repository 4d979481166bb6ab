import { migrationsList } from '../../src/migrations/index.js';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrm } from '../../src/db/orm.js';
import { freshDatabase } from '../helpers/env.js';

const TABLES = [
  'audit_log',
  'audit_runs',
  'invoice_payments',
  'invoices',
  'pay_links',
  'payment_disputes',
  'payment_provider_accounts',
  'payment_refunds',
  'webhook_events',
];

async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it('the service opens its sessions with JIT off (the settle statement paid 150-270 ms of compiling once tables grew)', async () => {
    const db = await freshDatabase();
    cleanups.push(db.drop);
    const orm = await openOrm(db.url);
    cleanups.push(() => orm.close());
    // set by the session's own startup options, whatever the server's default
    const [setting] = await orm.em
      .getConnection()
      .execute<Array<{ setting: string; source: string }>>(
        "select setting, source from pg_settings where name = 'jit'",
      );
    expect(setting).toEqual({ setting: 'off', source: 'client' });
    const inTransaction = await orm.em
      .fork()
      .transactional((tx) =>
        tx.getConnection().execute<Array<{ jit: string }>>('show jit', [], 'all', tx.getTransactionContext()),
      );
    expect(inTransaction[0].jit).toBe('off');
  });

  it('build every table from an empty database, with the idempotency keys, and re-run as a no-op', async () => {
    const db = await freshDatabase();
    cleanups.push(db.drop);
    const orm = await openOrm(db.url);
    await orm.close();
    const again = await openOrm(db.url); // second start: nothing pending, nothing fails
    await again.close();

    await withClient(db.url, async (client) => {
      const tables = await client.query(
        "select table_name from information_schema.tables where table_schema = 'public' and table_name <> 'payments_migrations' order by 1",
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(TABLES);
      const columns = await client.query(
        "select column_name from information_schema.columns where table_name = 'invoices' order by ordinal_position",
      );
      expect(columns.rows.map((row) => row.column_name)).toEqual([
        'id',
        'workspace_id',
        'number',
        'status',
        'currency',
        'total_minor',
        'paid_minor',
        'due_date',
        'customer_email',
        'customer_name',
        'created_at',
        'updated_at',
      ]);
      const money = await client.query(
        "select table_name, column_name, data_type from information_schema.columns where column_name like '%minor' order by 1, 2",
      );
      expect(money.rows.every((row) => row.data_type === 'bigint')).toBe(true);
      expect(money.rows.length).toBeGreaterThanOrEqual(6);
      const uniques = await client.query(
        "select conname from pg_constraint c join pg_namespace n on n.oid = c.connamespace where contype = 'u' and nspname = 'public' order by 1",
      );
      expect(uniques.rows.map((row) => row.conname)).toEqual([
        'invoice_payments_provider_reference_unique',
        'pay_links_token_unique',
        'payment_disputes_provider_dispute_unique',
        'payment_provider_accounts_workspace_provider_unique',
        'payment_refunds_idempotency_unique',
        'payment_refunds_provider_refund_unique',
        'webhook_events_provider_workspace_event_unique',
      ]);
      // The inbox key really rejects a second copy of an event in a workspace; another workspace (one provider
      // account shared by two workspaces) records its own copy.
      const insert =
        "insert into webhook_events (id, provider, event_id, workspace_id, type, status) values ($1, 'stripe', 'evt_1', $2, 't', 'applied')";
      const workspace = randomUUID();
      await client.query(insert, [randomUUID(), workspace]);
      await expect(client.query(insert, [randomUUID(), workspace])).rejects.toThrow(/duplicate key/);
      await client.query(insert, [randomUUID(), randomUUID()]);
    });
  });

  it('adopt an existing invoices table without losing its rows or columns', async () => {
    const db = await freshDatabase();
    cleanups.push(db.drop);
    const id = randomUUID();
    await withClient(db.url, async (client) => {
      await client.query(`create table invoices (id uuid primary key, workspace_id uuid not null, number text not null, status text not null,
        currency char(3) not null, total_minor bigint not null, due_date date, legacy_note text)`);
      await client.query(
        "insert into invoices values ($1, $2, 'INV-1', 'sent', 'EUR', 12345, '2030-01-01', 'keep me')",
        [id, randomUUID()],
      );
    });
    const orm = await openOrm(db.url);
    await orm.close();
    await withClient(db.url, async (client) => {
      const { rows } = await client.query(
        'select number, total_minor, paid_minor, legacy_note, customer_email from invoices where id = $1',
        [id],
      );
      expect(rows).toEqual([
        { number: 'INV-1', total_minor: '12345', paid_minor: '0', legacy_note: 'keep me', customer_email: null },
      ]);
    });
  });

  it('let several processes start at once (migrations serialised by an advisory lock)', async () => {
    const db = await freshDatabase();
    cleanups.push(db.drop);
    const orms = await Promise.all([openOrm(db.url), openOrm(db.url), openOrm(db.url)]);
    await Promise.all(orms.map((orm) => orm.close()));
    await withClient(db.url, async (client) => {
      const { rows } = await client.query('select count(*)::int as n from payments_migrations');
      expect(rows[0].n).toBe(migrationsList.length); // each migration applied once
    });
  });
});
