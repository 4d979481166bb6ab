import type { Pool } from 'pg';
import type { InvoicePlan, Traffic } from './soak-traffic.js';
import { percentile } from './support.js';

/** The soak's end checks: exact ledger reconciliation against what was sent, latency by minute, RSS trend. */

export interface Reconciliation {
  exact: boolean;
  invoices: number;
  invoicesPaid: number;
  invoicesPartial: number;
  sessionsExpected: number;
  ledgerRows: number;
  expectedPaidMinor: Record<string, number>;
  actualPaidMinor: Record<string, number>;
  inbox: Record<string, number>;
  distinctEventsAcknowledged: number;
  /** Sessions with an event never answered 200: their ledger outcome is unknown, so their invoice is not judged. */
  unresolvedSessions: number;
  mismatchCount: number;
  mismatches: string[];
}

interface LedgerRow {
  provider_reference: string;
  invoice_id: string;
  status: string;
  amount_minor: string;
  updated_ms: number;
}

const MAX_LISTED = 50;

/** What the service should hold after the traffic, compared with what it holds. Exact: every difference is listed. */
export async function reconcile(
  pool: Pool,
  workspaceId: string,
  plans: InvoicePlan[],
  traffic: Traffic,
): Promise<{ result: Reconciliation; ledger: Map<string, LedgerRow> }> {
  const problems: string[] = [];
  const note = (message: string) => problems.push(message);
  const [invoiceRows, ledgerRows, inboxRows, appliedRows] = await Promise.all([
    pool.query<{ id: string; status: string; paid_minor: string; total_minor: string; currency: string }>(
      'select id, status, paid_minor::text, total_minor::text, currency from invoices where workspace_id = $1',
      [workspaceId],
    ),
    pool.query<LedgerRow>(
      'select provider_reference, invoice_id, status, amount_minor::text, (extract(epoch from updated_at) * 1000)::float8 as updated_ms from invoice_payments where workspace_id = $1',
      [workspaceId],
    ),
    pool.query<{ status: string; n: string }>(
      'select status, count(*)::text as n from webhook_events where workspace_id = $1 group by status',
      [workspaceId],
    ),
    pool.query<{ event_id: string }>(
      "select event_id from webhook_events where workspace_id = $1 and status = 'applied'",
      [workspaceId],
    ),
  ]);
  const ledger = new Map(ledgerRows.rows.map((row) => [row.provider_reference, row]));
  const invoiceIndex = new Map(plans.map((plan, index) => [plan.id, index]));

  // sessions: every acknowledged one has its row, with the right invoice, status and amount
  const expectedPaid = plans.map(() => 0);
  const expectedRows = plans.map(() => 0);
  const unresolvedInvoice = new Set<number>();
  let sessionsExpected = 0;
  let unresolved = 0;
  const known = new Set<string>();
  for (const session of traffic.sessions) {
    known.add(session.id);
    const plan = plans[session.invoice];
    const row = ledger.get(session.id);
    if (session.unresolved) {
      unresolved++;
      unresolvedInvoice.add(session.invoice);
      continue;
    }
    if (!session.anyAcked) continue;
    sessionsExpected++;
    expectedRows[session.invoice]++;
    if (session.succeededAcked) expectedPaid[session.invoice] += session.amountMinor;
    const wantStatus = session.succeededAcked ? 'succeeded' : 'pending';
    if (!row)
      note(
        `session ${session.id} (invoice ${plan.number}, ${session.amountMinor} ${plan.currency}, ${wantStatus}) acknowledged but has no ledger row`,
      );
    else {
      if (row.invoice_id !== plan.id)
        note(`session ${session.id}: ledger row on invoice ${row.invoice_id}, sent for ${plan.id}`);
      if (row.status !== wantStatus)
        note(`session ${session.id} (invoice ${plan.number}): ledger status ${row.status}, expected ${wantStatus}`);
      if (Number(row.amount_minor) !== session.amountMinor)
        note(
          `session ${session.id} (invoice ${plan.number}): ledger amount ${row.amount_minor}, sent ${session.amountMinor}`,
        );
    }
  }
  for (const row of ledgerRows.rows)
    if (!known.has(row.provider_reference))
      note(`ledger row ${row.provider_reference} (invoice ${row.invoice_id}) was never sent`);

  // invoices: paid_minor, status and ledger row count
  const actualRows = plans.map(() => 0);
  for (const row of ledgerRows.rows) {
    const index = invoiceIndex.get(row.invoice_id);
    if (index !== undefined) actualRows[index]++;
  }
  const expectedPaidMinor: Record<string, number> = {};
  const actualPaidMinor: Record<string, number> = {};
  let paidCount = 0;
  let partialCount = 0;
  const seen = new Set<string>();
  for (const row of invoiceRows.rows) {
    const index = invoiceIndex.get(row.id);
    if (index === undefined) continue;
    seen.add(row.id);
    const plan = plans[index];
    const paid = Number(row.paid_minor);
    expectedPaidMinor[plan.currency] = (expectedPaidMinor[plan.currency] ?? 0) + expectedPaid[index];
    actualPaidMinor[plan.currency] = (actualPaidMinor[plan.currency] ?? 0) + paid;
    if (row.status === 'paid') paidCount++;
    if (row.status === 'partial') partialCount++;
    if (unresolvedInvoice.has(index)) continue;
    const want = expectedPaid[index];
    const wantStatus =
      plan.status === 'draft' || plan.status === 'void'
        ? plan.status
        : want > 0 && want >= plan.totalMinor
          ? 'paid'
          : want > 0
            ? 'partial'
            : plan.status;
    if (paid !== want)
      note(
        `invoice ${plan.number} (${plan.id}): paid_minor ${paid}, expected ${want} (${plan.currency}; difference ${paid - want})`,
      );
    if (row.status !== wantStatus)
      note(
        `invoice ${plan.number} (${plan.id}): status ${row.status}, expected ${wantStatus} (paid ${want} of ${plan.totalMinor})`,
      );
    if (actualRows[index] !== expectedRows[index])
      note(
        `invoice ${plan.number} (${plan.id}): ${actualRows[index]} ledger rows, expected ${expectedRows[index]} distinct sessions`,
      );
  }
  for (const plan of plans) if (!seen.has(plan.id)) note(`invoice ${plan.number} (${plan.id}) is missing`);

  // inbox: every acknowledged event applied exactly once, nothing else
  const inbox: Record<string, number> = {};
  for (const row of inboxRows.rows) inbox[row.status] = Number(row.n);
  const acknowledged = new Set(traffic.events.filter((event) => event.acked).map((event) => event.id));
  const applied = new Set(appliedRows.rows.map((row) => row.event_id));
  const sentIds = new Set(traffic.events.map((event) => event.id));
  const missing = [...acknowledged].filter((id) => !applied.has(id));
  for (const id of missing.slice(0, 20)) note(`event ${id} acknowledged but not applied in webhook_events`);
  if (missing.length > 20) note(`… ${missing.length - 20} more acknowledged events not applied`);
  for (const id of applied) if (!sentIds.has(id)) note(`webhook_events has ${id}, never sent`);
  if (inbox.failed) note(`${inbox.failed} webhook_events rows are 'failed'`);

  return {
    result: {
      exact: problems.length === 0,
      invoices: plans.length,
      invoicesPaid: paidCount,
      invoicesPartial: partialCount,
      sessionsExpected,
      ledgerRows: ledgerRows.rows.length,
      expectedPaidMinor,
      actualPaidMinor,
      inbox,
      distinctEventsAcknowledged: acknowledged.size,
      unresolvedSessions: unresolved,
      mismatchCount: problems.length,
      mismatches: problems.slice(0, MAX_LISTED),
    },
    ledger,
  };
}

