import fc from 'fast-check';
import { alnum, BODY_LIMIT, mostly, type Draft, type RouteContext } from './draft.js';
import type { WireRequest } from './raw-http.js';
import { applyHost, applyRoute, type HostMutation, type RouteMutation } from './target-mutations.js';
import { either, reject, Stage, type Effect } from './verdict.js';

/** Node's default `--max-http-header-size`: a larger head is answered 431 by node itself. */
const NODE_HEADER_LIMIT = 16 * 1024;

export type HeaderMutation =
  | { k: 'extra'; name: string; value: string }
  | { k: 'huge'; name: string; size: number }
  | { k: 'drop'; name: 'content-type' | 'user-agent' | 'accept' }
  | { k: 'content-type'; value: string }
  | { k: 'duplicate'; name: 'content-type' | 'user-agent' | 'accept' }
  | { k: 'garbled'; line: string }
  | { k: 'bad-value-byte'; byte: number }
  | { k: 'folded' }
  | { k: 'expect-continue' }
  | { k: 'content-length'; value: string }
  | { k: 'duplicate-content-length'; same: boolean };

export const headerMutation: fc.Arbitrary<HeaderMutation> = fc.oneof(
  fc.record({
    k: fc.constant('extra' as const),
    name: alnum(1, 16).map((name) => `x-${name}`),
    value: fc.string({ maxLength: 40 }).map((value) => value.replace(/[^\x20-\x7e]/g, '')),
  }),
  fc.record({
    k: fc.constant('extra' as const),
    name: fc.constantFrom('x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'traceparent', 'x-request-id'),
    value: fc.constantFrom(
      'nobody.workestra.test',
      'https',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-zzzz',
      'x'.repeat(200),
    ),
  }),
  fc.record({
    k: fc.constant('huge' as const),
    name: fc.constantFrom('x-padding', 'user-agent', 'cookie', 'stripe-signature-extra'),
    size: fc.oneof(
      fc.integer({ min: 1, max: 14_000 }),
      fc.integer({ min: 14_000, max: 20_000 }),
      fc.integer({ min: 20_000, max: 100_000 }),
    ),
  }),
  fc.record({
    k: fc.constant('drop' as const),
    name: fc.constantFrom('content-type' as const, 'user-agent' as const, 'accept' as const),
  }),
  fc.record({
    k: fc.constant('content-type' as const),
    value: fc.constantFrom(
      'text/plain',
      'application/json',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'multipart/form-data; boundary=x',
      '',
      ';;;',
      'application/octet-stream',
    ),
  }),
  fc.record({
    k: fc.constant('duplicate' as const),
    name: fc.constantFrom('content-type' as const, 'user-agent' as const, 'accept' as const),
  }),
  fc.record({
    k: fc.constant('garbled' as const),
    line: fc.constantFrom('X-No-Colon', 'Bad Name: x', ': no-name', 'X-Tab\t: x', '\u0001X: y'),
  }),
  fc.record({ k: fc.constant('bad-value-byte' as const), byte: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xc3, 0xff) }),
  fc.constant({ k: 'folded' as const }),
  fc.constant({ k: 'expect-continue' as const }),
  fc.record({
    k: fc.constant('content-length' as const),
    value: fc.constantFrom('abc', '-1', '1.0', '0x10', '', '99999999999999', '18446744073709551616'),
  }),
  fc.record({ k: fc.constant('duplicate-content-length' as const), same: fc.boolean() }),
);

/** No header mutation three times in four, else one to three. */
export const headerMutations: fc.Arbitrary<HeaderMutation[]> = fc.oneof(
  { arbitrary: fc.constant<HeaderMutation[]>([]), weight: 3 },
  { arbitrary: fc.array(headerMutation, { minLength: 1, maxLength: 3 }), weight: 1 },
);

function applyHeader(draft: Draft, mutation: HeaderMutation): void {
  const index = (name: string) => draft.headers.findIndex(([key]) => key.toLowerCase() === name);
  switch (mutation.k) {
    case 'extra':
      draft.headers.push([mutation.name, mutation.value]);
      return;
    case 'huge':
      draft.headers.push([mutation.name, 'h'.repeat(mutation.size)]);
      return;
    case 'drop': {
      const at = index(mutation.name);
      if (at >= 0) draft.headers.splice(at, 1);
      if (mutation.name === 'content-type') draft.effects.push(either(Stage.parse, 'no content type'));
      return;
    }
    case 'content-type': {
      const at = index('content-type');
      if (at >= 0) draft.headers.splice(at, 1);
      draft.headers.push(['Content-Type', mutation.value]);
      return void draft.effects.push(either(Stage.parse, `content type "${mutation.value}"`));
    }
    case 'duplicate': {
      const at = index(mutation.name);
      if (at >= 0) draft.headers.push([...draft.headers[at]]);
      return;
    }
    case 'garbled':
      draft.headers.push([mutation.line, null]);
      return void draft.effects.push(reject(Stage.transport, 'garbled header line (node answers 400)', 400));
    case 'bad-value-byte':
      draft.headers.push(['X-Odd', Buffer.from([0x61, mutation.byte, 0x62])]);
      // Control characters are refused by node's parser; obs-text (0x80–0xff) is a matter of policy.
      return void draft.effects.push(
        mutation.byte < 0x80
          ? reject(Stage.transport, 'control character in a header value', 400)
          : either(Stage.transport, 'non-ASCII header value'),
      );
    case 'folded':
      draft.headers.push(['X-Folded', 'first'], [' continued', null]);
      return void draft.effects.push(either(Stage.transport, 'obsolete line folding'));
    case 'expect-continue':
      draft.headers.push(['Expect', '100-continue']);
      return;
    case 'content-length':
      draft.headers.push(['Content-Length', mutation.value]);
      return;
    case 'duplicate-content-length':
      draft.headers.push(
        ['Content-Length', String(draft.body.length)],
        ['Content-Length', String(draft.body.length + (mutation.same ? 0 : 1))],
      );
      return;
  }
}

