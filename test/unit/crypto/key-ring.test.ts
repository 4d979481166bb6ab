import { inspect } from 'node:util';
import { randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { KeyRing, parseKeyRing } from '../../../src/crypto/key-ring.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const short = randomBytes(16).toString('base64');

describe('parseKeyRing', () => {
  it('makes the first key primary and lets every key be found', () => {
    const ring = parseKeyRing(`new:${k1},old:${k2}`);
    expect(ring.primaryId).toBe('new');
    expect(ring.ids()).toEqual(['new', 'old']);
    expect(ring.has('old')).toBe(true);
    expect(ring.has('other')).toBe(false);
    expect(ring.key('old')?.equals(Buffer.from(k2, 'base64'))).toBe(true);
    expect(ring.primary().key.equals(Buffer.from(k1, 'base64'))).toBe(true);
  });

  it('tolerates spaces around entries and accepts base64url keys', () => {
    const url = randomBytes(32).toString('base64url');
    const ring = parseKeyRing(` a_1:${k1} , b-2:${url} `);
    expect(ring.ids()).toEqual(['a_1', 'b-2']);
    expect(ring.key('b-2')?.equals(Buffer.from(url, 'base64url'))).toBe(true);
  });

  it.each([
    ['empty', '', 'empty'],
    ['blank', '   ', 'empty'],
    ['no id', k1, 'entry 1 has no "id:"'],
    ['empty key', 'k1:', 'key "k1" is empty'],
    ['empty id', `:${k1}`, 'entry 1 has an invalid key id'],
    ['bad id chars', `my key!:${k1}`, 'entry 1 has an invalid key id'],
    ['id too long', `${'x'.repeat(33)}:${k1}`, 'entry 1 has an invalid key id'],
    ['swapped id and key', `${k1}:k1`, 'entry 1 has an invalid key id'],
    ['duplicate id', `k1:${k1},k1:${k2}`, 'key id "k1" appears more than once'],
    ['trailing comma', `k1:${k1},`, 'entry 2 is empty'],
    ['short key', `k1:${short}`, 'key "k1" decodes to 16 bytes, not 32'],
    ['long key', `k1:${randomBytes(48).toString('base64')}`, 'decodes to 48 bytes'],
    ['not base64', `k1:${k1.slice(0, 20)}!@#$${k1.slice(24)}`, 'key "k1" is not valid base64'],
  ])('rejects %s with one line naming the variable and never the key', (_name, value, problem) => {
    let message = '';
    try {
      parseKeyRing(value);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('PAYMENTS_ENCRYPTION_KEYS');
    expect(message).toContain(problem);
    expect(message).not.toContain('\n');
    for (const secret of [k1, k2, short]) {
      // No 8-character run of any key may appear in the message.
      for (let i = 0; i + 8 <= secret.length; i += 4) expect(message).not.toContain(secret.slice(i, i + 8));
    }
  });
});

describe('KeyRing', () => {
  it('never exposes key bytes through logging or serialisation', () => {
    const ring = parseKeyRing(`k1:${k1}`);
    const hex = Buffer.from(k1, 'base64').toString('hex');
    for (const rendered of [JSON.stringify(ring), inspect(ring, { showHidden: true, depth: 5 }), String(ring)]) {
      expect(rendered).not.toContain(k1);
      expect(rendered).not.toContain(hex.slice(0, 16));
      expect(rendered).toContain('k1');
    }
  });

  it('copies key buffers so callers cannot change the ring', () => {
    const key = randomBytes(32);
    const copy = Buffer.from(key);
    const ring = new KeyRing([{ id: 'k', key }]);
    key.fill(0);
    expect(ring.key('k')?.equals(copy)).toBe(true);
  });

  it.each([
    ['no keys', []],
    ['bad id', [{ id: 'a.b', key: randomBytes(32) }]],
    ['short key', [{ id: 'a', key: randomBytes(31) }]],
    [
      'duplicate id',
      [
        { id: 'a', key: randomBytes(32) },
        { id: 'a', key: randomBytes(32) },
      ],
    ],
  ])('constructor rejects %s', (_name, entries) => {
    expect(() => new KeyRing(entries)).toThrow(Error);
  });
});
