import { GraphQLError, type ASTNode } from 'graphql';

/**
 * A request refused by one of the GraphQL limits: shaped like any validation failure (HTTP 400,
 * `GRAPHQL_VALIDATION_FAILED`, which src/schema/format-error.ts passes through), with a message naming the limit.
 * Nothing of the operation has run when it is raised.
 */
export function limitError(message: string, nodes?: ASTNode | readonly ASTNode[]): GraphQLError {
  return new GraphQLError(message, { nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
}

/** A count for a message: digits grouped; an overflowing estimate says so instead of "Infinity". */
export const formatCount = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'too many to count';
