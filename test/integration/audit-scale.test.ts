import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { sqlOn } from '../helpers/db.js';
import { freshDatabase, uniquePrefix } from '../helpers/env.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { newCaller } from '../helpers/tokens.js';

/**
 * One audit over 5,000 provider objects in 20 workspaces (20 Stripe accounts): every object is compared, the provider
 * is asked one list call per page and nothing else, and memory stays flat (both sides are streamed). The figures are
 * printed for the record; the assertions are about counts, never about time.
 */
const WORKSPACES = 20;
const SESSIONS = 245;
const REFUNDS = 5;

describe('audit at scale', () => {
  let db: { url: string; drop: () => Promise<void> };
  let service: TestService;
  let stripe: FakeStripe;
  beforeAll(async () => {
    db = await freshDatabase(); // the run covers every account of its database
    ({ service, stripe } = await startWithFakeStripe({ DATABASE_URL: db.url, NATS_SUBJECT_PREFIX: uniquePrefix() }, [
      '--role',
      'api',
    ]));
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
    await db?.drop();
  });

  it('audits 5,000 objects over 20 workspaces with one call per page and flat memory', async () => {
    const sql = sqlOn(() => service.orm);
    const since = new Date(Date.now() - 60_000);
    const invoices: unknown[] = [];
    const payments: unknown[] = [];
    const refunds: unknown[] = [];
    for (let w = 0; w < WORKSPACES; w++) {
      const caller = newCaller(['owner']);
      const keys = await connectStripe(service, caller, { keys: testKeys('test', false) });
      const paymentIds: Array<{ id: string; invoiceId: string; paymentIntent: string }> = [];
      for (let i = 0; i < SESSIONS; i++) {
        const invoiceId = randomUUID();
        const { session, paymentIntent } = stripe.seedPaidSession(keys.secretKey, {
          amount: 1_000 + i,
          currency: 'eur',
          metadata: { workspace_id: caller.workspaceId, invoice_id: invoiceId },
        });
        invoices.push({ id: invoiceId, workspace_id: caller.workspaceId, total_minor: 1_000 + i });
        if (i === 0) continue; // the ledger never heard of this one: missing
        const id = randomUUID();
        paymentIds.push({ id, invoiceId, paymentIntent: paymentIntent.id });
        payments.push({
          id,
          workspace_id: caller.workspaceId,
          invoice_id: invoiceId,
          reference: session.id,
          payment_intent: paymentIntent.id,
          amount_minor: 1_000 + i,
          status: 'succeeded',
        });
      }
      for (let r = 0; r < REFUNDS; r++) {
        const paid = paymentIds[r];
        const refund = await stripe.refundOutsideApi(paid.paymentIntent, 100);
        if (r > 0)
          refunds.push({
            workspace_id: caller.workspaceId,
            payment_id: paid.id,
            invoice_id: paid.invoiceId,
            reference: refund.id,
          });
      }
      // a ledger row Stripe does not know: unknown
      const stray = randomUUID();
      invoices.push({ id: stray, workspace_id: caller.workspaceId, total_minor: 500 });
      payments.push({
        id: randomUUID(),
        workspace_id: caller.workspaceId,
        invoice_id: stray,
        reference: `cs_test_stray${w}`,
        payment_intent: null,
        amount_minor: 500,
        status: 'succeeded',
      });
    }
    await sql(
      `insert into invoices (id, workspace_id, number, status, currency, total_minor, paid_minor)
       select id, workspace_id, 'INV-' || left(id::text, 8), 'sent', 'EUR', total_minor, 0
       from jsonb_to_recordset(?::jsonb) as i(id uuid, workspace_id uuid, total_minor bigint)`,
      [JSON.stringify(invoices)],
    );
    await sql(
      `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, provider_payment_id, status, amount_minor, currency)
       select id, workspace_id, invoice_id, 'stripe', reference, payment_intent, status, amount_minor, 'EUR'
       from jsonb_to_recordset(?::jsonb) as p(id uuid, workspace_id uuid, invoice_id uuid, reference text, payment_intent text, status text, amount_minor bigint)`,
      [JSON.stringify(payments)],
    );
    await sql(
      `insert into payment_refunds (id, workspace_id, payment_id, invoice_id, provider, provider_refund_id, amount_minor, currency, status)
       select gen_random_uuid(), workspace_id, payment_id, invoice_id, 'stripe', reference, 100, 'EUR', 'succeeded'
       from jsonb_to_recordset(?::jsonb) as r(workspace_id uuid, payment_id uuid, invoice_id uuid, reference text)`,
      [JSON.stringify(refunds)],
    );

    stripe.requests.length = 0;
    global.gc?.();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 10);
    const started = performance.now();
    const report = await service.services.audit.run({ since, until: new Date() });
    const elapsedMs = performance.now() - started;
    clearInterval(sampler);

    expect(report.unreachable).toEqual([]);
    expect(report.checked).toEqual({
      accounts: WORKSPACES,
      providerObjects: WORKSPACES * (SESSIONS + REFUNDS),
      ledgerRows: payments.length + refunds.length,
    });
    const kinds = report.discrepancies.map((d) => `${d.kind}:${d.ledger?.object ?? d.providerState?.object}`);
    expect(kinds.filter((kind) => kind === 'missing:payment')).toHaveLength(WORKSPACES);
    expect(kinds.filter((kind) => kind === 'missing:refund')).toHaveLength(WORKSPACES);
    expect(kinds.filter((kind) => kind === 'unknown:payment')).toHaveLength(WORKSPACES);
    expect(report.discrepancies).toHaveLength(3 * WORKSPACES);

    // per account: one list call per page of 100 for sessions, refunds, disputes and undelivered events (a page even
    // when empty), nothing else
    const paths = stripe.requests.map((request) => request.path.split('?')[0]);
    const eventsPerAccount = stripe.events.length / WORKSPACES; // every event of the set-up went undelivered
    const pages = (count: number) => Math.max(1, Math.ceil(count / 100));
    expect(new Set(paths)).toEqual(new Set(['/v1/checkout/sessions', '/v1/refunds', '/v1/disputes', '/v1/events']));
    expect(paths).toHaveLength(WORKSPACES * (pages(SESSIONS) + pages(REFUNDS) + pages(0) + pages(eventsPerAccount)));
    const growthMb = (peak - baseline) / 1024 ** 2;
    console.log(
      `audit of ${report.checked.providerObjects} provider objects and ${report.checked.ledgerRows} ledger rows over ${report.checked.accounts} accounts: ` +
        `${Math.round(elapsedMs)} ms, ${paths.length} provider calls, peak heap growth ${growthMb.toFixed(1)} MB`,
    );
    expect(growthMb).toBeLessThan(64);
  }, 300_000);
});
