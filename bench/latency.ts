import { Agent, request } from 'node:http';
import { stripeEventJson, stripeSignature, WEBHOOK_PATH } from './events.js';
import { takeEventNumbers } from './ingest.js';
import { scrape, spawnChild } from './processes.js';
import { insertInvoices, MAIN, percentile, serviceEnv, sleep, type Bench } from './support.js';

/** Phase 3: webhook sent → invoice row updated, at a fixed offered rate, one event per fresh invoice. */

const AMOUNT = 2500;
/** How long after the last send the bench waits for the backlog to settle. */
const SETTLE_WAIT_MS = 10_000;

export interface LatencyResult {
  sent: number;
  ok: number;
  settled: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  httpP99Ms: number;
  /** The service's event-loop delay while sending (prom-client default metrics), and its mean settlement unit of work. */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  settleMeanMs: number;
}

function post(agent: Agent, url: URL, host: string, body: string, signature: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: WEBHOOK_PATH,
        headers: {
          host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'stripe-signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/**
 * `split`: the production topology of `docker compose --profile cluster` in miniature: a `--role api` process takes
 * the webhooks and a `--role worker` process settles them (two event loops, so both cores), instead of one process.
 */
export async function latencyPhase(
  bench: Bench,
  ratePerS: number,
  seconds: number,
  label = 'service-e2e',
  split = false,
): Promise<LatencyResult> {
  const total = ratePerS * seconds;
  const invoiceIds = await insertInvoices(bench, total, { totalMinor: AMOUNT });
  const env = serviceEnv(bench, label.replace(/\W/g, ''));
  const service = await spawnChild(bench, label, MAIN, ['--role', split ? 'api' : 'all'], env);
  const worker = split ? await spawnChild(bench, `${label}-worker`, MAIN, ['--role', 'worker'], env) : null;
  // settlement's figures come from the process that settles
  const settler = worker ?? service;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const url = new URL(service.url);
    // warm-up on the first 1 %, not measured
    const warm = Math.max(50, Math.floor(total / 100));
    const firstEvent = takeEventNumbers(total);
    const sentAt = new Array<number>(total);
    const httpMs: number[] = [];
    let ok = 0;
    const inFlight = new Set<Promise<void>>();
    const send = (i: number) => {
      const body = stripeEventJson({
        n: firstEvent + i,
        workspaceId: bench.workspaceId,
        invoiceId: invoiceIds[i],
        amountMinor: AMOUNT,
      });
      const signature = stripeSignature(body, bench.webhookSecret);
      sentAt[i] = Date.now();
      const task = post(agent, url, bench.domain, body, signature).then((status) => {
        if (i < warm) return;
        if (status === 200) ok++;
        httpMs.push(Date.now() - sentAt[i]);
      });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
    };
    for (let i = 0; i < warm; i++) send(i);
    await Promise.all(inFlight);
    await sleep(1000);
    // open loop: whatever is due by the clock is sent, however slow the answers are
    const before = await scrape(settler.url);
    if (worker) await scrape(service.url); // also resets the event-loop delay histogram
    const started = Date.now();
    let i = warm;
    while (i < total) {
      const due = warm + Math.floor(((Date.now() - started) * ratePerS) / 1000);
      while (i < Math.min(due, total)) send(i++);
      await sleep(2);
    }
    await Promise.all(inFlight);
    const metrics = await scrape(service.url);
    const settlerMetrics = worker ? await scrape(worker.url) : metrics;
    const measured = invoiceIds.slice(warm);
    const deadline = Date.now() + SETTLE_WAIT_MS;
    let settled = 0;
    while (Date.now() < deadline) {
      const { rows } = await bench.pool.query<{ n: string }>(
        'select count(*) as n from invoices where id = any($1::uuid[]) and paid_minor = $2',
        [measured, AMOUNT],
      );
      settled = Number(rows[0].n);
      if (settled === measured.length) break;
      await sleep(200);
    }
    const givenUpAt = Date.now();
    const { rows } = await bench.pool.query<{ id: string; ms: number | null }>(
      'select id, case when paid_minor = $2 then (extract(epoch from updated_at) * 1000)::float8 end as ms from invoices where id = any($1::uuid[])',
      [measured, AMOUNT],
    );
    const index = new Map(invoiceIds.map((id, k) => [id, k]));
    // an invoice not settled by the end of the wait counts with the time waited: the figures become lower bounds
    const latencies = rows.map((row) => (row.ms ?? givenUpAt) - sentAt[index.get(row.id)!]).sort((a, b) => a - b);
    httpMs.sort((a, b) => a - b);
    const round = (value: number) => Math.round(value * 10) / 10;
    const lag = (stat: string) => metrics.get(`nodejs_eventloop_lag_${stat}_seconds`) ?? NaN;
    const delta = (name: string) => (settlerMetrics.get(name) ?? NaN) - (before.get(name) ?? 0);
    return {
      sent: total - warm,
      ok,
      settled,
      p50Ms: round(percentile(latencies, 50)),
      p95Ms: round(percentile(latencies, 95)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(latencies[latencies.length - 1] ?? NaN),
      httpP99Ms: round(percentile(httpMs, 99)),
      // prom-client samples the loop every 10 ms: its minimum is that resolution, the excess is blocking
      loopLagP99Ms: round((lag('p99') - lag('min')) * 1000),
      loopLagMaxMs: round((lag('max') - lag('min')) * 1000),
      settleMeanMs: round(
        (delta('payments_settlement_duration_seconds_sum') / delta('payments_settlement_duration_seconds_count')) *
          1000,
      ),
    };
  } finally {
    agent.destroy();
    await service.stop();
    await worker?.stop();
  }
}
