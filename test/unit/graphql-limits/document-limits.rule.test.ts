import type { GraphQLNamedType, GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { readGraphQLLimits } from '../../../src/config.js';
import { documentLimitsRule } from '../../../src/graphql-limits/document-limits.rule.js';
import { buildFederatedSchema } from '../../../src/graphql/build-federated-schema.js';
import { FULL_INTROSPECTION_OPTIONS } from '../../helpers/graphql-documents.js';
import { graphql } from './cjs-graphql.js';

const { getIntrospectionQuery, getNamedType, isObjectType, parse, specifiedRules, validate } = graphql;
const DEFAULTS = readGraphQLLimits({});

/**
 * The deepest selection `type` allows without walking a cycle (required arguments filled with placeholders); a field
 * leading back to a type already on the path is a cycle, recorded in `cycles` as `Type.field` and not followed.
 */
function deepest(
  type: GraphQLNamedType,
  cycles: Set<string>,
  path: string[] = [],
): { depth: number; selection: string } {
  if (!isObjectType(type)) return { depth: 0, selection: '' };
  let best = { depth: 0, selection: '' };
  for (const field of Object.values(type.getFields())) {
    const target = getNamedType(field.type);
    if ([...path, type.name].includes(target.name)) {
      cycles.add(`${type.name}.${field.name}`);
      continue;
    }
    const args = field.args
      .filter((arg) => String(arg.type).endsWith('!'))
      .map((arg) => `${arg.name}: "00000000-0000-0000-0000-000000000000"`);
    const child = deepest(target, cycles, [...path, type.name]);
    const selection = `${field.name}${args.length ? `(${args.join(', ')})` : ''}${child.selection ? ` { ${child.selection} }` : ''}`;
    if (child.depth + 1 > best.depth) best = { depth: child.depth + 1, selection };
  }
  return best;
}

describe('documentLimitsRule', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildFederatedSchema();
  });
  const check = (query: string, limits = DEFAULTS) =>
    validate(schema, parse(query), [...specifiedRules, documentLimitsRule(limits)]).map((error) => error.message);

  const GATEWAY_ENTITIES = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Invoice {
    id payments { id status amount { amountMinor currency amount } refunded { amountMinor } refunds { id status amount { amountMinor currency amount } reason createdAt } }
    payLink { url provider amountDue { amountMinor currency amount } }
    providerSettings { provider mode active offerCardPayments publishableKey secretKeyMasked webhookSecretMasked webhookUrl updatedAt } } } }`;

  it("allows the deepest query the committed schema can express, and the gateway's entity query", () => {
    const cycles = new Set<string>();
    const viaQuery = deepest(schema.getQueryType()!, cycles);
    const viaMutation = deepest(schema.getMutationType()!, cycles);
    const viaInvoice = deepest(schema.getType('Invoice')!, cycles);
    // The only cycles run through the back-references Payment.invoice and Refund.payment (seen from either end):
    // depth through them is bounded by the depth limit alone.
    expect([...cycles].sort()).toEqual(['Invoice.payments', 'Payment.invoice', 'Payment.refunds', 'Refund.payment']);
    // Without walking a cycle the depth is bounded: _entities → Invoice.payments → refunds → amount → amountMinor.
    const acyclic = Math.max(viaQuery.depth, viaMutation.depth, viaInvoice.depth + 1);
    expect(acyclic).toBeGreaterThanOrEqual(5);
    expect(acyclic).toBeLessThanOrEqual(DEFAULTS.maxDepth);
    expect(check(`{ ${viaQuery.selection} }`)).toEqual([]);
    expect(
      check(`query ($r: [_Any!]!) { _entities(representations: $r) { ... on Invoice { ${viaInvoice.selection} } } }`),
    ).toEqual([]);
    expect(check(GATEWAY_ENTITIES)).toEqual([]);
    expect(check('query { _service { sdl } }')).toEqual([]);
  });

  it('bounds the back-references by depth: an assistant may follow them a few times, a loop is refused', () => {
    const loop = (turns: number) =>
      `{ payment(id: "00000000-0000-0000-0000-000000000000") { ${'invoice { payments { '.repeat(turns)}id${' } }'.repeat(turns)} } }`;
    expect(check(loop(2))).toEqual([]);
    expect(check(loop(5))).toEqual([
      `The operation is nested 12 levels deep; the maximum query depth is ${DEFAULTS.maxDepth}.`,
    ]);
  });

  it('allows the full introspection query (introspection fields are bounded by cost, not depth)', () => {
    expect(check(getIntrospectionQuery(FULL_INTROSPECTION_OPTIONS))).toEqual([]);
  });

  it('refuses an operation deeper than the limit, counting fragments where they are spread', () => {
    const limits = { ...DEFAULTS, maxDepth: 4 };
    expect(check(GATEWAY_ENTITIES, limits)).toEqual([
      'The operation is nested 5 levels deep; the maximum query depth is 4.',
    ]);
    const viaFragments = `query Deep ($r: [_Any!]!) { _entities(representations: $r) { ...I } }
      fragment I on Invoice { payments { ...P } } fragment P on Payment { refunds { ...R } } fragment R on Refund { amount { amountMinor } }`;
    expect(check(viaFragments, limits)).toEqual([
      'Operation "Deep" is nested 5 levels deep; the maximum query depth is 4.',
    ]);
    expect(check(viaFragments, { ...DEFAULTS, maxDepth: 5 })).toEqual([]);
  });

  it('names the depth limit even for a document that is invalid anyway', () => {
    const nested = `{ ${'a { '.repeat(12)}b${' }'.repeat(12)} }`;
    expect(check(nested)).toContain('The operation is nested 13 levels deep; the maximum query depth is 10.');
  });

  it('counts aliases with fragments expanded', () => {
    const aliases = (count: number) =>
      Array.from({ length: count }, (_, i) => `p${i}: payment(id: "x") { id }`).join(' ');
    expect(check(`{ ${aliases(50)} }`)).toEqual([]);
    expect(check(`{ ${aliases(51)} }`)).toEqual([
      'The operation uses 51 aliased fields; at most 50 aliases are allowed.',
    ]);
    expect(
      check(
        `{ ...A ...B } fragment A on Query { ${aliases(30)} } fragment B on Query { a: paymentProviders { provider } ...A }`,
        { ...DEFAULTS, maxAliases: 60 },
      ),
    ).toEqual(['The operation uses 61 aliased fields; at most 60 aliases are allowed.']);
  });

  it('counts root mutation fields, aliases included and fragments expanded', () => {
    const disconnects = (count: number) =>
      Array.from({ length: count }, (_, i) => `d${i}: disconnectPaymentProvider(provider: STRIPE)`).join(' ');
    expect(check(`mutation { ${disconnects(5)} }`)).toEqual([]);
    expect(check(`mutation { ${disconnects(5)} __typename }`)).toEqual([]);
    expect(check(`mutation { ${disconnects(6)} }`)).toEqual([
      'The operation runs 6 mutations; at most 5 mutation fields are allowed per operation.',
    ]);
    // 50 aliased mutations fit under the alias and cost limits, not under this one.
    expect(check(`mutation Many { ${disconnects(50)} }`)).toEqual([
      'Operation "Many" runs 50 mutations; at most 5 mutation fields are allowed per operation.',
    ]);
    expect(
      check(
        `mutation { ...M ... on Mutation { ...M } disconnectPaymentProvider(provider: MOLLIE) } fragment M on Mutation { ${disconnects(2)} }`,
      ),
    ).toEqual([]);
    expect(
      check(`mutation { ...M ... on Mutation { ...M ...M } } fragment M on Mutation { ${disconnects(2)} }`),
    ).toEqual(['The operation runs 6 mutations; at most 5 mutation fields are allowed per operation.']);
    expect(check(`mutation { ${disconnects(2)} }`, { ...DEFAULTS, maxMutations: 1 })).toEqual([
      'The operation runs 2 mutations; at most 1 mutation fields are allowed per operation.',
    ]);
    // Queries are not mutations: 6 root fields are fine.
    expect(
      check(`{ ${Array.from({ length: 6 }, (_, i) => `q${i}: paymentProviders { provider }`).join(' ')} }`),
    ).toEqual([]);
  });

  it('measures exponential fragment spreads and fragment cycles without blowing up', () => {
    // Each fragment spreads the next twice, so the operation holds 2^40 − 1 aliased fields once expanded.
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1
        ? `fragment F${i} on Query { x: __typename }`
        : `fragment F${i} on Query { a${i}: __typename ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const started = performance.now();
    const errors = check(`{ ...F0 }\n${fragments}`);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(errors).toContain('The operation uses 1,099,511,627,775 aliased fields; at most 50 aliases are allowed.');
    const cycle = check('{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }');
    expect(cycle.some((message) => message.includes('Cannot spread fragment "A" within itself'))).toBe(true);
  });
});
