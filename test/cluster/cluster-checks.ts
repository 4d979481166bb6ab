import type { ServiceProcess } from '../helpers/process.js';
import type { Cluster } from './cluster-harness.js';
import type { WebhookLoad } from './webhook-load.js';

/** Waits until every accepted event is settled, then compares the ledger with what was accepted. */
export async function reconcile(cluster: Cluster, load: WebhookLoad, invoices: string[], timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  const expected = new Map(invoices.map((id) => [id, { paid: 0, payments: 0 }]));
  for (const { invoiceId, amount } of load.accepted.values()) {
    const entry = expected.get(invoiceId)!;
    entry.paid += amount;
    entry.payments += 1;
  }
  const eventIds = [...load.accepted.keys()];
  let settled = 0;
  while (Date.now() < deadline) {
    const { rows } = await cluster.db.query<{ n: string }>(
      "select count(*) as n from webhook_events where status = 'applied' and event_id = any($1)",
      [eventIds],
    );
    settled = Number(rows[0].n);
    if (settled >= eventIds.length) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const { rows } = await cluster.db.query<{ id: string; paid_minor: string; payments: string }>(
    `select i.id, i.paid_minor, (select count(*) from invoice_payments p where p.invoice_id = i.id) as payments
       from invoices i where i.id = any($1)`,
    [invoices],
  );
  const { rows: ids } = await cluster.db.query<{ event_id: string }>(
    "select event_id from webhook_events where status = 'applied' and event_id = any($1)",
    [eventIds],
  );
  const settledIds = new Set(ids.map((row) => row.event_id));
  const lost = [...load.accepted.keys()].filter((id) => !settledIds.has(id)).length;
  const mismatched = rows.filter((row) => {
    const want = expected.get(row.id)!;
    return Number(row.paid_minor) !== want.paid || Number(row.payments) !== want.payments;
  }).length;
  const duplicated = rows.reduce(
    (sum, row) => sum + Math.max(0, Number(row.payments) - expected.get(row.id)!.payments),
    0,
  );
  return { accepted: load.accepted.size, settled, lost, duplicated, mismatched };
}

/**
 * How long each accepted event waited to be settled (ms): from its 200, or from `since` when it was accepted before
 * that (a fault), to its commit (`processed_at`).
 */
export async function waits(cluster: Cluster, load: WebhookLoad, since = 0): Promise<number[]> {
  const { rows } = await cluster.db.query<{ event_id: string; at: Date }>(
    "select event_id, processed_at as at from webhook_events where status = 'applied' and event_id = any($1)",
    [[...load.accepted.keys()]],
  );
  return rows.map((row) =>
    Math.max(0, row.at.getTime() - Math.max(since, load.accepted.get(row.event_id)!.acceptedAt)),
  );
}

/** `payments_events_total{result="applied"}` of one worker process. */
export async function appliedBy(worker: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  return Number(/payments_events_total\{result="applied"\} (\d+)/.exec(text)?.[1] ?? 0);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `payments_consumer_rebinds_total` of one worker, by reason. */
export async function rebindsOf(worker: ServiceProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  return Object.fromEntries(
    [...text.matchAll(/payments_consumer_rebinds_total\{reason="(\w+)"\} (\d+)/g)].map((m) => [m[1], Number(m[2])]),
  );
}
