/**
 * Authenticated encryption of provider secrets (API keys, webhook secrets) at rest.
 *
 * AES-256-GCM with a fresh random 96-bit IV per value and a 128-bit tag. The additional
 * authenticated data binds each ciphertext to the workspace, provider and field it was written
 * for, so a value copied into another row (another tenant, or the webhook-secret column) fails
 * to decrypt instead of silently working. Sealed format (ASCII, safe for a text column):
 *
 *     v1.<keyId>.<iv b64url>.<tag b64url>.<ciphertext b64url>
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './key-ring.js';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]*$/;

/** Where a secret belongs. Values must be stable: they are part of the ciphertext's identity. */
export interface SecretContext {
  readonly workspaceId: string;
  /** The provider as the vocabulary spells it (lower case), always the same for a provider. */
  readonly provider: string;
  /** e.g. `secretKey`, `webhookSecret`, `apiKey`. */
  readonly field: string;
}

/** Why a sealed value could not be opened. */
export type SecretDecryptionReason = 'malformed' | 'unknown_key' | 'authentication_failed';

/**
 * A sealed secret could not be decrypted. The message names only the reason and the (public)
 * key id: never plaintext, ciphertext or key bytes, so it is safe to log.
 */
export class SecretDecryptionError extends Error {
  override readonly name = 'SecretDecryptionError';
  constructor(
    readonly reason: SecretDecryptionReason,
    readonly keyId?: string,
  ) {
    super(
      reason === 'unknown_key'
        ? `secret was encrypted with key "${keyId}", which is not in PAYMENTS_ENCRYPTION_KEYS`
        : reason === 'malformed'
          ? 'secret is not a valid v1 sealed value'
          : 'secret failed authentication (tampered, or stored under another workspace, provider or field)',
    );
  }
}

/**
 * Canonical AAD. The parts are joined with `|`, so they must not contain it; a uuid, a provider
 * name and a field name never do, and rejecting it keeps two contexts from serialising alike.
 */
function aadBytes(ctx: SecretContext): Buffer {
  const parts = [ctx.workspaceId, ctx.provider, ctx.field];
  if (parts.some((p) => typeof p !== 'string' || p === '' || p.includes('|'))) {
    throw new TypeError('SecretContext parts must be non-empty strings without "|"');
  }
  return Buffer.from(`workestra-payments/v1|${parts.join('|')}`, 'utf8');
}

interface Sealed {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

function unpack(sealed: string): Sealed {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 5 || parts[0] !== VERSION || !/^[A-Za-z0-9_-]{1,32}$/.test(parts[1])) {
    throw new SecretDecryptionError('malformed');
  }
  const [, keyId, iv, tag, ciphertext] = parts;
  if (![iv, tag, ciphertext].every((p) => B64URL.test(p))) throw new SecretDecryptionError('malformed', keyId);
  const out = {
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
    ciphertext: Buffer.from(ciphertext, 'base64url'),
  };
  if (out.iv.length !== IV_BYTES || out.tag.length !== TAG_BYTES) throw new SecretDecryptionError('malformed', keyId);
  return out;
}

/** Encrypt `plaintext` under the ring's primary key, bound to `aad`. */
export function encryptSecret(ring: KeyRing, plaintext: string, aad: SecretContext): string {
  const { id, key } = ring.primary();
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadBytes(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

/**
 * Decrypt a value sealed by {@link encryptSecret} with the same context.
 * @throws SecretDecryptionError when malformed, under an unknown key id, tampered, or bound to another context.
 */
export function decryptSecret(ring: KeyRing, sealed: string, aad: SecretContext): string {
  const parsed = unpack(sealed);
  const key = ring.key(parsed.keyId);
  if (!key) throw new SecretDecryptionError('unknown_key', parsed.keyId);
  const aadBuf = aadBytes(aad);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, parsed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aadBuf);
    decipher.setAuthTag(parsed.tag);
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // OpenSSL's own error adds nothing useful and must not become the logged cause.
    throw new SecretDecryptionError('authentication_failed', parsed.keyId);
  }
}

/** The key id a sealed value was encrypted with. @throws SecretDecryptionError when malformed. */
export function sealedKeyId(sealed: string): string {
  return unpack(sealed).keyId;
}

/** Whether a sealed value is under a key other than the ring's primary (i.e. rotation pending). */
export function needsReencryption(ring: KeyRing, sealed: string): boolean {
  return sealedKeyId(sealed) !== ring.primaryId;
}

/**
 * Re-seal a value under the primary key. It is always decrypted first, so a corrupt value is
 * reported rather than carried along; a value already under the primary key is returned
 * unchanged, which keeps `payments-ops keys reencrypt` idempotent and free of needless writes.
 */
export function reencryptSecret(ring: KeyRing, sealed: string, aad: SecretContext): string {
  const plaintext = decryptSecret(ring, sealed, aad);
  return needsReencryption(ring, sealed) ? encryptSecret(ring, plaintext, aad) : sealed;
}
