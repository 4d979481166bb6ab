import { describe, expect, it } from 'vitest';
import { isDatabaseUnreachable, ServiceUnavailableError } from '../../src/errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnreachable', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['connection reset', withCode('ECONNRESET')],
    ['admin shutdown (pg_ctl stop)', withCode('57P01', 'terminating connection due to administrator command')],
    ['server starting up', withCode('57P03', 'the database system is starting up')],
    ['SQLSTATE class 08', withCode('08006', 'connection failure')],
    ['pool timeout', new Error('Knex: Timeout acquiring a connection. The pool is probably full.')],
    ['socket ended', new Error('Connection terminated unexpectedly')],
    ['wrapped in a cause', new Error('settling failed', { cause: withCode('ECONNREFUSED') })],
    ['our own 503 error', new ServiceUnavailableError()],
  ])('%s: an outage', (_name, error) => {
    expect(isDatabaseUnreachable(error)).toBe(true);
  });

  it.each([
    ['unique violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['syntax error', withCode('42601', 'syntax error at or near "selec"')],
    ['protocol violation (a NUL character in a parameter)', withCode('08P01', 'invalid message format')],
    ['a settlement rule', new Error('invoice not found')],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('%s: not an outage', (_name, error) => {
    expect(isDatabaseUnreachable(error)).toBe(false);
  });
});
