import { randomUUID } from 'node:crypto';
import { Client, Pool, type PoolClient } from 'pg';
import { claimAndLockInvoices, settlePaymentRows } from '../src/db/ledger-batch.repository.js';
import { claimAndLockInvoice, settlePaymentRow } from '../src/db/ledger.repository.js';
import { SESSION_OPTIONS } from '../src/db/session.js';
import { Provider } from '../src/vocabulary/provider.js';
import { graphPhase, type GraphResult } from './graph.js';
import { spawnChild } from './processes.js';
import { buildBacklog, expectedPaid, measureWorker } from './settlement.js';
import { adminQuery, insertAccount, insertInvoices, MAIN, PG_BASE, serviceEnv, step, type Bench } from './support.js';

/**
 * Phase 5, growth: the settlement rate and the graph query's latency with a large history in the tables (its own
 * database `<bench db>_1m`: `ledgerRows` ledger rows and as many inbox rows, a tenth as many invoices over 1,000
 * workspaces, a refund per 20 payments, a dispute per 200), then EXPLAIN (ANALYZE, BUFFERS) of the hot statements.
 */

export interface GrowthResult {
  ledgerRows: number;
  invoices: number;
  loadSeconds: number;
  settlePerS: number;
  graph: GraphResult;
  /** EXPLAIN output of the hot statements, one section per statement. */
  explain: string;
  /** Sequential scans over the large tables found in those plans (should be none). */
  seqScans: string[];
}

/** The history, generated inside PostgreSQL (no rows cross the wire). Payment n belongs to invoice n % invoices. */
function preloadSql(rows: number, invoices: number): string[] {
  const inv = (n: string) => `md5('inv' || (${n}) % ${invoices})::uuid`;
  const ws = (n: string) => `md5('ws' || ((${n}) % ${invoices}) % 1000)::uuid`;
  return [
    `insert into invoices (id, workspace_id, number, status, currency, total_minor, paid_minor, due_date, customer_email, customer_name, created_at, updated_at)
     select ${inv('n')}, ${ws('n')}, 'OLD-' || n, 'paid', 'EUR', 10000, 10000, date '2026-01-01' + (n % 300),
       'customer@example.com', 'Customer Ltd', now() - interval '1 hour' * n, now()
     from generate_series(0, ${invoices - 1}) n`,
    `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, provider_payment_id, event_id,
       status, amount_minor, currency, paid_at, created_at, updated_at)
     select md5('pay' || n)::uuid, ${ws('n')}, ${inv('n')}, 'stripe', 'cs_old_' || n, 'pi_old_' || n, 'evt_old_' || n,
       case when n % 50 = 0 then 'pending' when n % 25 = 0 then 'cancelled' else 'succeeded' end, 1000, 'EUR',
       now() - interval '1 minute' * n, now() - interval '1 minute' * n, now() - interval '1 minute' * n
     from generate_series(0, ${rows - 1}) n`,
    `insert into webhook_events (id, provider, event_id, workspace_id, type, status, attempts, stream_sequence, received_at, processed_at)
     select gen_random_uuid(), 'stripe', 'evt_old_' || n, ${ws('n')}, 'checkout.session.completed', 'applied', 1, n,
       now() - interval '1 minute' * n, now() - interval '1 minute' * n
     from generate_series(0, ${rows - 1}) n`,
    `insert into payment_refunds (id, workspace_id, payment_id, invoice_id, provider, provider_refund_id, amount_minor, currency, status, created_at, updated_at)
     select gen_random_uuid(), ${ws('n')}, md5('pay' || n)::uuid, ${inv('n')}, 'stripe', 're_old_' || n, 100, 'EUR', 'succeeded',
       now() - interval '1 minute' * n, now() - interval '1 minute' * n
     from generate_series(1, ${rows - 1}) n where n % 20 = 1`,
    `insert into payment_disputes (id, workspace_id, payment_id, invoice_id, provider, provider_dispute_id, amount_minor, currency, status, funds_withdrawn)
     select gen_random_uuid(), ${ws('n')}, md5('pay' || n)::uuid, ${inv('n')}, 'stripe', 'dp_old_' || n, 1000, 'EUR', 'lost', true
     from generate_series(1, ${rows - 1}) n where n % 200 = 3`,
  ];
}

/**
 * Runs `load` with the large tables' constraints and indexes dropped, then builds them again exactly as they were
 * (definitions read back from the catalog): one sort per index instead of a million random inserts into each.
 */
