import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { graphPhase } from './graph.js';
import { ingestBaselineHttp, ingestService, jetStreamPublishRate, type LoadResult } from './ingest.js';
import { latencyPhase } from './latency.js';
import { formatSummary, summariseProfile } from './profile-top.js';
import { settlementPhase } from './settlement.js';
import { spawnChild } from './processes.js';
import { tracingPhase, type TracingCost } from './tracing.js';
import {
  cleanup,
  createBench,
  insertAccount,
  insertInvoices,
  MAIN,
  PROFILE_DIR,
  ROOT,
  serviceEnv,
  step,
  type Bench,
} from './support.js';

/**
 * `npm run bench`: ingest, settlement, end-to-end latency, GraphQL entity resolution and memory of the real
 * service, each beside a baseline or a target. Prints a table, writes bench/results.json, and cleans up its
 * database (`wp_bench_<id>`), its streams (`BENCH_<ID>_*`) and its child processes whatever happens.
 * Env: BENCH_E2E_RATE (500/s), BENCH_E2E_SECONDS (20), BENCH_CPU_PROF=1 (profile the service children with
 * --cpu-prof into dist/bench/profiles and print their top functions; figures are then not representative),
 * BENCH_TRACING_SECONDS (5). `--tracing` runs only the tracing on/off comparison (prints it, writes no results).
 */

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback) || fallback;
const E2E_RATE = num('BENCH_E2E_RATE', 500);
const E2E_SECONDS = num('BENCH_E2E_SECONDS', 20);
const INGEST_SECONDS = 10;
const TRACING_SECONDS = num('BENCH_TRACING_SECONDS', 5);
const WATCHDOG_MS = 190_000;

type Results = Record<string, number | string>;

/** The first service start creates the schema; then the bench workspace gets its Stripe account and invoices. */
async function prepare(bench: Bench): Promise<string[]> {
  const migrate = await spawnChild(bench, 'service-migrate', MAIN, ['--role', 'api'], serviceEnv(bench, 'm'));
  await migrate.stop();
  delete bench.rss['service-migrate'];
  await insertAccount(bench);
  return insertInvoices(bench, 2000, { totalMinor: 1_000_000_000 });
}

async function measureTracing(bench: Bench, invoiceIds: string[]): Promise<TracingCost> {
  step(`ingest: --role api with tracing off, then on (OTLP export to a local receiver), ${TRACING_SECONDS} s each`);
  const cost = await tracingPhase(bench, invoiceIds, TRACING_SECONDS);
  step(
    `  off ${cost.off.okPerS}/s (${cost.off.cpuMsPerOk} ms CPU), on ${cost.on.okPerS}/s (${cost.on.cpuMsPerOk} ms CPU), ` +
      `${cost.exportRequests} OTLP exports, ${cost.exportedKb} KiB`,
  );
  return cost;
}

