import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_INTROSPECTION_OPTIONS } from '../../helpers/graphql-documents.js';
import { startInvoicesSubgraph } from '../../helpers/fixture-subgraph/invoices-subgraph.js';
import type { TestService } from '../../helpers/service.js';
import { newCaller, tokenFor } from '../../helpers/tokens.js';
import { startLimitedService, statementsOf } from './limited-service.js';

const SCHEMA = '{ __schema { queryType { name } types { name } } }';
const TYPE = '{ __type(name: "Invoice") { fields { name } } }';
const FULL_INTROSPECTION = getIntrospectionQuery(FULL_INTROSPECTION_OPTIONS);

/** testEnv's secrets are production-grade (not the dev-only defaults), so a production config loads. */
const PRODUCTION = { NODE_ENV: 'production' };

describe('introspection in production (NODE_ENV=production)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startLimitedService(PRODUCTION);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it.each([
    ['__schema', SCHEMA],
    ['__type', TYPE],
    ['the full introspection query', FULL_INTROSPECTION],
  ])('refuses %s with 400 GRAPHQL_VALIDATION_FAILED, with or without a token', async (_name, query) => {
    for (const token of [undefined, await tokenFor(newCaller(['owner']))]) {
      service.queries.length = 0;
      const result = await service.gql(query, undefined, token);
      expect(result.status).toBe(400);
      expect(result.data).toBeNull();
      expect(result.errors?.length).toBeGreaterThan(0);
      expect(
        result.errors?.every(
          (error) =>
            error.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' &&
            /introspection is not allowed/.test(error.message),
        ),
      ).toBe(true);
      expect(statementsOf(service)).toEqual([]);
    }
  });

  it("keeps serving federation's _service { sdl } without a token", async () => {
    const result = await service.gql<{ _service: { sdl: string } }>(
      'query __ApolloGetServiceDefinition__ { _service { sdl } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._service.sdl).toContain('type Invoice @key(fields: "id")');
    expect(result.data?._service.sdl).toContain('refundPayment(');
  });

  it('lets a gateway compose the supergraph from it', async () => {
    const invoices = await startInvoicesSubgraph(service.orm);
    const gateway = new ApolloServer({
      gateway: new ApolloGateway({
        supergraphSdl: new IntrospectAndCompose({
          subgraphs: [
            { name: 'invoices', url: invoices.url },
            { name: 'payments', url: `${service.url}/graphql` },
          ],
        }),
      }),
    });
    try {
      await gateway.start();
      const response = await gateway.executeOperation({ query: '{ __type(name: "Invoice") { fields { name } } }' });
      const result = response.body.kind === 'single' ? response.body.singleResult : null;
      expect(result?.errors).toBeUndefined();
      expect(
        (result?.data as { __type: { fields: Array<{ name: string }> } }).__type.fields.map((field) => field.name),
      ).toEqual(expect.arrayContaining(['number', 'payments', 'payLink', 'providerSettings']));
    } finally {
      await gateway.stop();
      await invoices.stop();
    }
  });

  it('does not leak field names through "Did you mean" suggestions', async () => {
    const result = await service.gql(
      '{ paymentProvider { provider } }',
      undefined,
      await tokenFor(newCaller(['viewer'])),
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.errors?.[0]?.message).not.toContain('paymentProviders');
  });
});

describe('introspection switched on in production (GRAPHQL_INTROSPECTION=true)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startLimitedService({ ...PRODUCTION, GRAPHQL_INTROSPECTION: 'true' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('answers __schema and __type', async () => {
    expect((await service.gql(SCHEMA)).errors).toBeUndefined();
    expect((await service.gql<{ __type: { fields: unknown[] } }>(TYPE)).data?.__type.fields.length).toBeGreaterThan(0);
  });
});

describe('introspection outside production', () => {
  let service: TestService;
  let switchedOff: TestService;
  beforeAll(async () => {
    service = await startLimitedService();
    switchedOff = await startLimitedService({ GRAPHQL_INTROSPECTION: 'false' });
  });
  afterAll(async () => {
    await service?.stop();
    await switchedOff?.stop();
  });

  it('answers the full introspection query (GraphiQL, codegen) within the depth and cost limits', async () => {
    const result = await service.gql<{ __schema: { types: Array<{ name: string }> } }>(FULL_INTROSPECTION);
    expect(result.errors).toBeUndefined();
    expect(result.data?.__schema.types.map((type) => type.name)).toEqual(
      expect.arrayContaining(['Invoice', 'Payment', 'RefundPaymentInput']),
    );
    expect((await service.gql('{ paymentProvider { provider } }')).errors?.[0]?.message).toContain(
      'Did you mean "paymentProviders"?',
    );
  });

  it('can be switched off with GRAPHQL_INTROSPECTION=false, _service still answering', async () => {
    const refused = await switchedOff.gql(SCHEMA);
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await switchedOff.gql<{ _service: { sdl: string } }>('{ _service { sdl } }')).data?._service.sdl).toContain(
      'type Invoice',
    );
  });
});