async function withoutIndexes(pool: Pool, load: () => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await rebuildAround(client, load);
  } finally {
    client.release();
  }
}

async function rebuildAround(pool: PoolClient, load: () => Promise<void>): Promise<void> {
  const tables = LARGE_TABLES.map((table) => `'${table}'::regclass`).join(', ');
  const { rows: constraints } = await pool.query<{ name: string; tbl: string; def: string; type: string }>(
    `select conname as name, conrelid::regclass::text as tbl, pg_get_constraintdef(oid) as def, contype as type
     from pg_constraint where conrelid in (${tables}) and contype in ('p', 'u', 'f')
     order by case contype when 'f' then 0 else 1 end`,
  );
  const { rows: indexes } = await pool.query<{ name: string; def: string }>(
    `select i.relname as name, pg_get_indexdef(i.oid) as def from pg_index x join pg_class i on i.oid = x.indexrelid
     where x.indrelid in (${tables}) and not exists (select 1 from pg_constraint c where c.conindid = i.oid)`,
  );
  for (const c of constraints) await pool.query(`alter table ${c.tbl} drop constraint "${c.name}"`);
  for (const index of indexes) await pool.query(`drop index "${index.name}"`);
  await load();
  await pool.query("set maintenance_work_mem = '256MB'");
  for (const c of [...constraints].reverse())
    await pool.query(`alter table ${c.tbl} add constraint "${c.name}" ${c.def}`);
  for (const index of indexes) await pool.query(index.def);
}

/** Runs the service's own hot settlement statements under EXPLAIN (ANALYZE, BUFFERS), in a transaction rolled back. */
async function explainSettlement(
  client: Client,
  invoices: Array<{ id: string; workspace_id: string }>,
): Promise<string[]> {
  const [{ id: invoiceId, workspace_id: workspaceId }] = invoices;
  const sections: string[] = [];
  let label = '';
  const tx = {
    async execute(sql: string, params: unknown[]) {
      let k = 0;
      const text = sql.replace(/\?/g, () => `$${++k}`);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${text}`, params);
      sections.push(`-- ${label}\n${text.trim()}\n\n${rows.map((row) => row['QUERY PLAN']).join('\n')}`);
      return [{}]; // the callers read the first row
    },
  };
  const claim = {
    provider: Provider.STRIPE,
    workspaceId,
    eventId: 'evt_explain_1',
    type: 'checkout.session.completed',
    streamSequence: 1,
  };
  await client.query('begin');
  try {
    label = 'settlement: claim the event and lock its invoice (claimAndLockInvoice)';
    await claimAndLockInvoice(tx as never, claim, invoiceId, 'EUR');
    label = 'settlement: upsert the ledger row and recompute the invoice (settlePaymentRow)';
    await settlePaymentRow(tx as never, {
      workspaceId,
      invoiceId,
      provider: Provider.STRIPE,
      reference: 'cs_explain_1',
      providerPaymentId: 'pi_explain_1',
      eventId: claim.eventId,
      outcome: 'succeeded',
      amountMinor: 100,
      currency: 'EUR',
      paidAt: new Date(),
    });
    // the batched path (several events per statement), as the worker runs it under load
    const batch = invoices.slice(1).map((invoice, k) => ({
      claim: { ...claim, workspaceId: invoice.workspace_id, eventId: `evt_explain_batch_${k}` },
      invoiceId: invoice.id,
      currency: 'EUR',
    }));
    label = `settlement: claim ${batch.length} events and lock their invoices (claimAndLockInvoices)`;
    await claimAndLockInvoices(tx as never, batch);
    label = `settlement: upsert ${batch.length} ledger rows and recompute their invoices (settlePaymentRows)`;
    await settlePaymentRows(
      tx as never,
      batch.map(({ claim: c, invoiceId: id }, k) => ({
        workspaceId: c.workspaceId,
        invoiceId: id,
        provider: Provider.STRIPE,
        reference: `cs_explain_batch_${k}`,
        providerPaymentId: `pi_explain_batch_${k}`,
        eventId: c.eventId,
        outcome: 'succeeded' as const,
        amountMinor: 100,
        currency: 'EUR',
        paidAt: new Date(),
      })),
    );
  } finally {
    await client.query('rollback');
  }
  return sections;
}

/**
 * EXPLAIN of the statements one warm `_entities` request ran. The ORM logs them with `$n` placeholders; their
 * parameters are known from the request: the invoice ids and the workspace (and, for the pay-link statement, arrays).
 */
async function explainGraph(
  client: Client,
  statements: string[],
  ids: string[],
  workspaceId: string,
): Promise<string[]> {
  const sections: string[] = [];
  const literal = (values: string[]) => `{${values.join(',')}}`;
  for (const logged of statements) {
    const sql = logged.replace(/\s*\[took [^\]]*\]\s*$/, '').trim();
    const count = Math.max(0, ...[...sql.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])));
    const params = /^with wanted/.test(sql)
      ? [
          literal(ids),
          literal(ids.map((id) => `t${id.replace(/-/g, '')}`)),
          literal(ids.map(() => randomUUID())),
          workspaceId,
          literal(ids),
          workspaceId,
        ]
      : count === 1
        ? [workspaceId]
        : [...ids, workspaceId];
    if (params.length !== count) {
      sections.push(`-- graph statement not explained (${count} parameters):\n${sql}`);
      continue;
    }
    await client.query('begin');
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql}`, params);
      sections.push(
        `-- graph: _entities for 100 invoices\n${sql}\n\n${rows.map((row) => row['QUERY PLAN']).join('\n')}`,
      );
    } catch (error) {
      sections.push(`-- graph statement not explained (${(error as Error).message}):\n${sql}`);
    } finally {
      await client.query('rollback');
    }
  }
  return sections;
}

