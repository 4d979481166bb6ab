import fc from 'fast-check';
import type { Effect } from './verdict.js';

/** docs/contract.md "Webhook checks": exactly 512 KiB is accepted, one byte more is 413. */
export const BODY_LIMIT = 512 * 1024;

/** A provider's valid request before the mutations common to every webhook route are applied. */
export interface Draft {
  method: string;
  target: string;
  headers: Array<[string, string | Buffer | null]>;
  body: Buffer;
  effects: Array<Effect | null>;
  /** Set when the request was sent to the other provider's route. */
  crossed?: Effect;
}

export interface RouteContext {
  provider: 'stripe' | 'mollie';
  /** The workspace domain connected for this provider. */
  host: string;
  /** A workspace domain connected for the other provider only. */
  otherHost: string;
}

/**
 * `identity` three times in four, else one of `mutations`: a case then mutates one or two of its aspects on
 * average, and about a third of the cases stay valid. fast-check shrinks a failing case towards the identity.
 */
export function mostly<T>(identity: T, ...mutations: Array<fc.Arbitrary<T>>): fc.Arbitrary<T> {
  return fc.oneof(
    { arbitrary: fc.constant(identity), weight: 3 * mutations.length },
    ...mutations.map((arbitrary) => ({ arbitrary, weight: 1 })),
  );
}

/** Lower-case letters and digits. */
export const alnum = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: min, maxLength: max });
