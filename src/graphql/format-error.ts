import type { GraphQLFormattedError } from 'graphql';
import { DomainError, isDatabaseUnreachable, ServiceUnavailableError } from '../errors.js';

/** Codes GraphQL itself produces for malformed requests; they are safe to pass through. */
const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * The one place errors become GraphQL errors: domain errors keep their message and code, request errors
 * pass through, an unreachable database becomes SERVICE_UNAVAILABLE, and anything else (SQL, driver, bug) becomes a generic INTERNAL_SERVER_ERROR with no stack.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal: (error: unknown) => void,
): GraphQLFormattedError {
  const unwrapped = unwrap(error);
  // an unreachable database is not a bug: the client may retry (never the driver's text, it can name hosts)
  const original = isDatabaseUnreachable(unwrapped) ? new ServiceUnavailableError() : unwrapped;
  if (original instanceof DomainError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: original.code },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PASS_THROUGH.has(code)) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  onInternal(original);
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}

/** The error a resolver threw, below any GraphQLError wrappers. */
function unwrap(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && 'originalError' in current && current.originalError instanceof Error)
    current = current.originalError;
  return current;
}