const LARGE_TABLES = ['invoices', 'invoice_payments', 'webhook_events', 'payment_refunds', 'payment_disputes'];

export async function growthPhase(
  bench: Bench,
  options: { ledgerRows: number; settleInvoices: number; settleEvents: number; graphRequests: number },
): Promise<GrowthResult> {
  const dbName = `${bench.dbName}_1m`;
  await adminQuery(`create database "${dbName}"`);
  bench.databases.push(dbName);
  const dbUrl = `${PG_BASE}/${dbName}`;
  const grown: Bench = { ...bench, dbName, dbUrl, pool: new Pool({ connectionString: dbUrl, max: 20 }) };
  const client = new Client({ connectionString: dbUrl, options: SESSION_OPTIONS });
  try {
    const migrate = await spawnChild(grown, 'service-migrate-1m', MAIN, ['--role', 'api'], serviceEnv(grown, 'gm'));
    await migrate.stop();
    delete bench.rss['service-migrate-1m'];
    await insertAccount(grown);
    const invoices = Math.round(options.ledgerRows / 10);
    const started = Date.now();
    await withoutIndexes(grown.pool, async () => {
      for (const sql of preloadSql(options.ledgerRows, invoices)) await grown.pool.query(sql);
    });
    await grown.pool.query('analyze');
    const loadSeconds = Math.round((Date.now() - started) / 100) / 10;
    step(
      `  loaded ${options.ledgerRows.toLocaleString('en-US')} ledger and inbox rows, ${invoices} invoices in ${loadSeconds} s`,
    );

    const ids = await insertInvoices(grown, options.settleInvoices, { totalMinor: 1000 });
    const backlog = buildBacklog(grown, ids, options.settleEvents);
    const expected = expectedPaid(options.settleEvents, ids.length);
    const settle = await measureWorker(grown, backlog, expected, 's1m', 'service-worker-1m');
    step(`  worker with ${options.ledgerRows.toLocaleString('en-US')} rows: ${settle.perS}/s`);

    const graph = await graphPhase(grown, options.graphRequests);
    step(
      `  graph with ${options.ledgerRows.toLocaleString('en-US')} rows: p50 ${graph.p50Ms} ms, p99 ${graph.p99Ms} ms`,
    );

    await client.connect();
    const { rows } = await client.query<{ id: string; workspace_id: string }>(
      `select id, workspace_id from invoices where number in (${Array.from({ length: 33 }, (_, k) => `'OLD-${4242 + k * 7}'`).join(', ')})`,
    );
    const sections = [
      ...(await explainSettlement(client, rows)),
      ...(await explainGraph(client, graph.sample, graph.invoiceIds, grown.workspaceId)),
    ];
    const seqScans = sections
      .flatMap((section) => [...section.matchAll(/Seq Scan on (\w+)/g)].map((match) => match[1]))
      .filter((table) => LARGE_TABLES.includes(table));
    return {
      ledgerRows: options.ledgerRows,
      invoices,
      loadSeconds,
      settlePerS: settle.perS,
      graph,
      explain: sections.join('\n\n'),
      seqScans: [...new Set(seqScans)],
    };
  } finally {
    await client.end().catch(() => undefined);
    await grown.pool.end().catch(() => undefined);
  }
}
