import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { BadUserInputError, ProviderError } from '../../../src/errors.js';
import { formatError } from '../../../src/graphql/format-error.js';

const wrap = (original: Error) => new GraphQLError(original.message, { originalError: original, path: ['x'] });

describe('formatError', () => {
  it('keeps domain errors with their code', () => {
    const internal: unknown[] = [];
    const formatted = formatError({ message: 'x' }, wrap(new BadUserInputError('Amount must be positive')), (error) =>
      internal.push(error),
    );
    expect(formatted).toMatchObject({ message: 'Amount must be positive', extensions: { code: 'BAD_USER_INPUT' } });
    expect(formatError({ message: 'x' }, wrap(new ProviderError()), () => undefined).extensions).toEqual({
      code: 'PROVIDER_ERROR',
    });
    expect(internal).toHaveLength(0);
  });

  it('hides SQL and stacks of unexpected errors', () => {
    const sqlError = Object.assign(new Error('insert into "payment_provider_accounts" ... violates constraint'), {
      code: '23505',
    });
    const internal: unknown[] = [];
    const formatted = formatError(
      { message: sqlError.message, extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } },
      wrap(sqlError),
      (error) => internal.push(error),
    );
    expect(formatted).toEqual({
      message: 'Internal server error',
      locations: undefined,
      path: undefined,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(internal).toEqual([sqlError]);
  });
});
