/**
 * The encryption key ring behind `PAYMENTS_ENCRYPTION_KEYS`.
 *
 * Format: `id:base64key[,id:base64key…]`. Every key is 32 random bytes (AES-256). The first
 * entry is the primary key and encrypts new values; every entry can decrypt, which is what
 * makes rotation possible: put the new key first, keep the old ones until
 * `payments-ops keys reencrypt` has moved every stored secret to the new key.
 */

const ENV_VAR = 'PAYMENTS_ENCRYPTION_KEYS';
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
// Standard or URL-safe alphabet, optional padding; Buffer.from() alone would silently skip junk.
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;
const KEY_BYTES = 32;

/** One key of the ring: a short public id (stored with every ciphertext) and 32 secret bytes. */
export interface KeyRingEntry {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * An ordered, immutable set of AES-256 keys. The key bytes live in a private field so that
 * logging, `JSON.stringify` or `util.inspect` of a ring can never print them.
 */
export class KeyRing {
  /** Id of the key that encrypts new values (the first entry). */
  readonly primaryId: string;
  readonly #keys: ReadonlyMap<string, Buffer>;

  /** @throws Error when the list is empty, an id is invalid or repeated, or a key is not 32 bytes. */
  constructor(entries: readonly KeyRingEntry[]) {
    if (entries.length === 0) throw new Error('key ring needs at least one key');
    const keys = new Map<string, Buffer>();
    for (const { id, key } of entries) {
      if (!KEY_ID_PATTERN.test(id)) throw new Error('key id must match [A-Za-z0-9_-]{1,32}');
      if (keys.has(id)) throw new Error(`key id "${id}" is used twice`);
      if (key.length !== KEY_BYTES) throw new Error(`key "${id}" must be ${KEY_BYTES} bytes`);
      // Copy so a caller reusing or zeroing its buffer cannot change the ring.
      keys.set(id, Buffer.from(key));
    }
    this.#keys = keys;
    this.primaryId = entries[0].id;
  }

  /** Whether the ring can decrypt values sealed under `id`. */
  has(id: string): boolean {
    return this.#keys.has(id);
  }

  /** All key ids, primary first. */
  ids(): string[] {
    return [...this.#keys.keys()];
  }

  /** The key bytes for `id`, or undefined. Only the secret box should call this. */
  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  /** The primary (encrypting) key. */
  primary(): KeyRingEntry {
    return { id: this.primaryId, key: this.#keys.get(this.primaryId) as Buffer };
  }

  /** Safe description for logs: ids only. */
  toString(): string {
    return `KeyRing(${this.ids().join(',')})`;
  }

  toJSON(): { primaryId: string; ids: string[] } {
    return { primaryId: this.primaryId, ids: this.ids() };
  }
}

/**
 * Parse the `PAYMENTS_ENCRYPTION_KEYS` value. Whitespace around entries is ignored.
 *
 * @throws Error with a one-line message naming `PAYMENTS_ENCRYPTION_KEYS` and the problem. The
 *   message never contains key material: only entry positions, lengths and already-valid ids
 *   (an invalid id is not echoed either, in case key and id were swapped).
 */
export function parseKeyRing(value: string): KeyRing {
  const fail = (problem: string): never => {
    throw new Error(`${ENV_VAR} is invalid: ${problem} (expected id:base64key[,id:base64key…] with 32-byte keys)`);
  };
  if (value.trim() === '') fail('it is empty');

  const entries: KeyRingEntry[] = [];
  const seen = new Set<string>();
  value.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    const n = index + 1;
    if (entry === '') fail(`entry ${n} is empty`);
    const colon = entry.indexOf(':');
    if (colon < 0) fail(`entry ${n} has no "id:" before its key`);
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(id)) fail(`entry ${n} has an invalid key id (allowed: 1-32 of A-Z a-z 0-9 _ -)`);
    if (seen.has(id)) fail(`key id "${id}" appears more than once`);
    seen.add(id);
    if (encoded === '') fail(`key "${id}" is empty`);
    if (!BASE64_PATTERN.test(encoded)) fail(`key "${id}" is not valid base64`);
    const key = Buffer.from(encoded, encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64');
    if (key.length !== KEY_BYTES) fail(`key "${id}" decodes to ${key.length} bytes, not ${KEY_BYTES}`);
    entries.push({ id, key });
  });
  return new KeyRing(entries);
}
