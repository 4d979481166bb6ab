import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { readDeadLetters } from '../../src/jetstream/dead-letters.js';
import { parseEventMsgId } from '../../src/jetstream/names.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMollie, type FakeMollie } from '../fakes/mollie/fake-mollie.server.js';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { invoiceRow, sqlOn, untilInvoice } from '../helpers/db.js';
import { insertInvoice, insertPayment } from '../helpers/fixtures.js';
import { postWithHost } from '../helpers/post-with-host.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, SAVE_STRIPE_KEYS, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { StripeWorkspace } from '../helpers/stripe-events.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';
import { eventually } from '../helpers/wait.js';

const PAY_LINK = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { payLink { url } } } }`;

/** Hostile traffic and bad input (issue 14): floods, poison events, stuck rows, looping clients, shared domains. */
describe('hardening', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let mollie: FakeMollie;
  beforeAll(async () => {
    mollie = await startFakeMollie();
    ({ service, stripe } = await startWithFakeStripe({
      MOLLIE_API_URL: mollie.url,
      SETTLEMENT_MAX_DELIVER: '2',
      SETTLEMENT_BACKOFF_MS: '100',
      WEBHOOK_RATE_PER_HOST: '100,500',
    }));
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
    await mollie?.close();
  });
  const sql = sqlOn(() => service.orm);

  const payLinkOf = async (caller: TestCaller, invoiceId: string) =>
    (
      await service.gql<{ _entities: Array<{ payLink: { url: string } | null }> }>(
        PAY_LINK,
        { reps: [{ __typename: 'Invoice', id: invoiceId }] },
        await tokenFor(caller),
      )
    ).data!._entities[0].payLink!.url;
  const click = (url: string) => fetch(url.replace(/^https?:\/\/[^/]+/, service.url), { redirect: 'manual' });

  it('300 concurrent notifications for one Mollie payment cost a handful of Mollie calls, never a 5xx, and hold back no other tenant', async () => {
    const caller = newCaller(['owner']);
    const connected = await service.gql(
      'mutation ($input: SaveMollieKeysInput!) { saveMollieKeys(input: $input) { active } }',
      { input: { apiKey: `test_${randomUUID().replace(/-/g, '')}`, mode: 'TEST', offerCardPayments: true } },
      await tokenFor(caller),
    );
    expect(connected.errors).toBeUndefined();
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 2_000 });
    expect((await click(await payLinkOf(caller, invoice.id))).status).toBe(303);
    const [{ provider_reference: paymentId }] = await sql<{ provider_reference: string }>(
      'select provider_reference from invoice_payments where invoice_id = ?',
      [invoice.id],
    );
    await mollie.setPaymentStatus(paymentId, 'paid');
    const fetches = () =>
      mollie.requests.filter(
        (request) => request.method === 'GET' && request.path.startsWith(`/v2/payments/${paymentId}`),
      ).length;
    const before = fetches();

    const other = await StripeWorkspace.connect(service, stripe);
    const otherInvoice = await insertInvoice(service.orm, { workspaceId: other.caller.workspaceId, totalMinor: 700 });
    const flood = Array.from({ length: 300 }, () =>
      postWithHost(`${service.url}/api/finance/payments/mollie/webhook`, caller.workspaceDomain, `id=${paymentId}`, {
        'content-type': 'application/x-www-form-urlencoded',
      }),
    );
    const started = Date.now();
    await other.send(other.sessionEvent('checkout.session.completed', otherInvoice.id, { amountMinor: 700 }));
    await untilInvoice(sql, otherInvoice.id, { status: 'paid' }, { timeoutMs: 5_000, intervalMs: 50 });
    const otherSettledMs = Date.now() - started;
    const answers = await Promise.all(flood);

    expect(answers.every((status) => status === 200 || status === 429)).toBe(true);
    await untilInvoice(sql, invoice.id, { status: 'paid' }, { timeoutMs: 10_000, intervalMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // every coalesced message has been handled
    expect(fetches() - before).toBeLessThanOrEqual(4);
    expect(otherSettledMs).toBeLessThan(2_000);
  });

  it('one poison event in a burst of 100 never holds back the others: 99 settle on their first delivery, only it is dead-lettered', async () => {
    const ws = await StripeWorkspace.connect(service, stripe);
    const invoices = await Promise.all(
      Array.from({ length: 98 }, () =>
        insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 300 }),
      ),
    );
    const negative = ws.sessionEvent('checkout.session.completed', invoices[0].id, { amountMinor: -500 });
    const huge = ws.sessionEvent('checkout.session.completed', invoices[1].id, { amountMinor: 2 ** 53 + 2 });
    const good = invoices.map((invoice) =>
      ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 300 }),
    );
    // 100 events: 98 good ones, a negative amount and one above 2^53, sent together so they share batches
    const burst = [...good.slice(0, 49), negative, ...good.slice(49), huge];
    expect(burst).toHaveLength(100);
    const answers = await Promise.all(burst.map((event) => ws.send(event)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);

    for (const invoice of invoices) await untilInvoice(sql, invoice.id, { status: 'paid' }, { timeoutMs: 15_000 });
    const attempts = await sql<{ event_id: string; attempts: number; status: string }>(
      'select event_id, attempts, status from webhook_events where workspace_id = ?',
      [ws.caller.workspaceId],
    );
    const goodIds = new Set(good.map((event) => event.id));
    expect(attempts.filter((row) => goodIds.has(row.event_id)).map((row) => [row.status, row.attempts])).toEqual(
      good.map(() => ['applied', 1]),
    );
    const dlq = async () =>
      (await readDeadLetters(await jetstreamManager(service.nats), service.names)).map((letter) => ({
        eventId: parseEventMsgId(letter.msgId)?.eventId ?? letter.msgId,
        lastError: letter.lastError,
      }));
    const dead = await eventually(
      async () => {
        const letters = (await dlq()).filter((letter) => letter.eventId === negative.id || letter.eventId === huge.id);
        return letters.length === 2 ? letters : null;
      },
      20_000,
      { intervalMs: 300 },
    );
    expect(dead.find((letter) => letter.eventId === negative.id)!.lastError).toMatch(/amount -500/);
    expect(dead.find((letter) => letter.eventId === huge.id)!.lastError).toMatch(/safe integer/);
    expect((await dlq()).filter((letter) => goodIds.has(letter.eventId))).toEqual([]);
  });

  it('600 PENDING rows the reconciler cannot resolve never keep it from the one it can, in one pass', async () => {
    const ws = await StripeWorkspace.connect(service, stripe);
    const old = new Date(Date.now() - 2 * 3_600_000);
    const stuck = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 100 });
    // sessions the provider does not know (e.g. of an account replaced since): every check fails
    await sql(
      `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, status, amount_minor, currency, created_at, updated_at)
       select gen_random_uuid(), ?, ?, 'stripe', 'cs_test_gone_' || n, 'pending', 100, 'EUR', ?::timestamptz + n * interval '1 ms', now()
       from generate_series(1, 600) n`,
      [ws.caller.workspaceId, stuck.id, old],
    );
    // and 600 of a workspace whose account is gone (nothing to ask with)
    const gone = newCaller(['owner']);
    const goneInvoice = await insertInvoice(service.orm, { workspaceId: gone.workspaceId, totalMinor: 100 });
    for (let n = 0; n < 600; n += 200) {
      await Promise.all(
        Array.from({ length: 200 }, () =>
          insertPayment(service.orm, {
            workspaceId: gone.workspaceId,
            invoiceId: goneInvoice.id,
            amountMinor: 100,
            status: 'pending',
            createdAt: old,
          }),
        ),
      );
    }
    // the one the reconciler can resolve: paid at the provider, its webhook never delivered, newest of all
    const invoice = await insertInvoice(service.orm, { workspaceId: ws.caller.workspaceId, totalMinor: 1_000 });
    expect((await click(await payLinkOf(ws.caller, invoice.id))).status).toBe(303);
    const [{ provider_reference: sessionId }] = await sql<{ provider_reference: string }>(
      'select provider_reference from invoice_payments where invoice_id = ?',
      [invoice.id],
    );
    await stripe.completeSession(sessionId);
    await sql("update invoice_payments set created_at = now() - interval '90 minutes' where provider_reference = ?", [
      sessionId,
    ]);

    const summary = await service.services.reconciler.runOnce();
    expect(summary.settled).toBeGreaterThanOrEqual(1);
    expect(await invoiceRow(sql, invoice.id)).toEqual({ status: 'paid', paid_minor: '1000' });
    // the rows it could not check wait for the next interval instead of heading the next pass
    const [{ deferred }] = await sql<{ deferred: number }>(
      'select count(*)::int as deferred from invoice_payments where invoice_id = ? and reconcile_after > now()',
      [stuck.id],
    );
    expect(deferred).toBe(600);
  });

  it('100 clicks on one pay link in a minute make at most 2 provider calls; the 21st click gets the 429 page', async () => {
    const caller = newCaller(['owner']);
    await connectStripe(service, caller);
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 5_000 });
    const url = await payLinkOf(caller, invoice.id);
    const calls = () => stripe.requests.filter((request) => request.path.startsWith('/v1/checkout/sessions')).length;
    const before = calls();
    const statuses: number[] = [];
    for (let n = 0; n < 100; n++) statuses.push((await click(url)).status);
    expect(statuses.slice(0, 20).every((status) => status === 303)).toBe(true);
    expect(statuses.slice(20).every((status) => status === 429)).toBe(true);
    expect(calls() - before).toBeLessThanOrEqual(2);
    const page = await click(url);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await page.text()).toContain('Please wait');
  });

  it('a workspace domain serves one connected workspace per provider: a second workspace saving it is CONFLICT', async () => {
    const first = newCaller(['owner']);
    await connectStripe(service, first);
    const second = { ...newCaller(['owner']), workspaceDomain: first.workspaceDomain.toUpperCase() };
    const result = await service.gql(
      SAVE_STRIPE_KEYS,
      { input: { ...testKeys(), mode: 'TEST', offerCardPayments: true } },
      await tokenFor(second),
    );
    expect(result.errors?.[0]).toMatchObject({
      extensions: { code: 'CONFLICT' },
      message: expect.stringContaining('already connected'),
    });
    const stored = await sql('select id from payment_provider_accounts where workspace_id = ?', [second.workspaceId]);
    expect(stored).toEqual([]);
  });
});
