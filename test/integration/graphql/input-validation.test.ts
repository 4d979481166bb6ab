import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMollie, type FakeMollie } from '../../fakes/mollie/fake-mollie.server.js';
import type { FakeStripe } from '../../fakes/stripe/fake-stripe.server.js';
import { insertInvoice, insertPayment } from '../../helpers/fixtures.js';
import type { TestService } from '../../helpers/service.js';
import { connectStripe, SAVE_STRIPE_KEYS, startWithFakeStripe, testKeys } from '../../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../../helpers/tokens.js';

/**
 * Every mutation argument (and `Invoice.payLink(amountMinor)`) with bad values: each must answer a clean client error
 * code — never INTERNAL_SERVER_ERROR, never SQL or a stack — and must write nothing and call no provider.
 */
const SAVE_MOLLIE = 'mutation ($input: SaveMollieKeysInput!) { saveMollieKeys(input: $input) { provider } }';
const SET_ACTIVE =
  'mutation ($provider: PaymentProvider!, $active: Boolean!) { setPaymentProviderActive(provider: $provider, active: $active) { provider } }';
const DISCONNECT = 'mutation ($provider: PaymentProvider!) { disconnectPaymentProvider(provider: $provider) }';
const REFUND = 'mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { id status } }';
const PAY_LINK =
  'query ($reps: [_Any!]!, $amount: SafeInt) { _entities(representations: $reps) { ... on Invoice { payLink(amountMinor: $amount) { url } } } }';

const NUL = 'bad\u0000value';
const MOLLIE_KEY = 'test_dHar4XY7LxsDOtmnkVtjNVWXLSlXAbCd';

/** The code a bad value must produce: GraphQL's own coercion/validation error, or the service's clean refusal. */
type Expected = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'GRAPHQL_VALIDATION_FAILED';

interface Case {
  name: string;
  query: string | ((fixture: Fixture) => string);
  variables: (fixture: Fixture) => Record<string, unknown>;
  code: Expected;
}

interface Fixture {
  paymentId: string;
  invoiceId: string;
}

const stripeInput = (overrides: Record<string, unknown>) => {
  const keys = testKeys();
  return { input: { ...keys, mode: 'TEST', offerCardPayments: true, ...overrides } };
};
const mollieInput = (overrides: Record<string, unknown>) => ({
  input: { apiKey: MOLLIE_KEY, mode: 'TEST', offerCardPayments: true, ...overrides },
});
const refundInput = (fixture: Fixture, overrides: Record<string, unknown>) => ({
  input: { paymentId: fixture.paymentId, amountMinor: 100, idempotencyKey: `key-${randomUUID()}`, ...overrides },
});

