import { describe, expect, it } from 'vitest';
import { MollieProvider } from '../../../src/providers/mollie/mollie.provider.js';
import { StripeProvider } from '../../../src/providers/stripe/stripe.provider.js';
import type { KeyInput } from '../../../src/providers/payment-provider.js';
import { ProviderMode } from '../../../src/vocabulary/index.js';

// checkKeyFormat makes no network call: the client factories are never used here.
const stripe = new StripeProvider(() => {
  throw new Error('no client needed');
});
const mollie = new MollieProvider(() => {
  throw new Error('no client needed');
});

const SK = 'sk_test_51AbCdEfGhIjKlMnOp';
const PK = 'pk_test_51AbCdEfGhIjKlMnOp';
const WHSEC = 'whsec_0123456789abcdef';
const MOLLIE = `test_${'a1B2c3'.repeat(5)}`;

const stripeInput = (values: Partial<KeyInput>): KeyInput => ({
  mode: ProviderMode.TEST,
  secretKey: SK,
  publishableKey: PK,
  webhookSecret: null,
  ...values,
});

describe('Stripe key messages say exactly what is wrong', () => {
  it.each<[string, Partial<KeyInput>, string | null]>([
    ['valid keys', {}, null],
    ['valid restricted key and webhook secret', { secretKey: 'rk_test_51AbCdEfGhIj', webhookSecret: WHSEC }, null],
    [
      'secret key too short (sk_test_fake123)',
      { secretKey: 'sk_test_fake123' },
      'The secret key is too short: 15 characters, where a full key has at least 16 — it looks cut off (copy it again from Stripe → Developers → API keys)',
    ],
    [
      'secret key of the other mode',
      { secretKey: 'sk_live_51AbCdEfGhIjKlMnOp' },
      'The secret key is a LIVE mode key but mode is TEST: use a key starting with sk_test_ (or rk_test_), or set mode: LIVE',
    ],
    [
      'secret key with a foreign prefix',
      { secretKey: 'pk_test_51AbCdEfGhIjKlMnOp' },
      'The secret key must start with sk_test_ (or rk_test_) in TEST mode (Stripe → Developers → API keys)',
    ],
    [
      'secret key with a space inside',
      { secretKey: 'sk_test_51AbCd EfGhIjKlMnOp' },
      'The secret key contains a space at position 15: after sk_test_ it may contain only letters, digits and _ (copy it again from Stripe → Developers → API keys)',
    ],
    [
      'secret key with a dash',
      { secretKey: 'sk_test_51AbCd-EfGhIj' },
      'The secret key contains “-” at position 15: after sk_test_ it may contain only letters, digits and _ (copy it again from Stripe → Developers → API keys)',
    ],
    [
      'secret key with a NUL',
      { secretKey: 'sk_test_\u00004242abcdefgh' },
      'The secret key contains a control character (U+0000) at position 9: after sk_test_ it may contain only letters, digits and _ (copy it again from Stripe → Developers → API keys)',
    ],
    [
      'live secret key in LIVE mode, test publishable key',
      { mode: ProviderMode.LIVE, secretKey: 'sk_live_51AbCdEfGhIjKlMnOp' },
      'The publishable key is a TEST mode key but mode is LIVE: use a key starting with pk_live_, or set mode: TEST',
    ],
    [
      'publishable key missing',
      { publishableKey: null },
      'The publishable key is required (pk_test_…, from Stripe → Developers → API keys)',
    ],
    [
      'publishable key with a foreign prefix',
      { publishableKey: SK },
      'The publishable key must start with pk_test_ in TEST mode (Stripe → Developers → API keys)',
    ],
    [
      'publishable key with non-ASCII',
      { publishableKey: 'pk_test_ключ' },
      'The publishable key contains a non-ASCII character (“к”) at position 9: after pk_test_ it may contain only letters, digits and _ (copy it again from Stripe → Developers → API keys)',
    ],
    [
      'webhook secret with the wrong prefix',
      { webhookSecret: 'we_0123456789abcdef' },
      'The webhook signing secret must start with whsec_ (Stripe → Developers → Webhooks → the endpoint → Signing secret)',
    ],
    [
      'webhook secret too short',
      { webhookSecret: 'whsec_abc' },
      'The webhook signing secret is too short: 9 characters, where a full key has at least 16 — it looks cut off (copy it again from Stripe → Developers → Webhooks → the endpoint → Signing secret)',
    ],
    [
      'webhook secret with a line break',
      { webhookSecret: 'whsec_0123\n456789abcdef' },
      'The webhook signing secret contains a line break or tab at position 11: after whsec_ it may contain only letters, digits and _ (copy it again from Stripe → Developers → Webhooks → the endpoint → Signing secret)',
    ],
  ])('%s', (_name, values, expected) => {
    expect(stripe.checkKeyFormat(stripeInput(values))).toBe(expected);
  });

  it('never repeats the key in its message', () => {
    const key = 'sk_test_fake123';
    expect(stripe.checkKeyFormat(stripeInput({ secretKey: key }))).not.toContain(key);
  });
});

describe('Mollie key messages say exactly what is wrong', () => {
  const where = 'Mollie → Developers → API keys';
  it.each<[string, ProviderMode, string, string | null]>([
    ['valid test key', ProviderMode.TEST, MOLLIE, null],
    ['valid live key', ProviderMode.LIVE, MOLLIE.replace('test_', 'live_'), null],
    [
      'live key in TEST mode',
      ProviderMode.TEST,
      MOLLIE.replace('test_', 'live_'),
      'The Mollie API key is a LIVE mode key but mode is TEST: use a key starting with test_, or set mode: LIVE',
    ],
    [
      'no mode prefix',
      ProviderMode.TEST,
      'a1B2c3a1B2c3a1B2c3a1B2c3a1B2c3a1B2c3',
      `The Mollie API key must start with test_ in TEST mode (${where})`,
    ],
    [
      'too short',
      ProviderMode.TEST,
      'test_a1B2c3',
      `The Mollie API key is too short: 11 characters, where a full key has at least 35 — it looks cut off (copy it again from ${where})`,
    ],
    [
      'an underscore in the body',
      ProviderMode.TEST,
      `test_${'a'.repeat(10)}_${'b'.repeat(20)}`,
      `The Mollie API key contains “_” at position 16: after test_ it may contain only letters and digits (copy it again from ${where})`,
    ],
  ])('%s', (_name, mode, secretKey, expected) => {
    expect(mollie.checkKeyFormat({ mode, secretKey, publishableKey: null, webhookSecret: null })).toBe(expected);
  });
});
