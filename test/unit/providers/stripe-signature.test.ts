import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { verifyStripeSignature } from '../../../src/providers/stripe/stripe.signature.js';

const secret = 'whsec_test_secret_for_unit_tests';
const body = Buffer.from('{"id":"evt_1","object":"event"}');
const now = 1_800_000_000;
const header = (timestamp = now, payload = body.toString(), key = secret) =>
  new Stripe('sk_test_x').webhooks.generateTestHeaderString({ payload, secret: key, timestamp });

describe("verifyStripeSignature (agrees with the stripe SDK's own signer)", () => {
  it.each([
    ['a valid signature', header(), null],
    ['a timestamp 300 s old', header(now - 300), null],
    ['a timestamp 301 s old', header(now - 301), 'timestamp outside tolerance'],
    ['a timestamp 301 s in the future', header(now + 301), 'timestamp outside tolerance'],
    ['another secret', header(now, body.toString(), 'whsec_other'), 'signature mismatch'],
    ['another body', header(now, '{"id":"evt_2"}'), 'signature mismatch'],
    ['no header', undefined, 'missing signature'],
    ['no v1', `t=${now}`, 'malformed signature'],
    ['no timestamp', `v1=${'a'.repeat(64)}`, 'malformed signature'],
    ['garbage', 'hello', 'malformed signature'],
    ['one of several v1 matching (secret roll)', `t=${now},v1=${'0'.repeat(64)},${header().split(',')[1]}`, null],
    ['a v0 scheme only', header().replace('v1=', 'v0='), 'malformed signature'],
  ])('%s', (_name, value, expected) => {
    expect(verifyStripeSignature(body, value, secret, now)).toBe(expected);
  });
});