const CASES: Case[] = [
  // saveStripeKeys
  ...(
    [
      ['secretKey empty', { secretKey: '' }, 'BAD_USER_INPUT'],
      ['secretKey blank', { secretKey: '   ' }, 'BAD_USER_INPUT'],
      ['secretKey 513 chars', { secretKey: `sk_test_${'a'.repeat(505)}` }, 'BAD_USER_INPUT'],
      ['secretKey 100k chars', { secretKey: `sk_test_${'a'.repeat(100_000)}` }, 'BAD_USER_INPUT'],
      ['secretKey with NUL', { secretKey: `sk_test_${NUL}4242abcd` }, 'BAD_USER_INPUT'],
      ['secretKey non-ASCII', { secretKey: 'sk_test_ключключключ4242' }, 'BAD_USER_INPUT'],
      ['secretKey a number', { secretKey: 4242 }, 'BAD_USER_INPUT'],
      ['secretKey an object', { secretKey: { key: 'sk_test_x' } }, 'BAD_USER_INPUT'],
      ['secretKey null', { secretKey: null }, 'BAD_USER_INPUT'],
      ['publishableKey empty', { publishableKey: '' }, 'BAD_USER_INPUT'],
      ['publishableKey 600 chars', { publishableKey: `pk_test_${'a'.repeat(600)}` }, 'BAD_USER_INPUT'],
      ['publishableKey with NUL', { publishableKey: `pk_test_${NUL}` }, 'BAD_USER_INPUT'],
      ['publishableKey null', { publishableKey: null }, 'BAD_USER_INPUT'],
      ['webhookSecret 600 chars', { webhookSecret: `whsec_${'a'.repeat(600)}` }, 'BAD_USER_INPUT'],
      ['webhookSecret with NUL', { webhookSecret: `whsec_${NUL}abcdefgh` }, 'BAD_USER_INPUT'],
      ['webhookSecret a boolean', { webhookSecret: true }, 'BAD_USER_INPUT'],
      ['mode unknown', { mode: 'PAYPAL' }, 'BAD_USER_INPUT'],
      ['mode lower-case', { mode: 'test' }, 'BAD_USER_INPUT'],
      ['mode a number', { mode: 1 }, 'BAD_USER_INPUT'],
      ['mode null', { mode: null }, 'BAD_USER_INPUT'],
      ['offerCardPayments a string', { offerCardPayments: 'yes' }, 'BAD_USER_INPUT'],
      ['offerCardPayments a number', { offerCardPayments: 1 }, 'BAD_USER_INPUT'],
    ] as const
  ).map(([name, overrides, code]): Case => ({
    name: `saveStripeKeys: ${name}`,
    query: SAVE_STRIPE_KEYS,
    variables: () => stripeInput(overrides),
    code,
  })),
  {
    name: 'saveStripeKeys: an unknown input field',
    query: SAVE_STRIPE_KEYS,
    variables: () => stripeInput({ secretKeyPlain: 'x' }),
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'saveStripeKeys: literal with a wrong enum',
    query:
      'mutation { saveStripeKeys(input: { secretKey: "sk_test_abcdefghijklmnop", publishableKey: "pk_test_abc", mode: PAYPAL, offerCardPayments: true }) { provider } }',
    variables: () => ({}),
    code: 'GRAPHQL_VALIDATION_FAILED',
  },

  // saveMollieKeys
  ...(
    [
      ['apiKey empty', { apiKey: '' }, 'BAD_USER_INPUT'],
      ['apiKey 600 chars', { apiKey: `test_${'a'.repeat(600)}` }, 'BAD_USER_INPUT'],
      ['apiKey 100k chars', { apiKey: `test_${'a'.repeat(100_000)}` }, 'BAD_USER_INPUT'],
      ['apiKey with NUL', { apiKey: `test_${NUL}${'a'.repeat(30)}` }, 'BAD_USER_INPUT'],
      ['apiKey a number', { apiKey: 12345 }, 'BAD_USER_INPUT'],
      ['apiKey null', { apiKey: null }, 'BAD_USER_INPUT'],
      ['mode unknown', { mode: 'SANDBOX' }, 'BAD_USER_INPUT'],
      ['offerCardPayments a string', { offerCardPayments: 'true' }, 'BAD_USER_INPUT'],
    ] as const
  ).map(([name, overrides, code]): Case => ({
    name: `saveMollieKeys: ${name}`,
    query: SAVE_MOLLIE,
    variables: () => mollieInput(overrides),
    code,
  })),

  // setPaymentProviderActive, disconnectPaymentProvider
  ...(
    [
      ['provider unknown', { provider: 'PAYPAL', active: false }],
      ['provider lower-case', { provider: 'stripe', active: false }],
      ['provider a number', { provider: 0, active: false }],
      ['provider null', { provider: null, active: false }],
      ['active a string', { provider: 'STRIPE', active: 'false' }],
      ['active a number', { provider: 'STRIPE', active: 0 }],
      ['active null', { provider: 'STRIPE', active: null }],
    ] as const
  ).map(([name, variables]): Case => ({
    name: `setPaymentProviderActive: ${name}`,
    query: SET_ACTIVE,
    variables: () => variables,
    code: 'BAD_USER_INPUT',
  })),
  ...(
    [
      ['provider unknown', { provider: 'PAYPAL' }],
      ['provider a number', { provider: 1 }],
      ['provider an object', { provider: { name: 'STRIPE' } }],
      ['provider null', { provider: null }],
    ] as const
  ).map(([name, variables]): Case => ({
    name: `disconnectPaymentProvider: ${name}`,
    query: DISCONNECT,
    variables: () => variables,
    code: 'BAD_USER_INPUT',
  })),
  {
    name: 'disconnectPaymentProvider: literal with a wrong enum',
    query: 'mutation { disconnectPaymentProvider(provider: "STRIPE") }',
    variables: () => ({}),
    code: 'GRAPHQL_VALIDATION_FAILED',
  },

  // refundPayment
  ...(
    [
      ['paymentId not a uuid', { paymentId: 'not-a-uuid' }, 'NOT_FOUND'],
      ['paymentId SQL', { paymentId: "'; drop table invoice_payments; --" }, 'NOT_FOUND'],
      ['paymentId 10k chars', { paymentId: 'a'.repeat(10_000) }, 'NOT_FOUND'],
      ['paymentId with NUL', { paymentId: NUL }, 'NOT_FOUND'],
      ['paymentId an integer', { paymentId: 123 }, 'NOT_FOUND'],
      ['paymentId an unknown uuid', { paymentId: randomUUID() }, 'NOT_FOUND'],
      ['paymentId a float', { paymentId: 1.5 }, 'BAD_USER_INPUT'],
      ['paymentId a boolean', { paymentId: true }, 'BAD_USER_INPUT'],
      ['paymentId null', { paymentId: null }, 'BAD_USER_INPUT'],
      ['amountMinor 2^53', { amountMinor: 2 ** 53 }, 'BAD_USER_INPUT'],
      ['amountMinor 1e300', { amountMinor: 1e300 }, 'BAD_USER_INPUT'],
      ['amountMinor negative', { amountMinor: -100 }, 'BAD_USER_INPUT'],
      ['amountMinor most negative safe integer', { amountMinor: Number.MIN_SAFE_INTEGER }, 'BAD_USER_INPUT'],
      ['amountMinor zero', { amountMinor: 0 }, 'BAD_USER_INPUT'],
      ['amountMinor a float', { amountMinor: 1.5 }, 'BAD_USER_INPUT'],
      ['amountMinor a numeric string', { amountMinor: '100' }, 'BAD_USER_INPUT'],
      ['amountMinor a boolean', { amountMinor: true }, 'BAD_USER_INPUT'],
      ['amountMinor above the refundable amount', { amountMinor: 10_001 }, 'BAD_USER_INPUT'],
      ['amountMinor max safe integer', { amountMinor: Number.MAX_SAFE_INTEGER }, 'BAD_USER_INPUT'],
      ['reason 501 chars', { reason: 'r'.repeat(501) }, 'BAD_USER_INPUT'],
      ['reason 100k chars', { reason: 'r'.repeat(100_000) }, 'BAD_USER_INPUT'],
      ['reason with NUL', { reason: NUL }, 'BAD_USER_INPUT'],
      ['reason with an escape character', { reason: 'colour \u001b[31mred' }, 'BAD_USER_INPUT'],
      ['reason a number', { reason: 42 }, 'BAD_USER_INPUT'],
      ['idempotencyKey empty', { idempotencyKey: '' }, 'BAD_USER_INPUT'],
      ['idempotencyKey blank', { idempotencyKey: '   ' }, 'BAD_USER_INPUT'],
      ['idempotencyKey 201 chars', { idempotencyKey: 'k'.repeat(201) }, 'BAD_USER_INPUT'],
      ['idempotencyKey with a space', { idempotencyKey: 'two words' }, 'BAD_USER_INPUT'],
      ['idempotencyKey with NUL', { idempotencyKey: NUL }, 'BAD_USER_INPUT'],
      ['idempotencyKey non-ASCII', { idempotencyKey: 'ключ' }, 'BAD_USER_INPUT'],
      ['idempotencyKey a number', { idempotencyKey: 7 }, 'BAD_USER_INPUT'],
      ['idempotencyKey null', { idempotencyKey: null }, 'BAD_USER_INPUT'],
    ] as const
  ).map(([name, overrides, code]): Case => ({
    name: `refundPayment: ${name}`,
    query: REFUND,
    variables: (fixture) => refundInput(fixture, overrides),
    code,
  })),
  {
    name: 'refundPayment: literal amount above 2^53',
    query: (fixture) =>
      `mutation { refundPayment(input: { paymentId: "${fixture.paymentId}", amountMinor: 9007199254740993, idempotencyKey: "lit-1" }) { id } }`,
    variables: () => ({}),
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'refundPayment: literal float amount',
    query: (fixture) =>
      `mutation { refundPayment(input: { paymentId: "${fixture.paymentId}", amountMinor: 10.5, idempotencyKey: "lit-2" }) { id } }`,
    variables: () => ({}),
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'refundPayment: literal string amount',
    query: (fixture) =>
      `mutation { refundPayment(input: { paymentId: "${fixture.paymentId}", amountMinor: "100", idempotencyKey: "lit-3" }) { id } }`,
    variables: () => ({}),
    code: 'GRAPHQL_VALIDATION_FAILED',
  },

  // Invoice.payLink(amountMinor)
  ...(
    [
      ['2^53', 2 ** 53, 'BAD_USER_INPUT'],
      ['negative', -1, 'BAD_USER_INPUT'],
      ['zero', 0, 'BAD_USER_INPUT'],
      ['a float', 12.5, 'BAD_USER_INPUT'],
      ['a numeric string', '500', 'BAD_USER_INPUT'],
      ['above the balance', 10_001, 'BAD_USER_INPUT'],
      ['below the card minimum', 1, 'BAD_USER_INPUT'],
      ['max safe integer', Number.MAX_SAFE_INTEGER, 'BAD_USER_INPUT'],
    ] as const
  ).map(([name, amount, code]): Case => ({
    name: `payLink(amountMinor): ${name}`,
    query: PAY_LINK,
    variables: (fixture) => ({ reps: [{ __typename: 'Invoice', id: fixture.invoiceId }], amount }),
    code,
  })),
];

