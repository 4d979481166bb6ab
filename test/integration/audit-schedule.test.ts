import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { sqlOn, untilInvoice } from '../helpers/db.js';
import { freshDatabase, testEnv, uniquePrefix } from '../helpers/env.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { freePort, spawnService, type ServiceProcess } from '../helpers/process.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { newCaller } from '../helpers/tokens.js';
import { eventually } from '../helpers/wait.js';

/** The worker's scheduled audit: two worker processes, one database, one run per interval between them. */
describe('scheduled ledger audit', () => {
  let db: { url: string; drop: () => Promise<void> };
  let api: TestService;
  let stripe: FakeStripe;
  const workers: ServiceProcess[] = [];
  beforeAll(async () => {
    db = await freshDatabase(); // the audit covers every account of its database: only this test's
    ({ service: api, stripe } = await startWithFakeStripe(
      { DATABASE_URL: db.url, NATS_SUBJECT_PREFIX: uniquePrefix() },
      ['--role', 'api'],
    ));
    stripe.autoDeliver = { baseUrl: api.url };
  });
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await api?.stop();
    await stripe?.close();
    await db?.drop();
  });

  const runs = async (worker: ServiceProcess) => {
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    const count = (result: string) =>
      Number(new RegExp(`^payments_audit_runs_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { completed: count('completed'), skipped: count('skipped'), metrics: text };
  };

  it('runs once per interval across two workers, fixing a payment whose webhook never came', async () => {
    const caller = newCaller(['owner']);
    const keys = await connectStripe(api, caller, { keys: testKeys('test', false) });
    const invoice = await insertInvoice(api.orm, { workspaceId: caller.workspaceId, totalMinor: 7_000 });
    await stripe.withoutWebhooks(() =>
      stripe.seedPaidSession(keys.secretKey, {
        amount: 7_000,
        currency: 'eur',
        metadata: { workspace_id: caller.workspaceId, invoice_id: invoice.id },
      }),
    );
    const env = async () =>
      testEnv({
        DATABASE_URL: db.url,
        PORT: String(await freePort()),
        NATS_SUBJECT_PREFIX: api.names.prefix,
        STRIPE_API_URL: stripe.url,
        AUDIT_INTERVAL_MS: '4000',
        AUDIT_LOOKBACK_HOURS: '0.5',
        LOG_LEVEL: 'info',
      });
    const [envA, envB] = [await env(), await env()];
    workers.push(
      ...(await Promise.all([spawnService(envA, ['--role', 'worker']), spawnService(envB, ['--role', 'worker'])])),
    );

    // both workers' first interval has come: one audited, the other found the run taken
    const [a, b] = await eventually(
      async () => {
        const seen = await Promise.all(workers.map(runs));
        return seen.every((worker) => worker.completed + worker.skipped >= 1) ? seen : null;
      },
      20_000,
      { what: 'both workers to reach their first audit', intervalMs: 100 },
    );
    expect(a.completed + b.completed).toBe(1);
    expect(a.skipped + b.skipped).toBe(1);
    const sql = sqlOn(() => api.orm);
    expect(await sql('select count(*)::int as n from audit_runs')).toEqual([{ n: 1 }]);

    // the run's fix went through the events stream and the consumer
    await untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '7000' });
    const summaries = workers.flatMap((worker) =>
      worker
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"audit: checked'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      level: 30,
      accounts: 1,
      providerObjects: 1,
      fixed: 1,
      discrepancies: { missing: 1, status: 0, amount: 0, unknown: 0 },
    });
    const auditor = a.completed ? a : b;
    expect(auditor.metrics).toMatch(/^payments_audit_discrepancies\{kind="missing"\} 1$/m);
  });
});
