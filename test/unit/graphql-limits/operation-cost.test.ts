import type { GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { readGraphQLLimits } from '../../../src/config.js';
import { ASSUMED_LIST_SIZE, estimateOperation, ROUND_TRIP_COST } from '../../../src/graphql-limits/operation-cost.js';
import { buildFederatedSchema } from '../../../src/graphql/build-federated-schema.js';
import { FULL_INTROSPECTION_OPTIONS, GATEWAY_ENTITIES } from '../../helpers/graphql-documents.js';
import { graphql } from './cjs-graphql.js';

const { getIntrospectionQuery, parse } = graphql;
const DEFAULTS = readGraphQLLimits({});

const representations = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ __typename: 'Invoice', id: `id-${i}` }));

describe('estimateOperation', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildFederatedSchema();
  });
  const estimate = (query: string, variables: Record<string, unknown> = {}, operationName?: string) => {
    const document = parse(query);
    const operation = document.definitions.find(
      (definition) =>
        definition.kind === 'OperationDefinition' && (!operationName || definition.name?.value === operationName),
    );
    return estimateOperation(schema, document, operation as never, variables);
  };

  it('counts objects: each list at its assumed size, _entities at its representation count', () => {
    // Invoice 1 + payments 5 × (Payment 1 + amount 1 + refunded 1 + refunds 5 × (Refund 1 + amount 1)) + payLink 1 + amountDue 1 + settings 1.
    const perInvoice = 1 + ASSUMED_LIST_SIZE * (3 + ASSUMED_LIST_SIZE * 2) + 2 + 1;
    expect(estimate(GATEWAY_ENTITIES, { representations: representations(100) })).toEqual({
      cost: 100 * perInvoice,
      entities: 100,
    });
    expect(estimate(GATEWAY_ENTITIES, { representations: representations(1) }).cost).toBe(perInvoice);
    expect(
      estimate(
        '{ _entities(representations: [{ __typename: "Invoice", id: "a" }, { __typename: "Invoice", id: "b" }]) { ... on Invoice { id } } }',
      ),
    ).toEqual({ cost: 2, entities: 2 });
    expect(estimate('{ _service { sdl } }')).toEqual({ cost: 1, entities: 0 });
  });

  it('lets a gateway batch of 100 invoices with payments, payLink and providerSettings through at the default limit', () => {
    expect(estimate(GATEWAY_ENTITIES, { representations: representations(100) }).cost).toBeLessThanOrEqual(
      DEFAULTS.maxCost,
    );
    expect(estimate(GATEWAY_ENTITIES, { representations: representations(DEFAULTS.maxEntities) }).cost).toBeGreaterThan(
      DEFAULTS.maxCost,
    );
    // A light selection reaches the representation limit within the cost limit.
    const light =
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Invoice { payments { status amount { amountMinor } } } } }';
    expect(estimate(light, { r: representations(DEFAULTS.maxEntities) }).cost).toBeLessThanOrEqual(DEFAULTS.maxCost);
  });

  it('charges round trips no DataLoader batches: payment(id), partial pay links and mutations', () => {
    expect(estimate('{ payment(id: "x") { id } }').cost).toBe(ROUND_TRIP_COST + 1);
    const aliased = `{ ${Array.from({ length: 1000 }, (_, i) => `p${i}: payment(id: "x") { id }`).join(' ')} }`;
    expect(estimate(aliased).cost).toBe(1000 * (ROUND_TRIP_COST + 1));
    expect(estimate(aliased).cost).toBeGreaterThan(DEFAULTS.maxCost);
    const partial =
      'query ($r: [_Any!]!, $a: SafeInt) { _entities(representations: $r) { ... on Invoice { payLink(amountMinor: $a) { url } } } }';
    expect(estimate(partial, { r: representations(10), a: 500 }).cost).toBe(10 * (1 + ROUND_TRIP_COST + 1));
    expect(estimate(partial, { r: representations(10), a: null }).cost).toBe(10 * 2);
    expect(estimate('mutation { disconnectPaymentProvider(provider: STRIPE) }').cost).toBe(4 * ROUND_TRIP_COST);
  });

  it('counts fragments where they are spread, and only the chosen operation', () => {
    const query = `query A ($r: [_Any!]!) { _entities(representations: $r) { ...I } } query B { paymentProviders { provider } }
      fragment I on Invoice { payments { ...P } } fragment P on Payment { amount { amountMinor } }`;
    expect(estimate(query, { r: representations(3) }, 'A')).toEqual({
      cost: 3 * (1 + ASSUMED_LIST_SIZE * 2),
      entities: 3,
    });
    expect(estimate(query, {}, 'B')).toEqual({ cost: ASSUMED_LIST_SIZE, entities: 0 });
  });

  it('keeps the full introspection query well within the limit, and refuses recursive introspection', () => {
    expect(estimate(getIntrospectionQuery(FULL_INTROSPECTION_OPTIONS)).cost).toBeLessThan(DEFAULTS.maxCost / 4);
    const recursive = `{ __schema { types { ${'fields { type { ofType { '.repeat(8)}name${' } } }'.repeat(8)} } } }`;
    expect(estimate(recursive).cost).toBeGreaterThan(DEFAULTS.maxCost);
  });

  it('estimates an exponential fragment bomb in linear time', () => {
    const levels = 60;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1
        ? `fragment F${i} on Query { paymentProviders { provider } }`
        : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const started = performance.now();
    const { cost } = estimate(`{ ...F0 }\n${fragments}`);
    expect(performance.now() - started).toBeLessThan(100);
    expect(cost).toBe(2 ** (levels - 1) * ASSUMED_LIST_SIZE);
  });
});