export interface LatencyWindow {
  minute: number;
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const round = (value: number) => Math.round(value * 10) / 10;

function window(minute: number, values: number[]): LatencyWindow {
  values.sort((a, b) => a - b);
  return {
    minute,
    count: values.length,
    p50Ms: round(percentile(values, 50)),
    p95Ms: round(percentile(values, 95)),
    p99Ms: round(percentile(values, 99)),
    maxMs: round(values[values.length - 1] ?? NaN),
  };
}

/**
 * Webhook → ledger row settled, per minute of the 200: from the start of the attempt answered 200 (what the service
 * controls; as bench/latency.ts measures from the send) and, overall, from the first attempt (with the sender's
 * retries during the outage). The ledger row's `updated_at` is the settling transaction's start time.
 */
export function latencies(
  traffic: Traffic,
  ledger: Map<string, { status: string; updated_ms: number }>,
  startedAt: number,
): { perMinute: LatencyWindow[]; overall: LatencyWindow; fromFirstAttempt: LatencyWindow } {
  const byMinute: number[][] = [];
  const all: number[] = [];
  const fromFirst: number[] = [];
  for (const session of traffic.sessions) {
    const row = ledger.get(session.id);
    if (!session.succeededAcked || !row || row.status !== 'succeeded') continue;
    const ms = Math.max(0, row.updated_ms - session.successAcceptedAttemptAt!);
    const minute = Math.max(0, Math.floor((session.successAckedAt! - startedAt) / 60_000));
    (byMinute[minute] ??= []).push(ms);
    all.push(ms);
    fromFirst.push(Math.max(0, row.updated_ms - session.successFirstSentAt!));
  }
  const perMinute: LatencyWindow[] = [];
  byMinute.forEach((values, minute) => perMinute.push(window(minute + 1, values)));
  return { perMinute, overall: window(0, all), fromFirstAttempt: window(0, fromFirst) };
}

export interface RssSample {
  at: number;
  label: string;
  role: 'api' | 'worker';
  pid: number;
  mb: number;
  /** V8 heap used at the sample (NaN when /metrics did not answer). */
  heapMb: number;
}

export interface RssTrend {
  perMinute: Array<{
    minute: number;
    apiMb: number;
    steadyWorkerMb: number;
    workersMaxMb: number;
    apiHeapFloorMb: number;
    steadyWorkerHeapFloorMb: number;
  }>;
  steadyWorker: string;
  api: Growth;
  worker: Growth;
  /** The lowest V8 heap-used sample per minute (≈ the live set after a GC): first vs last minute. */
  apiHeapFloor: Growth;
  workerHeapFloor: Growth;
}

export interface Growth {
  firstMinuteMb: number;
  lastMinuteMb: number;
  growthMb: number;
  growthPct: number;
  peakMb: number;
}

const floor = (values: number[]) => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? Math.min(...finite) : NaN;
};
const mean = (values: number[]) =>
  values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10 : NaN;