/**
 * Secret echo table: every secret input field × malformed shapes, as an inline literal and as a variable. graphql-js
 * repeats the offending value (the whole input object for a missing or unknown field) in its messages; no response
 * body may ever contain the secret.
 */
type Literal = string | number | boolean | null | { enum: string } | Literal[] | { [key: string]: Literal };

/** Prints a GraphQL literal: `{ enum: 'X' }` is an enum value, other objects are input objects. */
function printLiteral(value: Literal): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(printLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    if ('enum' in value && typeof value.enum === 'string' && Object.keys(value).length === 1) return value.enum;
    return `{ ${Object.entries(value)
      .map(([key, inner]) => `${key}: ${printLiteral(inner)}`)
      .join(', ')} }`;
  }
  return JSON.stringify(value);
}

/** The JSON form of a literal, for variables (an enum value becomes its name). */
function toVariable(value: Literal): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toVariable);
  if ('enum' in value && typeof value.enum === 'string' && Object.keys(value).length === 1) return value.enum;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toVariable(inner)]));
}

const SECRET_FIELDS = [
  {
    field: 'secretKey',
    mutation: 'saveStripeKeys',
    inputType: 'SaveStripeKeysInput',
    secret: () => `sk_test_${randomUUID().replaceAll('-', '')}LEAK`,
    base: (secret: string) => ({
      secretKey: secret,
      publishableKey: 'pk_test_abcdefghijklmnop',
      mode: { enum: 'TEST' },
      offerCardPayments: true,
    }),
  },
  {
    field: 'webhookSecret',
    mutation: 'saveStripeKeys',
    inputType: 'SaveStripeKeysInput',
    secret: () => `whsec_${randomUUID().replaceAll('-', '')}LEAK`,
    base: (secret: string) => ({
      secretKey: 'sk_test_abcdefghijklmnop4242',
      publishableKey: 'pk_test_abcdefghijklmnop',
      webhookSecret: secret,
      mode: { enum: 'TEST' },
      offerCardPayments: true,
    }),
  },
  {
    field: 'apiKey',
    mutation: 'saveMollieKeys',
    inputType: 'SaveMollieKeysInput',
    secret: () => `test_${randomUUID().replaceAll('-', '')}LEAK`,
    base: (secret: string) => ({ apiKey: secret, mode: { enum: 'TEST' }, offerCardPayments: true }),
  },
] as const;

