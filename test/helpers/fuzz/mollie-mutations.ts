import fc from 'fast-check';
import { BODY_LIMIT, mostly, type Draft, type RouteContext } from './draft.js';
import {
  finish,
  framingMutation,
  headerMutations,
  type FramingMutation,
  type HeaderMutation,
} from './request-mutations.js';
import { hostMutation, routeMutation, type HostMutation, type RouteMutation } from './target-mutations.js';
import { combine, either, reject, Stage, type Effect, type FuzzCase } from './verdict.js';

/** Mutations of Mollie's notification `id=tr_…` (form-encoded, unsigned). */
export type MollieBody =
  | { k: 'valid'; encoded: boolean }
  | { k: 'extra-params'; before: string; after: string }
  | { k: 'no-id'; body: string }
  | { k: 'not-tr'; prefix: string }
  | { k: 'id-length'; length: number }
  | { k: 'unicode'; suffix: string; encoded: boolean }
  | { k: 'repeated'; second: 'valid' | 'garbage'; secondFirst: boolean }
  | { k: 'json' }
  | { k: 'pad'; over: number }
  | { k: 'invalid-utf8'; bytes: readonly number[]; where: 'other-param' | 'id' }
  | { k: 'whitespace'; style: 'trailing-newline' | 'leading-space' | 'crlf' | 'plus' }
  | { k: 'deep'; depth: number }
  | { k: 'number'; text: string };

export const mollieBody: fc.Arbitrary<MollieBody> = mostly<MollieBody>(
  { k: 'valid', encoded: false },
  fc.constant({ k: 'valid' as const, encoded: true }),
  fc.record({
    k: fc.constant('extra-params' as const),
    before: fc.constantFrom('', 'foo=bar&', 'testmode=true&', '&&'),
    after: fc.constantFrom('', '&testmode=true', '&id2=tr_other1234', '&'),
  }),
  fc.record({
    k: fc.constant('no-id' as const),
    body: fc.constantFrom(
      '',
      'foo=bar',
      'ID=tr_WDqYK6vllg',
      'id',
      'id=',
      '=tr_WDqYK6vllg',
      'tr_WDqYK6vllg',
      'i%64=',
      'id[]=tr_WDqYK6vllg',
    ),
  }),
  fc.record({
    k: fc.constant('not-tr' as const),
    prefix: fc.constantFrom('cs_test_', 'TR_', 'tr-', 're_', 'tr', '', 'ord_', 'tr__'),
  }),
  fc.record({
    k: fc.constant('id-length' as const),
    length: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 256, max: 400_000 })),
  }),
  fc.record({
    k: fc.constant('unicode' as const),
    suffix: fc.constantFrom('ü', '😀', '\u202e', '\u0000', 'e\u0301', '\uff41', 'ı'),
    encoded: fc.boolean(),
  }),
  fc.record({
    k: fc.constant('repeated' as const),
    second: fc.constantFrom('valid' as const, 'garbage' as const),
    secondFirst: fc.boolean(),
  }),
  fc.constant({ k: 'json' as const }),
  fc.record({
    k: fc.constant('pad' as const),
    over: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 2, max: 1024 * 1024 })),
  }),
  fc.record({
    k: fc.constant('invalid-utf8' as const),
    bytes: fc.constantFrom([0xff], [0xc3], [0x80], [0xed, 0xa0, 0x80]),
    where: fc.constantFrom('other-param' as const, 'id' as const),
  }),
  fc.record({
    k: fc.constant('whitespace' as const),
    style: fc.constantFrom('trailing-newline' as const, 'leading-space' as const, 'crlf' as const, 'plus' as const),
  }),
  fc.record({ k: fc.constant('deep' as const), depth: fc.integer({ min: 1, max: 12_000 }) }),
  fc.record({
    k: fc.constant('number' as const),
    text: fc.constantFrom('1e400', '123456789012345678901234567890', '-1', 'NaN'),
  }),
);

interface MollieBodyResult {
  body: Buffer;
  effect: Effect | null;
  candidates: string[];
  contentType?: string;
}

