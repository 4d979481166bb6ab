import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { jetStreamNames } from '../src/jetstream/names.js';
import { startFakeStripe, type FakeStripe } from '../test/fakes/stripe/fake-stripe.server.js';
import { startPrivateNats, type PrivateNats } from '../test/helpers/private-nats.js';
import { SettlementProgress } from '../test/helpers/settlement-progress.js';
import { cpuMs } from './processes.js';
import {
  latencies,
  reconcile,
  rssTrend,
  slowSettlements,
  type Growth,
  type LatencyWindow,
  type Reconciliation,
  type RssSample,
} from './soak-report.js';
import {
  CLUSTER_APIS,
  faultSchedule,
  runFault,
  startSoakCluster,
  type FaultContext,
  type SoakCluster,
} from './soak-cluster.js';
import {
  heapUsedMb,
  liveChildren,
  parseFlags,
  prng,
  rssMb,
  soakDbUrl,
  spawnService,
  type ChaosRecord,
  type ServiceProc,
} from './soak-support.js';
import { Traffic, type InvoicePlan } from './soak-traffic.js';
import { adminQuery, ROOT, sleep, step } from './support.js';

/**
 * `npm run soak -- [--minutes 10] [--rate 60] [--workers 2] [--seed S]`: the service under steady webhook traffic for
 * minutes, with chaos (a worker restarted every ~90 s, alternately SIGTERM and kill -9; one NATS outage mid-run), then
 * an exact reconciliation of the ledger against everything acknowledged, latency per minute and the RSS trend.
 * Everything is its own: database `wp_soak_<id>`, subject prefix `soak_<id>`, a private nats-server on a spare port,
 * a fake Stripe. A script, not a test: exit 1 when the reconciliation is not exact or the run went wrong.
 * Writes bench/soak-results.json (bench/soak-cluster-results.json with `--cluster`); removes its processes, NATS store and database, also on Ctrl-C.
 *
 * `--cluster`: the same traffic and checks on three nats-servers in one JetStream cluster (streams R3, `NATS_URL`
 * listing all three) and a private PostgreSQL 15, with two api and K worker processes; instead of the chaos above,
 * faults in turn (bench/soak-cluster.ts): kill -9 of the events stream's leader (started again 10 s later), PostgreSQL
 * stopped for 20 s, kill -9 of a worker (started again); each fault's recovery time is printed and written.
 */

const RESTART_EVERY_MS = 90_000;
const OUTAGE_MS = 8_000;
const SAMPLE_EVERY_MS = 10_000;
const FINISH_TIMEOUT_MS = 180_000;

const flags = parseFlags(process.argv.slice(2));
const id = randomBytes(4).toString('hex');
const dbName = `wp_soak_${id}`;
const prefix = `soak_${id}`;
const names = jetStreamNames(prefix);
const tmp = mkdtempSync(join(tmpdir(), `wp-soak-${id}-`));
const logDir = join(tmp, 'logs');
mkdirSync(logDir);

let nats: PrivateNats | undefined;
let cluster: SoakCluster | undefined;

/** Single-node and cluster runs keep their own results, so one never overwrites the other's figures. */
const resultsFile = (onCluster: boolean) => (onCluster ? 'soak-cluster-results.json' : 'soak-results.json');
let settlement: SettlementProgress | undefined;
let fake: FakeStripe | undefined;
let pool: Pool | undefined;
let monitor: NatsConnection | undefined;
let traffic: Traffic | undefined;
let dbCreated = false;
let keepLogs = flags.keepLogs;
const problems: string[] = [];
const chaos: ChaosRecord[] = [];
const samples: RssSample[] = [];
/** Processes whose exit we caused (anything else exiting is a problem). */
const expectedExit = new Set<number>();

async function cleanup(): Promise<string[]> {
  const issues: string[] = [];
  traffic?.abandon();
  settlement?.stop();
  for (const child of liveChildren()) child.kill('SIGKILL');
  await monitor?.close().catch(() => undefined);
  if (cluster) await cluster.dispose().catch((error: Error) => issues.push(`cluster: ${error.message}`)); // servers, stores, data
  if (nats) {
    writeFileSync(join(logDir, 'nats-server.log'), nats.output());
    await nats.dispose(); // stops it and removes its store
  }
  await fake?.close().catch(() => undefined);
  await pool?.end().catch(() => undefined);
  if (dbCreated) {
    await adminQuery(`drop database if exists "${dbName}" with (force)`).catch((error: Error) =>
      issues.push(`database: ${error.message}`),
    );
  }
  if (!keepLogs) rmSync(tmp, { recursive: true, force: true });
  return issues;
}