type Input = Record<string, Literal>;
const without = (input: Input, key: string): Input =>
  Object.fromEntries(Object.entries(input).filter(([k]) => k !== key));

/** Malformed shapes: each keeps the secret somewhere in the input. `inlineOnly` shapes have no JSON equivalent. */
const SECRET_SHAPES: Array<{
  shape: string;
  build: (input: Input, field: string, secret: string) => Input;
  inlineOnly?: boolean;
}> = [
  { shape: 'mode missing', build: (input) => without(input, 'mode') },
  { shape: 'offerCardPayments missing', build: (input) => without(input, 'offerCardPayments') },
  { shape: 'offerCardPayments of the wrong type', build: (input) => ({ ...input, offerCardPayments: 'yes' }) },
  { shape: 'mode a number', build: (input) => ({ ...input, mode: 1 }) },
  { shape: 'an unknown field', build: (input) => ({ ...input, secretKeyPlain: 'x' }) },
  {
    shape: 'the secret under an unknown field too',
    build: (input, field, secret) => ({ ...input, [`${field}2`]: secret }),
  },
  { shape: 'mode null', build: (input) => ({ ...input, mode: null }) },
  { shape: 'offerCardPayments null', build: (input) => ({ ...input, offerCardPayments: null }) },
  { shape: 'mode a wrong enum', build: (input) => ({ ...input, mode: { enum: 'PAYPAL' } }) },
  { shape: 'mode a wrong enum string', build: (input) => ({ ...input, mode: 'PAYPAL' }) },
  { shape: 'the secret in a list', build: (input, field, secret) => ({ ...input, [field]: [secret] }) },
  { shape: 'the secret in an object', build: (input, field, secret) => ({ ...input, [field]: { value: secret } }) },
  {
    shape: 'the secret in a list, mode missing',
    build: (input, field, secret) => without({ ...input, [field]: [secret] }, 'mode'),
  },
  {
    shape: 'the secret unquoted (an enum value)',
    build: (input, field, secret) => ({ ...input, [field]: { enum: secret } }),
    inlineOnly: true,
  },
];

