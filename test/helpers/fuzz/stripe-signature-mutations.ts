import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { mostly } from './draft.js';
import { either, reject, Stage, type Effect } from './verdict.js';

/** Mutations of the `Stripe-Signature` header (`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`) and of its timestamp. */
export type StripeTimestamp = { k: 'now' } | { k: 'skew'; seconds: number } | { k: 'text'; text: string };

export const stripeTimestamp: fc.Arbitrary<StripeTimestamp> = mostly<StripeTimestamp>(
  { k: 'now' },
  fc.record({ k: fc.constant('skew' as const), seconds: fc.integer({ min: -290, max: 290 }) }),
  fc.record({
    k: fc.constant('skew' as const),
    seconds: fc.oneof(
      fc.integer({ min: -2e9, max: -310 }),
      fc.integer({ min: 310, max: 2e9 }),
      fc.integer({ min: -320, max: 320 }),
    ),
  }),
  fc.record({
    k: fc.constant('text' as const),
    text: fc.constantFrom(
      'abc',
      '-5',
      '1e9',
      '99999999999999999999',
      '',
      '0x10',
      '1.5',
      ' ',
      '٣٤٥',
      '0',
      '-1700000000',
    ),
  }),
);

export type StripeSignature =
  | { k: 'valid' }
  | { k: 'missing' }
  | { k: 'empty' }
  | { k: 'no-t' }
  | { k: 'no-v1' }
  | { k: 'v0-only' }
  | { k: 'several'; bogus: number; at: number; withValid: boolean }
  | { k: 'upper-hex' }
  | { k: 'whitespace'; style: 'after-comma' | 'around-equals' | 'tab' | 'outer' }
  | { k: 'padded'; parts: number }
  | { k: 'non-ascii'; where: 'extra' | 'v1' | 't' }
  | { k: 'wrong-secret' }
  | { k: 'other-body' }
  | { k: 't-mismatch' }
  | { k: 'duplicate-line'; second: 'same' | 'garbage' | 'other-valid' }
  | { k: 'garbage'; text: string };

export const stripeSignature: fc.Arbitrary<StripeSignature> = mostly<StripeSignature>(
  { k: 'valid' },
  ...(
    ['missing', 'empty', 'no-t', 'no-v1', 'v0-only', 'upper-hex', 'wrong-secret', 'other-body', 't-mismatch'] as const
  ).map((k) => fc.constant({ k })),
  fc.record({
    k: fc.constant('several' as const),
    bogus: fc.integer({ min: 1, max: 40 }),
    at: fc.nat(),
    withValid: fc.boolean(),
  }),
  fc.record({
    k: fc.constant('whitespace' as const),
    style: fc.constantFrom('after-comma' as const, 'around-equals' as const, 'tab' as const, 'outer' as const),
  }),
  fc.record({
    k: fc.constant('padded' as const),
    parts: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1000, max: 2500 })),
  }),
  fc.record({
    k: fc.constant('non-ascii' as const),
    where: fc.constantFrom('extra' as const, 'v1' as const, 't' as const),
  }),
  fc.record({
    k: fc.constant('duplicate-line' as const),
    second: fc.constantFrom('same' as const, 'garbage' as const, 'other-valid' as const),
  }),
  fc.record({
    k: fc.constant('garbage' as const),
    text: fc.string({ maxLength: 200 }).map((text) => text.replace(/[^\x20-\x7e]/g, '')),
  }),
);

const hmac = (secret: string, t: string, body: Buffer) =>
  createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');

