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
import {
  signatureHeaders,
  stripeSignature,
  stripeTimestamp,
  timestamp,
  type StripeSignature,
  type StripeTimestamp,
} from './stripe-signature-mutations.js';
import { combine, either, reject, Stage, type Effect, type FuzzCase } from './verdict.js';

type Json = Record<string, unknown>;

export type StripeBody =
  | { k: 'as-is'; pretty: boolean }
  | { k: 'truncate'; perMille: number }
  | { k: 'not-object'; text: string }
  | { k: 'not-event'; change: keyof typeof NOT_AN_EVENT }
  | { k: 'pad'; over: number }
  | { k: 'deep'; depth: number; top: boolean }
  | { k: 'huge-number'; text: string; where: 'extra' | 'amount' }
  | { k: 'invalid-utf8'; bytes: readonly number[]; where: 'string' | 'id' }
  | { k: 'bom' }
  | { k: 'type'; type: string }
  | { k: 'livemode'; value: true | 'true' | null | 'missing' };

/** Signed, well-formed JSON that is not a Stripe event (each is a 400 at the parse stage). */
const NOT_AN_EVENT = {
  'no id': ({ id: _id, ...event }: Json) => event,
  'no type': ({ type: _type, ...event }: Json) => event,
  'no data': ({ data: _data, ...event }: Json) => event,
  'data.object missing': (event: Json) => ({ ...event, data: {} }),
  'data.object null': (event: Json) => ({ ...event, data: { object: null } }),
  'data is an array': (event: Json) => ({ ...event, data: [event.data] }),
  'object is not "event"': (event: Json) => ({ ...event, object: 'charge' }),
  'id with a space': (event: Json) => ({ ...event, id: `${String(event.id)} x` }),
  'id of 256 characters': (event: Json) => ({ ...event, id: String(event.id).padEnd(256, 'x') }),
  'id with a dot': (event: Json) => ({ ...event, id: `${String(event.id)}.x` }),
  'numeric id': (event: Json) => ({ ...event, id: 42 }),
  'empty id': (event: Json) => ({ ...event, id: '' }),
  'numeric type': (event: Json) => ({ ...event, type: 7 }),
  'empty type': (event: Json) => ({ ...event, type: '' }),
};

const SANE_TYPES = [
  'customer.created',
  'invoice.payment_succeeded',
  'payment_intent.succeeded',
  'v1.billing.meter.no_meter_found',
  'checkout.session.expired',
];

export const stripeBody: fc.Arbitrary<StripeBody> = mostly<StripeBody>(
  { k: 'as-is', pretty: true },
  fc.constant({ k: 'as-is' as const, pretty: false }),
  fc.record({ k: fc.constant('truncate' as const), perMille: fc.integer({ min: 0, max: 999 }) }),
  fc.record({
    k: fc.constant('not-object' as const),
    text: fc.constantFrom(
      '[]',
      '[{"object":"event"}]',
      '"evt"',
      '42',
      'null',
      'true',
      '',
      ' ',
      'not json',
      '{',
      '{"object":"event"',
      '{}',
    ),
  }),
  fc.record({
    k: fc.constant('not-event' as const),
    change: fc.constantFrom(...(Object.keys(NOT_AN_EVENT) as Array<keyof typeof NOT_AN_EVENT>)),
  }),
  fc.record({
    k: fc.constant('pad' as const),
    over: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 2, max: 1024 * 1024 })),
  }),
  fc.record({
    k: fc.constant('deep' as const),
    depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 5_000, max: 12_000 })),
    top: fc.boolean(),
  }),
  fc.record({
    k: fc.constant('huge-number' as const),
    text: fc.constantFrom(
      '1e400',
      '-1e400',
      '123456789012345678901234567890123456789',
      '9007199254740993',
      '1.7976931348623157e309',
      '0.0000000000000000000000000001',
      '-0',
    ),
    where: fc.constantFrom('extra' as const, 'amount' as const),
  }),
  fc.record({
    k: fc.constant('invalid-utf8' as const),
    bytes: fc.constantFrom(
      [0xff],
      [0xc3],
      [0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xc0, 0xaf],
      [0xfe, 0xff],
    ),
    where: fc.constantFrom('string' as const, 'id' as const),
  }),
  fc.constant({ k: 'bom' as const }),
  fc.record({
    k: fc.constant('type' as const),
    type: fc.oneof(
      fc.constantFrom(...SANE_TYPES),
      fc.constantFrom(
        '',
        'a\nb',
        'checkout.session.completed\r\nNats-Msg-Id: stripe:evt_forged',
        'ünï.cödé',
        'a b',
        'a\u0000b',
        'checkout.session.completed ',
        '*',
        '>',
      ),
      fc.integer({ min: 256, max: 400_000 }).map((length) => 'x'.repeat(length)),
    ),
  }),
  fc.record({
    k: fc.constant('livemode' as const),
    value: fc.constantFrom(true as const, 'true' as const, null, 'missing' as const),
  }),
);

function serialise(event: Json, pretty: boolean): Buffer {
  return Buffer.from(pretty ? JSON.stringify(event, null, 2) : JSON.stringify(event));
}

/** `event` serialised with `bytes` spliced in where the string value `MARK` is. */
function splice(event: Json, bytes: Buffer): Buffer {
  const [before, after] = JSON.stringify(event).split('MARK');
  return Buffer.concat([Buffer.from(before), bytes, Buffer.from(after)]);
}