const SECRET_CASES = SECRET_FIELDS.flatMap((target) =>
  SECRET_SHAPES.flatMap(({ shape, build, inlineOnly }) =>
    (inlineOnly ? (['inline'] as const) : (['inline', 'variable'] as const)).map((form) => ({
      name: `${target.mutation} ${target.field}: ${shape} (${form})`,
      target,
      form,
      build: (secret: string) => build(target.base(secret) as Input, target.field, secret),
    })),
  ),
);

describe('input validation of every mutation argument', () => {
  let service: TestService;
  let stripe: FakeStripe;
  let mollie: FakeMollie;
  let owner: TestCaller;
  let fixture: Fixture;

  beforeAll(async () => {
    mollie = await startFakeMollie();
    ({ service, stripe } = await startWithFakeStripe({ MOLLIE_API_URL: mollie.url }));
    owner = newCaller(['owner']);
    await connectStripe(service, owner);
    const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId, totalMinor: 10_000 });
    const paid = await insertInvoice(service.orm, {
      workspaceId: owner.workspaceId,
      totalMinor: 10_000,
      status: 'paid',
      paidMinor: 10_000,
    });
    const paymentId = await insertPayment(service.orm, {
      workspaceId: owner.workspaceId,
      invoiceId: paid.id,
      amountMinor: 10_000,
    });
    // A payment intent id makes a refund reach the provider: any bad value that slipped through would show as a call.
    await service.orm.em
      .getConnection()
      .execute('update invoice_payments set provider_payment_id = ? where id = ?', [
        'pi_test_input_validation',
        paymentId,
      ]);
    fixture = { paymentId, invoiceId: invoice.id };
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
    await mollie?.close();
  });

  /** Rows a mutation could write for the workspace, plus every request the fake providers saw. */
  const snapshot = async () => {
    const [counts] = await service.orm.em.getConnection().execute<Array<Record<string, string>>>(
      `select (select count(*) from audit_log where workspace_id = ?) as audit,
              (select count(*) from payment_refunds where workspace_id = ?) as refunds,
              (select count(*) from pay_links where workspace_id = ?) as links,
              (select count(*) from payment_provider_accounts where workspace_id = ?) as accounts,
              (select string_agg(concat(provider, active, secret_key_fingerprint), ',' order by provider) from payment_provider_accounts where workspace_id = ?) as account_state`,
      Array(5).fill(owner.workspaceId),
    );
    return { ...counts, stripeCalls: stripe.requests.length, mollieCalls: mollie.requests.length };
  };

  it.each(CASES.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
    const before = await snapshot();
    const query = typeof testCase.query === 'function' ? testCase.query(fixture) : testCase.query;
    const result = await service.gql(query, testCase.variables(fixture), await tokenFor(owner));
    const error = result.errors?.[0];
    expect(error, JSON.stringify(result)).toBeDefined();
    expect(error?.extensions?.code, error?.message).toBe(testCase.code);
    expect(error?.message).not.toMatch(
      /\b(select|insert|update|delete)\b.*\b(from|into|set)\b|violates|invalid byte|syntax error at|\n\s+at /i,
    );
    expect(JSON.stringify(result)).not.toContain('stacktrace');
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    [
      'saveStripeKeys sk_test_fake123',
      SAVE_STRIPE_KEYS,
      stripeInput({ secretKey: 'sk_test_fake123' }),
      'The secret key is too short: 15 characters, where a full key has at least 16',
    ],
    [
      'saveStripeKeys live key in TEST mode',
      SAVE_STRIPE_KEYS,
      stripeInput({ secretKey: 'sk_live_51AbCdEfGhIjKlMnOp' }),
      'The secret key is a LIVE mode key but mode is TEST',
    ],
    [
      'saveStripeKeys publishable key with a space',
      SAVE_STRIPE_KEYS,
      stripeInput({ publishableKey: 'pk_test_abc def' }),
      'The publishable key contains a space at position 12',
    ],
    [
      'saveMollieKeys cut-off key',
      SAVE_MOLLIE,
      mollieInput({ apiKey: 'test_abc123' }),
      'The Mollie API key is too short: 11 characters',
    ],
  ])('key message through GraphQL: %s', async (_name, query, variables, message) => {
    const result = await service.gql(query, variables, await tokenFor(owner));
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toContain(message);
  });

  const leaked: string[] = [];
  it.each(SECRET_CASES.map((testCase) => [testCase.name, testCase] as const))(
    'no secret echo: %s',
    async (_name, { target, form, build }) => {
      const secret = target.secret();
      leaked.push(secret);
      const input = build(secret);
      const selection = `${target.mutation}(input: ${form === 'inline' ? printLiteral(input) : '$input'}) { provider }`;
      const query =
        form === 'inline' ? `mutation { ${selection} }` : `mutation ($input: ${target.inputType}!) { ${selection} }`;
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(owner)}` },
        body: JSON.stringify({ query, variables: form === 'variable' ? { input: toVariable(input) } : {} }),
      });
      const text = await response.text();
      const body = JSON.parse(text) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
      expect(response.status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe(
        form === 'inline' ? 'GRAPHQL_VALIDATION_FAILED' : 'BAD_USER_INPUT',
      );
      // The secret, or any recognisable piece of it, is nowhere in the body.
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(-20));
      // The message still says what is wrong.
      expect(body.errors?.[0]?.message).toMatch(/Field|field|type|enum|String|Boolean|PaymentMode|provided|defined/);
    },
  );

  it('logged none of the secrets of the echo table', () => {
    expect(leaked.length).toBe(SECRET_CASES.length);
    for (const secret of leaked) expect(service.logs.text).not.toContain(secret.slice(-20));
  });

  it('never logged an internal error for any of them', () => {
    expect(service.logs.text).not.toContain('graphql internal error');
  });
});