function mutateBody(mutation: MollieBody, id: string, token: string): MollieBodyResult {
  const form = (text: string, effect: Effect | null = null, candidates = [id]): MollieBodyResult => ({
    body: Buffer.from(text),
    effect,
    candidates,
  });
  const bad = (why: string) => reject(Stage.parse, why, 400);
  switch (mutation.k) {
    case 'valid':
      return form(mutation.encoded ? `id=${id.replace('_', '%5F')}` : `id=${id}`);
    case 'extra-params':
      return form(`${mutation.before}id=${id}${mutation.after}`);
    case 'no-id':
      return form(mutation.body, bad('no id parameter'), []);
    case 'not-tr':
      return form(`id=${mutation.prefix}${token}`, bad(`id prefix "${mutation.prefix}"`), []);
    case 'id-length': {
      const long = `tr_${token.padEnd(mutation.length, 'x').slice(0, mutation.length)}`;
      // Mollie's payment ids are tr_ + about 10 alphanumerics; how far from that is still one is not specified
      const effect =
        mutation.length >= 6 && mutation.length <= 32
          ? null
          : mutation.length === 0 || mutation.length >= 256
            ? bad(`id of ${mutation.length} characters`)
            : either(Stage.parse, `id of ${mutation.length} characters`);
      return form(`id=${long}`, effect, [long]);
    }
    case 'unicode': {
      const value = `${id}${mutation.suffix}`;
      return form(
        `id=${mutation.encoded ? encodeURIComponent(value) : value}`,
        bad('id with a non-ASCII or control character'),
        [],
      );
    }
    case 'repeated': {
      const second = mutation.second === 'valid' ? `${id}z2` : 'garbage';
      const params = mutation.secondFirst ? [second, id] : [id, second];
      return form(
        params.map((value) => `id=${value}`).join('&'),
        either(Stage.parse, `id given twice (${mutation.second})`),
        mutation.second === 'valid' ? [id, second] : [id],
      );
    }
    case 'json':
      return { ...form(JSON.stringify({ id }), bad('a JSON body'), []), contentType: 'application/json' };
    case 'pad': {
      const prefix = `id=${id}&pad=`;
      return form(prefix + 'x'.repeat(BODY_LIMIT + mutation.over - prefix.length));
    }
    case 'invalid-utf8':
      return mutation.where === 'id'
        ? {
            body: Buffer.concat([Buffer.from(`id=${id}`), Buffer.from(mutation.bytes)]),
            effect: bad('id with invalid UTF-8'),
            candidates: [],
          }
        : {
            body: Buffer.concat([Buffer.from(`id=${id}&note=`), Buffer.from(mutation.bytes)]),
            effect: either(Stage.parse, 'invalid UTF-8 in another parameter'),
            candidates: [id],
          };
    case 'whitespace': {
      const texts = {
        'trailing-newline': `id=${id}\n`,
        'leading-space': ` id=${id}`,
        crlf: `id=${id}\r\n`,
        plus: `id=${id}+`,
      };
      return form(texts[mutation.style], either(Stage.parse, `whitespace (${mutation.style})`));
    }
    case 'deep':
      return {
        ...form(`${'['.repeat(mutation.depth)}"${id}"${']'.repeat(mutation.depth)}`, bad('nested JSON arrays'), []),
        contentType: 'application/json',
      };
    case 'number':
      return form(`id=${mutation.text}`, bad(`id=${mutation.text}`), []);
  }
}

export interface MollieCaseMutations {
  body: MollieBody;
  host: HostMutation;
  route: RouteMutation;
  headers: HeaderMutation[];
  framing: FramingMutation;
}

export const mollieCase: fc.Arbitrary<MollieCaseMutations> = fc.record({
  body: mollieBody,
  host: hostMutation,
  route: routeMutation,
  headers: headerMutations,
  framing: framingMutation,
});

/** Builds the mutated notification for a payment id no Mollie account knows (answered 200 and ignored when valid). */
export function buildMollieCase(mutations: MollieCaseMutations, ctx: RouteContext & { token: string }): FuzzCase {
  const id = `tr_${ctx.token}`;
  const { body, effect, candidates, contentType } = mutateBody(mutations.body, id, ctx.token);
  const draft: Draft = {
    method: 'POST',
    target: '/api/finance/payments/mollie/webhook',
    headers: [
      ['Content-Type', contentType ?? 'application/x-www-form-urlencoded'],
      ['User-Agent', 'Mollie.nl HTTP client/1.0'],
      ['Accept', '*/*'],
    ],
    body,
    effects: [effect],
  };
  const { wire, effects, hangup } = finish(draft, mutations, ctx);
  return {
    wire,
    expectation: hangup ? { kind: 'no-answer' } : combine(effects),
    candidates: hangup ? [] : candidates,
    token: ctx.token,
  };
}
