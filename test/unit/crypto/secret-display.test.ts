import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { fingerprintSecret, maskSecret } from '../../../src/crypto/secret-display.js';

describe('maskSecret', () => {
  it.each([
    ['sk_test_51HxyzABCDEFGH4242', 'sk_test_…4242'],
    ['sk_live_51HxyzABCDEFGH9999', 'sk_live_…9999'],
    ['pk_test_51HxyzABCDEFGH1234', 'pk_test_…1234'],
    ['pk_live_51HxyzABCDEFGH1234', 'pk_live_…1234'],
    ['rk_test_51HxyzABCDEFGH5678', 'rk_test_…5678'],
    ['rk_live_51HxyzABCDEFGH5678', 'rk_live_…5678'],
    ['whsec_0123456789abcdef9f2c', 'whsec_…9f2c'],
    ['test_dHar4XY7LxsDOtmnkVtjNVWXLSlXAbCd', 'test_…AbCd'],
    ['live_dHar4XY7LxsDOtmnkVtjNVWXLSlXWxYz', 'live_…WxYz'],
    // Unrecognised prefix: nothing of the start is shown.
    ['xk_abcdefghijkl7777', '…7777'],
    ['abcdefghi', '…fghi'],
    // 8 characters or fewer after the prefix: no tail, it would reveal half the secret.
    ['sk_test_12345678', 'sk_test_…'],
    ['sk_test_123456789', 'sk_test_…6789'],
    ['whsec_abc', 'whsec_…'],
    ['test_', 'test_…'],
    ['abcdefgh', '…'],
    ['', '…'],
  ])('%s → %s', (secret, masked) => {
    expect(maskSecret(secret)).toBe(masked);
  });

  it('recognises a prefix only at the start of the secret', () => {
    expect(maskSecret('test_live_abcdefghij')).toBe('test_…ghij');
    expect(maskSecret('my_sk_test_abcdefghij')).toBe('…ghij');
  });
});

describe('fingerprintSecret', () => {
  it.each(['sk_test_51HxyzABCDEFGH4242', 'whsec_0123456789abcdef9f2c', 'test_ünïcødé-key', ''])(
    '%j matches SHA-256',
    (secret) => {
      const expected = createHash('sha256').update(Buffer.from(secret, 'utf8')).digest('hex').slice(0, 16);
      expect(fingerprintSecret(secret)).toBe(`sha256:${expected}`);
      expect(fingerprintSecret(secret)).toMatch(/^sha256:[0-9a-f]{16}$/);
    },
  );

  it('tells different keys apart and contains no part of the key', () => {
    const a = fingerprintSecret('sk_test_aaaaaaaaaaaaaaaa');
    expect(a).not.toBe(fingerprintSecret('sk_test_aaaaaaaaaaaaaaab'));
    expect(a).not.toContain('aaaa');
  });
});