export type FramingMutation =
  | { k: 'length' }
  | { k: 'chunked'; chunkSize: number }
  | { k: 'chunked-and-length' }
  | { k: 'hangup'; perMille: number };

export const framingMutation: fc.Arbitrary<FramingMutation> = mostly<FramingMutation>(
  { k: 'length' },
  fc.record({
    k: fc.constant('chunked' as const),
    chunkSize: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1000, max: 200_000 })),
  }),
  fc.constant({ k: 'chunked-and-length' as const }),
  fc.record({ k: fc.constant('hangup' as const), perMille: fc.integer({ min: 0, max: 999 }) }),
);

/** What the HTTP framing does: Content-Length/Transfer-Encoding conflicts (node: 400), the length the server reads. */
function framingEffects(draft: Draft, framing: WireRequest['framing']): Array<Effect | null> {
  const lengths = draft.headers
    .filter(([name]) => name.toLowerCase() === 'content-length')
    .map(([, value]) => String(value));
  const chunked =
    framing.kind === 'chunked' || draft.headers.some(([name]) => name.toLowerCase() === 'transfer-encoding');
  if (chunked && lengths.length > 0) return [reject(Stage.transport, 'Transfer-Encoding with Content-Length', 400)];
  if (lengths.length > 1)
    return [
      new Set(lengths).size === 1
        ? either(Stage.transport, 'Content-Length twice')
        : reject(Stage.transport, 'different Content-Lengths', 400),
    ];
  let served = draft.body.length;
  if (lengths.length === 1) {
    if (!/^\d{1,15}$/.test(lengths[0])) return [either(Stage.transport, `Content-Length "${lengths[0]}"`)];
    served = Number(lengths[0]);
  }
  // A shorter Content-Length is not generated: node would parse the rest as a pipelined request and may answer
  // that one (400) while the first is still being handled, so the answer would not belong to the request.
  if (served < draft.body.length) throw new Error('generator bug: Content-Length below the body length');
  return served > BODY_LIMIT ? [reject(Stage.size, `body of ${served} bytes`, 413)] : [];
}

/** Applies the common mutations to a provider's draft and returns the wire request with its expectation's effects. */
export function finish(
  draft: Draft,
  mutations: { host: HostMutation; route: RouteMutation; headers: HeaderMutation[]; framing: FramingMutation },
  ctx: RouteContext,
): { wire: WireRequest; effects: Array<Effect | null>; hangup: boolean } {
  applyRoute(draft, mutations.route, ctx);
  applyHost(draft, mutations.host, ctx);
  for (const mutation of mutations.headers) applyHeader(draft, mutation);
  let framing: WireRequest['framing'] = { kind: 'length' };
  const framingMutation = mutations.framing;
  switch (framingMutation.k) {
    case 'chunked':
      // at most ~4096 chunks: tiny chunks of a 512 KiB body would only measure the parser's speed
      framing = {
        kind: 'chunked',
        chunkSize: Math.max(framingMutation.chunkSize, Math.ceil(draft.body.length / 4096)),
      };
      break;
    case 'chunked-and-length':
      draft.headers.push(['Transfer-Encoding', 'chunked'], ['Content-Length', String(draft.body.length)]);
      break;
    case 'hangup': {
      const sendBytes = Math.floor((draft.body.length * framingMutation.perMille) / 1000);
      if (sendBytes < draft.body.length) framing = { kind: 'hangup', sendBytes };
      break;
    }
  }
  draft.effects.push(...framingEffects(draft, framing));
  const headBytes = draft.headers.reduce(
    (sum, [name, value]) => sum + name.length + (value?.length ?? 0) + 4,
    draft.target.length + 20,
  );
  if (headBytes > NODE_HEADER_LIMIT + 1024)
    draft.effects.push(reject(Stage.transport, `header section of ${headBytes} bytes`, 431));
  else if (headBytes > NODE_HEADER_LIMIT - 1024)
    draft.effects.push(either(Stage.transport, `header section of ${headBytes} bytes, near node's limit`));
  return {
    wire: { method: draft.method, target: draft.target, headers: draft.headers, body: draft.body, framing },
    effects: draft.effects,
    hangup: framing.kind === 'hangup',
  };
}
