import { Client } from 'pg';
import { SESSION_OPTIONS } from '../src/db/session.js';
import { step, type Bench } from './support.js';

/**
 * The second settlement baseline: the same work as the worker (inbox claim, invoice lock in id order, forward-only
 * ledger upsert, paid = payments − refunds − withdrawn disputes, status) written by hand as batched SQL over plain
 * `pg`: two statements and a commit per batch, events parsed straight from the backlog. No broker, no ORM, no
 * per-event round trip: about the best a person could do on this machine. On copies of the tables (`limit_*`).
 */

export const LIMIT_CONNECTIONS = 4;
export const LIMIT_BATCH = 64;
const CAP_MS = 15_000;
const PAID = `'succeeded', 'refunded', 'partially_refunded'`;

/** Claims the batch's events in the inbox after locking their invoices (id order); returns the claimed event ids. */
const CLAIM = `
  with ev as (select * from jsonb_to_recordset($1::jsonb) as t(e text, w uuid, i uuid, ty text)),
  inv as (select id from limit_invoices where id in (select i from ev) order by id for update),
  claim as (
    insert into limit_inbox (id, provider, event_id, workspace_id, type, status, attempts, processed_at)
    select gen_random_uuid(), 'stripe', ev.e, ev.w, ev.ty, 'applied', 1, now() from ev join inv on inv.id = ev.i
    on conflict (provider, workspace_id, event_id) do nothing
    returning event_id)
  select event_id from claim`;

/** Under the locks (a new snapshot): upserts the ledger rows forward-only and recomputes each touched invoice. */
const SETTLE = `
  with ev as (select * from jsonb_to_recordset($1::jsonb)
      as t(w uuid, i uuid, r text, pi text, e text, a bigint, c text, at timestamptz)),
  up as (
    insert into limit_ledger as p (id, workspace_id, invoice_id, provider, provider_reference, provider_payment_id,
      event_id, status, amount_minor, currency, paid_at)
    select gen_random_uuid(), w, i, 'stripe', r, pi, e, 'succeeded', a, c, at from ev
    on conflict (provider, provider_reference) do update set status = excluded.status, event_id = excluded.event_id,
      amount_minor = excluded.amount_minor, paid_at = excluded.paid_at, updated_at = now()
      where p.invoice_id = excluded.invoice_id and p.status not in (${PAID})
    returning invoice_id, provider, provider_reference, status, amount_minor),
  added as (select invoice_id, sum(amount_minor) filter (where status in (${PAID})) as a from up group by invoice_id),
  totals as (
    select d.invoice_id, greatest(0, d.a
      + (select coalesce(sum(l.amount_minor), 0) from limit_ledger l where l.invoice_id = d.invoice_id
          and l.status in (${PAID})
          and not exists (select 1 from up u where u.provider = l.provider and u.provider_reference = l.provider_reference))
      - (select coalesce(sum(amount_minor), 0) from limit_refunds where invoice_id = d.invoice_id and status = 'succeeded')
      - (select coalesce(sum(amount_minor), 0) from limit_disputes
          where invoice_id = d.invoice_id and funds_withdrawn and not funds_reinstated)) as paid
    from added d)
  update limit_invoices i set paid_minor = t.paid, updated_at = now(), status = case
      when i.status in ('draft', 'void') then i.status
      when t.paid > 0 and t.paid >= i.total_minor then 'paid'
      when t.paid > 0 then 'partial'
      when i.due_date < (now() at time zone 'utc')::date then 'overdue'
      else 'sent' end
  from totals t where i.id = t.invoice_id`;

interface Parsed {
  workspaceId: string;
  event: {
    id: string;
    type: string;
    created: number;
    data: {
      object: {
        id: string;
        amount_total: number;
        currency: string;
        payment_intent: string;
        metadata: { invoice_id: string };
      };
    };
  };
}

async function settleBatch(client: Client, envelopes: string[]): Promise<void> {
  const events = envelopes.map((envelope) => JSON.parse(envelope) as Parsed);
  await client.query('begin');
  try {
    const claims = JSON.stringify(
      events.map(({ workspaceId, event }) => ({
        e: event.id,
        w: workspaceId,
        i: event.data.object.metadata.invoice_id,
        ty: event.type,
      })),
    );
    const claimed = new Set((await client.query<{ event_id: string }>(CLAIM, [claims])).rows.map((r) => r.event_id));
    const payments = events
      .filter(({ event }) => claimed.has(event.id))
      .map(({ workspaceId, event }) => {
        const session = event.data.object;
        return {
          w: workspaceId,
          i: session.metadata.invoice_id,
          r: session.id,
          pi: session.payment_intent,
          e: event.id,
          a: session.amount_total,
          c: session.currency.toUpperCase(),
          at: new Date(event.created * 1000).toISOString(),
        };
      });
    if (payments.length > 0) await client.query(SETTLE, [JSON.stringify(payments)]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** Events per second through `settleBatch` on LIMIT_CONNECTIONS connections, batches of LIMIT_BATCH. */
export async function measureLimit(
  bench: Bench,
  invoiceIds: string[],
  envelopes: string[],
  settled: (table: string) => Promise<number>,
): Promise<number> {
  for (const [copy, source] of [
    ['limit_invoices', 'invoices'],
    ['limit_inbox', 'webhook_events'],
    ['limit_ledger', 'invoice_payments'],
    ['limit_refunds', 'payment_refunds'],
    ['limit_disputes', 'payment_disputes'],
  ]) {
    await bench.pool.query(`create table ${copy} (like ${source} including all)`);
  }
  await bench.pool.query(`insert into limit_invoices select * from invoices where id = any($1::uuid[])`, [invoiceIds]);
  await bench.pool.query('analyze limit_invoices');
  const clients = Array.from(
    { length: LIMIT_CONNECTIONS },
    () => new Client({ connectionString: bench.dbUrl, options: SESSION_OPTIONS }),
  );
  await Promise.all(clients.map((client) => client.connect()));
  try {
    let next = 0;
    let processed = 0;
    const started = Date.now();
    const deadline = started + CAP_MS;
    await Promise.all(
      clients.map(async (client) => {
        while (next < envelopes.length && Date.now() < deadline) {
          const batch = envelopes.slice(next, next + LIMIT_BATCH);
          next += batch.length;
          await settleBatch(client, batch);
          processed += batch.length;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    if (processed === envelopes.length) {
      const done = await settled('limit_invoices');
      if (done !== invoiceIds.length)
        throw new Error(`batched-SQL limit settled ${done}/${invoiceIds.length} invoices`);
    } else {
      step(`  batched SQL: ${processed}/${envelopes.length} events within ${CAP_MS / 1000} s (rate taken over those)`);
    }
    return Math.round(processed / seconds);
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}
