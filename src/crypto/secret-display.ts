/**
 * Safe, non-reversible renderings of provider secrets for the API, UI and audit log.
 */
import { createHash } from 'node:crypto';

// Longest first so `sk_test_` wins over a shorter prefix that could also match.
const KNOWN_PREFIXES = [
  'sk_test_',
  'sk_live_',
  'pk_test_',
  'pk_live_',
  'rk_test_',
  'rk_live_',
  'whsec_',
  'test_',
  'live_',
].sort((a, b) => b.length - a.length);

/** Tails of 8 characters or fewer are not shown at all: 4 of them would reveal half the secret. */
const MIN_BODY_FOR_TAIL = 9;
const TAIL = 4;

/**
 * Mask a secret as its recognised prefix, `…` and its last 4 characters
 * (`sk_test_…4242`, `whsec_…9f2c`, `test_…AbCd`). An unrecognised prefix is not shown
 * (`…4242`), and a body of 8 characters or fewer shows no tail (`sk_test_…`).
 */
export function maskSecret(secret: string): string {
  const prefix = KNOWN_PREFIXES.find((p) => secret.startsWith(p)) ?? '';
  const body = secret.slice(prefix.length);
  return body.length >= MIN_BODY_FOR_TAIL ? `${prefix}…${body.slice(-TAIL)}` : `${prefix}…`;
}

/**
 * Audit fingerprint: `sha256:` + the first 16 hex characters of SHA-256 over the UTF-8 secret.
 * Lets people tell keys apart (was it rotated? same key in two workspaces?) without revealing one.
 */
export function fingerprintSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16)}`;
}
