import { randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { parseKeyRing } from '../../../src/crypto/key-ring.js';
import {
  SecretDecryptionError,
  decryptSecret,
  encryptSecret,
  needsReencryption,
  reencryptSecret,
  sealedKeyId,
  type SecretContext,
} from '../../../src/crypto/secret-box.js';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const ringA = parseKeyRing(`a:${keyA}`);
const ctx: SecretContext = {
  workspaceId: '6f1c2a9e-0000-4000-8000-000000000001',
  provider: 'stripe',
  field: 'secretKey',
};
const SECRET = 'sk_test_51HsuperSecretValue4242';

/** Run fn and return the SecretDecryptionError it throws (failing the test otherwise). */
function decryptionError(fn: () => unknown): SecretDecryptionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretDecryptionError);
    return err as SecretDecryptionError;
  }
  throw new Error('expected a SecretDecryptionError');
}

function expectNoSecrets(err: Error, sealed: string): void {
  for (const s of [SECRET, keyA, keyB, sealed.split('.')[4], sealed.split('.')[3]]) {
    expect(err.message).not.toContain(s);
  }
}

/** Replace one base64url part of a sealed string after flipping a bit in it. */
function flip(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part], 'base64url');
  bytes[0] ^= 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('encryptSecret / decryptSecret', () => {
  it.each([SECRET, '', 'whsec_ünïcødé ✓', 'x'.repeat(10_000)])('round-trips %#', (plaintext) => {
    const sealed = encryptSecret(ringA, plaintext, ctx);
    expect(decryptSecret(ringA, sealed, ctx)).toBe(plaintext);
  });

  it('writes v1.<keyId>.<iv>.<tag>.<ciphertext> with a 96-bit IV and 128-bit tag', () => {
    const sealed = encryptSecret(ringA, SECRET, ctx);
    expect(sealed).toMatch(/^v1\.a\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const [, , iv, tag, ct] = sealed.split('.');
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    expect(Buffer.from(ct, 'base64url')).toHaveLength(Buffer.byteLength(SECRET));
    expect(sealed).not.toContain(Buffer.from(SECRET).toString('base64url').slice(0, 12));
    expect(sealedKeyId(sealed)).toBe('a');
  });

  it('uses a fresh IV for every value, so equal plaintexts differ', () => {
    const sealed = Array.from({ length: 50 }, () => encryptSecret(ringA, SECRET, ctx));
    expect(new Set(sealed.map((s) => s.split('.')[2])).size).toBe(50);
    expect(new Set(sealed.map((s) => s.split('.')[4])).size).toBe(50);
  });

  it.each([
    ['IV', 2],
    ['tag', 3],
    ['ciphertext', 4],
  ])('rejects a tampered %s', (_name, part) => {
    const sealed = encryptSecret(ringA, SECRET, ctx);
    const err = decryptionError(() => decryptSecret(ringA, flip(sealed, part), ctx));
    expect(err.reason).toBe('authentication_failed');
    expectNoSecrets(err, sealed);
  });

  it.each<[string, Partial<SecretContext>]>([
    ['another workspace', { workspaceId: '6f1c2a9e-0000-4000-8000-000000000002' }],
    ['another provider', { provider: 'mollie' }],
    ['another field', { field: 'webhookSecret' }],
    ['a differently spelled provider', { provider: 'STRIPE' }],
  ])('rejects a ciphertext copied to %s', (_name, change) => {
    const sealed = encryptSecret(ringA, SECRET, ctx);
    const err = decryptionError(() => decryptSecret(ringA, sealed, { ...ctx, ...change }));
    expect(err.reason).toBe('authentication_failed');
    expectNoSecrets(err, sealed);
  });

  it('rejects a value sealed under a key id the ring does not have', () => {
    const sealed = encryptSecret(ringA, SECRET, ctx);
    const err = decryptionError(() => decryptSecret(parseKeyRing(`b:${keyB}`), sealed, ctx));
    expect(err.reason).toBe('unknown_key');
    expect(err.keyId).toBe('a');
    expect(err.message).toContain('"a"');
    expectNoSecrets(err, sealed);
  });

  it('rejects a value relabelled with another key id of the ring', () => {
    const sealed = encryptSecret(ringA, SECRET, ctx).replace(/^v1\.a\./, 'v1.b.');
    const err = decryptionError(() => decryptSecret(parseKeyRing(`a:${keyA},b:${keyB}`), sealed, ctx));
    expect(err.reason).toBe('authentication_failed');
  });

  it.each([
    ['empty', ''],
    ['plain text', SECRET],
    ['wrong version', () => encryptSecret(ringA, SECRET, ctx).replace(/^v1/, 'v2')],
    ['missing part', () => encryptSecret(ringA, SECRET, ctx).split('.').slice(0, 4).join('.')],
    ['extra part', () => `${encryptSecret(ringA, SECRET, ctx)}.AAAA`],
    ['short tag', () => encryptSecret(ringA, SECRET, ctx).replace(/^(v1\.a\.[^.]+\.)[^.]{4}/, '$1')],
    ['non-base64url', () => encryptSecret(ringA, SECRET, ctx).replace(/\.([^.]+)$/, '.$1+/=')],
  ])('rejects a malformed value (%s)', (_name, make) => {
    const sealed = typeof make === 'function' ? make() : make;
    expect(decryptionError(() => decryptSecret(ringA, sealed, ctx)).reason).toBe('malformed');
  });

  it('refuses a context whose parts are empty or contain the separator', () => {
    expect(() => encryptSecret(ringA, SECRET, { ...ctx, workspaceId: '' })).toThrow(TypeError);
    expect(() => encryptSecret(ringA, SECRET, { ...ctx, provider: 'stripe|mollie' })).toThrow(TypeError);
  });
});

describe('key rotation', () => {
  const rotated = parseKeyRing(`b:${keyB},a:${keyA}`);

  it('still decrypts values under the old key after a new key is put first', () => {
    const old = encryptSecret(ringA, SECRET, ctx);
    expect(decryptSecret(rotated, old, ctx)).toBe(SECRET);
    expect(needsReencryption(rotated, old)).toBe(true);
    expect(needsReencryption(ringA, old)).toBe(false);
    expect(sealedKeyId(encryptSecret(rotated, SECRET, ctx))).toBe('b');
  });

  it('re-encrypts under the primary key so the old key can be retired', () => {
    const old = encryptSecret(ringA, SECRET, ctx);
    const fresh = reencryptSecret(rotated, old, ctx);
    expect(sealedKeyId(fresh)).toBe('b');
    expect(needsReencryption(rotated, fresh)).toBe(false);
    expect(decryptSecret(parseKeyRing(`b:${keyB}`), fresh, ctx)).toBe(SECRET);
  });

  it('leaves a value already under the primary key unchanged, but still verifies it', () => {
    const current = encryptSecret(rotated, SECRET, ctx);
    expect(reencryptSecret(rotated, current, ctx)).toBe(current);
    expect(() => reencryptSecret(rotated, current, { ...ctx, field: 'webhookSecret' })).toThrow(SecretDecryptionError);
  });
});
