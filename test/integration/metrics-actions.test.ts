import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { sqlOn } from '../helpers/db.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { openCheckout, paidInvoice } from '../helpers/paid-invoice.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';
import { eventually } from '../helpers/wait.js';

/** Reads one sample of `/metrics` (0 when the series is absent). */
async function sample(service: TestService, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2].split(',');
    if (wanted.every((pair) => have.includes(pair)) && have.length === wanted.length) return Number(match[3]);
  }
  return 0;
}

/** Each metric of the on-call dashboard moves, with the right labels, after the action it counts. */
describe('/metrics after the matching actions', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let caller: TestCaller;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe({
      RECONCILE_INTERVAL_MS: '200',
      GRACE_SWEEP_INTERVAL_MS: '200',
      DLQ_RETRY_INTERVAL_MS: '200',
    }));
    stripe.autoDeliver = { baseUrl: service.url };
    caller = newCaller(['owner']);
    // no webhook secret: the service creates the endpoint (a provider call of its own)
    await connectStripe(service, caller, { keys: testKeys('test', false) });
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const delta = async (
    name: string,
    labels: Record<string, string>,
    action: () => Promise<unknown>,
  ): Promise<number> => {
    const before = await sample(service, name, labels);
    await action();
    return (await sample(service, name, labels)) - before;
  };

  it('GraphQL errors by code, also for HTTP 200 answers and refusals before GraphQL runs', async () => {
    expect(
      await delta('payments_graphql_errors_total', { code: 'UNAUTHENTICATED' }, () =>
        service.gql('{ paymentProviders { provider } }'),
      ),
    ).toBe(1);
    expect(
      await delta('payments_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' }, async () =>
        service.gql('{ noSuchField }', undefined, await tokenFor(caller)),
      ),
    ).toBe(1);
    expect(
      await delta('payments_graphql_errors_total', { code: 'PAYLOAD_TOO_LARGE' }, () =>
        fetch(`${service.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }', pad: 'x'.repeat(1_100_000) }),
        }),
      ),
    ).toBe(1);
  });

  it('provider calls by provider, operation and outcome, with latency', async () => {
    for (const operation of ['verify_credentials', 'create_webhook_endpoint'])
      expect(
        await sample(service, 'payments_provider_calls_total', { provider: 'stripe', operation, outcome: 'ok' }),
      ).toBeGreaterThanOrEqual(1);
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId });
    expect(
      await delta(
        'payments_provider_calls_total',
        { provider: 'stripe', operation: 'create_checkout', outcome: 'ok' },
        () => openCheckout(service, caller, invoice),
      ),
    ).toBe(1);
    expect(
      await sample(service, 'payments_provider_call_duration_seconds_count', {
        provider: 'stripe',
        operation: 'create_checkout',
      }),
    ).toBeGreaterThanOrEqual(1);
    // a key Stripe rejects: counted as invalid_credentials
    const other = newCaller(['owner']);
    const keys = testKeys();
    stripe.rejectKey(keys.secretKey);
    expect(
      await delta(
        'payments_provider_calls_total',
        { provider: 'stripe', operation: 'verify_credentials', outcome: 'invalid_credentials' },
        () => connectStripe(service, other, { keys }).catch(() => null),
      ),
    ).toBe(1);
  });

  it('pay-page outcomes: redirect, reused, 404, 410 and 429', async () => {
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId });
    const PAY_LINK =
      'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { payLink { url } } } }';
    const result = await service.gql<{ _entities: Array<{ payLink: { url: string } }> }>(
      PAY_LINK,
      { reps: [{ __typename: 'Invoice', id: invoice.id }] },
      await tokenFor(caller),
    );
    const url = result.data!._entities[0].payLink.url.replace(/^https?:\/\/[^/]+/, service.url);
    const click = (target = url) => fetch(target, { redirect: 'manual' });
    const clicks = (outcome: string, status: string) => ({ outcome, status });

    expect(await delta('payments_pay_link_clicks_total', clicks('redirect', '303'), () => click())).toBe(1);
    expect(await delta('payments_pay_link_clicks_total', clicks('reused', '303'), () => click())).toBe(1);
    expect(
      await delta('payments_pay_link_clicks_total', clicks('unknown', '404'), () =>
        click(`${service.url}/pay/${randomUUID()}`),
      ),
    ).toBe(1);
    await sqlOn(() => service.orm)('update invoices set status = ? where id = ?', ['void', invoice.id]);
    expect(await delta('payments_pay_link_clicks_total', clicks('void', '410'), () => click())).toBe(1);
    const flooded = `${service.url}/pay/${randomUUID()}`;
    expect(
      await delta('payments_pay_link_clicks_total', clicks('rate_limited', '429'), async () => {
        for (let i = 0; i < 21; i++) await click(flooded);
      }),
    ).toBe(1);
  });

  it('refunds requested and succeeded, by provider', async () => {
    const { paymentId } = await paidInvoice(service, stripe, caller);
    const refund = async () => {
      const answer = await service.gql(
        'mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { status } }',
        { input: { paymentId, amountMinor: 1000, idempotencyKey: `metrics-${randomUUID()}` } },
        await tokenFor(caller),
      );
      expect(answer.errors).toBeUndefined();
    };
    const requested = await sample(service, 'payments_refunds_total', { provider: 'stripe', result: 'requested' });
    expect(await delta('payments_refunds_total', { provider: 'stripe', result: 'succeeded' }, refund)).toBe(1);
    expect(await sample(service, 'payments_refunds_total', { provider: 'stripe', result: 'requested' })).toBe(
      requested + 1,
    );
    expect(
      await sample(service, 'payments_provider_calls_total', {
        provider: 'stripe',
        operation: 'refund',
        outcome: 'ok',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('background runs of the reconciler, the DLQ retrier and the grace sweep, by task and outcome', async () => {
    for (const task of ['reconcile', 'dlq_retry', 'disconnect_grace']) {
      await eventually(
        async () =>
          (await sample(service, 'payments_background_runs_total', { task, outcome: 'ok' })) > 0 ? true : null,
        10_000,
        { what: `a ${task} pass` },
      );
      expect(await sample(service, 'payments_background_run_duration_seconds_count', { task })).toBeGreaterThan(0);
    }
  });
});
