import 'reflect-metadata';
import { isInputObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSubgraphTypeDefs } from '../../../src/graphql/build-federated-schema.js';
import { idempotencyKeyProblem } from '../../../src/vocabulary/index.js';

describe('refundPayment idempotencyKey: the description states what the validator enforces', () => {
  it('describes the length, the no-spaces rule, ASCII only, trimming, scope and reuse', async () => {
    const { schema } = await buildSubgraphTypeDefs();
    const input = schema.getType('RefundPaymentInput');
    if (!isInputObjectType(input)) throw new Error('RefundPaymentInput missing');
    const description = input.getFields().idempotencyKey.description ?? '';
    expect(description).toContain('1-200 printable ASCII characters');
    expect(description).toContain('no spaces, tabs or line breaks');
    expect(description).toContain('no non-ASCII characters');
    expect(description).toContain('whitespace is trimmed');
    expect(description).toContain('scoped to the workspace');
    expect(description).toContain('CONFLICT');
  });

  it.each<[string, string, string | null]>([
    ['a UUID', '8f14e45f-ceea-467f-a0e6-4f1b5e6c0c2d', null],
    ['punctuation', 'refund/INV-0042:1.b_c', null],
    ['200 characters', 'k'.repeat(200), null],
    ['empty', '', 'idempotencyKey must not be empty'],
    ['201 characters', 'k'.repeat(201), 'idempotencyKey must be at most 200 characters (it has 201)'],
    [
      'a space inside',
      'two words',
      'idempotencyKey must not contain spaces, control or non-ASCII characters; it has a space or other whitespace at position 4',
    ],
    [
      'a tab inside',
      'a\tb',
      'idempotencyKey must not contain spaces, control or non-ASCII characters; it has a space or other whitespace at position 2',
    ],
    [
      'non-ASCII',
      'ключ',
      'idempotencyKey must not contain spaces, control or non-ASCII characters; it has a non-ASCII character at position 1',
    ],
    [
      'NUL',
      'ab\u0000',
      'idempotencyKey must not contain spaces, control or non-ASCII characters; it has a control character at position 3',
    ],
  ])('%s', (_name, key, expected) => {
    expect(idempotencyKeyProblem(key)).toBe(expected);
  });
});
