import { join } from 'node:path';
import autocannon from 'autocannon';
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { envelopeOf, stripeEventJson, stripeSignature, WEBHOOK_PATH } from './events.js';
import { scrape, spawnChild, type Child } from './processes.js';
import { MAIN, serviceEnv, sleep, type Bench } from './support.js';

/** Phase 1: signed webhooks answered 200 per second, against the service and two baselines. */

export const CONNECTIONS = 64;

export interface LoadResult {
  ok: number;
  okPerS: number;
  /** CPU time of the receiving process per 200 answer (ms). */
  cpuMsPerOk: number;
  non2xx: number;
  errors: number;
  p99Ms: number;
  /** Events the receiving process settled per second meanwhile (a service with the worker role; else NaN). */
  settledPerS: number;
}

/** Unique event numbers across every phase of the run. */
let nextEvent = 1;
export const takeEventNumbers = (count: number) => {
  const first = nextEvent;
  nextEvent += count;
  return first;
};

/** 64 keep-alive connections for `seconds`; each request a fresh event id and signature. */
export async function webhookLoad(
  bench: Bench,
  url: string,
  invoiceIds: string[],
  seconds: number,
): Promise<LoadResult> {
  const target = new URL(url);
  const result = await autocannon({
    url: `${target.origin}${WEBHOOK_PATH}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: WEBHOOK_PATH,
        setupRequest: (request) => {
          const n = takeEventNumbers(1);
          const body = stripeEventJson({
            n,
            workspaceId: bench.workspaceId,
            invoiceId: invoiceIds[n % invoiceIds.length],
            amountMinor: 100,
          });
          request.body = body;
          request.headers = {
            host: bench.domain,
            'content-type': 'application/json',
            'stripe-signature': stripeSignature(body, bench.webhookSecret),
          };
          return request;
        },
      },
    ],
  });
  return {
    ok: result['2xx'],
    okPerS: Math.round(result['2xx'] / result.duration),
    cpuMsPerOk: NaN,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p99Ms: result.latency.p99,
    settledPerS: NaN,
  };
}

/** Events settled so far by a service process (its counter, all outcomes); NaN for a process without one. */
async function settledSoFar(child: Child): Promise<number> {
  let total = NaN;
  for (const [key, value] of await scrape(child.url))
    if (key.startsWith('payments_events_total{')) total = (Number.isNaN(total) ? 0 : total) + value;
  return total;
}

/** Warm-up (JIT, pools, caches) then the measured run, with the receiver's CPU time per answer. */
async function warmAndMeasure(bench: Bench, child: Child, invoiceIds: string[], seconds: number): Promise<LoadResult> {
  await webhookLoad(bench, child.url, invoiceIds, 2);
  const cpuBefore = child.cpuMs();
  const settledBefore = await settledSoFar(child);
  const started = Date.now();
  const result = await webhookLoad(bench, child.url, invoiceIds, seconds);
  const settled = (await settledSoFar(child)) - settledBefore;
  return {
    ...result,
    cpuMsPerOk: Math.round(((child.cpuMs() - cpuBefore) / result.ok) * 1000) / 1000,
    settledPerS: Math.round((settled / (Date.now() - started)) * 1000),
  };
}

/** The real service (`node dist/src/main.js --role <role>`), with its own prefix. */
export async function ingestService(
  bench: Bench,
  invoiceIds: string[],
  role: 'all' | 'api',
  phase: string,
  seconds: number,
  env: Record<string, string> = {},
): Promise<LoadResult> {
  const service = await spawnChild(bench, `service-${phase}`, MAIN, ['--role', role], {
    ...serviceEnv(bench, phase),
    ...env,
  });
  try {
    const result = await warmAndMeasure(bench, service, invoiceIds, seconds);
    if (result.non2xx > 0)
      console.warn(
        `  ${phase}: ${result.non2xx} non-2xx answers; service output tail:\n${service.output().slice(-2000)}`,
      );
    return result;
  } finally {
    await service.stop();
  }
}

async function addStream(bench: Bench, name: string, subject: string): Promise<void> {
  const jsm = await jetstreamManager(bench.nats);
  await jsm.streams.add({
    name,
    subjects: [subject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    duplicate_window: nanos(2 * 60 * 1000),
  });
}

async function spawnBaselineHttp(bench: Bench): Promise<Child> {
  const stream = `${bench.prefix.toUpperCase()}_BASE_HTTP`;
  const subject = `${bench.prefix}_base_http.events`;
  await addStream(bench, stream, subject);
  return spawnChild(bench, 'baseline-http', join(__dirname, 'baseline-http.js'), [], {
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    BASE_SUBJECT: subject,
    BASE_STREAM: stream,
    WEBHOOK_SECRET: bench.webhookSecret,
  });
}

/** Baseline (a): the minimal node:http receiver in its own process, same load generator and payload. */
export async function ingestBaselineHttp(bench: Bench, invoiceIds: string[], seconds: number): Promise<LoadResult> {
  const child = await spawnBaselineHttp(bench);
  try {
    return await warmAndMeasure(bench, child, invoiceIds, seconds);
  } finally {
    await child.stop();
  }
}

/** One round of the ingest comparison: the service (all roles) and the minimal server, measured back to back. */
export interface IngestRound {
  service: LoadResult;
  baseline: LoadResult;
  ratio: number;
}

/**
 * The ingest ratio `rounds` times, each round the service (all roles, a fresh subject prefix so that its worker has no
 * earlier backlog to drain) then the minimal server, each started fresh, warmed up and measured while the other is
 * stopped: the spread of the ratios shows how much the background load moves it.
 */
export async function ingestRounds(
  bench: Bench,
  invoiceIds: string[],
  rounds: number,
  seconds: number,
): Promise<IngestRound[]> {
  const results: IngestRound[] = [];
  for (let round = 1; round <= rounds; round++) {
    const service = await ingestService(bench, invoiceIds, 'all', `i${round}`, seconds);
    const baseline = await ingestBaselineHttp(bench, invoiceIds, seconds);
    results.push({ service, baseline, ratio: Math.round((service.okPerS / baseline.okPerS) * 1000) / 1000 });
  }
  return results;
}

/** Baseline (b): JetStream publish-with-PubAck from this process, 64 in flight, envelope-sized payload. */
export async function jetStreamPublishRate(bench: Bench, invoiceId: string, seconds: number): Promise<number> {
  const stream = `${bench.prefix.toUpperCase()}_BASE_PUB`;
  const subject = `${bench.prefix}_base_pub.events`;
  await addStream(bench, stream, subject);
  const js = jetstream(bench.nats);
  const payload = Buffer.from(
    envelopeOf(
      bench.workspaceId,
      stripeEventJson({ n: 0, workspaceId: bench.workspaceId, invoiceId, amountMinor: 100 }),
    ),
  );
  const run = async (ms: number) => {
    const deadline = Date.now() + ms;
    let acked = 0;
    const lane = async () => {
      while (Date.now() < deadline) {
        await js.publish(subject, payload, {
          msgID: `stripe:${takeEventNumbers(1)}`,
          expect: { streamName: stream },
          timeout: 5000,
        });
        acked++;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CONNECTIONS }, lane));
    return acked / ((Date.now() - started) / 1000);
  };
  await run(1000);
  await sleep(200);
  return Math.round(await run(seconds * 1000));
}
