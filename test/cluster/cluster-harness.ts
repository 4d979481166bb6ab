import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { TEST_ENCRYPTION_KEYS, TEST_JWT_SECRET } from '../helpers/env.js';
import { startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { freePort, spawnService, type ServiceProcess } from '../helpers/process.js';
import { SAVE_STRIPE_KEYS, testKeys } from '../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';

/** Deliveries a dead worker held come back after this (30 s in production; shortened so the test is quick). */
export const ACK_WAIT_MS = 10_000;
export const PREFIX = 'wpc';

/**
 * Everything real and private: three nats-servers in one JetStream cluster (streams R3), a PostgreSQL 15 on a spare
 * port, two `--role api` and two `--role worker` processes of the built service, a fake Stripe for the keys check.
 */
export interface Cluster {
  nats: NatsCluster;
  pg: PrivatePostgres;
  stripe: FakeStripe;
  db: Pool;
  apis: ServiceProcess[];
  workers: ServiceProcess[];
  caller: TestCaller;
  webhookSecret: string;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const disposers: Array<() => Promise<unknown>> = [];
  const dispose = async () => {
    for (const step of disposers.reverse()) await step().catch(() => undefined);
  };
  try {
    const nats = await startNatsCluster(3);
    disposers.push(() => nats.dispose());
    const pg = await startPrivatePostgres();
    disposers.push(() => pg.dispose());
    const admin = new Pool({ connectionString: pg.url(), max: 1 });
    await admin.query('create database payments');
    await admin.end();
    const stripe = await startFakeStripe();
    disposers.push(() => stripe.close());
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      DATABASE_URL: pg.url('payments'),
      NATS_URL: nats.url,
      NATS_STREAM_REPLICAS: '3',
      NATS_SUBJECT_PREFIX: PREFIX,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      PAYMENTS_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      STRIPE_API_URL: stripe.url,
      LOG_LEVEL: 'warn',
      SETTLEMENT_ACK_WAIT_MS: String(ACK_WAIT_MS),
      SETTLEMENT_STALL_MS: '5000',
      SETTLEMENT_CONCURRENCY: '32',
      WEBHOOK_RATE_PER_HOST: '5000,20000',
      EVENTS_STREAM_MAX_BYTES: String(256 * 1024 * 1024),
    };
    const processes: ServiceProcess[] = [];
    disposers.push(async () => {
      // each process's log, for a failure's post-mortem
      const dir = mkdtempSync(join(tmpdir(), 'wp-cluster-logs-'));
      processes.forEach((p, i) => writeFileSync(join(dir, `${i < 2 ? 'api' : 'worker'}-${i}.log`), p.output()));
      writeFileSync(join(dir, 'nats.log'), nats.output());
      console.log(`[cluster] process logs in ${dir}`);
      for (const child of processes) child.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
    });
    const spawn = async (role: string) => {
      const service = await spawnService({ ...env, PORT: String(await freePort()) }, ['--role', role], 90_000);
      processes.push(service);
      return service;
    };
    // the first one migrates and provisions; the others find everything in place
    const apis = [await spawn('api')];
    apis.push(await spawn('api'));
    const workers = [await spawn('worker'), await spawn('worker')];
    const db = new Pool({ connectionString: pg.url('payments'), max: 4 });
    db.on('error', () => undefined); // idle clients die when the test stops PostgreSQL
    disposers.push(() => db.end());

    const caller = newCaller(['owner']);
    const keys = testKeys();
    const response = await fetch(`${apis[0].url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(caller)}` },
      body: JSON.stringify({
        query: SAVE_STRIPE_KEYS,
        variables: { input: { ...keys, mode: 'TEST', offerCardPayments: true } },
      }),
    });
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(`saveStripeKeys failed: ${JSON.stringify(body.errors)}`);
    return { nats, pg, stripe, db, apis, workers, caller, webhookSecret: keys.webhookSecret!, env, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** `count` open invoices of the workspace, large enough never to be fully paid by the test. */
export async function insertInvoices(cluster: Cluster, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (const id of ids)
    await cluster.db.query(
      `insert into invoices (id, workspace_id, number, status, currency, total_minor, paid_minor, due_date, customer_email, customer_name)
       values ($1, $2, $3, 'sent', 'EUR', 1000000000000, 0, '2099-12-31', 'customer@example.com', 'Customer Ltd')`,
      [id, cluster.caller.workspaceId, `INV-${id.slice(0, 8)}`],
    );
  return ids;
}