/** Mean VmRSS per minute of the api and of the longest-lived worker process; first vs last minute. */
export function rssTrend(samples: RssSample[], startedAt: number, minutes: number): RssTrend {
  const spans = new Map<string, number>();
  for (const sample of samples)
    if (sample.role === 'worker') spans.set(sample.label, (spans.get(sample.label) ?? 0) + 1);
  const steadyWorker = [...spans.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  const perMinute: RssTrend['perMinute'] = [];
  for (let minute = 0; minute < minutes; minute++) {
    const inMinute = samples.filter((sample) => Math.floor((sample.at - startedAt) / 60_000) === minute);
    perMinute.push({
      minute: minute + 1,
      apiMb: mean(inMinute.filter((sample) => sample.role === 'api').map((sample) => sample.mb)),
      steadyWorkerMb: mean(inMinute.filter((sample) => sample.label === steadyWorker).map((sample) => sample.mb)),
      workersMaxMb: Math.max(...inMinute.filter((sample) => sample.role === 'worker').map((sample) => sample.mb), 0),
      apiHeapFloorMb: floor(inMinute.filter((sample) => sample.role === 'api').map((sample) => sample.heapMb)),
      steadyWorkerHeapFloorMb: floor(
        inMinute.filter((sample) => sample.label === steadyWorker).map((sample) => sample.heapMb),
      ),
    });
  }
  const growth = (pick: (row: RssTrend['perMinute'][number]) => number, peak: number): Growth => {
    const values = perMinute.map(pick).filter((value) => Number.isFinite(value));
    const first = values[0] ?? NaN;
    const last = values[values.length - 1] ?? NaN;
    return {
      firstMinuteMb: first,
      lastMinuteMb: last,
      growthMb: round(last - first),
      growthPct: round(((last - first) / first) * 100),
      peakMb: peak,
    };
  };
  const peakOf = (filter: (sample: RssSample) => boolean) =>
    Math.max(0, ...samples.filter(filter).map((sample) => sample.mb));
  const heapPeak = (filter: (sample: RssSample) => boolean) =>
    Math.max(
      0,
      ...samples
        .filter(filter)
        .map((sample) => sample.heapMb)
        .filter(Number.isFinite),
    );
  return {
    perMinute,
    steadyWorker,
    api: growth(
      (row) => row.apiMb,
      peakOf((sample) => sample.role === 'api'),
    ),
    worker: growth(
      (row) => row.steadyWorkerMb,
      peakOf((sample) => sample.label === steadyWorker),
    ),
    apiHeapFloor: growth(
      (row) => row.apiHeapFloorMb,
      heapPeak((sample) => sample.role === 'api'),
    ),
    workerHeapFloor: growth(
      (row) => row.steadyWorkerHeapFloorMb,
      heapPeak((sample) => sample.label === steadyWorker),
    ),
  };
}

/**
 * Settlements slower than `thresholdMs` (accepted attempt → ledger row), attributed to the chaos step whose window
 * (from 2 s before it to `windowS` after it) holds the accepted attempt; the rest are "outside chaos".
 */
export function slowSettlements(
  traffic: Traffic,
  ledger: Map<string, { status: string; updated_ms: number }>,
  startedAt: number,
  chaosAtS: number[],
  thresholdMs = 1000,
  windowS = 25,
): { byStep: Array<{ count: number; maxMs: number }>; outside: { count: number; maxMs: number } } {
  const byStep = chaosAtS.map(() => ({ count: 0, maxMs: 0 }));
  const outside = { count: 0, maxMs: 0 };
  for (const session of traffic.sessions) {
    const row = ledger.get(session.id);
    if (!session.succeededAcked || !row || row.status !== 'succeeded') continue;
    const ms = row.updated_ms - session.successAcceptedAttemptAt!;
    if (ms < thresholdMs) continue;
    const atS = (session.successAcceptedAttemptAt! - startedAt) / 1000;
    const step = chaosAtS.findIndex((chaosS) => atS >= chaosS - 2 && atS <= chaosS + windowS);
    const bucket = step >= 0 ? byStep[step] : outside;
    bucket.count++;
    bucket.maxMs = Math.max(bucket.maxMs, Math.round(ms));
  }
  return { byStep, outside };
}
