import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Client } from 'pg';
import { provisionJetStream } from '../src/jetstream/provision.js';
import { SESSION_OPTIONS } from '../src/db/session.js';
import { envelopeOf, EVENT_TYPE, eventIdOf, stripeEventJson } from './events.js';
import { takeEventNumbers } from './ingest.js';
import { spawnChild } from './processes.js';
import { measureLimit } from './settle-limit.js';
import { MAIN, serviceEnv, sleep, step, type Bench } from './support.js';

/** Phase 2: one worker draining a pre-loaded backlog, against the same SQL work done with plain `pg`. */

export const CONCURRENCY = 16; // the service's SETTLEMENT_CONCURRENCY default
const AMOUNT = 100;

export interface SettleResult {
  perS: number;
  baselinePerS: number;
  /** CPU time of the worker process per applied event (ms). */
  cpuMsPerEvent: number;
  /** CPU time of the baseline's client side (this process) per event (ms); PostgreSQL's share is not included. */
  baselineCpuMsPerEvent: number;
  drained: number;
  /** The same work as hand-written batched SQL (bench/settle-limit.ts). */
  limitPerS: number;
}

export interface Backlog {
  invoiceIds: string[];
  envelopes: string[];
  firstEvent: number;
}

export function buildBacklog(bench: Bench, invoiceIds: string[], events: number): Backlog {
  const firstEvent = takeEventNumbers(events);
  const envelopes = Array.from({ length: events }, (_, k) =>
    envelopeOf(
      bench.workspaceId,
      stripeEventJson({
        n: firstEvent + k,
        workspaceId: bench.workspaceId,
        invoiceId: invoiceIds[k % invoiceIds.length],
        amountMinor: AMOUNT,
      }),
    ),
  );
  return { invoiceIds, envelopes, firstEvent };
}