function mutateBody(event: Json, mutation: StripeBody): { body: Buffer; effect: Effect | null } {
  switch (mutation.k) {
    case 'as-is':
      return { body: serialise(event, mutation.pretty), effect: null };
    case 'truncate': {
      const full = serialise(event, true);
      return {
        body: full.subarray(0, Math.floor((full.length * mutation.perMille) / 1000)),
        effect: reject(Stage.parse, 'truncated JSON', 400),
      };
    }
    case 'not-object':
      return {
        body: Buffer.from(mutation.text),
        effect: reject(Stage.parse, `body ${JSON.stringify(mutation.text)}`, 400),
      };
    case 'not-event':
      return {
        body: serialise(NOT_AN_EVENT[mutation.change](event), false),
        effect: reject(Stage.parse, mutation.change, 400),
      };
    case 'pad': {
      const skeleton = JSON.stringify({ ...event, padding: '' });
      // exactly the limit is allowed; anything above is a 413 (decided by the common size rule)
      return {
        body: Buffer.from(
          JSON.stringify({ ...event, padding: 'x'.repeat(BODY_LIMIT + mutation.over - skeleton.length) }),
        ),
        effect: null,
      };
    }
    case 'deep': {
      const nested = `${'['.repeat(mutation.depth)}${']'.repeat(mutation.depth)}`;
      if (mutation.top)
        return { body: Buffer.from(nested), effect: reject(Stage.parse, 'nested arrays, not an object', 400) };
      const body = JSON.stringify(event).replace('"metadata":{', `"metadata":{"deep":${nested},`);
      return {
        body: Buffer.from(body),
        effect: mutation.depth > 200 ? either(Stage.parse, `${mutation.depth} levels of nesting`) : null,
      };
    }
    case 'huge-number': {
      const body =
        mutation.where === 'amount'
          ? JSON.stringify(event).replace(/"amount_total":\d+/, `"amount_total":${mutation.text}`)
          : JSON.stringify({ ...event, extra: 'NUM' }).replace('"NUM"', mutation.text);
      // a valid, signed event: settlement decides what such an amount means, not the ingress
      return { body: Buffer.from(body), effect: null };
    }
    case 'invalid-utf8':
      return mutation.where === 'id'
        ? {
            body: splice({ ...event, id: `${String(event.id)}MARK` }, Buffer.from(mutation.bytes)),
            effect: reject(Stage.parse, 'event id with invalid UTF-8', 400),
          }
        : {
            body: splice({ ...event, note: 'MARK' }, Buffer.from(mutation.bytes)),
            effect: either(Stage.parse, 'invalid UTF-8 in a string'),
          };
    case 'bom':
      return {
        body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), serialise(event, false)]),
        effect: either(Stage.parse, 'byte order mark'),
      };
    case 'type': {
      const effect =
        mutation.type === ''
          ? reject(Stage.parse, 'empty type', 400)
          : SANE_TYPES.includes(mutation.type)
            ? null
            : either(Stage.parse, `type ${JSON.stringify(mutation.type.slice(0, 40))}`);
      return { body: serialise({ ...event, type: mutation.type }, false), effect };
    }
    case 'livemode': {
      const { livemode: _livemode, ...rest } = event;
      const changed = mutation.value === 'missing' ? rest : { ...event, livemode: mutation.value };
      // Stripe always sends a boolean: anything else is not a Stripe event (parse); true is the wrong mode here.
      const effect =
        mutation.value === true
          ? reject(Stage.livemode, 'a live event for a TEST account', 400)
          : reject(Stage.parse, `livemode ${String(mutation.value)}`, 400);
      return { body: serialise(changed, false), effect };
    }
  }
}

export interface StripeCaseMutations {
  body: StripeBody;
  timestamp: StripeTimestamp;
  signature: StripeSignature;
  host: HostMutation;
  route: RouteMutation;
  headers: HeaderMutation[];
  framing: FramingMutation;
}

export const stripeCase: fc.Arbitrary<StripeCaseMutations> = fc.record({
  body: stripeBody,
  timestamp: stripeTimestamp,
  signature: stripeSignature,
  host: hostMutation,
  route: routeMutation,
  headers: headerMutations,
  framing: framingMutation,
});

/** Builds the mutated request for a fresh event of the workspace and says what it must get. */
export function buildStripeCase(
  mutations: StripeCaseMutations,
  ctx: RouteContext & { secret: string; event: Json; nowS: number },
): FuzzCase {
  const eventId = String(ctx.event.id);
  const { body, effect: bodyEffect } = mutateBody(ctx.event, mutations.body);
  const { t, effect: timeEffect } = timestamp(mutations.timestamp, ctx.nowS);
  const { values, effect: signatureEffect } = signatureHeaders(mutations.signature, ctx.secret, t, body);
  const draft: Draft = {
    method: 'POST',
    target: '/api/finance/payments/stripe/webhook',
    headers: [
      ['Content-Type', 'application/json; charset=utf-8'],
      ['User-Agent', 'Stripe/1.0 (+https://stripe.com/docs/webhooks)'],
      ['Accept', '*/*; q=0.5, application/xml'],
      ['Cache-Control', 'no-cache'],
      ...values.map((value): [string, string | Buffer] => ['Stripe-Signature', value]),
    ],
    body,
    effects: [bodyEffect, timeEffect, signatureEffect],
  };
  const { wire, effects, hangup } = finish(draft, mutations, ctx);
  return {
    wire,
    expectation: hangup ? { kind: 'no-answer' } : combine(effects),
    candidates: [eventId],
    token: eventId,
  };
}
