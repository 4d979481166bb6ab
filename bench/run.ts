import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { graphPhase } from './graph.js';
import { growthPhase } from './growth.js';
import { ingestRounds, ingestService, jetStreamPublishRate, type LoadResult } from './ingest.js';
import { latencyPhase, type LatencyResult } from './latency.js';
import { renderSvg, type PlotData } from './plot.js';
import { formatSummary, summariseProfile } from './profile-top.js';
import { settlementPhase } from './settlement.js';
import { spawnChild } from './processes.js';
import { tracingPhase } from './tracing.js';
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
 * `npm run bench`: ingest, settlement, end-to-end latency, GraphQL entity resolution, growth and memory of the real
 * service, each beside a baseline or a target. Prints a table, writes bench/results.json, bench/results.svg and
 * bench/explain.txt, and cleans up its databases (`wp_bench_<id>`, `wp_bench_<id>_1m`), its streams (`BENCH_<ID>_*`)
 * and its child processes whatever happens.
 * `--quick` (or BENCH_QUICK=1): short phases (about 3 minutes) for a shared machine; figures noisier.
 * `--tracing`: only the tracing on/off phase (BENCH_TRACING_SECONDS, 5).
 * Env: BENCH_ONLY=ingest,tracing,settle,e2e,graph,growth (a subset writes dist/bench/results-partial.json instead),
 * BENCH_INGEST_SECONDS (10), BENCH_INGEST_ROUNDS (3), BENCH_SETTLE_EVENTS (20000, over a tenth as many invoices),
 * BENCH_E2E_RATE (1000/s), BENCH_E2E_SECONDS (20), BENCH_SWEEP (offered rates for the latency curve, 250,500,1500),
 * BENCH_SWEEP_SECONDS (6), BENCH_GROWTH_ROWS (1000000), BENCH_WATCHDOG_S (900), BENCH_CPU_PROF=1 (profile the service
 * children with --cpu-prof into dist/bench/profiles and print their top functions; figures are then not representative).
 */

const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const num = (name: string, fallback: number, quick = fallback) =>
  Number(process.env[name] ?? (QUICK ? quick : fallback)) || fallback;
// `--tracing` runs only the tracing on/off comparison (written to dist/bench/results-partial.json)
const PHASES = new Set(
  (process.argv.includes('--tracing')
    ? 'tracing'
    : (process.env.BENCH_ONLY ?? 'ingest,tracing,settle,e2e,graph,growth')
  ).split(','),
);
const ALL_PHASES = ['ingest', 'settle', 'e2e', 'graph', 'growth'].every((phase) => PHASES.has(phase));
const INGEST_SECONDS = num('BENCH_INGEST_SECONDS', 10, 4);
const INGEST_ROUNDS = num('BENCH_INGEST_ROUNDS', 3);
const SETTLE_EVENTS = num('BENCH_SETTLE_EVENTS', 20_000, 8_000);
const E2E_RATE = num('BENCH_E2E_RATE', 1000);
const E2E_SECONDS = num('BENCH_E2E_SECONDS', 20, 8);
const SWEEP = (process.env.BENCH_SWEEP ?? (QUICK ? '500' : '250,500,1500'))
  .split(',')
  .map(Number)
  .filter((rate) => rate > 0 && rate !== E2E_RATE);
const SWEEP_SECONDS = num('BENCH_SWEEP_SECONDS', 6, 4);
const TRACING_SECONDS = num('BENCH_TRACING_SECONDS', 5, 3);
const GROWTH_ROWS = num('BENCH_GROWTH_ROWS', 1_000_000);
const WATCHDOG_MS = num('BENCH_WATCHDOG_S', 900) * 1000;

type Results = Record<string, number | string>;

