import type { ApolloServerOptionsWithSchema, BaseContext } from '@apollo/server';
import type { GraphQLLimits } from '../config.js';
import { costLimitPlugin } from './cost-limit.plugin.js';
import { documentLimitsRule } from './document-limits.rule.js';

type LimitOptions<TContext extends BaseContext> = Pick<
  ApolloServerOptionsWithSchema<TContext>,
  | 'introspection'
  | 'hideSchemaDetailsFromClientErrors'
  | 'allowBatchedHttpRequests'
  | 'parseOptions'
  | 'validationRules'
  | 'plugins'
>;

/**
 * The Apollo Server options that enforce the GraphQL limits, in request order: document size (tokens, while parsing),
 * depth and aliases (validation, once per distinct document), introspection (validation), then `_entities`
 * representations and cost (per request, before execution). Every refusal is a 400 and runs no resolver.
 */
export function apolloLimitOptions<TContext extends BaseContext>(limits: GraphQLLimits): LimitOptions<TContext> {
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: [documentLimitsRule(limits)],
    plugins: [costLimitPlugin<TContext>(limits)],
    // `_service { sdl }` is an ordinary field, so gateways keep composing when introspection is off.
    introspection: limits.introspection,
    // Without introspection, "Did you mean …?" suggestions would leak the schema piece by piece.
    hideSchemaDetailsFromClientErrors: !limits.introspection,
    // Apollo's default, stated: an array body (HTTP batching) is a 400; the gateway sends one operation per request.
    allowBatchedHttpRequests: false,
  };
}
