import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readGraphQLLimits } from '../../../src/config.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: 'p'.repeat(40),
  PAYMENTS_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

describe('GraphQL limits configuration', () => {
  it('has the documented defaults, with introspection off only in production', () => {
    expect(loadConfig({}, []).graphql).toEqual({
      maxDepth: 10,
      maxCost: 20_000,
      maxAliases: 50,
      maxMutations: 5,
      maxEntities: 500,
      maxTokens: 2_000,
      introspection: true,
    });
    expect(loadConfig({ NODE_ENV: 'test' }, []).graphql.introspection).toBe(true);
    expect(loadConfig(PRODUCTION, []).graphql.introspection).toBe(false);
    expect(loadConfig({ ...PRODUCTION, GRAPHQL_INTROSPECTION: 'true' }, []).graphql.introspection).toBe(true);
    expect(loadConfig({ GRAPHQL_INTROSPECTION: 'off' }, []).graphql.introspection).toBe(false);
  });

  it('reads every limit from the environment', () => {
    expect(
      readGraphQLLimits({
        GRAPHQL_MAX_DEPTH: '6',
        GRAPHQL_MAX_COST: '5000',
        GRAPHQL_MAX_ALIASES: '0',
        GRAPHQL_MAX_MUTATIONS: '2',
        GRAPHQL_MAX_ENTITIES: '100',
        GRAPHQL_MAX_TOKENS: '800',
        GRAPHQL_INTROSPECTION: 'no',
      }),
    ).toEqual({
      maxDepth: 6,
      maxCost: 5000,
      maxAliases: 0,
      maxMutations: 2,
      maxEntities: 100,
      maxTokens: 800,
      introspection: false,
    });
  });

  it.each([
    ['GRAPHQL_MAX_DEPTH', 'deep'],
    ['GRAPHQL_MAX_DEPTH', '0'],
    ['GRAPHQL_MAX_DEPTH', '101'],
    ['GRAPHQL_MAX_COST', '-5'],
    ['GRAPHQL_MAX_COST', '1e6'],
    ['GRAPHQL_MAX_ALIASES', 'many'],
    ['GRAPHQL_MAX_MUTATIONS', '0'],
    ['GRAPHQL_MAX_MUTATIONS', 'five'],
    ['GRAPHQL_MAX_ENTITIES', '0'],
    ['GRAPHQL_MAX_TOKENS', '50'],
    ['GRAPHQL_INTROSPECTION', 'maybe'],
  ])('rejects %s=%s naming the variable in one line', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value }, []);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message.split('\n')).toHaveLength(1);
  });
});