let cleaning: Promise<string[]> | undefined;
const clean = () => (cleaning ??= cleanup());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(
      `\nsoak: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; cleaning up (child processes, nats-server and its store, database ${dbName})\n`,
    );
    void clean().finally(() => process.exit(130));
  });
}
process.once('exit', () => {
  // the private nats-server(s) and PostgreSQL are stopped by their helpers' own exit handlers
  for (const child of liveChildren()) child.kill('SIGKILL');
});

const sinceS = (t0: number) => Math.round((Date.now() - t0) / 100) / 10;

async function opsStatus(env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist', 'src', 'cli', 'payments-ops.js'), 'status', '--json'],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error) resolve({ error: (stderr || error.message).trim().split('\n').slice(-3).join(' ') });
        else {
          try {
            resolve(JSON.parse(stdout));
          } catch {
            resolve({ error: `not JSON: ${stdout.slice(0, 200)}` });
          }
        }
      },
    );
  });
}

async function consumerState(
  jsm: JetStreamManager,
): Promise<{ pending: number; ackPending: number; redelivered: number; dlq: number; stored: number } | null> {
  try {
    const [consumer, dlq, events] = await Promise.all([
      jsm.consumers.info(names.eventsStream, names.consumer),
      jsm.streams.info(names.dlqStream),
      jsm.streams.info(names.eventsStream),
    ]);
    return {
      pending: consumer.num_pending,
      ackPending: consumer.num_ack_pending,
      redelivered: consumer.num_redelivered,
      dlq: dlq.state.messages,
      stored: events.state.messages,
    };
  } catch {
    return null;
  }
}

function planInvoices(random: () => number, count: number): InvoicePlan[] {
  const plans: InvoicePlan[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    const status: InvoicePlan['status'] = r < 0.03 ? 'draft' : r < 0.05 ? 'void' : r < 0.12 ? 'overdue' : 'sent';
    plans.push({
      id: randomUUID(),
      number: `SOAK-${String(i + 1).padStart(4, '0')}`,
      currency: random() < 0.1 ? 'JPY' : 'EUR',
      // 100–20,000 EUR (or the same figure in JPY): with ~1–100 per session, some end paid (and overpaid), most partial
      totalMinor: 10_000 + Math.floor(random() * 1_990_000),
      status,
      dueDate: status === 'overdue' ? '2024-01-31' : '2099-12-31',
    });
  }
  return plans;
}

