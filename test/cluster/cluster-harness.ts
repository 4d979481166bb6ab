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
import { WEBHOOK_PATH } from '../helpers/stripe-events.js';
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

/** One event the service answered 200 for: it must be settled exactly once. */
export interface Accepted {
  invoiceId: string;
  amount: number;
  acceptedAt: number;
}

/**
 * Signed `checkout.session.completed` webhooks at a steady rate, alternating between the api processes. A webhook
 * not answered 200 is sent again after 500 ms (as Stripe retries), so every event ends accepted.
 */
export class WebhookLoad {
  readonly accepted = new Map<string, Accepted>();
  /** Answers other than 200, by status (503 while a stream has no leader, …). */
  readonly refused = new Map<number, number>();
  /** When the first and the last refused answer came (ms since epoch), to tell how long webhooks were refused. */
  refusedWindow: { first: number; last: number } | null = null;
  private sent = 0;
  private running = false;
  private readonly pending = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly invoices: string[],
    private readonly maxInFlight = 128,
  ) {}

  start(perSecond: number): void {
    this.running = true;
    const startedAt = Date.now();
    const base = this.sent;
    this.loop = (async () => {
      while (this.running) {
        const due = base + Math.floor(((Date.now() - startedAt) / 1000) * perSecond);
        while (this.sent < due && this.pending.size < this.maxInFlight) this.launch(this.sent++);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
  }

  /** Stops new events and waits until every started one was answered 200 (retrying as needed). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private launch(index: number): void {
    const invoiceId = this.invoices[index % this.invoices.length];
    const amount = 100 + (index % 7) * 10;
    const event = this.cluster.stripe.buildEvent(
      'checkout.session.completed',
      {
        id: `cs_test_${randomUUID().replace(/-/g, '')}`,
        object: 'checkout.session',
        amount_total: amount,
        amount_subtotal: amount,
        currency: 'eur',
        client_reference_id: invoiceId,
        metadata: { workspace_id: this.cluster.caller.workspaceId, invoice_id: invoiceId },
        mode: 'payment',
        payment_intent: `pi_${randomUUID().replace(/-/g, '')}`,
        payment_status: 'paid',
        status: 'complete',
        livemode: false,
      },
      { livemode: false },
    );
    const task = (async () => {
      for (let attempt = 0; ; attempt++) {
        const api = this.cluster.apis[(index + attempt) % this.cluster.apis.length];
        const result = await this.cluster.stripe
          .deliverEvent(event, {
            targetUrl: `${api.url}${WEBHOOK_PATH}`,
            host: this.cluster.caller.workspaceDomain,
            secret: this.cluster.webhookSecret,
            timeoutMs: 15_000,
          })
          .catch(() => ({ status: 0 }));
        if (result.status === 200) {
          this.accepted.set(event.id, { invoiceId, amount, acceptedAt: Date.now() });
          return;
        }
        this.refused.set(result.status, (this.refused.get(result.status) ?? 0) + 1);
        const now = Date.now();
        this.refusedWindow = { first: this.refusedWindow?.first ?? now, last: now };
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }
}

/** Counts settled inbox rows every 200 ms, so a test can tell when settlement paused and resumed. */
export class SettlementProgress {
  readonly samples: Array<{ at: number; settled: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly db: Pool) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      const at = Date.now();
      this.db
        .query<{ n: string }>("select count(*) as n from webhook_events where status = 'applied'")
        .then(({ rows }) => this.samples.push({ at, settled: Number(rows[0].n) }))
        .catch(() => undefined) // PostgreSQL stopped by the test: no sample
        .finally(() => (this.busy = false));
    }, 200);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Seconds from `from` until the settled count first grew beyond its value at `from`. */
  resumedAfter(from: number): number | null {
    const before = [...this.samples].reverse().find((s) => s.at <= from)?.settled ?? 0;
    const next = this.samples.find((s) => s.at > from && s.settled > before);
    return next ? (next.at - from) / 1000 : null;
  }

  /** The longest stretch (s) within [from, to] in which the settled count did not grow. */
  longestPause(from: number, to: number): number {
    let longest = 0;
    let lastGrowth = from;
    let last = [...this.samples].reverse().find((s) => s.at <= from)?.settled ?? 0;
    for (const sample of this.samples.filter((s) => s.at > from && s.at <= to)) {
      if (sample.settled > last) {
        longest = Math.max(longest, sample.at - lastGrowth);
        lastGrowth = sample.at;
        last = sample.settled;
      }
    }
    return longest / 1000;
  }
}

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
