import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintSecret } from '../../../src/crypto/secret-display.js';
import { stripeClientCacheKey, stripeClientFactory } from '../../../src/providers/stripe/stripe.client.js';

describe('Stripe client cache', () => {
  it('is keyed by a full 256-bit keyed digest, not the 64-bit audit fingerprint', () => {
    const secret = 'sk_test_abcdefghijklmnopqrstuvwx4242';
    const key = randomBytes(32);
    const cacheKey = stripeClientCacheKey(key, secret);
    expect(Buffer.from(cacheKey, 'base64')).toHaveLength(32);
    expect(cacheKey).toBe(stripeClientCacheKey(key, secret));
    expect(cacheKey).not.toBe(stripeClientCacheKey(randomBytes(32), secret));
    expect(cacheKey).not.toContain(fingerprintSecret(secret).slice('sha256:'.length));
    expect(cacheKey).not.toContain(secret);
  });

  it('gives one client per secret and the same client for the same secret', () => {
    const factory = stripeClientFactory('http://127.0.0.1:9');
    const a = factory('sk_test_aaaaaaaaaaaaaaaaaaaaaaaa4242');
    const b = factory('sk_test_bbbbbbbbbbbbbbbbbbbbbbbb4242');
    expect(a).not.toBe(b);
    expect(factory('sk_test_aaaaaaaaaaaaaaaaaaaaaaaa4242')).toBe(a);
  });
});
