import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertInvoicesWithPayments } from '../../helpers/fixtures.js';
import { GATEWAY_ENTITIES } from '../../helpers/graphql-documents.js';
import type { TestService } from '../../helpers/service.js';
import { newCaller, tokenFor, type TestCaller } from '../../helpers/tokens.js';
import { postGraphQL, startLimitedService, statementsOf } from './limited-service.js';

const reps = (ids: string[]) => ids.map((id) => ({ __typename: 'Invoice', id }));
const randomReps = (count: number) => reps(Array.from({ length: count }, () => randomUUID()));

describe('GraphQL limits at their defaults', () => {
  let service: TestService;
  let caller: TestCaller;
  let token: string;
  const invoiceIds: string[] = [];

  beforeAll(async () => {
    service = await startLimitedService();
    caller = newCaller(['finance']);
    token = await tokenFor(caller);
    const invoices = await insertInvoicesWithPayments(service.orm, caller.workspaceId, 100);
    invoiceIds.push(...invoices.map((invoice) => invoice.id));
  });
  afterAll(async () => {
    await service?.stop();
  });

  /** Sends a request and returns its answer together with the SQL statements it caused. */
  async function measured<T>(send: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    service.queries.length = 0;
    const result = await send();
    return { result, statements: statementsOf(service) };
  }

  it("lets the gateway's batch of 100 invoices with payments, refunds, payLink and providerSettings through, in 4 SQL statements", async () => {
    const { result, statements } = await measured(() =>
      service.gql<{ _entities: Array<{ payments: unknown[] }> }>(
        GATEWAY_ENTITIES,
        { representations: reps(invoiceIds) },
        token,
      ),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities).toHaveLength(100);
    expect(result.data!._entities.every((entity) => entity.payments.length === 1)).toBe(true);
    expect(statements.length).toBeLessThanOrEqual(4);
  });

  it('refuses more than 500 _entities representations before any SQL, and allows 500', async () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Invoice { id } } }';
    const { result, statements } = await measured(() => service.gql(query, { r: randomReps(501) }, token));
    expect(result.status).toBe(400);
    expect(result.errors).toEqual([
      {
        message: '_entities was given 501 representations; at most 500 are allowed per request.',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
    expect(statements).toEqual([]);
    const allowed = await service.gql<{ _entities: unknown[] }>(query, { r: randomReps(500) }, token);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data!._entities).toHaveLength(500);
  });

  it('refuses an operation over the cost limit before any SQL: the full entity selection for 500 invoices', async () => {
    const { result, statements } = await measured(() =>
      service.gql(GATEWAY_ENTITIES, { representations: randomReps(500) }, token),
    );
    expect(result.status).toBe(400);
    expect(result.errors?.[0]).toEqual({
      message:
        "The operation's estimated cost is 34,500; the maximum query cost is 20,000. Ask for fewer objects or split the request.",
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(statements).toEqual([]);
  });

  it('refuses partial pay links for 20 invoices × 45 amounts on cost, though within the alias limit', async () => {
    const amounts = Array.from({ length: 45 }, (_, i) => `l${i}: payLink(amountMinor: ${100 + i}) { url }`).join(' ');
    const query = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Invoice { ${amounts} } } }`;
    const { result, statements } = await measured(() =>
      service.gql(query, { r: reps(invoiceIds.slice(0, 20)) }, token),
    );
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(
      /^The operation's estimated cost is 23,420; the maximum query cost is 20,000\./,
    );
    expect(statements).toEqual([]);
  });

  it('refuses aliases repeating an expensive field, before any SQL: 1000 times (document size) or 51 times (alias limit)', async () => {
    const aliased = (count: number) =>
      `{ ${Array.from({ length: count }, (_, i) => `p${i}: payment(id: "${randomUUID()}") { id }`).join(' ')} }`;
    const thousand = await measured(() => service.gql(aliased(1000), undefined, token));
    expect(thousand.result.status).toBe(400);
    expect(thousand.result.errors?.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(thousand.statements).toEqual([]);

    const fiftyOne = await measured(() => service.gql(aliased(51), undefined, token));
    expect(fiftyOne.result.status).toBe(400);
    expect(fiftyOne.result.errors?.map(({ message, extensions }) => ({ message, extensions }))).toEqual([
      {
        message: 'The operation uses 51 aliased fields; at most 50 aliases are allowed.',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
    expect(fiftyOne.statements).toEqual([]);
    expect((await service.gql<Record<string, unknown>>(aliased(50), undefined, token)).errors).toBeUndefined();
  });

  it('refuses more than 5 root mutation fields per operation (aliases, fragments) before any SQL', async () => {
    const owner = await tokenFor(newCaller(['owner'], caller.workspaceId));
    const disconnects = (count: number) =>
      Array.from({ length: count }, (_, i) => `d${i}: disconnectPaymentProvider(provider: STRIPE)`).join(' ');
    for (const query of [
      `mutation { ${disconnects(50)} }`,
      `mutation { ${disconnects(6)} }`,
      `mutation { ...M ...M } fragment M on Mutation { ${disconnects(3)} }`,
    ]) {
      const refused = await measured(() => service.gql(query, undefined, owner));
      expect(refused.result.status).toBe(400);
      expect(refused.result.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/^The operation runs (50|6) mutations; at most 5 mutation fields are allowed/),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
      expect(refused.statements).toEqual([]);
    }
    const five = await service.gql<Record<string, boolean>>(`mutation { ${disconnects(5)} }`, undefined, owner);
    expect(five.errors).toBeUndefined();
    expect(Object.keys(five.data ?? {})).toHaveLength(5);
  });

  it('rejects HTTP batching (an array body) with 400 and executes none of its operations', async () => {
    const owner = newCaller(['owner'], caller.workspaceId);
    const batch = [
      { query: 'mutation { disconnectPaymentProvider(provider: STRIPE) }' },
      { query: '{ paymentProviders { provider } }' },
    ];
    const { result, statements } = await measured(() => postGraphQL(service, batch, undefined));
    expect(result.status).toBe(400);
    expect(result.body).toEqual({
      errors: [{ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(statements).toEqual([]);
    const withToken = await measured(async () => postGraphQL(service, batch, await tokenFor(owner)));
    expect(withToken.result.status).toBe(400);
    expect(withToken.statements).toEqual([]);
  });

  describe('document size (GRAPHQL_MAX_TOKENS, 2000)', () => {
    const parseRefusal = async (query: string) => {
      const started = performance.now();
      const { result, statements } = await measured(() => service.gql(query, undefined, token));
      return { ...result, ms: performance.now() - started, statements };
    };

    it.each([
      ['many operations', () => Array.from({ length: 600 }, (_, i) => `query q${i} { __typename }`).join('\n')],
      [
        'many fragments',
        () =>
          `{ paymentProviders { ${Array.from({ length: 400 }, (_, i) => `...f${i}`).join(' ')} } } ${Array.from({ length: 400 }, (_, i) => `fragment f${i} on PaymentProviderSettings { provider }`).join(' ')}`,
      ],
      ['many fields', () => `{ paymentProviders { ${'provider '.repeat(5000)} } }`],
      ['a huge selection of a 900 KB body', () => `{ ${'paymentProviders { provider } '.repeat(30_000)} }`],
    ])('refuses %s with a clear 400 before validating anything', async (_name, build) => {
      const refused = await parseRefusal(build());
      expect(refused.status).toBe(400);
      expect(refused.errors).toEqual([
        {
          message: 'Syntax Error: Document contains more that 2000 tokens. Parsing aborted.',
          locations: [expect.any(Object)],
          extensions: { code: 'GRAPHQL_PARSE_FAILED' },
        },
      ]);
      expect(refused.statements).toEqual([]);
      expect(refused.ms).toBeLessThan(1000);
    });

    it('still accepts a document of many operations within the limit', async () => {
      const query = Array.from({ length: 300 }, (_, i) => `query q${i} { __typename }`).join('\n');
      const response = await postGraphQL(service, { query, operationName: 'q299' }, token);
      expect(response).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
    });

    it('answers a body over 1 MB with 413, not a crash', async () => {
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ __typename } #${'x'.repeat(1_100_000)}` }),
      });
      expect(response.status).toBe(413);
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    });
  });

  it('refuses a document nested hundreds of levels deep with 400 (no stack overflow)', async () => {
    const query = `{ ${'a { '.repeat(600)}b${' }'.repeat(600)} }`;
    const { result, statements } = await measured(() => service.gql(query, undefined, token));
    expect(result.status).toBe(400);
    expect(result.errors?.map((error) => error.message)).toContain(
      'The operation is nested 601 levels deep; the maximum query depth is 10.',
    );
    expect(statements).toEqual([]);
    expect((await service.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('refuses an exponential fragment bomb quickly', async () => {
    const levels = 30;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1
        ? `fragment F${i} on Query { p: paymentProviders { provider } }`
        : `fragment F${i} on Query { a${i}: __typename ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const started = performance.now();
    const { result, statements } = await measured(() => service.gql(`{ ...F0 }\n${fragments}`, undefined, token));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result.status).toBe(400);
    expect(result.errors?.map((error) => error.message)).toContain(
      'The operation uses 1,073,741,823 aliased fields; at most 50 aliases are allowed.',
    );
    expect(statements).toEqual([]);
  });
});

describe('GraphQL depth limit (GRAPHQL_MAX_DEPTH=4)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startLimitedService({ GRAPHQL_MAX_DEPTH: '4' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('refuses an operation nested deeper than the limit before any SQL, with a message naming the limit', async () => {
    const token = await tokenFor(newCaller(['viewer']));
    const deep =
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Invoice { payments { refunds { amount { amountMinor } } } } } }';
    service.queries.length = 0;
    const refused = await service.gql(deep, { r: randomReps(3) }, token);
    expect(refused.status).toBe(400);
    expect(refused.errors).toEqual([
      {
        message: 'The operation is nested 5 levels deep; the maximum query depth is 4.',
        locations: [{ line: 1, column: 1 }],
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
    expect(statementsOf(service)).toEqual([]);

    const shallower =
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Invoice { payments { amount { amountMinor } } } } }';
    const allowed = await service.gql(shallower, { r: randomReps(3) }, token);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data).toEqual({ _entities: [null, null, null] });
  });
});
