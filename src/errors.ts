/**
 * Typed domain errors. Each carries the GraphQL `extensions.code` it maps to; the one place that turns them
 * into GraphQL errors is src/schema/format-error.ts. Messages are safe to show: no secrets, no SQL, no stacks.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'PROVIDER_ERROR'
  | 'SERVICE_UNAVAILABLE';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = 'A valid bearer token is required') {
    super('UNAUTHENTICATED', message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'Your role does not allow this') {
    super('FORBIDDEN', message);
  }
}

export class NotFoundError extends DomainError {
  constructor(message = 'Not found') {
    super('NOT_FOUND', message);
  }
}

export class BadUserInputError extends DomainError {
  constructor(message: string) {
    super('BAD_USER_INPUT', message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** A provider outage or unexpected provider answer. The message is ours; the provider's detail stays in logs. */
export class ProviderError extends DomainError {
  constructor(message = 'The payment provider could not be reached; try again shortly') {
    super('PROVIDER_ERROR', message);
  }
}

/** A dependency of ours (PostgreSQL) cannot be reached: retry later (GraphQL `SERVICE_UNAVAILABLE`, HTTP 503). */
export class ServiceUnavailableError extends DomainError {
  constructor(message = 'The database is temporarily unreachable; retry shortly') {
    super('SERVICE_UNAVAILABLE', message);
  }
}

/** Socket-level failures: the server is not there (any more), not an answer to our SQL. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
/** SQLSTATEs of a server that is going away or not accepting us yet (class 08 is added below). */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/**
 * SQLSTATE class 08 (connection exception), except 08P01 protocol_violation: PostgreSQL answers that to one bad
 * message of ours (a NUL character in a parameter), and the connection lives on — the event's error, not an outage.
 */
const isConnectionClass = (code: string) => code.startsWith('08') && code !== '08P01';
/** What pg and knex say when a connection dies or none can be had (they carry no code). */
const UNREACHABLE_TEXT =
  /Connection terminated|Timeout acquiring a connection|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|the database system is (starting up|shutting down)/i;

/**
 * Whether an error means PostgreSQL could not be reached (connection refused or reset, admin shutdown, SQLSTATE class
 * 08 but 08P01, no connection acquired in time) rather than an answer to the SQL (constraint, rule, bug). The first is an
 * outage to wait out; the second belongs to the event or request. Looks through `cause` chains (MikroORM copies the
 * driver's `code` onto its own exception).
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof ServiceUnavailableError) return true;
    if (typeof current !== 'object') return false;
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (
      typeof code === 'string' &&
      (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || isConnectionClass(code))
    )
      return true;
    if (typeof message === 'string' && UNREACHABLE_TEXT.test(message)) return true;
    current = cause;
  }
  return false;
}
