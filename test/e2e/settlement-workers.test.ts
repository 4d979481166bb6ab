import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { testEnv } from '../helpers/env.js';
import { insertInvoice, type InvoiceFixture } from '../helpers/fixtures.js';
import { freePort, spawnService, type ServiceProcess } from '../helpers/process.js';
import { type TestService } from '../helpers/service.js';
import { uniquePrefix } from '../helpers/env.js';
import { startWithFakeStripe } from '../helpers/stripe.js';
import { StripeWorkspace } from '../helpers/stripe-events.js';
import { eventually } from '../helpers/wait.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

/** Runs `work` over `items` with at most `concurrency` in flight. */
async function pool<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index], index);
      }
    }),
  );
  return results;
}

/** Deliveries to a killed worker come back after ack_wait (30 s in production; shortened here). */
const ACK_WAIT_MS = '3000';

describe('settlement by worker processes', () => {
  let api: TestService;
  let stripe: FakeStripe;
  let ws: StripeWorkspace;
  let prefix: string;
  const workers: ServiceProcess[] = [];
  const workerEnv = async (extra: Record<string, string> = {}) =>
    testEnv({
      PORT: String(await freePort()),
      NATS_SUBJECT_PREFIX: prefix,
      SETTLEMENT_CONCURRENCY: '8',
      SETTLEMENT_ACK_WAIT_MS: ACK_WAIT_MS,
      LOG_LEVEL: 'warn',
      ...extra,
    });

  beforeAll(async () => {
    prefix = uniquePrefix();
    // The API in-process (it only ingests: role api); workers are real child processes a test can kill.
    ({ service: api, stripe } = await startWithFakeStripe(
      { NATS_SUBJECT_PREFIX: prefix, SETTLEMENT_ACK_WAIT_MS: ACK_WAIT_MS },
      ['--role', 'api'],
    ));
    ws = await StripeWorkspace.connect(api, stripe);
  });
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await api?.stop();
    await stripe?.close();
  });

  const paidOf = async (invoices: InvoiceFixture[]) => {
    const rows = await api.orm.em.getConnection().execute<Array<{ id: string; paid_minor: string }>>(
      `select id, paid_minor from invoices where id in (${invoices.map(() => '?').join(',')})`,
      invoices.map((invoice) => invoice.id),
    );
    return new Map(rows.map((row) => [row.id, Number(row.paid_minor)]));
  };

  /** Sends `count` distinct payment events spread over the invoices; returns what each invoice must end at. */
  const burst = async (invoices: InvoiceFixture[], count: number, onSent?: (index: number) => void) => {
    const expected = new Map(invoices.map((invoice) => [invoice.id, 0]));
    const plan = Array.from({ length: count }, (_, index) => ({
      invoice: invoices[index % invoices.length],
      amount: 100 + (index % 7) * 10,
    }));
    const statuses = await pool(plan, 16, async ({ invoice, amount }, index) => {
      const status = (await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: amount })))
        .status;
      if (status === 200) expected.set(invoice.id, expected.get(invoice.id)! + amount);
      onSent?.(index);
      return status;
    });
    return { expected, statuses };
  };

  it('200 events for 20 invoices at concurrency 16, settled by two worker processes, add up exactly', async () => {
    workers.push(
      await spawnService(await workerEnv(), ['--role', 'worker']),
      await spawnService(await workerEnv(), ['--role', 'worker']),
    );
    const invoices = await Promise.all(
      Array.from({ length: 20 }, () =>
        insertInvoice(api.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 1_000_000 }),
      ),
    );
    const { expected, statuses } = await burst(invoices, 200);
    expect(statuses.every((status) => status === 200)).toBe(true);
    await eventually(
      async () => {
        const paid = await paidOf(invoices);
        return invoices.every((invoice) => paid.get(invoice.id) === expected.get(invoice.id));
      },
      30_000,
      { intervalMs: 100 },
    );
    // Both processes took part.
    const metrics = await Promise.all(workers.map(async (worker) => (await fetch(`${worker.url}/metrics`)).text()));
    for (const text of metrics) expect(text).toMatch(/payments_events_total\{result="applied"\} [1-9]/);
    const stopping = workers.splice(0);
    for (const worker of stopping) worker.child.kill('SIGTERM');
    expect(await Promise.all(stopping.map((worker) => worker.exited))).toEqual([0, 0]);
  });

  it('kill -9 of a worker mid-burst: after a restart every accepted event is settled exactly once', async () => {
    const env = await workerEnv();
    let worker = await spawnService(env, ['--role', 'worker']);
    workers.push(worker);
    const invoices = await Promise.all(
      Array.from({ length: 10 }, () =>
        insertInvoice(api.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 1_000_000 }),
      ),
    );
    const { expected } = await burst(invoices, 150, (index) => {
      if (index === 60) worker.child.kill('SIGKILL');
    });
    await worker.exited;
    worker = await spawnService(env, ['--role', 'worker']);
    workers.push(worker);
    await eventually(
      async () => {
        const paid = await paidOf(invoices);
        return invoices.every((invoice) => paid.get(invoice.id) === expected.get(invoice.id));
      },
      20_000,
      { intervalMs: 200 },
    );
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    workers.splice(0);
  });

  it('settles what arrived while PostgreSQL was unreachable once it is back', async () => {
    expect(workers.filter((worker) => worker.child.exitCode === null)).toEqual([]);
    const proxy = await startTcpProxy('127.0.0.1', 5432);
    const databaseUrl = new URL(testEnv().DATABASE_URL);
    databaseUrl.port = String(proxy.port);
    const worker = await spawnService(
      await workerEnv({ DATABASE_URL: databaseUrl.toString(), SETTLEMENT_BACKOFF_MS: '300,600,1200,2400,4800' }),
      ['--role', 'worker'],
    );
    workers.push(worker);
    try {
      const invoice = await insertInvoice(api.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 4_000 });
      proxy.cut();
      expect(
        (await ws.send(ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 4_000 }))).status,
      ).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const admin = new Client({ connectionString: testEnv().DATABASE_URL });
      await admin.connect();
      expect((await admin.query('select status from invoices where id = $1', [invoice.id])).rows[0].status).toBe(
        'sent',
      );
      await admin.end();
      proxy.restore();
      await eventually(async () => (await paidOf([invoice])).get(invoice.id) === 4_000, 20_000, { intervalMs: 200 });
    } finally {
      proxy.restore();
      worker.child.kill('SIGTERM');
      await worker.exited;
      await proxy.close();
    }
  });
});