async function run(): Promise<number> {
  const started = Date.now();
  const loadAtStart = loadavg()[0];
  const random = prng(flags.seed);
  const durationMs = Math.round(flags.minutes * 60_000);
  step(
    `soak ${id}${flags.cluster ? ' on a cluster' : ''}: ${flags.minutes} min at ${flags.rate} webhooks/s, ${flags.workers} worker(s), seed ${flags.seed}; database ${dbName}, prefix ${prefix}, logs ${logDir}`,
  );

  let dbUrl: string;
  let natsUrl: string;
  if (flags.cluster) {
    cluster = await startSoakCluster(dbName, logDir);
    dbUrl = cluster.dbUrl;
    natsUrl = cluster.nats.url;
    step(
      `JetStream cluster ${cluster.nats.nodes.map((node) => `${node.name} ${node.url}`).join(', ')}; private PostgreSQL on port ${cluster.pg.port}`,
    );
  } else {
    await adminQuery(`create database "${dbName}"`);
    dbCreated = true;
    dbUrl = soakDbUrl(dbName);
    nats = await startPrivateNats();
    natsUrl = nats.url;
    step(`private nats-server ${nats.url} (store ${nats.storeDir})`);
  }
  fake = await startFakeStripe();
  step(`fake Stripe ${fake.url}`);
  const jwtSecret = randomBytes(32).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: flags.logLevel,
    DATABASE_URL: dbUrl,
    NATS_URL: natsUrl,
    ...(flags.cluster ? { NATS_STREAM_REPLICAS: '3' } : {}),
    NATS_SUBJECT_PREFIX: prefix,
    AUTH_JWT_SECRET: jwtSecret,
    PAYMENTS_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    STRIPE_API_URL: fake.url,
  };

  // processes: one api (two on a cluster; the first migrates the new database), K workers
  const generations = new Map<string, number>();
  const launch = async (role: 'api' | 'worker', index = 0): Promise<ServiceProc> => {
    const generation = (generations.get(`${role}-${index}`) ?? 0) + 1;
    generations.set(`${role}-${index}`, generation);
    const name = role === 'api' && !flags.cluster ? 'api' : `${role}-${index}`;
    const label = `${name}${generation > 1 ? `#${generation}` : ''}`;
    const proc = await spawnService(label, role, env, join(logDir, `${label.replace('#', '.g')}.log`));
    void proc.exited.then((exit) => {
      if (expectedExit.has(proc.pid) || cleaning) return; // ours, or the clean-up's (Ctrl-C)
      problems.push(
        `${label} (pid ${proc.pid}) exited unexpectedly at t+${sinceS(started)} s: code ${exit.code}, signal ${exit.signal} (log ${proc.logFile})`,
      );
      step(`!! ${label} exited unexpectedly (code ${exit.code}, signal ${exit.signal})`);
    });
    return proc;
  };
  const apis: ServiceProc[] = [];
  for (let k = 0; k < (flags.cluster ? CLUSTER_APIS : 1); k++) apis.push(await launch('api', k));
  const api = apis[0];
  const workers: ServiceProc[] = [];
  for (let k = 0; k < flags.workers; k++) workers.push(await launch('worker', k));
  step(
    `${apis.map((a) => `${a.label} ${a.url} (pid ${a.pid})`).join(', ')}; workers ${workers.map((w) => `${w.label} pid ${w.pid}`).join(', ')}`,
  );

  // the workspace connects Stripe the way a user does: saveStripeKeys through GraphQL with a gateway JWT
  const workspaceId = randomUUID();
  const domain = `soak-${id}.workestra.test`;
  const token = await new SignJWT({ workspace_id: workspaceId, workspace_domain: domain, roles: ['owner'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('soak-owner')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(jwtSecret));
  const saved = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query:
        'mutation ($input: SaveStripeKeysInput!) { saveStripeKeys(input: $input) { active webhookSecretMasked webhookUrl } }',
      variables: {
        input: {
          secretKey: `sk_test_soak${randomBytes(12).toString('hex')}`,
          publishableKey: `pk_test_soak${randomBytes(12).toString('hex')}`,
          mode: 'TEST',
          offerCardPayments: true,
        },
      },
    }),
  }).then(
    (response) =>
      response.json() as Promise<{
        data?: { saveStripeKeys: { active: boolean; webhookUrl: string } };
        errors?: unknown;
      }>,
  );
  if (!saved.data?.saveStripeKeys.active)
    throw new Error(`saveStripeKeys failed: ${JSON.stringify(saved.errors ?? saved)}`);
  const endpoint = [...fake.webhookEndpoints.values()].find(
    (candidate) => candidate.url === saved.data!.saveStripeKeys.webhookUrl,
  );
  if (!endpoint?.secret) throw new Error('the fake Stripe holds no webhook endpoint for the workspace');
  step(`workspace ${workspaceId} connected Stripe (saveStripeKeys); webhook endpoint ${endpoint.id} → ${endpoint.url}`);

  // invoices, inserted the way the Invoices service does (plain SQL)
  pool = new Pool({ connectionString: dbUrl, max: 4 });
  pool.on('error', () => undefined); // idle clients are cut when the database is dropped at the end (or stopped)
  const plans = planInvoices(random, flags.invoices);
  for (const plan of plans) {
    await pool.query(
      `insert into invoices (id, workspace_id, number, status, currency, total_minor, paid_minor, due_date, customer_email, customer_name)
       values ($1, $2, $3, $4, $5, $6, 0, $7, 'customer@example.com', 'Customer Ltd')`,
      [plan.id, workspaceId, plan.number, plan.status, plan.currency, plan.totalMinor, plan.dueDate],
    );
  }
  step(
    `${plans.length} invoices (${plans.filter((p) => p.currency === 'JPY').length} JPY; ${plans.filter((p) => p.status !== 'sent').length} draft/void/overdue)`,
  );

  monitor = await connect({
    servers: natsUrl.split(','),
    name: `workestra-soak-${id}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  const jsm = await jetstreamManager(monitor);
  // on a cluster, what JetStream reports (not what was asked for): replicas in place of each stream
  let replicas = '';
  if (flags.cluster) {
    const counts: string[] = [];
    for (const stream of [names.eventsStream, names.dlqStream]) {
      const info = await jsm.streams.info(stream);
      const inPlace = 1 + (info.cluster?.replicas?.length ?? 0);
      counts.push(`${stream} R${info.config.num_replicas} (${inPlace} in place)`);
      if (info.config.num_replicas !== 3 || inPlace !== 3) problems.push(`stream ${stream} is not replicated 3 times`);
    }
    replicas = counts.join(', ');
    step(`streams: ${replicas}`);
  }

  // traffic
  const t0 = Date.now();
  traffic = new Traffic({
    apiUrls: apis.map((a) => a.url),
    host: domain,
    webhookSecret: endpoint.secret,
    workspaceId,
    runId: id,
    rate: flags.rate,
    invoices: plans,
    random,
    startedAt: t0,
  });
  traffic.start();
  step(`traffic started: ${flags.rate}/s for ${flags.minutes} min`);
  if (flags.cluster) {
    settlement = new SettlementProgress(pool);
    settlement.start();
  }

  // RSS and CPU sampling
  const cpuAtStart = new Map<string, number>();
  const sample = () => {
    const at = Date.now();
    for (const proc of [...apis, ...workers]) {
      if (!proc.alive()) continue;
      const mb = rssMb(proc.pid);
      if (mb <= 0) continue;
      const record: RssSample = { at, label: proc.label, role: proc.role, pid: proc.pid, mb, heapMb: NaN };
      samples.push(record);
      void heapUsedMb(proc.url).then((heap) => (record.heapMb = heap));
    }
  };
  for (const proc of [...apis, ...workers]) cpuAtStart.set(proc.label, cpuMs(proc.pid));
  sample();
  const sampler = setInterval(sample, SAMPLE_EVERY_MS);

  // per-minute progress line
  let lastMinute = 0;
  const progress = setInterval(() => {
    const minute = Math.floor((Date.now() - t0) / 60_000);
    if (minute <= lastMinute) return;
    lastMinute = minute;
    const m = traffic!.minutes[minute - 1];
    const apiMb = apis.map((a) => `${a.label} ${rssMb(a.pid)} MB`).join(', ');
    void consumerState(jsm).then((state) => {
      step(
        `minute ${minute}: sent ${m?.sent ?? 0}, 200 ${m?.acknowledged ?? 0}, retries ${m?.retries ?? 0}; consumer pending ${state?.pending ?? '?'}, awaiting ack ${state?.ackPending ?? '?'}, DLQ ${state?.dlq ?? '?'}; RSS ${apiMb}, ${workers.map((w) => `${w.label} ${rssMb(w.pid)} MB`).join(', ')}`,
      );
    });
  }, 1000);

  // chaos schedule: restarts every 90 s (worker-0 stays up as the long-lived RSS reference when K ≥ 2), one outage mid-run;
  // on a cluster, the cluster faults instead
  const restartTargets = flags.workers >= 2 ? Array.from({ length: flags.workers - 1 }, (_, k) => k + 1) : [0];
  const schedule: Array<{ at: number; run: () => Promise<void> }> = [];
  let restartCount = 0;
  for (let at = RESTART_EVERY_MS; !flags.cluster && at <= durationMs - 20_000; at += RESTART_EVERY_MS) {
    const n = restartCount++;
    const graceful = n % 2 === 0;
    const index = restartTargets[n % restartTargets.length];
    schedule.push({
      at,
      run: async () => {
        const old = workers[index];
        const atS = sinceS(t0);
        expectedExit.add(old.pid);
        let detail: string;
        let ok = true;
        if (graceful) {
          const exit = await old.terminate();
          ok = exit.code === 0;
          detail = `SIGTERM → exit code ${exit.code}${exit.signal ? ` (signal ${exit.signal})` : ''} after ${(exit.ms / 1000).toFixed(1)} s`;
          if (!ok) problems.push(`${old.label}: SIGTERM did not exit 0 (${detail})`);
        } else {
          await old.kill9();
          detail = 'kill -9';
        }
        const restarted = Date.now();
        workers[index] = await launch('worker', index);
        cpuAtStart.set(workers[index].label, cpuMs(workers[index].pid));
        detail += `; ${workers[index].label} ready in ${((Date.now() - restarted) / 1000).toFixed(1)} s`;
        chaos.push({
          atS,
          action: graceful ? 'restart (SIGTERM)' : 'restart (kill -9)',
          target: old.label,
          detail,
          ok,
        });
        step(`chaos: ${old.label} ${detail}`);
      },
    });
  }
  let outageAt = Math.round(durationMs / 2);
  while (schedule.some((item) => Math.abs(item.at - outageAt) < 20_000)) outageAt += 5_000;
  if (!flags.cluster)
    schedule.push({
      at: outageAt,
      run: async () => {
        const atS = sinceS(t0);
        const failuresBefore = { ...traffic!.counters.failures };
        const down = Date.now();
        await nats!.stop();
        step(`chaos: private nats-server stopped (SIGTERM) for ${OUTAGE_MS / 1000} s`);
        await sleep(OUTAGE_MS - (Date.now() - down));
        await nats!.start();
        const upAt = Date.now();
        const downS = ((upAt - down) / 1000).toFixed(1);
        // every service process must be ready again (their NATS connections reconnect on their own)
        const readyAfter: string[] = [];
        let ok = true;
        for (const proc of [...apis, ...workers]) {
          const deadline = Date.now() + 60_000;
          let ready = false;
          while (!ready && Date.now() < deadline) {
            ready = await fetch(`${proc.url}/readyz`).then(
              (r) => r.status === 200,
              () => false,
            );
            if (!ready) await sleep(100);
          }
          if (!ready) {
            ok = false;
            problems.push(`${proc.label} not ready within 60 s after the NATS outage`);
          }
          readyAfter.push(`${proc.label} ${ready ? `${((Date.now() - upAt) / 1000).toFixed(1)} s` : 'NOT READY'}`);
        }
        // settlement resumed: the first ledger row written by a transaction that began after the restart
        let resumedS = 'not within 60 s';
        while (Date.now() - upAt < 60_000) {
          const { rows } = await pool!.query<{ ms: number | null }>(
            'select (extract(epoch from max(updated_at)) * 1000)::float8 as ms from invoice_payments',
          );
          if ((rows[0].ms ?? 0) > upAt) {
            resumedS = `${((rows[0].ms! - upAt) / 1000).toFixed(1)} s`;
            break;
          }
          await sleep(100);
        }
        const failed = (key: string) => (traffic!.counters.failures[key] ?? 0) - (failuresBefore[key] ?? 0);
        await sleep(3000);
        const detail = `down ${downS} s; /readyz 200 again after the restart: ${readyAfter.join(', ')}; settlement resumed after ${resumedS}; webhooks answered 503: ${failed('503')}, connection errors ${failed('conn')}`;
        chaos.push({ atS, action: 'NATS outage', target: 'private nats-server', detail, ok });
        step(`chaos: ${detail}`);
      },
    });
  if (cluster) {
    const ctx: FaultContext = {
      cluster,
      progress: settlement!,
      eventsStream: names.eventsStream,
      sinceS: () => sinceS(t0),
      failures: () => traffic!.counters.failures,
      dlq: async () => (await consumerState(jsm))?.dlq ?? null,
      restartWorker: async () => {
        const index = restartTargets[restartCount++ % restartTargets.length];
        const old = workers[index];
        expectedExit.add(old.pid);
        await old.kill9();
        const restarted = Date.now();
        workers[index] = await launch('worker', index);
        cpuAtStart.set(workers[index].label, cpuMs(workers[index].pid));
        return `${old.label} (pid ${old.pid}) kill -9; ${workers[index].label} ready in ${((Date.now() - restarted) / 1000).toFixed(1)} s`;
      },
    };
    for (const fault of faultSchedule(durationMs))
      schedule.push({
        at: fault.at,
        run: async () => {
          const record = await runFault(fault.kind, ctx);
          chaos.push(record);
          step(`chaos: ${record.action} ${record.target}: ${record.detail}`);
        },
      });
  }
  schedule.sort((a, b) => a.at - b.at);
  const chaosLoop = (async () => {
    for (const item of schedule) {
      const wait = t0 + item.at - Date.now();
      if (wait > 0) await sleep(wait);
      await item.run();
    }
  })();

  await sleep(t0 + durationMs - Date.now());
  await chaosLoop;
  step(`traffic stopped after ${sinceS(t0)} s; waiting for open deliveries (retries) to be answered`);
  const finishTimer = setTimeout(() => traffic!.abandon(), FINISH_TIMEOUT_MS);
  await traffic.finish();
  clearTimeout(finishTimer);
  const trafficEndS = sinceS(t0);

  // drain: the consumer idle and the ledger exact, or the timeout
  step(`waiting up to ${flags.drainTimeoutS} s for the backlog to drain`);
  const drainStarted = Date.now();
  let reconciliation: Reconciliation | undefined;
  let ledger = new Map<string, { status: string; updated_ms: number }>();
  let drained = false;
  let lastState: Awaited<ReturnType<typeof consumerState>> = null;
  let lastCheck = 0;
  while (Date.now() - drainStarted < flags.drainTimeoutS * 1000) {
    lastState = await consumerState(jsm);
    if (lastState && lastState.pending === 0 && lastState.ackPending === 0 && Date.now() - lastCheck > 3000) {
      lastCheck = Date.now();
      const checked = await reconcile(pool, workspaceId, plans, traffic);
      reconciliation = checked.result;
      ledger = checked.ledger;
      if (reconciliation.exact) {
        drained = true;
        break;
      }
    }
    await sleep(1000);
  }
  const drainS = Math.round((Date.now() - drainStarted) / 100) / 10;
  if (!drained) {
    lastState = await consumerState(jsm);
    const checked = await reconcile(pool, workspaceId, plans, traffic);
    reconciliation = checked.result;
    ledger = checked.ledger;
    problems.push(
      `backlog not drained / ledger not exact within ${flags.drainTimeoutS} s (consumer pending ${lastState?.pending}, awaiting ack ${lastState?.ackPending}, DLQ ${lastState?.dlq})`,
    );
  }
  clearInterval(sampler);
  clearInterval(progress);
  step(`drain ${drained ? 'complete' : 'TIMED OUT'} after ${drainS} s`);
  const ops = await opsStatus(env);

  // graceful stop of everything still running (each must exit 0)
  const cpuSeconds: Record<string, number> = {};
  for (const proc of [...apis, ...workers])
    cpuSeconds[proc.label] = Math.round((cpuMs(proc.pid) - (cpuAtStart.get(proc.label) ?? 0)) / 100) / 10;
  for (const proc of [...workers, ...apis]) {
    expectedExit.add(proc.pid);
    const exit = await proc.terminate();
    if (exit.code !== 0)
      problems.push(`${proc.label}: final SIGTERM → exit code ${exit.code} signal ${exit.signal} after ${exit.ms} ms`);
  }

  const rec = reconciliation!;
  const lat = latencies(traffic, ledger, t0);
  // per-session timings for investigation (kept with the logs)
  const csv = ['session,invoice,async,first_attempt_ms,accepted_attempt_ms,acked_ms,settled_ms,ledger_status'];
  for (const session of traffic.sessions) {
    const row = ledger.get(session.id);
    const rel = (at: number | undefined) => (at === undefined ? '' : String(Math.round(at - t0)));
    csv.push(
      [
        session.id,
        plans[session.invoice].number,
        session.async,
        rel(session.successFirstSentAt),
        rel(session.successAcceptedAttemptAt),
        rel(session.successAckedAt),
        rel(row?.updated_ms),
        row?.status ?? '',
      ].join(','),
    );
  }
  writeFileSync(join(logDir, 'sessions.csv'), `${csv.join('\n')}\n`);
  const rss = rssTrend(samples, t0, Math.ceil(flags.minutes));
  const slow = slowSettlements(
    traffic,
    ledger,
    t0,
    chaos.map((record) => record.atS),
  );
  chaos.forEach((record, index) => (record.slowSettlements = slow.byStep[index]));
  const c = traffic.counters;
  if (!rec.exact) problems.push(`reconciliation NOT exact: ${rec.mismatchCount} mismatch(es)`);
  if (c.unacknowledged > 0) problems.push(`${c.unacknowledged} webhook(s) never answered 200`);
  if ((lastState?.dlq ?? 0) > 0) problems.push(`${lastState?.dlq} message(s) dead-lettered`);
  for (const record of chaos)
    if (!record.ok) problems.push(`chaos step failed: ${record.action} ${record.target}: ${record.detail}`);
  const results = {
    run_at: new Date(started).toISOString(),
    machine: `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), load average at start ${Math.round(loadAtStart * 100) / 100}`,
    flags: {
      minutes: flags.minutes,
      rate: flags.rate,
      workers: flags.workers,
      seed: flags.seed,
      invoices: flags.invoices,
    },
    cluster: flags.cluster
      ? {
          setup: `3 nats-servers in one JetStream cluster (${replicas}), private PostgreSQL 15, ${apis.length} api and ${flags.workers} worker processes`,
          fault_recovery_s: chaos.map((record) => ({
            at_s: record.atS,
            fault: record.action,
            target: record.target,
            recovery_s: record.recoveryS ?? null,
          })),
        }
      : null,
    duration_s: Math.round((Date.now() - started) / 1000),
    traffic_s: trafficEndS,
    drain_s: drainS,
    drained,
    events: {
      sent: c.sent,
      acknowledged: c.acknowledged,
      unacknowledged: c.unacknowledged,
      retried_attempts: c.retries,
      http_attempts: c.attempts,
      non_200_answers: c.failures,
      distinct_events: c.distinctEvents,
      distinct_events_acknowledged: c.distinctEventsAcked,
      settled_inbox_applied: rec.inbox.applied ?? 0,
      inbox_by_status: rec.inbox,
      dead_lettered: lastState?.dlq ?? null,
      duplicates_resent: c.resentInWindow + c.resentAfterWindow,
      duplicates_resent_within_jetstream_window: c.resentInWindow,
      duplicates_resent_after_window: c.resentAfterWindow,
      duplicate_answers: c.duplicateAnswers,
      sessions: c.sessions,
      async_sessions: c.asyncSessions,
      stream_messages: lastState?.stored ?? null,
      consumer_redelivered: lastState?.redelivered ?? null,
    },
    reconciliation: rec,
    latency_ms: {
      accepted_attempt_to_settled: lat.overall,
      first_attempt_to_settled: lat.fromFirstAttempt,
      per_minute: lat.perMinute,
      slow_over_1s_outside_chaos: slow.outside,
    },
    rss_mb: rss,
    cpu_seconds: cpuSeconds,
    chaos,
    ops_status: ops,
    problems,
    ok: problems.length === 0,
  };
  if (!results.ok) keepLogs = true;
  writeFileSync(join(ROOT, 'bench', resultsFile(flags.cluster)), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${summary(results, rec, lat.perMinute, rss)}\n`);
  return results.ok ? 0 : 1;
}