async function measure(bench: Bench): Promise<Results> {
  const loadAtStart = loadavg()[0];
  const ingestInvoices = await prepare(bench);

  const show = (what: string, r: LoadResult) =>
    step(
      `  ${what}: ${r.okPerS}/s, p99 ${r.p99Ms} ms, ${r.cpuMsPerOk} ms CPU per webhook, ${r.non2xx + r.errors} not 200`,
    );
  step(`ingest: service, all roles (${INGEST_SECONDS} s, 64 connections)`);
  const service = await ingestService(bench, ingestInvoices, 'all', 'i', INGEST_SECONDS);
  show('service', service);
  step('ingest: service --role api (diagnostic: no settlement worker competing for the 2 cores)');
  const apiOnly = await ingestService(bench, ingestInvoices, 'api', 'a', 5);
  show('service --role api', apiOnly);
  step('ingest: minimal node:http baseline');
  const baseline = await ingestBaselineHttp(bench, ingestInvoices, INGEST_SECONDS);
  show('minimal server', baseline);
  step('ingest: raw JetStream publish-with-ack, 64 in flight');
  const publish = await jetStreamPublishRate(bench, ingestInvoices[0], 5);
  step(`  ${publish}/s`);

  const tracing = await measureTracing(bench, ingestInvoices);

  step('settlement: 20,000 events over 2,000 invoices (pg baseline, then one worker)');
  const settle = await settlementPhase(bench, await insertInvoices(bench, 2000, { totalMinor: 1000 }), 20_000);

  step(`end-to-end latency: ${E2E_RATE}/s for ${E2E_SECONDS} s, all roles`);
  const e2e = await latencyPhase(bench, E2E_RATE, E2E_SECONDS);
  step(
    `  p50 ${e2e.p50Ms} ms, p99 ${e2e.p99Ms} ms; ${e2e.ok}/${e2e.sent} answered 200 (HTTP p99 ${e2e.httpP99Ms} ms), ${e2e.settled}/${e2e.sent} settled`,
  );
  step(
    `  service event loop delay p99 ${e2e.loopLagP99Ms} ms, max ${e2e.loopLagMaxMs} ms; settlement unit of work mean ${e2e.settleMeanMs} ms`,
  );

  step('graph: _entities for 10 and 100 invoices (in-process service, statements counted)');
  const graph = await graphPhase(bench, 200);
  step(
    `  ${graph.statements10} / ${graph.statements100} statements; one warm request: ${graph.sample.map((sql) => sql.slice(0, 60)).join(' | ')}`,
  );

  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  return {
    ingest_per_s: service.okPerS,
    ingest_baseline_http_per_s: baseline.okPerS,
    jetstream_publish_per_s: publish,
    ingest_ratio: ratio(service.okPerS, baseline.okPerS),
    ingest_api_only_per_s: apiOnly.okPerS,
    ingest_api_only_ratio: ratio(apiOnly.okPerS, baseline.okPerS),
    ingest_p99_ms: service.p99Ms,
    ingest_non_2xx_count: service.non2xx + service.errors,
    ingest_cpu_ms_per_webhook: service.cpuMsPerOk,
    ingest_baseline_cpu_ms_per_webhook: baseline.cpuMsPerOk,
    ingest_per_s_tracing_off: tracing.off.okPerS,
    ingest_per_s_tracing: tracing.on.okPerS,
    ingest_tracing_ratio: ratio(tracing.on.okPerS, tracing.off.okPerS),
    ingest_cpu_ms_per_webhook_tracing_off: tracing.off.cpuMsPerOk,
    ingest_cpu_ms_per_webhook_tracing: tracing.on.cpuMsPerOk,
    settle_per_s: settle.perS,
    settle_baseline_per_s: settle.baselinePerS,
    settle_ratio: ratio(settle.perS, settle.baselinePerS),
    settle_worker_cpu_ms_per_event: settle.cpuMsPerEvent,
    settle_baseline_client_cpu_ms_per_event: settle.baselineCpuMsPerEvent,
    settle_drained_events: settle.drained,
    e2e_p50_ms: e2e.p50Ms,
    e2e_p95_ms: e2e.p95Ms,
    e2e_p99_ms: e2e.p99Ms,
    e2e_max_ms: e2e.maxMs,
    e2e_http_p99_ms: e2e.httpP99Ms,
    e2e_event_loop_lag_p99_ms: e2e.loopLagP99Ms,
    e2e_event_loop_lag_max_ms: e2e.loopLagMaxMs,
    e2e_settle_unit_of_work_mean_ms: e2e.settleMeanMs,
    e2e_rate_per_s: E2E_RATE,
    e2e_unsettled_count: e2e.sent - e2e.settled,
    graph_sql_statements: graph.statements100,
    graph_sql_statements_10: graph.statements10,
    graph_p50_ms: graph.p50Ms,
    graph_p99_ms: graph.p99Ms,
    rss_peak_mb: Math.max(...Object.values(bench.rss)),
    cpu_count: availableParallelism(),
    load_avg_1m_at_start: Math.round(loadAtStart * 100) / 100,
  };
}

