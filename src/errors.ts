/**
 * Typed domain errors. Each carries the GraphQL `extensions.code` it maps to; the one place that turns them
 * into GraphQL errors is src/schema/format-error.ts. Messages are safe to show: no secrets, no SQL, no stacks.
 */
export type ErrorCode =
  'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'CONFLICT' | 'PROVIDER_ERROR';

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
