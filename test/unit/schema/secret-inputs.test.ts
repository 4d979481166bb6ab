import 'reflect-metadata';
import {
  buildSchema,
  getOperationAST,
  isInputObjectType,
  parse,
  validate,
  type OperationDefinitionNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSubgraphTypeDefs } from '../../../src/graphql/build-federated-schema.js';
import {
  checkSecretVariables,
  redactLiteralErrors,
  SECRET_INPUT_FIELDS,
} from '../../../src/graphql/secret-inputs.plugin.js';

const schema = buildSchema(`
  enum PaymentMode { TEST LIVE }
  input SaveStripeKeysInput { secretKey: String! publishableKey: String! webhookSecret: String mode: PaymentMode! offerCardPayments: Boolean! }
  type Query { ok: Boolean }
  type Mutation { saveStripeKeys(input: SaveStripeKeysInput!): Boolean }
`);
const MUTATION = 'mutation ($input: SaveStripeKeysInput!) { saveStripeKeys(input: $input) }';
const SECRET = 'sk_live_0123456789abcdefSECRET';
const operation = getOperationAST(parse(MUTATION)) as OperationDefinitionNode;
const input = { secretKey: SECRET, publishableKey: 'pk_live_x', mode: 'LIVE', offerCardPayments: true };

describe('secret inputs in GraphQL errors', () => {
  it('lists every input field that looks like a secret in the real schema', async () => {
    const { schema: real } = await buildSubgraphTypeDefs();
    const secretLooking = Object.values(real.getTypeMap())
      .filter(isInputObjectType)
      .flatMap((type) => Object.keys(type.getFields()).map((field) => [type.name, field] as const))
      .filter(([, field]) => /secret|apikey|password|token/i.test(field));
    expect(secretLooking.length).toBeGreaterThan(0);
    for (const [type, field] of secretLooking) expect(SECRET_INPUT_FIELDS[type], `${type}.${field}`).toContain(field);
  });

  it.each([
    [
      'mode missing',
      { ...input, mode: undefined },
      /got invalid value; Field "mode" of required type "PaymentMode!" was not provided/,
    ],
    ['an unknown field', { ...input, extra: 1 }, /Field "extra" is not defined by type "SaveStripeKeysInput"/],
    [
      'a wrong enum',
      { ...input, mode: 'PAYPAL' },
      /at "input.mode"; Value "PAYPAL" does not exist in "PaymentMode" enum/,
    ],
    [
      'the secret in a list',
      { ...input, secretKey: [SECRET] },
      /at "input.secretKey"; expected type "String!" \(the value of a secret field/,
    ],
    [
      'a boolean given an object',
      { ...input, offerCardPayments: { secret: SECRET } },
      /at "input.offerCardPayments"; expected type "Boolean!", got an object/,
    ],
  ])('variable with %s: a useful message without the value', (_name, value, message) => {
    const error = checkSecretVariables(schema, operation, { input: JSON.parse(JSON.stringify(value)) });
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('SECRET');
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', http: { status: 400 } });
  });

  it('leaves valid variables and variables without secret fields alone', () => {
    expect(checkSecretVariables(schema, operation, { input })).toBeUndefined();
    const other = getOperationAST(parse('query ($x: Boolean!) { ok @include(if: $x) }')) as OperationDefinitionNode;
    expect(checkSecretVariables(schema, other, { x: 'yes' })).toBeUndefined();
  });

  it.each([
    ['a list', `["${SECRET}"]`],
    ['an object', `{ value: "${SECRET}" }`],
    ['an enum value', SECRET],
    ['a number', '4242'],
  ])('literal secret given as %s: validation error without the value', (_name, literal) => {
    const document = parse(
      `mutation { saveStripeKeys(input: { secretKey: ${literal}, publishableKey: "pk", mode: TEST, offerCardPayments: true }) }`,
    );
    const errors = validate(schema, document);
    expect(errors.length).toBeGreaterThan(0);
    redactLiteralErrors(schema, document, errors);
    for (const error of errors) {
      expect(error.message).toBe(
        'Field "SaveStripeKeysInput.secretKey" expects a value of type "String!" (the value of a secret field is never repeated).',
      );
    }
  });

  it('keeps validation errors outside secret values as they are', () => {
    const document = parse(
      `mutation { saveStripeKeys(input: { secretKey: "${SECRET}", publishableKey: "pk", mode: PAYPAL, offerCardPayments: true }) }`,
    );
    const errors = validate(schema, document);
    redactLiteralErrors(schema, document, errors);
    expect(errors.map((error) => error.message)).toEqual(['Value "PAYPAL" does not exist in "PaymentMode" enum.']);
  });
});