function table(r: Results, bench: Bench): string {
  const n = (key: string) => Number(r[key]);
  const fmt = (value: number, unit = '') => `${value.toLocaleString('en-US')}${unit}`;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows: Array<[string, string, string, string]> = [
    ['ingest: service, all roles', fmt(n('ingest_per_s'), ' /s'), '', ''],
    ['ingest: minimal node:http server', fmt(n('ingest_baseline_http_per_s'), ' /s'), 'baseline', ''],
    ['ingest: raw JetStream publish', fmt(n('jetstream_publish_per_s'), ' /s'), 'ceiling', ''],
    [
      'ingest ratio service / minimal',
      `${(n('ingest_ratio') * 100).toFixed(1)} %`,
      '≥ 60 %',
      mark(n('ingest_ratio') >= 0.6),
    ],
    [
      '  (diagnostic) --role api only',
      `${fmt(n('ingest_api_only_per_s'), ' /s')} = ${(n('ingest_api_only_ratio') * 100).toFixed(1)} %`,
      '',
      '',
    ],
    [
      '  CPU per webhook: service / minimal',
      `${n('ingest_cpu_ms_per_webhook')} / ${n('ingest_baseline_cpu_ms_per_webhook')} ms`,
      '',
      '',
    ],
    [
      'ingest --role api: tracing off / on (OTLP)',
      `${fmt(n('ingest_per_s_tracing_off'), ' /s')} / ${fmt(n('ingest_per_s_tracing'), ' /s')} = ${(n('ingest_tracing_ratio') * 100).toFixed(1)} %`,
      '',
      '',
    ],
    [
      '  CPU per webhook: tracing off / on',
      `${n('ingest_cpu_ms_per_webhook_tracing_off')} / ${n('ingest_cpu_ms_per_webhook_tracing')} ms`,
      '',
      '',
    ],
    ['settlement: one worker', fmt(n('settle_per_s'), ' /s'), '≥ 1,000 /s', mark(n('settle_per_s') >= 1000)],
    ['settlement: plain pg, 16 conns', fmt(n('settle_baseline_per_s'), ' /s'), 'baseline', ''],
    [
      'settlement ratio worker / pg',
      `${(n('settle_ratio') * 100).toFixed(1)} %`,
      '≥ 40 %',
      mark(n('settle_ratio') >= 0.4),
    ],
    [
      '  CPU per event: worker / pg client',
      `${n('settle_worker_cpu_ms_per_event')} / ${n('settle_baseline_client_cpu_ms_per_event')} ms`,
      '',
      '',
    ],
    [`e2e p50 / p95 at ${r.e2e_rate_per_s}/s`, `${n('e2e_p50_ms')} / ${n('e2e_p95_ms')} ms`, '', ''],
    [
      `e2e p99 at ${r.e2e_rate_per_s}/s`,
      `${n('e2e_p99_ms')} ms${n('e2e_unsettled_count') ? ` (≥: ${n('e2e_unsettled_count')} unsettled)` : ''}`,
      '≤ 100 ms',
      mark(n('e2e_p99_ms') <= 100 && n('e2e_unsettled_count') === 0),
    ],
    ['e2e max', `${n('e2e_max_ms')} ms`, '', ''],
    ['graph: SQL statements, 100 inv.', String(n('graph_sql_statements')), '≤ 4', mark(n('graph_sql_statements') <= 4)],
    [
      'graph: SQL statements, 10 inv.',
      String(n('graph_sql_statements_10')),
      '≤ 4, = 100-invoice count',
      mark(n('graph_sql_statements_10') <= 4 && n('graph_sql_statements_10') === n('graph_sql_statements')),
    ],
    ['graph: p50 / p99 (100 inv.)', `${n('graph_p50_ms')} / ${n('graph_p99_ms')} ms`, '', ''],
    ['peak RSS of a service process', `${n('rss_peak_mb')} MB`, '≤ 250 MB', mark(n('rss_peak_mb') <= 250)],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell)).join('  ');
  const rss = Object.entries(bench.rss)
    .map(([label, mb]) => `${label} ${mb} MB`)
    .join(', ');
  return [
    line(['metric', 'value', 'target', '']),
    ...rows.map(line),
    '',
    `peak RSS by process: ${rss}`,
    `cpus: ${r.cpu_count}, load average at start: ${r.load_avg_1m_at_start}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const bench = await createBench();
  step(`bench ${bench.id}: database ${bench.dbName}, NATS prefix ${bench.prefix}`);
  let cleaned: Promise<string[]> | undefined;
  const clean = () => (cleaned ??= cleanup(bench));
  const abort = (why: string) => {
    process.stderr.write(`bench: ${why}; cleaning up\n`);
    void clean().finally(() => process.exit(1));
  };
  process.once('SIGINT', () => abort('interrupted'));
  process.once('SIGTERM', () => abort('terminated'));
  process.once('exit', () => bench.children.forEach((child) => child.kill('SIGKILL')));
  const watchdog = setTimeout(() => abort(`still running after ${WATCHDOG_MS / 1000} s`), WATCHDOG_MS);
  let results: Results;
  if (process.argv.includes('--tracing')) {
    try {
      await measureTracing(bench, await prepare(bench));
    } finally {
      clearTimeout(watchdog);
      await clean();
    }
    return;
  }
  try {
    results = await measure(bench);
  } catch (error) {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await clean();
    process.exit(1);
  }
  clearTimeout(watchdog);
  const problems = await clean();
  results = { ...results, duration_s: Math.round((Date.now() - started) / 1000), run_at: new Date().toISOString() };
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${table(results, bench)}\n\nwrote bench/results.json (${results.duration_s} s)\n`);
  if (problems.length) process.stderr.write(`clean-up problems: ${problems.join('; ')}\n`);
  if (bench.profile) {
    for (const label of Object.keys(bench.rss)) {
      const file = join(PROFILE_DIR, `${label}.cpuprofile`);
      if (existsSync(file)) process.stdout.write(`\n${formatSummary(`${label} (${file})`, summariseProfile(file))}\n`);
    }
  }
}

void main();