const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(bench: Bench): Promise<{ results: Results; plot: PlotData; explain?: string }> {
  const r: Results = { cpu_count: availableParallelism(), load_avg_1m_at_start: Math.round(loadavg()[0] * 100) / 100 };
  const plot: PlotData = { latency: [], settle: [], baselinePerS: NaN, limitPerS: NaN, title: '' };
  let explain: string | undefined;
  // The first service start creates the schema; then the bench workspace gets its Stripe account.
  const migrate = await spawnChild(bench, 'service-migrate', MAIN, ['--role', 'api'], serviceEnv(bench, 'm'));
  await migrate.stop();
  delete bench.rss['service-migrate'];
  await insertAccount(bench);

  const show = (what: string, x: LoadResult) =>
    step(
      `  ${what}: ${x.okPerS}/s, p99 ${x.p99Ms} ms, ${x.cpuMsPerOk} ms CPU per webhook, ${x.non2xx + x.errors} not 200` +
        (Number.isNaN(x.settledPerS) ? '' : `, ${x.settledPerS} settled/s meanwhile`),
    );
  if (PHASES.has('ingest')) {
    const ingestInvoices = await insertInvoices(bench, 2000, { totalMinor: 1_000_000_000 });
    step(
      `ingest: ${INGEST_ROUNDS} rounds of service (all roles) then minimal node:http server, ${INGEST_SECONDS} s each`,
    );
    const rounds = await ingestRounds(bench, ingestInvoices, INGEST_ROUNDS, INGEST_SECONDS);
    rounds.forEach((round, k) => {
      show(`round ${k + 1} service`, round.service);
      show(`round ${k + 1} minimal server`, round.baseline);
      step(`  round ${k + 1} ratio ${round.ratio}`);
    });
    const mid = rounds.find((round) => round.ratio === median(rounds.map((x) => x.ratio)))!;
    step('ingest: service --role api (diagnostic: no settlement worker competing for the 2 cores)');
    const apiOnly = await ingestService(bench, ingestInvoices, 'api', 'a', Math.min(INGEST_SECONDS, 5));
    show('service --role api', apiOnly);
    step('ingest: raw JetStream publish-with-ack, 64 in flight');
    const publish = await jetStreamPublishRate(bench, ingestInvoices[0], QUICK ? 3 : 5);
    step(`  ${publish}/s`);
    Object.assign(r, {
      ingest_per_s: mid.service.okPerS,
      ingest_baseline_http_per_s: mid.baseline.okPerS,
      jetstream_publish_per_s: publish,
      ingest_ratio: mid.ratio,
      ingest_ratio_min: Math.min(...rounds.map((x) => x.ratio)),
      ingest_ratio_max: Math.max(...rounds.map((x) => x.ratio)),
      ingest_rounds: rounds.length,
      ingest_api_only_per_s: apiOnly.okPerS,
      ingest_api_only_ratio: ratio(apiOnly.okPerS, mid.baseline.okPerS),
      ingest_p99_ms: mid.service.p99Ms,
      ingest_non_2xx_count: rounds.reduce((sum, x) => sum + x.service.non2xx + x.service.errors, 0),
      ingest_cpu_ms_per_webhook: mid.service.cpuMsPerOk,
      ingest_baseline_cpu_ms_per_webhook: mid.baseline.cpuMsPerOk,
      // the same process's settlement worker meanwhile: what the webhooks share the event loop and the cores with
      ingest_settled_per_s: mid.service.settledPerS,
    });
  }

  if (PHASES.has('tracing')) {
    const invoices = await insertInvoices(bench, 2000, { totalMinor: 1_000_000_000 });
    step(`ingest: --role api with tracing off, then on (OTLP export to a local receiver), ${TRACING_SECONDS} s each`);
    const cost = await tracingPhase(bench, invoices, TRACING_SECONDS);
    step(
      `  off ${cost.off.okPerS}/s (${cost.off.cpuMsPerOk} ms CPU), on ${cost.on.okPerS}/s (${cost.on.cpuMsPerOk} ms CPU), ` +
        `${cost.exportRequests} OTLP exports, ${cost.exportedKb} KiB`,
    );
    Object.assign(r, {
      ingest_per_s_tracing_off: cost.off.okPerS,
      ingest_per_s_tracing: cost.on.okPerS,
      ingest_tracing_ratio: ratio(cost.on.okPerS, cost.off.okPerS),
      ingest_cpu_ms_per_webhook_tracing_off: cost.off.cpuMsPerOk,
      ingest_cpu_ms_per_webhook_tracing: cost.on.cpuMsPerOk,
    });
  }

  if (PHASES.has('settle')) {
    const invoices = Math.round(SETTLE_EVENTS / 10);
    step(
      `settlement: ${SETTLE_EVENTS.toLocaleString('en-US')} events over ${invoices} invoices (per-event pg, batched SQL, then one worker)`,
    );
    const settle = await settlementPhase(
      bench,
      await insertInvoices(bench, invoices, { totalMinor: 1000 }),
      SETTLE_EVENTS,
    );
    Object.assign(r, {
      settle_per_s: settle.perS,
      settle_baseline_per_s: settle.baselinePerS,
      settle_ratio: ratio(settle.perS, settle.baselinePerS),
      settle_limit_per_s: settle.limitPerS,
      settle_limit_ratio: ratio(settle.perS, settle.limitPerS),
      settle_worker_cpu_ms_per_event: settle.cpuMsPerEvent,
      settle_baseline_client_cpu_ms_per_event: settle.baselineCpuMsPerEvent,
      settle_drained_events: settle.drained,
      settle_events: SETTLE_EVENTS,
    });
    plot.settle.push({ rows: 0, perS: settle.perS });
    plot.baselinePerS = settle.baselinePerS;
    plot.limitPerS = settle.limitPerS;
  }

  if (PHASES.has('e2e')) {
    const e2eLine = (rate: number, e: LatencyResult) =>
      step(
        `  ${rate}/s: p50 ${e.p50Ms} ms, p99 ${e.p99Ms} ms; ${e.ok}/${e.sent} answered 200 (HTTP p99 ${e.httpP99Ms} ms), ${e.settled}/${e.sent} settled`,
      );
    for (const rate of SWEEP.filter((x) => x < E2E_RATE)) {
      step(`end-to-end latency curve: ${rate}/s for ${SWEEP_SECONDS} s`);
      const e = await latencyPhase(bench, rate, SWEEP_SECONDS, `service-e2e-${rate}`);
      e2eLine(rate, e);
      plot.latency.push({ rate, p50: e.p50Ms, p99: e.p99Ms, unsettled: e.sent - e.settled });
    }
    step(`end-to-end latency: ${E2E_RATE}/s for ${E2E_SECONDS} s, all roles`);
    const e2e = await latencyPhase(bench, E2E_RATE, E2E_SECONDS);
    e2eLine(E2E_RATE, e2e);
    step(
      `  service event loop delay p99 ${e2e.loopLagP99Ms} ms, max ${e2e.loopLagMaxMs} ms; settlement unit of work mean ${e2e.settleMeanMs} ms; RSS ${bench.rss['service-e2e']} MB`,
    );
    plot.latency.push({ rate: E2E_RATE, p50: e2e.p50Ms, p99: e2e.p99Ms, unsettled: e2e.sent - e2e.settled });
    // before the overloaded rates of the curve, whose aftermath (autovacuum, a hot NATS store) would weigh on it
    step(`end-to-end latency: ${E2E_RATE}/s for ${E2E_SECONDS} s, --role api and --role worker processes`);
    const split = await latencyPhase(bench, E2E_RATE, E2E_SECONDS, 'service-e2e-split', true);
    e2eLine(E2E_RATE, split);
    step(
      `  worker settlement unit of work mean ${split.settleMeanMs} ms; RSS api ${bench.rss['service-e2e-split']} MB, worker ${bench.rss['service-e2e-split-worker']} MB`,
    );
    Object.assign(r, {
      e2e_split_p50_ms: split.p50Ms,
      e2e_split_p99_ms: split.p99Ms,
      e2e_split_http_p99_ms: split.httpP99Ms,
      e2e_split_unsettled_count: split.sent - split.settled,
    });
    for (const rate of SWEEP.filter((x) => x > E2E_RATE)) {
      step(`end-to-end latency curve: ${rate}/s for ${SWEEP_SECONDS} s`);
      const e = await latencyPhase(bench, rate, SWEEP_SECONDS, `service-e2e-${rate}`);
      e2eLine(rate, e);
      plot.latency.push({ rate, p50: e.p50Ms, p99: e.p99Ms, unsettled: e.sent - e.settled });
    }
    Object.assign(r, {
      e2e_p50_ms: e2e.p50Ms,
      e2e_p95_ms: e2e.p95Ms,
      e2e_p99_ms: e2e.p99Ms,
      e2e_max_ms: e2e.maxMs,
      e2e_http_p99_ms: e2e.httpP99Ms,
      e2e_event_loop_lag_p99_ms: e2e.loopLagP99Ms,
      e2e_event_loop_lag_max_ms: e2e.loopLagMaxMs,
      e2e_settle_unit_of_work_mean_ms: e2e.settleMeanMs,
      e2e_rate_per_s: E2E_RATE,
      e2e_seconds: E2E_SECONDS,
      e2e_unsettled_count: e2e.sent - e2e.settled,
      rss_mb: bench.rss['service-e2e'],
      e2e_curve: plot.latency
        .map((p) => `${p.rate}/s p50 ${p.p50} p99 ${p.p99}${p.unsettled ? ` (${p.unsettled} unsettled)` : ''}`)
        .join('; '),
    });
  }

  if (PHASES.has('graph')) {
    step('graph: _entities for 10 and 100 invoices (in-process service, statements counted)');
    const graph = await graphPhase(bench, 200);
    step(
      `  ${graph.statements10} / ${graph.statements100} statements; p50 ${graph.p50Ms} ms, p99 ${graph.p99Ms} ms; one warm request: ${graph.sample.map((sql) => sql.slice(0, 60)).join(' | ')}`,
    );
    Object.assign(r, {
      graph_sql_statements: graph.statements100,
      graph_sql_statements_10: graph.statements10,
      graph_p50_ms: graph.p50Ms,
      graph_p99_ms: graph.p99Ms,
    });
  }

  if (PHASES.has('growth')) {
    const invoices = Math.round(SETTLE_EVENTS / 10);
    step(
      `growth: ${GROWTH_ROWS.toLocaleString('en-US')} ledger rows and ${(GROWTH_ROWS / 10).toLocaleString('en-US')} invoices in a database of their own, then settlement and graph again`,
    );
    const growth = await growthPhase(bench, {
      ledgerRows: GROWTH_ROWS,
      settleInvoices: invoices,
      settleEvents: SETTLE_EVENTS,
      graphRequests: 200,
    });
    explain = growth.explain;
    step(`  sequential scans of large tables in the hot plans: ${growth.seqScans.join(', ') || 'none'}`);
    Object.assign(r, {
      growth_ledger_rows: growth.ledgerRows,
      growth_invoices: growth.invoices,
      growth_load_s: growth.loadSeconds,
      settle_per_s_1m: growth.settlePerS,
      graph_p50_ms_1m: growth.graph.p50Ms,
      graph_p99_ms_1m: growth.graph.p99Ms,
      graph_sql_statements_1m: growth.graph.statements100,
      hot_plan_seq_scans: growth.seqScans.join(',') || 'none',
    });
    if (r.settle_per_s) r.settle_growth_ratio = ratio(growth.settlePerS, Number(r.settle_per_s));
    if (r.graph_p99_ms) r.graph_p99_growth_ratio = ratio(growth.graph.p99Ms, Number(r.graph_p99_ms));
    plot.settle.push({ rows: GROWTH_ROWS, perS: growth.settlePerS });
  }

  if (Object.keys(bench.rss).length) r.rss_peak_mb = Math.max(...Object.values(bench.rss));
  plot.title = `npm run bench${QUICK ? ' --quick' : ''}, ${new Date().toISOString().slice(0, 16)}Z, ${r.cpu_count} cores shared with NATS, PostgreSQL and the load generator (load average ${r.load_avg_1m_at_start} at start)`;
  return { results: r, plot, explain };
}

