import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOps } from '../../src/cli/payments-ops.js';
import { startFakeMollie, type FakeMollie } from '../fakes/mollie/fake-mollie.server.js';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { invoiceRow, sqlOn, untilInvoice } from '../helpers/db.js';
import { testEnv } from '../helpers/env.js';
import { insertInvoice, insertPayment } from '../helpers/fixtures.js';
import { runOpsCli } from '../helpers/ops.js';
import { openCheckout, paidInvoice } from '../helpers/paid-invoice.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys, type StripeKeys } from '../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';

/** `payments-ops audit` against the fake providers, as ops run it (the built binary, its exit codes and output). */
interface AuditJson {
  checked: { accounts: number; providerObjects: number; ledgerRows: number };
  discrepancies: Array<{
    kind: string;
    workspaceId: string;
    invoiceId: string | null;
    provider: string;
    reference: string;
    ledger: { object: string; status: string; amountMinor: number; currency: string } | null;
    providerState: { object: string; status: string; amountMinor: number; currency: string } | null;
  }>;
  fixed: number;
}

describe('payments-ops audit: the ledger against the providers', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let mollie: FakeMollie;
  const since = new Date(Date.now() - 60_000).toISOString();
  beforeAll(async () => {
    mollie = await startFakeMollie();
    ({ service, stripe } = await startWithFakeStripe({ MOLLIE_API_URL: mollie.url }));
    stripe.autoDeliver = { baseUrl: service.url };
    mollie.autoDeliver = { baseUrl: service.url };
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
    await mollie?.close();
  });

  const sql = sqlOn(() => service.orm);
  const env = (extra: Record<string, string> = {}) =>
    testEnv({
      NATS_SUBJECT_PREFIX: service.names.prefix,
      STRIPE_API_URL: stripe.url,
      MOLLIE_API_URL: mollie.url,
      ...extra,
    });
  async function audit(caller: TestCaller, ...args: string[]) {
    const result = await runOpsCli(env(), ['audit', '--since', since, '--workspace', caller.workspaceId, ...args]);
    return { ...result, report: args.includes('--json') ? (JSON.parse(result.stdout) as AuditJson) : null };
  }
  async function stripeWorkspace(): Promise<{ caller: TestCaller; keys: StripeKeys }> {
    const caller = newCaller(['owner']);
    const keys = await connectStripe(service, caller, { keys: testKeys('test', false) });
    return { caller, keys };
  }
  /** The bank opens a dispute, Stripe withdraws the funds and the bank decides against us: no webhook arrives. */
  const lostDisputeWithoutWebhooks = (paymentIntent: string) =>
    stripe.withoutWebhooks(async () => {
      const opened = await stripe.createDispute(paymentIntent);
      await stripe.withdrawDisputeFunds(opened.id);
      return stripe.closeDispute(opened.id, 'lost');
    });
  /** Audit finds exactly `kind` on `reference`, --fix publishes it, settlement applies it, a second audit is clean. */
  async function findFixAndRecheck(
    caller: TestCaller,
    kind: string,
    reference: string,
    settled: () => Promise<unknown>,
  ) {
    const found = await audit(caller, '--json');
    expect(found.code).toBe(1);
    expect(found.report!.discrepancies).toEqual([expect.objectContaining({ kind, reference })]);
    const fixed = await audit(caller, '--json', '--fix');
    expect(fixed.code).toBe(0);
    expect(fixed.report!.fixed).toBe(1);
    await settled();
    const again = await audit(caller, '--json');
    expect(again.report!.discrepancies).toEqual([]);
    expect(again.code).toBe(0);
    return found.report!;
  }

  it('a paid checkout the ledger never heard of is missing; --fix settles the invoice through the consumer', async () => {
    const { caller, keys } = await stripeWorkspace();
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 10_000 });
    // a pay-link checkout whose PENDING row was lost, paid while the webhook endpoint was down
    const { session } = await stripe.withoutWebhooks(() =>
      stripe.seedPaidSession(keys.secretKey, {
        amount: 10_000,
        currency: 'eur',
        metadata: { workspace_id: caller.workspaceId, invoice_id: invoice.id },
      }),
    );
    const report = await findFixAndRecheck(caller, 'missing', session.id, () =>
      untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '10000' }),
    );
    expect(report.discrepancies[0]).toEqual({
      kind: 'missing',
      workspaceId: caller.workspaceId,
      invoiceId: invoice.id,
      provider: 'stripe',
      reference: session.id,
      ledger: null,
      providerState: { object: 'payment', status: 'succeeded', amountMinor: 10_000, currency: 'EUR' },
    });
    expect(report.checked).toEqual({ accounts: 1, providerObjects: 1, ledgerRows: 0 });
    // settled by the consumer, once, under the audit's event id
    const inbox = await sql<{ event_id: string; status: string }>(
      'select event_id, status from webhook_events where workspace_id = ? order by event_id',
      [caller.workspaceId],
    );
    expect(inbox).toEqual([{ event_id: `audit:${session.id}:succeeded`, status: 'applied' }]);
  });

  it('a pay-link checkout paid without its webhook is a status discrepancy, shown in the human table', async () => {
    const { caller } = await stripeWorkspace();
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 2_500 });
    const sessionId = await openCheckout(service, caller, invoice);
    await stripe.withoutWebhooks(() => stripe.completeSession(sessionId));
    stripe.failNext(2, 429); // Stripe rate-limits the first list calls: the audit backs off and goes on
    const table = await audit(caller);
    expect(table.code).toBe(1);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^audited 1 accounts from .*: 1 provider objects, 1 ledger rows$/);
    expect(lines[1]).toMatch(/^kind\s+workspace\s+invoice\s+reference\s+ledger\s+provider$/);
    expect(lines[3]).toMatch(
      new RegExp(
        `^status\\s+${caller.workspaceId}\\s+${invoice.id}\\s+${sessionId}\\s+payment pending 25\\.00 EUR\\s+payment succeeded 25\\.00 EUR$`,
      ),
    );
    expect(stripe.requests.filter((r) => r.status === 429)).toHaveLength(2);
    await findFixAndRecheck(caller, 'status', sessionId, () => untilInvoice(sql, invoice.id, { status: 'paid' }));
  });

  it('a refund made in the Stripe dashboard without a webhook is missing until fixed', async () => {
    const { caller } = await stripeWorkspace();
    const { invoice, paymentIntent } = await paidInvoice(service, stripe, caller);
    const refund = await stripe.withoutWebhooks(() => stripe.refundOutsideApi(paymentIntent, 4_000));
    const report = await findFixAndRecheck(caller, 'missing', refund.id, () =>
      untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '6000' }),
    );
    expect(report.discrepancies[0]).toMatchObject({
      invoiceId: invoice.id,
      providerState: { object: 'refund', status: 'succeeded', amountMinor: 4_000, currency: 'EUR' },
    });
  });

  it('a lost dispute the webhooks never told is missing; the fix re-opens the invoice', async () => {
    const { caller } = await stripeWorkspace();
    const { invoice, paymentIntent } = await paidInvoice(service, stripe, caller);
    const dispute = await lostDisputeWithoutWebhooks(paymentIntent);
    const report = await findFixAndRecheck(caller, 'missing', dispute.id, () =>
      untilInvoice(sql, invoice.id, { status: 'sent', paid_minor: '0' }),
    );
    expect(report.discrepancies[0].providerState).toEqual({
      object: 'dispute',
      status: 'lost',
      amountMinor: 10_000,
      currency: 'EUR',
    });
  });

  it('an older dispute whose webhooks were never delivered is found through the undelivered events', async () => {
    const { caller } = await stripeWorkspace();
    const { invoice, paymentIntent } = await paidInvoice(service, stripe, caller);
    const dispute = await lostDisputeWithoutWebhooks(paymentIntent);
    // the dispute was opened two days ago: outside the range, so only GET /v1/events?delivery_success=false names it
    const twoDaysAgo = dispute.created - 2 * 86_400;
    dispute.created = twoDaysAgo;
    for (const event of stripe.events) {
      const object = event.data.object as { id?: string; created?: number };
      if (object.id === dispute.id) object.created = twoDaysAgo;
    }
    await findFixAndRecheck(caller, 'missing', dispute.id, () =>
      untilInvoice(sql, invoice.id, { status: 'sent', paid_minor: '0' }),
    );
    const listed = stripe.requests.filter((request) => request.path.split('?')[0] === '/v1/events');
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((request) => request.query.delivery_success === 'false')).toBe(true);
  });

  it('a ledger row the provider does not know is unknown, and --fix leaves it alone', async () => {
    const { caller } = await stripeWorkspace();
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 3_000 });
    await insertPayment(service.orm, { workspaceId: caller.workspaceId, invoiceId: invoice.id, amountMinor: 3_000 });
    const [row] = await sql<{ provider_reference: string }>(
      'select provider_reference from invoice_payments where invoice_id = ?',
      [invoice.id],
    );
    for (const args of [['--json'], ['--json', '--fix']]) {
      const result = await audit(caller, ...args);
      expect(result.code).toBe(1);
      expect(result.report).toEqual({
        checked: { accounts: 1, providerObjects: 0, ledgerRows: 1 },
        discrepancies: [
          {
            kind: 'unknown',
            workspaceId: caller.workspaceId,
            invoiceId: invoice.id,
            provider: 'stripe',
            reference: row.provider_reference,
            ledger: { object: 'payment', status: 'succeeded', amountMinor: 3_000, currency: 'EUR' },
            providerState: null,
          },
        ],
        fixed: 0,
      });
    }
    const stored = await sql('select status from invoice_payments where invoice_id = ?', [invoice.id]);
    expect(stored).toEqual([{ status: 'succeeded' }]);
  });

  it('a Mollie payment and its chargeback missing from the ledger, in KWD (three decimals)', async () => {
    const caller = newCaller(['owner']);
    const apiKey = `test_${randomBytes(20).toString('hex').slice(0, 32)}`;
    const saved = await service.gql(
      'mutation ($input: SaveMollieKeysInput!) { saveMollieKeys(input: $input) { active } }',
      { input: { apiKey, mode: 'TEST', offerCardPayments: true } },
      await tokenFor(caller),
    );
    expect(saved.errors).toBeUndefined();
    const invoice = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      currency: 'KWD',
      totalMinor: 12_345,
    });
    const payment = await mollie.withoutWebhooks(() =>
      mollie.seedPaidPayment(apiKey, {
        amount: { currency: 'KWD', value: '12.345' },
        metadata: { workspace_id: caller.workspaceId, invoice_id: invoice.id },
      }),
    );
    mollie.failNext(1, 429); // Mollie asks to slow down (Retry-After: 1): the audit waits and goes on
    const first = await findFixAndRecheck(caller, 'missing', payment.id, () =>
      untilInvoice(sql, invoice.id, { status: 'paid', paid_minor: '12345' }),
    );
    expect(first.discrepancies[0].providerState).toEqual({
      object: 'payment',
      status: 'succeeded',
      amountMinor: 12_345,
      currency: 'KWD',
    });

    expect(mollie.requests.filter((request) => request.status === 429)).toHaveLength(1);

    const chargeback = await mollie.withoutWebhooks(() => mollie.addChargeback(payment.id, '2.345'));
    const second = await findFixAndRecheck(caller, 'missing', chargeback.id, () =>
      untilInvoice(sql, invoice.id, { status: 'partial', paid_minor: '10000' }),
    );
    expect(second.discrepancies[0]).toMatchObject({
      invoiceId: invoice.id,
      provider: 'mollie',
      providerState: { object: 'dispute', status: 'lost', amountMinor: 2_345, currency: 'KWD' },
    });
    expect((await invoiceRow(sql, invoice.id)).status).toBe('partial');
  });

  it('an unreachable account is reported and the others are still audited (exit 1)', async () => {
    const { caller } = await stripeWorkspace();
    const apiKey = `test_${randomBytes(20).toString('hex').slice(0, 32)}`;
    await service.gql(
      'mutation ($input: SaveMollieKeysInput!) { saveMollieKeys(input: $input) { active } }',
      { input: { apiKey, mode: 'TEST', offerCardPayments: true } },
      await tokenFor(caller),
    );
    const result = await runOpsCli(env({ MOLLIE_API_URL: 'http://127.0.0.1:9' }), [
      'audit',
      '--since',
      since,
      '--workspace',
      caller.workspaceId,
      '--json',
    ]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ checked: { accounts: 1 }, discrepancies: [] });
    expect(result.stderr).toContain(`unreachable: mollie account of workspace ${caller.workspaceId}`);
    expect(result.stderr).not.toContain(apiKey);
  });

  it('refuses bad flags by name with exit code 2', async () => {
    const cases: Array<[string[], string]> = [
      [['audit'], 'audit needs --since <ISO time>'],
      [['audit', '--since', 'yesterday'], '--since must be an ISO time'],
      [['audit', '--since', '2026-11-29T10:00:00Z', '--until', '2026-11-28T10:00:00Z'], 'is before --since'],
      [['audit', '--since', since, '--provider', 'paypal'], 'unknown --provider "paypal"'],
      [['audit', '--since', since, '--fixx'], 'unknown option --fixx (did you mean --fix?)'],
      [['audit', '--since', since, '--json=yes'], '--json is a switch'],
    ];
    // in-process: argument handling needs no connection (the built binary is exercised above)
    for (const [args, message] of cases) {
      const stderr: string[] = [];
      const code = await runOps(
        args,
        () => undefined,
        (line) => stderr.push(line),
      );
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.join('\n')).toContain(message);
    }
    const help: string[] = [];
    expect(await runOps(['audit', '--help'], (line) => help.push(line))).toBe(0);
    expect(help.join('\n')).toContain('usage: payments-ops audit --since <ISO>');
  });
});