type Results = {
  run_at: string;
  machine: string;
  flags: Record<string, number>;
  cluster: {
    setup: string;
    fault_recovery_s: Array<{ at_s: number; fault: string; target: string; recovery_s: number | null }>;
  } | null;
  duration_s: number;
  traffic_s: number;
  drain_s: number;
  drained: boolean;
  events: Record<string, unknown>;
  latency_ms: {
    accepted_attempt_to_settled: LatencyWindow;
    first_attempt_to_settled: LatencyWindow;
    slow_over_1s_outside_chaos: { count: number; maxMs: number };
  };
  cpu_seconds: Record<string, number>;
  chaos: ChaosRecord[];
  problems: string[];
  ok: boolean;
};

function summary(
  r: Results,
  rec: Reconciliation,
  perMinute: LatencyWindow[],
  rss: ReturnType<typeof rssTrend>,
): string {
  const e = r.events as Record<string, number & Record<string, number>>;
  const fmt = (value: number) => (Number.isFinite(value) ? value.toLocaleString('en-US') : '–');
  const lines: string[] = [];
  lines.push(`SOAK SUMMARY  ${r.run_at}  ${r.machine}`);
  lines.push(
    `flags: ${Object.entries(r.flags)
      .map(([k, v]) => `--${k} ${v}`)
      .join(
        ' ',
      )}${r.cluster ? ' --cluster' : ''}; traffic ${r.traffic_s} s, drain ${r.drain_s} s${r.drained ? '' : ' (TIMED OUT)'}, total ${r.duration_s} s`,
  );
  lines.push('');
  lines.push(
    `webhooks sent ${fmt(e.sent)}, acknowledged (200) ${fmt(e.acknowledged)}, never acknowledged ${fmt(e.unacknowledged)}; HTTP attempts ${fmt(e.http_attempts)}, retried ${fmt(e.retried_attempts)} (non-200: ${
      Object.entries(e.non_200_answers)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ') || 'none'
    })`,
  );
  lines.push(
    `distinct events ${fmt(e.distinct_events)} (acknowledged ${fmt(e.distinct_events_acknowledged)}); settled (webhook_events applied) ${fmt(e.settled_inbox_applied)}; dead-lettered (DLQ) ${fmt(e.dead_lettered)}`,
  );
  lines.push(
    `duplicates resent ${fmt(e.duplicates_resent)} (${fmt(e.duplicates_resent_within_jetstream_window)} inside JetStream's 2-min window, ${fmt(e.duplicates_resent_after_window)} after it); answered duplicate:true ${fmt(e.duplicate_answers)}; stream messages ${fmt(e.stream_messages)}, consumer redeliveries ${fmt(e.consumer_redelivered)}`,
  );
  lines.push(
    `payment sessions ${fmt(e.sessions)} (${fmt(e.async_sessions)} async: completed unpaid → async_payment_succeeded)`,
  );
  lines.push('');
  const money = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([currency, minor]) => `${currency} ${fmt(minor)}`)
      .join(', ');
  lines.push(`RECONCILIATION ${rec.exact ? 'EXACT' : `NOT EXACT: ${rec.mismatchCount} mismatch(es)`}`);
  lines.push(
    `  invoices ${rec.invoices} (paid ${rec.invoicesPaid}, partial ${rec.invoicesPartial}); paid_minor expected ${money(rec.expectedPaidMinor)} / actual ${money(rec.actualPaidMinor)}`,
  );
  lines.push(
    `  ledger rows ${fmt(rec.ledgerRows)} vs distinct acknowledged sessions ${fmt(rec.sessionsExpected)}; acknowledged events ${fmt(rec.distinctEventsAcknowledged)} vs inbox applied ${fmt(rec.inbox.applied ?? 0)}${rec.unresolvedSessions ? `; ${rec.unresolvedSessions} unresolved session(s) not judged` : ''}`,
  );
  for (const mismatch of rec.mismatches) lines.push(`  ✗ ${mismatch}`);
  lines.push('');
  const l = r.latency_ms;
  lines.push(
    `LATENCY webhook 200 → ledger settled (from the start of the accepted attempt): p50 ${l.accepted_attempt_to_settled.p50Ms} ms, p95 ${l.accepted_attempt_to_settled.p95Ms} ms, p99 ${l.accepted_attempt_to_settled.p99Ms} ms, max ${l.accepted_attempt_to_settled.maxMs} ms (n ${fmt(l.accepted_attempt_to_settled.count)})`,
  );
  lines.push(
    `  from the first attempt (incl. the sender's retries): p50 ${l.first_attempt_to_settled.p50Ms} ms, p99 ${l.first_attempt_to_settled.p99Ms} ms, max ${l.first_attempt_to_settled.maxMs} ms`,
  );
  lines.push(
    `  slower than 1 s outside the chaos windows: ${l.slow_over_1s_outside_chaos.count} (max ${l.slow_over_1s_outside_chaos.maxMs} ms)`,
  );
  lines.push(
    `  minute     n      p50      p95      p99      max  | RSS api ${rss.steadyWorker.padStart(8)} wrk max | heap floor api ${rss.steadyWorker.padStart(8)} (MB)`,
  );
  const rows = Math.max(perMinute.length, rss.perMinute.length);
  for (let i = 0; i < rows; i++) {
    const w = perMinute.find((row) => row.minute === i + 1);
    const m = rss.perMinute[i];
    const cell = (value: number | undefined) =>
      (value === undefined || !Number.isFinite(value) ? '–' : String(value)).padStart(8);
    lines.push(
      `  ${String(i + 1).padStart(6)} ${String(w?.count ?? 0).padStart(5)} ${cell(w?.p50Ms)} ${cell(w?.p95Ms)} ${cell(w?.p99Ms)} ${cell(w?.maxMs)}  | ${cell(m?.apiMb).slice(1)} ${cell(m?.steadyWorkerMb)} ${cell(m?.workersMaxMb).slice(1)} |            ${cell(m?.apiHeapFloorMb)} ${cell(m?.steadyWorkerHeapFloorMb)}`,
    );
  }
  lines.push('');
  const trend = (what: string, t: Growth) =>
    `${what}: first minute ${t.firstMinuteMb} MB → last minute ${t.lastMinuteMb} MB (${t.growthMb >= 0 ? '+' : ''}${t.growthMb} MB, ${t.growthPct >= 0 ? '+' : ''}${t.growthPct} %), peak ${t.peakMb} MB`;
  lines.push(`RSS ${trend('api', rss.api)}`);
  lines.push(`RSS ${trend(`${rss.steadyWorker} (longest-lived worker)`, rss.worker)}`);
  lines.push(`heap floor ${trend('api', rss.apiHeapFloor)}`);
  lines.push(`heap floor ${trend(rss.steadyWorker, rss.workerHeapFloor)}`);
  lines.push(
    `CPU seconds: ${Object.entries(r.cpu_seconds)
      .map(([label, s]) => `${label} ${s}`)
      .join(', ')}`,
  );
  lines.push('');
  lines.push('CHAOS');
  for (const record of r.chaos) {
    const slowNote = record.slowSettlements
      ? `; settlements > 1 s: ${record.slowSettlements.count}${record.slowSettlements.count ? ` (max ${(record.slowSettlements.maxMs / 1000).toFixed(1)} s)` : ''}`
      : '';
    lines.push(
      `  t+${String(record.atS).padStart(6)} s  ${record.action.padEnd(18)} ${record.target.padEnd(20)} ${record.detail}${slowNote}${record.ok ? '' : '  ✗'}`,
    );
  }
  if (r.cluster) {
    lines.push('');
    lines.push(`CLUSTER ${r.cluster.setup}`);
    lines.push('  recovery (s from the fault until settlement resumed):');
    for (const fault of r.cluster.fault_recovery_s)
      lines.push(
        `  t+${String(fault.at_s).padStart(6)} s  ${fault.fault.padEnd(18)} ${fault.target.padEnd(20)} ${fault.recovery_s === null ? 'NOT RESUMED' : `${fault.recovery_s.toFixed(1)} s`}`,
      );
  }
  lines.push('');
  lines.push(r.ok ? 'RESULT: OK' : `RESULT: FAILED\n${r.problems.map((problem) => `  - ${problem}`).join('\n')}`);
  lines.push(`wrote bench/${resultsFile(r.cluster !== null)}`);
  return lines.join('\n');
}

void run().then(
  async (code) => {
    const issues = await clean();
    if (issues.length) process.stderr.write(`clean-up problems: ${issues.join('; ')}\n`);
    if (keepLogs) process.stdout.write(`child process logs kept in ${logDir}\n`);
    process.exit(code);
  },
  async (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    keepLogs = true;
    const issues = await clean();
    if (issues.length) process.stderr.write(`clean-up problems: ${issues.join('; ')}\n`);
    process.stderr.write(`child process logs kept in ${logDir}\n`);
    process.exit(1);
  },
);