/** Publishes the backlog exactly as the webhook route does (subject, Nats-Msg-Id, event type header). */
async function publishBacklog(bench: Bench, phasePrefix: string, backlog: Backlog): Promise<void> {
  const { names } = await provisionJetStream(bench.nats, {
    prefix: phasePrefix,
    maxDeliver: 6,
    backoffMs: [1000, 5000, 30000, 120000, 600000],
    ackWaitMs: 30_000,
  });
  const js = jetstream(bench.nats);
  const subject = names.eventSubject('stripe', bench.workspaceId);
  let next = 0;
  const lane = async () => {
    for (let k = next++; k < backlog.envelopes.length; k = next++) {
      const hdrs = natsHeaders();
      hdrs.set('Workestra-Event-Type', EVENT_TYPE);
      await js.publish(subject, backlog.envelopes[k], {
        msgID: `stripe:${eventIdOf(backlog.firstEvent + k)}`,
        headers: hdrs,
        expect: { streamName: names.eventsStream },
        timeout: 5000,
      });
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
}

/** Polls until every invoice's paid_minor reached `expected` (or the deadline); returns how many did. */
async function waitSettled(
  bench: Bench,
  table: string,
  ids: string[],
  expected: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await bench.pool.query<{ n: string }>(
      `select count(*) as n from ${table} where id = any($1::uuid[]) and paid_minor = $2`,
      [ids, expected],
    );
    const done = Number(rows[0].n);
    if (done === ids.length || Date.now() > deadline) return done;
    await sleep(200);
  }
}

const WORKER_CAP_MS = 35_000;
const BASELINE_CAP_MS = 15_000;

async function appliedSince(
  bench: Bench,
  backlog: Backlog,
): Promise<{ applied: number; started: number; ended: number }> {
  const { rows } = await bench.pool.query<{ applied: string; started: number; ended: number }>(
    `select count(*) as applied, extract(epoch from min(processed_at))::float8 as started, extract(epoch from max(processed_at))::float8 as ended
     from webhook_events where event_id between $1 and $2 and status = 'applied'`,
    [eventIdOf(backlog.firstEvent), eventIdOf(backlog.firstEvent + backlog.envelopes.length - 1)],
  );
  return { applied: Number(rows[0].applied), started: rows[0].started, ended: rows[0].ended };
}

/** Events applied per second by one `--role worker` process, timed by the database (first to last inbox claim). */
export async function measureWorker(
  bench: Bench,
  backlog: Backlog,
  expected: number,
  phase = 's',
  label = 'service-worker',
): Promise<Pick<SettleResult, 'perS' | 'cpuMsPerEvent' | 'drained'>> {
  await publishBacklog(bench, `${bench.prefix}_${phase}`, backlog);
  step('  backlog stored; starting the worker');
  const worker = await spawnChild(bench, label, MAIN, ['--role', 'worker'], serviceEnv(bench, phase));
  try {
    const cpuAtReady = worker.cpuMs();
    const atReady = (await appliedSince(bench, backlog)).applied;
    const done = await waitSettled(bench, 'invoices', backlog.invoiceIds, expected, WORKER_CAP_MS);
    const cpuAtEnd = worker.cpuMs();
    const { applied, started, ended } = await appliedSince(bench, backlog);
    if (done < backlog.invoiceIds.length)
      step(
        `  worker: drained ${applied}/${backlog.envelopes.length} events within ${WORKER_CAP_MS / 1000} s (rate taken over those)`,
      );
    return {
      perS: Math.round(applied / (ended - started)),
      cpuMsPerEvent: Math.round(((cpuAtEnd - cpuAtReady) / (applied - atReady)) * 100) / 100,
      drained: applied,
    };
  } finally {
    await worker.stop();
  }
}

const PAID = ['succeeded', 'refunded', 'partially_refunded'];

/** The same unit of work per event with plain `pg`: inbox claim, invoice lock, ledger upsert, recompute, update. */
async function settleWithPg(client: Client, envelope: string): Promise<void> {
  const { workspaceId, event } = JSON.parse(envelope) as {
    workspaceId: string;
    event: { id: string; type: string; created: number; data: { object: Record<string, unknown> } };
  };
  const session = event.data.object as {
    id: string;
    amount_total: number;
    currency: string;
    payment_intent: string;
    metadata: { invoice_id: string };
  };
  const currency = session.currency.toUpperCase();
  await client.query('begin');
  try {
    const claimed = await client.query(
      `insert into bench_inbox (id, provider, event_id, workspace_id, type, status, attempts, stream_sequence, processed_at)
       values ($1, 'stripe', $2, $3, $4, 'applied', 1, null, now()) on conflict (provider, workspace_id, event_id) do nothing returning id`,
      [randomUUID(), event.id, workspaceId, event.type],
    );
    if (claimed.rowCount === 0) {
      await client.query('commit'); // a duplicate changes nothing
      return;
    }
    const invoice = (
      await client.query(`select * from bench_invoices where id = $1 and workspace_id = $2 for update`, [
        session.metadata.invoice_id,
        workspaceId,
      ])
    ).rows[0] as { id: string; total_minor: string; status: string };
    const existing = await client.query(
      `select * from bench_ledger where provider = 'stripe' and provider_reference = $1 for update`,
      [session.id],
    );
    if (existing.rowCount === 0) {
      await client.query(
        `insert into bench_ledger (id, workspace_id, invoice_id, provider, provider_reference, provider_payment_id, event_id, status, amount_minor, currency, paid_at)
         values ($1, $2, $3, 'stripe', $4, $5, $6, 'succeeded', $7, $8, $9)`,
        [
          randomUUID(),
          workspaceId,
          invoice.id,
          session.id,
          session.payment_intent,
          event.id,
          session.amount_total,
          currency,
          new Date(event.created * 1000),
        ],
      );
    }
    const { rows } = await client.query<{ paid: string }>(
      `select (select coalesce(sum(amount_minor), 0) from bench_ledger where invoice_id = $1 and status = any($2))
            - (select coalesce(sum(amount_minor), 0) from bench_refunds where invoice_id = $1 and status = 'succeeded') as paid`,
      [invoice.id, PAID],
    );
    const paid = Math.max(0, Number(rows[0].paid));
    const status = paid >= Number(invoice.total_minor) ? 'paid' : paid > 0 ? 'partial' : 'sent';
    await client.query('update bench_invoices set paid_minor = $1, status = $2, updated_at = $3 where id = $4', [
      paid,
      status,
      new Date(),
      invoice.id,
    ]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** The baseline at the same concurrency (16 connections), in this process; capped at BASELINE_CAP_MS. */
async function measurePgBaseline(
  bench: Bench,
  backlog: Backlog,
  expected: number,
): Promise<Pick<SettleResult, 'baselinePerS' | 'baselineCpuMsPerEvent'>> {
  for (const [copy, source] of [
    ['bench_invoices', 'invoices'],
    ['bench_inbox', 'webhook_events'],
    ['bench_ledger', 'invoice_payments'],
    ['bench_refunds', 'payment_refunds'],
  ]) {
    await bench.pool.query(`create table ${copy} (like ${source} including all)`);
  }
  await bench.pool.query(`insert into bench_invoices select * from invoices where id = any($1::uuid[])`, [
    backlog.invoiceIds,
  ]);
  const clients = Array.from(
    { length: CONCURRENCY },
    () => new Client({ connectionString: bench.dbUrl, options: SESSION_OPTIONS }),
  );
  await Promise.all(clients.map((client) => client.connect()));
  try {
    let next = 0;
    let processed = 0;
    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    const deadline = started + BASELINE_CAP_MS;
    await Promise.all(
      clients.map(async (client) => {
        for (let k = next++; k < backlog.envelopes.length && Date.now() < deadline; k = next++) {
          await settleWithPg(client, backlog.envelopes[k]);
          processed++;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    if (processed === backlog.envelopes.length) {
      const done = await waitSettled(bench, 'bench_invoices', backlog.invoiceIds, expected, 0);
      if (done !== backlog.invoiceIds.length)
        throw new Error(`pg baseline settled ${done}/${backlog.invoiceIds.length} invoices`);
    } else {
      step(
        `  plain pg: ${processed}/${backlog.envelopes.length} events within ${BASELINE_CAP_MS / 1000} s (rate taken over those)`,
      );
    }
    return {
      baselinePerS: Math.round(processed / seconds),
      baselineCpuMsPerEvent: Math.round(((cpu.user + cpu.system) / 1000 / processed) * 100) / 100,
    };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

/** The paid amount every invoice reaches when `events` events are spread round-robin over `invoices`. */
export const expectedPaid = (events: number, invoices: number) => (events / invoices) * AMOUNT;

/** The three measurements over the same backlog: `events` events spread round-robin over `invoiceIds`. */
export async function settlementPhase(bench: Bench, invoiceIds: string[], events: number): Promise<SettleResult> {
  const backlog = buildBacklog(bench, invoiceIds, events);
  const expected = expectedPaid(events, invoiceIds.length);
  const baseline = await measurePgBaseline(bench, backlog, expected);
  step(`  plain pg: ${baseline.baselinePerS}/s (${baseline.baselineCpuMsPerEvent} ms client CPU/event)`);
  const limitPerS = await measureLimit(bench, invoiceIds, backlog.envelopes, (table) =>
    waitSettled(bench, table, invoiceIds, expected, 0),
  );
  step(`  batched SQL (the limit): ${limitPerS}/s; publishing the backlog`);
  const worker = await measureWorker(bench, backlog, expected);
  step(`  worker: ${worker.perS}/s (${worker.cpuMsPerEvent} ms worker CPU/event)`);
  return { ...baseline, ...worker, limitPerS };
}
