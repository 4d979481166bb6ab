import { randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertInvoice, insertInvoicesWithPayments, insertPayment, insertRefund } from '../../helpers/fixtures.js';
import { startTestService, type TestService } from '../../helpers/service.js';
import { newCaller, tokenFor } from '../../helpers/tokens.js';

const ENTITIES = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Invoice { id payments { id status providerReference amount { amountMinor currency amount } refunded { amountMinor } } }
  }
}`;

describe('payments subgraph over HTTP (real PostgreSQL)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => {
    await service?.stop();
  });

  describe('authentication', () => {
    const query = '{ paymentProviders { provider } }';
    const codeOf = async (token?: string) => {
      const result = await service.gql(query, undefined, token);
      return result.errors?.[0]?.extensions?.code ?? 'OK';
    };

    it('answers UNAUTHENTICATED without a token', async () => {
      expect(await codeOf()).toBe('UNAUTHENTICATED');
    });

    it('rejects a token signed with another secret', async () => {
      expect(await codeOf(await tokenFor(newCaller(), { secret: 'another-secret-of-at-least-32-bytes-long!!' }))).toBe(
        'UNAUTHENTICATED',
      );
    });

    it('rejects alg "none"', async () => {
      const caller = newCaller();
      const unsigned = new UnsecuredJWT({
        workspace_id: caller.workspaceId,
        workspace_domain: caller.workspaceDomain,
        roles: ['owner'],
      })
        .setSubject(caller.userId)
        .encode();
      expect(await codeOf(unsigned)).toBe('UNAUTHENTICATED');
    });

    it('rejects an expired token but honours 30 s of leeway', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(await codeOf(await tokenFor(newCaller(), { expiresIn: now - 120 }))).toBe('UNAUTHENTICATED');
      expect(await codeOf(await tokenFor(newCaller(), { expiresIn: now - 10 }))).toBe('OK');
    });

    it('rejects tokens missing workspace_id, workspace_domain, sub or roles', async () => {
      const key = new TextEncoder().encode('test-only-jwt-secret-of-at-least-32-bytes!!');
      const full = { sub: 'u1', workspace_id: randomUUID(), workspace_domain: 'acme.workestra.app', roles: ['owner'] };
      for (const missing of ['sub', 'workspace_id', 'workspace_domain', 'roles'] as const) {
        const claims: Record<string, unknown> = { ...full };
        delete claims[missing];
        const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
        expect(await codeOf(token), missing).toBe('UNAUTHENTICATED');
      }
    });

    it('rejects a malformed Authorization header', async () => {
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('is FORBIDDEN with no known role', async () => {
      expect(await codeOf(await tokenFor(newCaller([])))).toBe('FORBIDDEN');
      expect(await codeOf(await tokenFor(newCaller(['superuser'])))).toBe('FORBIDDEN');
      expect(await codeOf(await tokenFor(newCaller(['viewer'])))).toBe('OK');
    });

    it('serves _service without a token (gateway introspection)', async () => {
      const result = await service.gql<{ _service: { sdl: string } }>('{ _service { sdl } }');
      expect(result.errors).toBeUndefined();
      expect(result.data?._service.sdl).toContain('type Invoice @key(fields: "id")');
    });
  });

  describe('Invoice entity', () => {
    it("resolves own invoices with their ledger newest first, and another workspace's as null", async () => {
      const caller = newCaller(['viewer']);
      const other = newCaller(['owner']);
      const invoice = await insertInvoice(service.orm, {
        workspaceId: caller.workspaceId,
        currency: 'JPY',
        totalMinor: 5000,
      });
      const foreign = await insertInvoice(service.orm, { workspaceId: other.workspaceId });
      await insertPayment(service.orm, { workspaceId: other.workspaceId, invoiceId: foreign.id, amountMinor: 999 });
      const older = await insertPayment(service.orm, {
        workspaceId: caller.workspaceId,
        invoiceId: invoice.id,
        amountMinor: 1200,
        currency: 'JPY',
        createdAt: new Date('2026-01-01T00:00:00Z'),
      });
      const newer = await insertPayment(service.orm, {
        workspaceId: caller.workspaceId,
        invoiceId: invoice.id,
        amountMinor: 3800,
        currency: 'JPY',
        createdAt: new Date('2026-02-01T00:00:00Z'),
        status: 'pending',
      });

      const result = await service.gql<{
        _entities: Array<{
          id: string;
          payments: Array<{
            id: string;
            status: string;
            amount: { amountMinor: number; currency: string; amount: string };
          }>;
        } | null>;
      }>(
        ENTITIES,
        {
          reps: [
            { __typename: 'Invoice', id: invoice.id },
            { __typename: 'Invoice', id: foreign.id },
            { __typename: 'Invoice', id: randomUUID() },
            { __typename: 'Invoice', id: 'not-a-uuid' },
          ],
        },
        await tokenFor(caller),
      );
      expect(result.errors).toBeUndefined();
      const [own, foreignResult, unknown, malformed] = result.data!._entities;
      expect(own?.payments.map((payment) => payment.id)).toEqual([newer, older]);
      expect(own?.payments[0]).toMatchObject({
        status: 'PENDING',
        amount: { amountMinor: 3800, currency: 'JPY', amount: '3800' },
      });
      expect(own?.payments[1]).toMatchObject({ status: 'SUCCEEDED' });
      expect(foreignResult).toBeNull();
      expect(unknown).toBeNull();
      expect(malformed).toBeNull();
      // the other workspace's invoice (999) shows nowhere; random provider references may contain the digits, so match the amount
      expect(JSON.stringify(result)).not.toMatch(/"amountMinor":999\b/);
    });

    it('requires a token for _entities too', async () => {
      const result = await service.gql(ENTITIES, { reps: [{ __typename: 'Invoice', id: randomUUID() }] });
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('loads 100 invoice references with their payments in at most 2 SQL statements', async () => {
      const caller = newCaller(['finance']);
      const invoices = await insertInvoicesWithPayments(service.orm, caller.workspaceId, 100);
      const token = await tokenFor(caller);
      service.queries.length = 0;
      const result = await service.gql<{ _entities: Array<{ payments: Array<{ amount: { amountMinor: number } }> }> }>(
        ENTITIES,
        { reps: invoices.map((invoice) => ({ __typename: 'Invoice', id: invoice.id })) },
        token,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities.map((entity) => entity.payments[0].amount.amountMinor)).toEqual(
        invoices.map((_, i) => 100 + i),
      );
      const statements = service.queries.filter((sql) => /^\s*(select|insert|update|delete)\b/i.test(sql));
      expect(statements.length).toBeLessThanOrEqual(2);
      expect(statements.length).toBeGreaterThan(0);
    });
  });

  describe('payment(id)', () => {
    it("returns own payments and null for another workspace's", async () => {
      const caller = newCaller(['viewer']);
      const other = newCaller();
      const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, currency: 'KWD' });
      const own = await insertPayment(service.orm, {
        workspaceId: caller.workspaceId,
        invoiceId: invoice.id,
        amountMinor: 1250,
        currency: 'KWD',
      });
      const theirs = await insertPayment(service.orm, {
        workspaceId: other.workspaceId,
        invoiceId: invoice.id,
        amountMinor: 10,
      });
      const token = await tokenFor(caller);
      const query = 'query ($id: ID!) { payment(id: $id) { id provider amount { amount currency } refunds { id } } }';
      const mine = await service.gql<{ payment: { amount: { amount: string } } | null }>(query, { id: own }, token);
      expect(mine.data?.payment).toMatchObject({
        provider: 'STRIPE',
        amount: { amount: '1.250', currency: 'KWD' },
        refunds: [],
      });
      const foreign = await service.gql<{ payment: unknown }>(query, { id: theirs }, token);
      expect(foreign.errors).toBeUndefined();
      expect(foreign.data?.payment).toBeNull();
    });
  });

  describe('Payment.invoice and Refund.payment', () => {
    const WALK = `query ($id: ID!) {
      payment(id: $id) {
        id
        invoice { id paymentSummary { paid { amountMinor } refunded { amountMinor } } }
        refunds { id amount { amountMinor } payment { id invoice { id } } }
      }
    }`;

    it('lead from a refund to its payment and from a payment to its invoice', async () => {
      const caller = newCaller(['viewer']);
      const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, paidMinor: 4000 });
      const payment = await insertPayment(service.orm, {
        workspaceId: caller.workspaceId,
        invoiceId: invoice.id,
        amountMinor: 4000,
      });
      const refund = await insertRefund(service.orm, {
        workspaceId: caller.workspaceId,
        invoiceId: invoice.id,
        paymentId: payment,
        amountMinor: 1500,
      });
      const result = await service.gql(WALK, { id: payment }, await tokenFor(caller));
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({
        payment: {
          id: payment,
          invoice: { id: invoice.id, paymentSummary: { paid: { amountMinor: 4000 }, refunded: { amountMinor: 0 } } },
          refunds: [
            { id: refund, amount: { amountMinor: 1500 }, payment: { id: payment, invoice: { id: invoice.id } } },
          ],
        },
      });
    });

    it("never resolves another workspace's invoice through a payment", async () => {
      const owner = newCaller(['owner']);
      const intruder = newCaller(['owner']);
      const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId });
      // a ledger row of the intruder's workspace that names the owner's invoice id
      const crafted = await insertPayment(service.orm, {
        workspaceId: intruder.workspaceId,
        invoiceId: invoice.id,
        amountMinor: 10,
      });
      const result = await service.gql<{ payment: unknown }>(
        'query ($id: ID!) { payment(id: $id) { id invoice { id payments { id } } } }',
        { id: crafted },
        await tokenFor(intruder),
      );
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(result.data?.payment ?? null).toBeNull();
      expect(JSON.stringify(result)).not.toContain(invoice.id);
    });

    it('batches invoices and payments of 50 invoices with refunds into a constant number of statements', async () => {
      const caller = newCaller(['finance']);
      const invoices = await insertInvoicesWithPayments(service.orm, caller.workspaceId, 50);
      const token = await tokenFor(caller);
      const listed = await service.gql<{ _entities: Array<{ payments: Array<{ id: string }> }> }>(
        ENTITIES,
        { reps: invoices.map((invoice) => ({ __typename: 'Invoice', id: invoice.id })) },
        token,
      );
      for (const [i, entity] of listed.data!._entities.entries()) {
        await insertRefund(service.orm, {
          workspaceId: caller.workspaceId,
          invoiceId: invoices[i].id,
          paymentId: entity.payments[0].id,
          amountMinor: 1,
        });
      }
      service.queries.length = 0;
      const result = await service.gql<{
        _entities: Array<{
          id: string;
          payments: Array<{ invoice: { id: string }; refunds: Array<{ payment: { invoice: { id: string } } }> }>;
        }>;
      }>(
        `query ($reps: [_Any!]!) { _entities(representations: $reps) {
          ... on Invoice { id payments { invoice { id } refunds { payment { invoice { id } } } } } } }`,
        { reps: invoices.map((invoice) => ({ __typename: 'Invoice', id: invoice.id })) },
        token,
      );
      expect(result.errors).toBeUndefined();
      for (const entity of result.data!._entities) {
        expect(entity.payments[0].invoice.id).toBe(entity.id);
        expect(entity.payments[0].refunds[0].payment.invoice.id).toBe(entity.id);
      }
      const statements = service.queries.filter((sql) => /^\s*(select|insert|update|delete)\b/i.test(sql));
      // invoices, payments, refunds, payments by id (the invoices of the second hop come from the loader's cache)
      expect(statements.length).toBeLessThanOrEqual(4);
    });
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok', nats: 'ok' } });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/payments_http_requests_total\{method="POST",route="\/graphql"/);
    expect(metrics).toContain('process_resident_memory_bytes');
  });
});