export function signatureHeaders(
  mutation: StripeSignature,
  secret: string,
  t: string,
  body: Buffer,
): { values: Array<string | Buffer>; effect: Effect | null } {
  const v1 = hmac(secret, t, body);
  const valid = `t=${t},v1=${v1}`;
  const bad = (why: string) => reject(Stage.signature, why, 400);
  switch (mutation.k) {
    case 'valid':
      return { values: [valid], effect: null };
    case 'missing':
      return { values: [], effect: bad('no Stripe-Signature') };
    case 'empty':
      return { values: [''], effect: bad('empty Stripe-Signature') };
    case 'no-t':
      return { values: [`v1=${v1}`], effect: bad('no t=') };
    case 'no-v1':
      return { values: [`t=${t}`], effect: bad('no v1=') };
    case 'v0-only':
      return { values: [`t=${t},v0=${v1}`], effect: bad('v0 only') };
    case 'several': {
      const signatures = Array.from({ length: mutation.bogus }, (_, i) => `v1=${hmac(`bogus${i}`, t, body)}`);
      if (mutation.withValid) signatures.splice(mutation.at % (mutation.bogus + 1), 0, `v1=${v1}`);
      return { values: [`t=${t},${signatures.join(',')}`], effect: mutation.withValid ? null : bad('no matching v1') };
    }
    case 'upper-hex':
      return { values: [`t=${t},v1=${v1.toUpperCase()}`], effect: either(Stage.signature, 'upper-case hex') };
    case 'whitespace': {
      const styles = {
        'after-comma': `t=${t}, v1=${v1}`,
        'around-equals': `t = ${t} , v1 = ${v1}`,
        tab: `t=${t},\tv1=${v1}`,
        outer: `  ${valid}  `,
      };
      // leading and trailing whitespace is not part of a header value (RFC 9110): the header is unchanged
      return {
        values: [styles[mutation.style]],
        effect: mutation.style === 'outer' ? null : either(Stage.signature, `whitespace (${mutation.style})`),
      };
    }
    case 'padded': {
      const padding = Array.from({ length: mutation.parts }, (_, i) => `x${i}=zzzzz`).join(',');
      return { values: [`t=${t},${padding},v1=${v1}`], effect: null };
    }
    case 'non-ascii':
      if (mutation.where === 'extra')
        return { values: [Buffer.from(`${valid},x=é`)], effect: either(Stage.signature, 'non-ASCII extra part') };
      if (mutation.where === 'v1')
        return { values: [Buffer.from(`t=${t},v1=é${v1.slice(1)}`)], effect: bad('non-ASCII v1') };
      return { values: [Buffer.from(`t=${t}é,v1=${v1}`)], effect: bad('non-ASCII t') };
    case 'wrong-secret':
      return { values: [`t=${t},v1=${hmac('whsec_not_the_secret', t, body)}`], effect: bad('another secret') };
    case 'other-body':
      return {
        values: [`t=${t},v1=${hmac(secret, t, Buffer.concat([body, Buffer.from(' ')]))}`],
        effect: bad('signature over other bytes'),
      };
    case 't-mismatch':
      return { values: [`t=${t}1,v1=${v1}`], effect: bad('t differs from the signed one') };
    case 'duplicate-line': {
      const second = {
        same: valid,
        garbage: 'v1=zz,t=nope',
        'other-valid': `t=${Number(t) - 1},v1=${hmac(secret, String(Number(t) - 1), body)}`,
      }[mutation.second];
      return {
        values: [valid, second],
        effect:
          mutation.second === 'same' ? null : either(Stage.signature, `a second Stripe-Signature (${mutation.second})`),
      };
    }
    case 'garbage':
      return { values: [mutation.text], effect: bad('garbage') };
  }
}

export function timestamp(mutation: StripeTimestamp, nowS: number): { t: string; effect: Effect | null } {
  if (mutation.k === 'now') return { t: String(nowS), effect: null };
  if (mutation.k === 'text')
    return { t: mutation.text, effect: reject(Stage.signature, `timestamp ${JSON.stringify(mutation.text)}`, 400) };
  const distance = Math.abs(mutation.seconds);
  const t = String(nowS + mutation.seconds);
  if (distance <= 290) return { t, effect: null };
  return {
    t,
    effect:
      distance >= 310
        ? reject(Stage.signature, `timestamp ${mutation.seconds} s away`, 400)
        : either(Stage.signature, 'timestamp at the tolerance'),
  };
}
