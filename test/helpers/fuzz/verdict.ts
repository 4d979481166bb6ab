import type { WireRequest } from './raw-http.js';

/**
 * What a mutated webhook request must get, derived from the check order in docs/contract.md "Webhook checks" (size → host → signature → parse →
 * livemode), with the HTTP parser (node itself) and routing in front of it. Each mutation states its effect at its
 * stage; the earliest rejecting stage decides. Behaviour the design leaves open is `either`: then only the general
 * oracle applies (no 5xx, and stored exactly when answered 2xx).
 */
export const Stage = { transport: 0, route: 1, size: 2, host: 3, signature: 4, parse: 5, livemode: 6 } as const;

export interface Effect {
  stage: number;
  outcome: 'reject' | 'either';
  /** The status a rejection must have, when the design fixes it. */
  status?: number;
  why: string;
}

export type Expectation =
  | { kind: 'accept' }
  | { kind: 'reject'; status?: number; stage: number; why: string }
  | { kind: 'either'; why: string }
  /** The client hangs up mid-request: no answer, or a 4xx written before the server noticed. */
  | { kind: 'no-answer' };

export const reject = (stage: number, why: string, status?: number): Effect => ({
  stage,
  outcome: 'reject',
  status,
  why,
});
export const either = (stage: number, why: string): Effect => ({ stage, outcome: 'either', why });

/** The expectation for a request carrying all of `effects`: the first rejection in check order decides. */
export function combine(effects: Array<Effect | null>): Expectation {
  const sorted = effects.filter((effect): effect is Effect => effect !== null).sort((a, b) => a.stage - b.stage);
  let open: Effect | null = null;
  for (const effect of sorted) {
    if (effect.outcome === 'reject') {
      // An earlier undecided stage may reject first, with a status of its own; within one stage the order of the
      // checks is not specified (node's parser may see an oversized head or a bad Content-Length first).
      const rivals = sorted.filter(
        (other) =>
          other.stage === effect.stage &&
          other !== effect &&
          (other.outcome === 'either' || other.status !== effect.status),
      );
      if (open) return { kind: 'reject', stage: open.stage, why: `${open.why}, then ${effect.why}` };
      return {
        kind: 'reject',
        status: rivals.length ? undefined : effect.status,
        stage: effect.stage,
        why: effect.why,
      };
    }
    open ??= effect;
  }
  return open ? { kind: 'either', why: open.why } : { kind: 'accept' };
}

/** One mutated webhook request, what it must get, and how to recognise what it may store. */
export interface FuzzCase {
  wire: WireRequest;
  expectation: Expectation;
  /** Event ids an accepted request may have stored (a 2xx must have stored exactly one of them). */
  candidates: string[];
  /** A string every id this request could store contains (to look for rows it must not have left). */
  token: string;
}
