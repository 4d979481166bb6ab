import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client, Pool } from 'pg';
import { parseKeyRing } from '../src/crypto/key-ring.js';
import { Provider } from '../src/vocabulary/provider.js';
import { AccountSecrets } from '../src/crypto/account-secrets.js';

/** Paths, run identity, database fixtures and clean-up shared by every phase. */

export const ROOT = join(__dirname, '..', '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');
/** The service's V8 flags, as `npm start`, the Dockerfile and docker-compose.yml give them (a deploy test checks). */
export const SERVICE_NODE_FLAGS = ['--max-old-space-size=160', '--max-semi-space-size=8'];
export const PROFILE_DIR = join(ROOT, 'dist', 'bench', 'profiles');
export const PG_BASE = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export interface Bench {
  id: string;
  dbName: string;
  dbUrl: string;
  /** Base NATS prefix: every phase uses `<prefix>_<phase>`, every stream starts with `<PREFIX>_`. */
  prefix: string;
  jwtSecret: string;
  encryptionKeys: string;
  workspaceId: string;
  domain: string;
  webhookSecret: string;
  nats: NatsConnection;
  pool: Pool;
  children: Set<ChildProcess>;
  /** VmHWM (MB) of every service process, by label. */
  rss: Record<string, number>;
  profile: boolean;
  /** Further databases of this run (the growth phase's), dropped by `cleanup`. */
  databases: string[];
}

/** Runs one statement on the server's `postgres` database (creating and dropping the bench's and soak's databases). */
export const adminQuery = async (sql: string) => {
  const client = new Client({ connectionString: `${PG_BASE}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

export async function createBench(): Promise<Bench> {
  const id = randomBytes(4).toString('hex');
  const dbName = `wp_bench_${id}`;
  await adminQuery(`create database "${dbName}"`);
  const dbUrl = `${PG_BASE}/${dbName}`;
  const workspaceId = randomUUID();
  return {
    id,
    dbName,
    dbUrl,
    prefix: `bench_${id}`,
    jwtSecret: randomBytes(32).toString('hex'),
    encryptionKeys: `k1:${randomBytes(32).toString('base64')}`,
    workspaceId,
    domain: 'bench.workestra.test',
    webhookSecret: `whsec_${randomBytes(24).toString('hex')}`,
    nats: await connect({ servers: NATS_URL, name: `workestra-bench-${id}` }),
    pool: new Pool({ connectionString: dbUrl, max: 20 }),
    children: new Set(),
    rss: {},
    profile: process.env.BENCH_CPU_PROF === '1',
    databases: [],
  };
}

/** Inserts the connected Stripe account of the bench workspace (secrets sealed as the service seals them). */
export async function insertAccount(bench: Bench): Promise<void> {
  const secrets = new AccountSecrets(parseKeyRing(bench.encryptionKeys));
  const owner = { workspaceId: bench.workspaceId, provider: Provider.STRIPE };
  await bench.pool.query(
    `insert into payment_provider_accounts (id, workspace_id, workspace_domain, provider, mode, active, offer_card_payments,
       publishable_key, secret_key_sealed, secret_key_masked, webhook_secret_sealed, webhook_secret_masked)
     values ($1, $2, $3, 'stripe', 'test', true, true, 'pk_test_bench', $4, 'sk_test_…ench', $5, 'whsec_…ench')`,
    [
      randomUUID(),
      bench.workspaceId,
      bench.domain,
      secrets.seal(owner, 'secretKey', 'sk_test_workestra_bench'),
      secrets.seal(owner, 'webhookSecret', bench.webhookSecret),
    ],
  );
}

/** Inserts invoices in one statement per 5,000; returns their ids. */
export async function insertInvoices(
  bench: Bench,
  count: number,
  values: { totalMinor: number; status?: string; paidMinor?: number; table?: string },
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (let start = 0; start < count; start += 5000) {
    const chunk = ids.slice(start, start + 5000);
    await bench.pool.query(
      `insert into ${values.table ?? 'invoices'} (id, workspace_id, number, status, currency, total_minor, paid_minor, due_date, customer_email, customer_name)
       select id, $2, 'BENCH-' || n, $3, 'EUR', $4, $5, '2099-12-31', 'customer@example.com', 'Customer Ltd'
       from unnest($1::uuid[]) with ordinality as t(id, n)`,
      [chunk, bench.workspaceId, values.status ?? 'sent', values.totalMinor, values.paidMinor ?? 0],
    );
  }
  // as after any bulk load: without fresh statistics the planner would treat the grown table as the small one it was,
  // until autovacuum's analyze comes by in the middle of the next measurement
  await bench.pool.query(`analyze ${values.table ?? 'invoices'}`);
  return ids;
}

/** The service's env for one phase (its own NATS prefix, the bench database). */
export function serviceEnv(bench: Bench, phase: string): Record<string, string> {
  return {
    DATABASE_URL: bench.dbUrl,
    NATS_URL,
    NATS_SUBJECT_PREFIX: `${bench.prefix}_${phase}`,
    AUTH_JWT_SECRET: bench.jwtSecret,
    PAYMENTS_ENCRYPTION_KEYS: bench.encryptionKeys,
    // The bench offers thousands of webhooks per second for one host on purpose: the per-host limit would refuse them.
    WEBHOOK_RATE_PER_HOST: '1000000,10000000',
    // JetStream reserves a stream's byte cap up front: the 10 GiB default of several phases (and of other users of the
    // shared server) would exhaust its storage ("insufficient storage resources available"). A run stores < 200 MB.
    EVENTS_STREAM_MAX_BYTES: String(1024 ** 3),
  };
}

export function step(message: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Kills our children, deletes our streams (names starting with `<PREFIX>_`) and drops our database. */
export async function cleanup(bench: Bench): Promise<string[]> {
  const problems: string[] = [];
  for (const child of bench.children) child.kill('SIGKILL');
  try {
    const jsm = await jetstreamManager(bench.nats);
    const ours = `${bench.prefix.toUpperCase()}_`;
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.startsWith(ours)) await jsm.streams.delete(stream.config.name);
    }
    await bench.nats.close();
  } catch (error) {
    problems.push(`streams: ${(error as Error).message}`);
  }
  await bench.pool.end().catch(() => undefined);
  for (const name of [bench.dbName, ...bench.databases]) {
    try {
      await adminQuery(`drop database if exists "${name}" with (force)`);
    } catch (error) {
      problems.push(`database ${name}: ${(error as Error).message}`);
    }
  }
  return problems;
}
