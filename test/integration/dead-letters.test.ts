import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { testEnv } from '../helpers/env.js';
import { invoiceRow, sqlOn, untilInvoice } from '../helpers/db.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { runOpsCli } from '../helpers/ops.js';
import type { TestService } from '../helpers/service.js';
import { startWithFakeStripe } from '../helpers/stripe.js';
import { StripeWorkspace } from '../helpers/stripe-events.js';
import { eventually } from '../helpers/wait.js';

interface DlqEntry {
  seq: number;
  provider: string;
  eventId: string;
  type: string;
  workspaceId: string;
  deliveries: number;
  lastError: string;
  deadAt: string;
}

describe('dead letters, replay and the ops CLI', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let ws: StripeWorkspace;
  let env: Record<string, string>;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({
      SETTLEMENT_MAX_DELIVER: '3',
      SETTLEMENT_BACKOFF_MS: '50,100',
      DLQ_RETRY_INTERVAL_MS: '3600000',
    }));
    ws = await StripeWorkspace.connect(service, stripe);
    env = testEnv({ NATS_SUBJECT_PREFIX: service.names.prefix, STRIPE_API_URL: stripe.url });
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const ops = (...args: string[]) => runOpsCli(env, args);
  const dlq = async () => JSON.parse((await ops('dlq', 'list', '--json')).stdout) as DlqEntry[];
  const sql = sqlOn(() => service.orm);

  it('dead-letters an event for a missing invoice, lists it with its error, and replays it once the invoice exists', async () => {
    const invoiceId = randomUUID();
    const event = ws.sessionEvent('checkout.session.completed', invoiceId, { amountMinor: 2_500 });
    expect((await ws.send(event)).status).toBe(200);
    const entry = await eventually(
      async () => (await dlq()).find((candidate) => candidate.eventId === event.id),
      15_000,
      { intervalMs: 200 },
    );
    expect(entry).toMatchObject({
      provider: 'stripe',
      type: 'checkout.session.completed',
      workspaceId: ws.caller.workspaceId,
      deliveries: 3,
    });
    expect(entry.lastError).toContain(`invoice ${invoiceId} does not exist`);

    const table = await ops('dlq', 'list');
    expect(table.stdout).toContain(event.id);
    expect(table.stdout).toMatch(/SEQ\s+PROVIDER\s+EVENT ID/);
    const status = JSON.parse((await ops('status', '--json')).stdout);
    expect(status).toMatchObject({
      stream: { messages: expect.any(Number) },
      consumer: { pending: expect.any(Number), ackPending: expect.any(Number), redelivered: expect.any(Number) },
      dlq: { messages: 1 },
    });

    await insertInvoice(service.orm, { id: invoiceId, workspaceId: ws.caller.workspaceId, totalMinor: 2_500 });
    const replayed = await ops('dlq', 'replay', String(entry.seq));
    expect(replayed.code).toBe(0);
    await untilInvoice(sql, invoiceId, { status: 'paid' });
    expect(await dlq()).toEqual([]);

    // Re-applying everything stored since before the event changes nothing, and says so.
    const before = await invoiceRow(sql, invoiceId);
    const again = await ops('replay', '--since', new Date(Date.now() - 60_000).toISOString(), '--json');
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ applied: 0, failed: 0 });
    expect(summary.unchanged).toBeGreaterThanOrEqual(1);
    expect(await invoiceRow(sql, invoiceId)).toEqual(before);
    const dry = await ops('replay', '--since', new Date(Date.now() - 60_000).toISOString(), '--dry-run');
    expect(dry.stdout).toMatch(/dry run: \d+ stored events match/);
  });

  it('never settles metadata naming another workspace: it is acknowledged and recorded as ignored, never dead-lettered', async () => {
    // Round 2: a provider account shared by two workspaces delivers every event to both; the copy that is not this
    // workspace's is ignored with its reason (a dead letter per foreign event would fill the DLQ).
    const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 1_000 });
    const foreign = ws.sessionEvent('checkout.session.completed', invoice.id, {
      amountMinor: 1_000,
      workspaceId: randomUUID(),
    });
    await ws.send(foreign);
    const row = await eventually(
      async () =>
        (
          await sql<{ status: string; ignored_reason: string }>(
            'select status, ignored_reason from webhook_events where event_id = ? and workspace_id = ?',
            [foreign.id, ws.caller.workspaceId],
          )
        )[0],
      15_000,
      { intervalMs: 200 },
    );
    expect(row).toEqual({ status: 'ignored', ignored_reason: 'other_workspace' });
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'sent', paid_minor: '0' });
    expect((await dlq()).find((candidate) => candidate.eventId === foreign.id)).toBeUndefined();
  });

  it('drops a dead letter on request', async () => {
    const missing = ws.sessionEvent('checkout.session.completed', randomUUID(), { amountMinor: 1_000 });
    await ws.send(missing);
    const entry = await eventually(
      async () => (await dlq()).find((candidate) => candidate.eventId === missing.id),
      15_000,
      { intervalMs: 200 },
    );
    expect(entry.lastError).toMatch(/does not exist in workspace/);
    expect((await ops('dlq', 'drop', String(entry.seq), '--yes')).stdout).toContain(`dropped DLQ #${entry.seq}`);
    expect((await dlq()).find((candidate) => candidate.seq === entry.seq)).toBeUndefined();
  });

  it('gives clear errors and exit codes for bad CLI use', async () => {
    expect((await ops('dlq', 'replay', 'abc')).code).toBe(2);
    expect((await ops('replay')).stderr).toContain('--since');
    expect((await ops('dlq', 'drop', '999999', '--yes')).code).toBe(1);
    expect((await ops('frobnicate')).code).toBe(2);
  });
});

describe('automatic DLQ retries', () => {
  it('retries dead letters on an interval, so an event whose invoice arrives late still settles', async () => {
    const { service, stripe } = await startWithFakeStripe({
      SETTLEMENT_MAX_DELIVER: '2',
      SETTLEMENT_BACKOFF_MS: '50',
      DLQ_RETRY_INTERVAL_MS: '1500',
      DLQ_MAX_AUTO_RETRIES: '5',
    });
    try {
      const ws = await StripeWorkspace.connect(service, stripe);
      const invoiceId = randomUUID();
      const event = ws.sessionEvent('checkout.session.completed', invoiceId, { amountMinor: 900 });
      await ws.send(event);
      const sql = sqlOn(() => service.orm);
      await eventually(
        async () =>
          (
            await sql<{ n: string }>(
              "select count(*) as n from webhook_events where event_id = ? and status = 'failed' and attempts >= 2",
              [event.id],
            )
          )[0].n === '1',
        10_000,
        { intervalMs: 100 },
      );
      await insertInvoice(service.orm, { id: invoiceId, workspaceId: ws.caller.workspaceId, totalMinor: 900 });
      await untilInvoice(sql, invoiceId, { status: 'paid' }, { timeoutMs: 15_000, intervalMs: 200 });
    } finally {
      await service.stop();
      await stripe.close();
    }
  });
});