function table(r: Results, bench: Bench): string {
  const n = (key: string) => Number(r[key]);
  const has = (...keys: string[]) => keys.every((key) => r[key] !== undefined);
  const fmt = (value: number, unit = '') => `${value.toLocaleString('en-US')}${unit}`;
  const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows: Array<[string, string, string, string]> = [];
  const row = (keys: string[], cells: () => [string, string, string, string]) => {
    if (has(...keys)) rows.push(cells());
  };
  row(['ingest_per_s'], () => ['ingest: service, all roles (median round)', fmt(n('ingest_per_s'), ' /s'), '', '']);
  row(['ingest_baseline_http_per_s'], () => [
    'ingest: minimal node:http server',
    fmt(n('ingest_baseline_http_per_s'), ' /s'),
    'baseline',
    '',
  ]);
  row(['jetstream_publish_per_s'], () => [
    'ingest: raw JetStream publish',
    fmt(n('jetstream_publish_per_s'), ' /s'),
    'ceiling',
    '',
  ]);
  row(['ingest_ratio'], () => [
    `ingest ratio service / minimal (${r.ingest_rounds} rounds)`,
    `${pct(n('ingest_ratio'))} (min ${pct(n('ingest_ratio_min'))}, max ${pct(n('ingest_ratio_max'))})`,
    '≥ 75 % every round',
    mark(n('ingest_ratio_min') >= 0.75),
  ]);
  row(['ingest_api_only_per_s'], () => [
    '  (diagnostic) --role api only',
    `${fmt(n('ingest_api_only_per_s'), ' /s')} = ${pct(n('ingest_api_only_ratio'))}`,
    '',
    '',
  ]);
  row(['ingest_cpu_ms_per_webhook'], () => [
    '  CPU per webhook: service / minimal',
    `${n('ingest_cpu_ms_per_webhook')} / ${n('ingest_baseline_cpu_ms_per_webhook')} ms`,
    '',
    '',
  ]);
  row(['ingest_settled_per_s'], () => [
    '  settled meanwhile by the same process',
    fmt(n('ingest_settled_per_s'), ' /s'),
    '',
    '',
  ]);
  row(['ingest_per_s_tracing'], () => [
    'ingest --role api: tracing off / on (OTLP)',
    `${fmt(n('ingest_per_s_tracing_off'), ' /s')} / ${fmt(n('ingest_per_s_tracing'), ' /s')} = ${pct(n('ingest_tracing_ratio'))}`,
    '',
    '',
  ]);
  row(['ingest_cpu_ms_per_webhook_tracing'], () => [
    '  CPU per webhook: tracing off / on',
    `${n('ingest_cpu_ms_per_webhook_tracing_off')} / ${n('ingest_cpu_ms_per_webhook_tracing')} ms`,
    '',
    '',
  ]);
  row(['settle_per_s'], () => ['settlement: one worker', fmt(n('settle_per_s'), ' /s'), '', '']);
  row(['settle_baseline_per_s'], () => [
    'settlement: per-event plain pg, 16 conns',
    fmt(n('settle_baseline_per_s'), ' /s'),
    'baseline',
    '',
  ]);
  row(['settle_limit_per_s'], () => [
    'settlement: batched SQL, 4 conns',
    fmt(n('settle_limit_per_s'), ' /s'),
    'limit',
    '',
  ]);
  row(['settle_ratio'], () => [
    'settle ratio worker / per-event pg',
    pct(n('settle_ratio')),
    '≥ 100 %',
    mark(n('settle_ratio') >= 1),
  ]);
  row(['settle_limit_ratio'], () => [
    'settle limit ratio worker / batched SQL',
    pct(n('settle_limit_ratio')),
    '≥ 50 %',
    mark(n('settle_limit_ratio') >= 0.5),
  ]);
  row(['settle_worker_cpu_ms_per_event'], () => [
    '  CPU per event: worker / pg client',
    `${n('settle_worker_cpu_ms_per_event')} / ${n('settle_baseline_client_cpu_ms_per_event')} ms`,
    '',
    '',
  ]);
  row(['e2e_p50_ms'], () => [
    `e2e p50 / p95 at ${r.e2e_rate_per_s}/s`,
    `${n('e2e_p50_ms')} / ${n('e2e_p95_ms')} ms`,
    '',
    '',
  ]);
  row(['e2e_p99_ms'], () => [
    `e2e p99 at ${r.e2e_rate_per_s}/s`,
    `${n('e2e_p99_ms')} ms${n('e2e_unsettled_count') ? ` (≥: ${n('e2e_unsettled_count')} unsettled)` : ''}`,
    '≤ 50 ms at 1,000/s, none unsettled',
    mark(n('e2e_p99_ms') <= 50 && n('e2e_unsettled_count') === 0 && n('e2e_rate_per_s') >= 1000),
  ]);
  row(['e2e_max_ms'], () => ['e2e max', `${n('e2e_max_ms')} ms`, '', '']);
  row(['e2e_split_p99_ms'], () => [
    `  (diagnostic) api + worker processes: p50 / p99`,
    `${n('e2e_split_p50_ms')} / ${n('e2e_split_p99_ms')} ms${n('e2e_split_unsettled_count') ? ` (≥: ${n('e2e_split_unsettled_count')} unsettled)` : ''}`,
    '',
    '',
  ]);
  row(['rss_mb'], () => [
    'RSS of the service under e2e load',
    `${n('rss_mb')} MB`,
    '≤ 200 MB',
    mark(n('rss_mb') <= 200),
  ]);
  row(['graph_sql_statements'], () => [
    'graph: SQL statements, 100 inv.',
    String(n('graph_sql_statements')),
    '≤ 4',
    mark(n('graph_sql_statements') <= 4),
  ]);
  row(['graph_sql_statements_10'], () => [
    'graph: SQL statements, 10 inv.',
    String(n('graph_sql_statements_10')),
    '≤ 4, = 100-invoice count',
    mark(n('graph_sql_statements_10') <= 4 && n('graph_sql_statements_10') === n('graph_sql_statements')),
  ]);
  row(['graph_p50_ms'], () => [
    'graph: p50 / p99 (100 inv.)',
    `${n('graph_p50_ms')} / ${n('graph_p99_ms')} ms`,
    '',
    '',
  ]);
  row(['settle_per_s_1m'], () => [
    `settlement with ${fmt(n('growth_ledger_rows'))} ledger rows`,
    `${fmt(n('settle_per_s_1m'), ' /s')}${has('settle_growth_ratio') ? ` = ${pct(n('settle_growth_ratio'))} of empty` : ''}`,
    '≥ 85 % of empty',
    has('settle_growth_ratio') ? mark(n('settle_growth_ratio') >= 0.85) : '',
  ]);
  row(['graph_p99_ms_1m'], () => [
    `graph p50 / p99 with ${fmt(n('growth_ledger_rows'))} rows`,
    `${n('graph_p50_ms_1m')} / ${n('graph_p99_ms_1m')} ms${has('graph_p99_growth_ratio') ? ` = ${pct(n('graph_p99_growth_ratio'))} of empty` : ''}`,
    '≤ 115 % of empty',
    has('graph_p99_growth_ratio') ? mark(n('graph_p99_growth_ratio') <= 1.15) : '',
  ]);
  row(['hot_plan_seq_scans'], () => [
    'seq scans of large tables in hot plans',
    String(r.hot_plan_seq_scans),
    'none',
    mark(r.hot_plan_seq_scans === 'none'),
  ]);
  row(['rss_peak_mb'], () => [
    'peak RSS of any service process',
    `${n('rss_peak_mb')} MB`,
    '≤ 250 MB',
    mark(n('rss_peak_mb') <= 250),
  ]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((cells) => cells[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell)).join('  ');
  const rss = Object.entries(bench.rss)
    .map(([label, mb]) => `${label} ${mb} MB`)
    .join(', ');
  return [
    line(['metric', 'value', 'target', '']),
    ...rows.map(line),
    '',
    `peak RSS by process: ${rss}`,
    `cpus: ${r.cpu_count}, load average at start: ${r.load_avg_1m_at_start}${QUICK ? ' (--quick: short phases)' : ''}`,
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
  let measured: Awaited<ReturnType<typeof measure>>;
  try {
    measured = await measure(bench);
  } catch (error) {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await clean();
    process.exit(1);
  }
  clearTimeout(watchdog);
  const problems = await clean();
  const results: Results = {
    ...measured.results,
    quick: QUICK ? 1 : 0,
    duration_s: Math.round((Date.now() - started) / 1000),
    run_at: new Date().toISOString(),
  };
  // a partial run never overwrites the committed figures
  const dir = ALL_PHASES ? join(ROOT, 'bench') : join(ROOT, 'dist', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => join(dir, ALL_PHASES ? name : name.replace('results', 'results-partial'));
  writeFileSync(file('results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(file('results.svg'), renderSvg(measured.plot));
  if (measured.explain) writeFileSync(join(dir, 'explain.txt'), `${measured.explain}\n`);
  process.stdout.write(
    `\n${table(results, bench)}\n\nwrote ${file('results.json')}, ${file('results.svg')} (${results.duration_s} s)\n`,
  );
  if (problems.length) process.stderr.write(`clean-up problems: ${problems.join('; ')}\n`);
  if (bench.profile) {
    for (const label of Object.keys(bench.rss)) {
      const file = join(PROFILE_DIR, `${label}.cpuprofile`);
      if (existsSync(file)) process.stdout.write(`\n${formatSummary(`${label} (${file})`, summariseProfile(file))}\n`);
    }
  }
}

void main();
