import fc from 'fast-check';
import { alnum, mostly, type Draft, type RouteContext } from './draft.js';
import { either, reject, Stage } from './verdict.js';

/** Mutations of where a webhook is sent: the Host header, the method and the request target. */
export type HostMutation =
  | { k: 'exact' }
  | { k: 'case-and-port'; upper: boolean; port: number }
  | { k: 'unknown'; host: string }
  | { k: 'other-workspace' }
  | { k: 'missing' }
  | { k: 'invalid'; host: string }
  | { k: 'trailing-dot' }
  | { k: 'duplicate'; second: 'same' | 'unknown' };

export const hostMutation: fc.Arbitrary<HostMutation> = mostly<HostMutation>(
  { k: 'exact' },
  fc.record({
    k: fc.constant('case-and-port' as const),
    upper: fc.boolean(),
    port: fc.integer({ min: 1, max: 65535 }),
  }),
  fc.record({ k: fc.constant('unknown' as const), host: alnum(1, 20).map((name) => `${name}.workestra.test`) }),
  fc.constant({ k: 'other-workspace' as const }),
  fc.constant({ k: 'missing' as const }),
  fc.record({
    k: fc.constant('invalid' as const),
    host: fc.constantFrom(
      '',
      ':8443',
      '[::1]:4001',
      'user@ws.workestra.test',
      'wß-straße.workestra.test',
      'a'.repeat(300),
      '*',
      'ws.workestra.test:port',
    ),
  }),
  fc.constant({ k: 'trailing-dot' as const }),
  fc.record({ k: fc.constant('duplicate' as const), second: fc.constantFrom('same' as const, 'unknown' as const) }),
);

export function applyHost(draft: Draft, mutation: HostMutation, ctx: RouteContext): void {
  const set = (...values: string[]) =>
    void draft.headers.unshift(...values.map((value): [string, string] => ['Host', value]));
  switch (mutation.k) {
    case 'exact':
      return set(ctx.host);
    case 'case-and-port':
      set(
        `${mutation.upper ? ctx.host.toUpperCase() : ctx.host.replace(/^./, (c) => c.toUpperCase())}:${mutation.port}`,
      );
      return;
    case 'unknown':
      set(mutation.host);
      return void draft.effects.push(reject(Stage.host, 'unknown host', 404));
    case 'other-workspace':
      set(ctx.otherHost);
      if (!draft.crossed)
        return void draft.effects.push(reject(Stage.host, 'host connected for the other provider only', 404));
      // the other provider's route at its own workspace: found, then refused by that provider's check
      draft.effects.splice(draft.effects.indexOf(draft.crossed), 1);
      return void draft.effects.push(reject(Stage.signature, 'a body of the wrong provider', 400));
    case 'missing':
      return void draft.effects.push(reject(Stage.transport, 'no Host header (node answers 400)', 400));
    case 'invalid':
      set(mutation.host);
      return void draft.effects.push(reject(Stage.host, 'host that is no workspace domain'));
    case 'trailing-dot':
      set(`${ctx.host}.`);
      return void draft.effects.push(either(Stage.host, 'host with a trailing dot'));
    case 'duplicate':
      set(ctx.host, mutation.second === 'same' ? ctx.host : 'nobody.workestra.test');
      if (mutation.second !== 'same') draft.effects.push(either(Stage.host, 'two different Host headers'));
  }
}

export type RouteMutation =
  | { k: 'exact' }
  | { k: 'suffix'; suffix: '/' | '?a=b' | '/?' | '?id=tr_x' }
  | { k: 'method'; method: string }
  | { k: 'path'; path: string }
  | { k: 'other-provider' }
  | { k: 'absolute-form' };

export const routeMutation: fc.Arbitrary<RouteMutation> = mostly<RouteMutation>(
  { k: 'exact' },
  fc.record({
    k: fc.constant('suffix' as const),
    suffix: fc.constantFrom('/' as const, '?a=b' as const, '/?' as const, '?id=tr_x' as const),
  }),
  fc.record({
    k: fc.constant('method' as const),
    method: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'post', 'POSTX', 'CONNECT'),
  }),
  fc.record({
    k: fc.constant('path' as const),
    path: fc.constantFrom(
      '/api/finance/payments/{p}/webhook/extra',
      '/api/finance/payments/{P}/webhook',
      '/api/finance/payments/paypal/webhook',
      '/api/finance/payments//webhook',
      '/api/finance/payments/{p}/webhooks',
      '//api/finance/payments/{p}/webhook',
      '/api/finance/payments/%73tripe/webhook',
      '/api/finance/payments/{p}/webhook/..',
      '/api/finance/payments/%ZZ/webhook',
      '/api/finance/payments/{p}/webhook%00',
      '/api/finance/payments/constructor/webhook',
      '/api/finance/payments/__proto__/webhook',
      '/api/finance/payments/{p}',
      '*',
    ),
  }),
  fc.constant({ k: 'other-provider' as const }),
  fc.constant({ k: 'absolute-form' as const }),
);

export function applyRoute(draft: Draft, mutation: RouteMutation, ctx: RouteContext): void {
  switch (mutation.k) {
    case 'exact':
      return;
    case 'suffix':
      draft.target += mutation.suffix;
      return void draft.effects.push(either(Stage.route, `webhook path with "${mutation.suffix}"`));
    case 'method':
      draft.method = mutation.method;
      // node's parser refuses unknown methods, and drops a CONNECT nobody listens for
      return void draft.effects.push(
        reject(
          ['post', 'POSTX', 'CONNECT'].includes(mutation.method) ? Stage.transport : Stage.route,
          `method ${mutation.method}`,
        ),
      );
    case 'path':
      draft.target = mutation.path.replace('{p}', ctx.provider).replace('{P}', ctx.provider.toUpperCase());
      return void draft.effects.push(reject(Stage.route, `path ${draft.target}`));
    case 'other-provider':
      draft.target = draft.target.replace(ctx.provider, ctx.provider === 'stripe' ? 'mollie' : 'stripe');
      draft.crossed = reject(Stage.host, "the other provider's route at this host", 404);
      return void draft.effects.push(draft.crossed);
    case 'absolute-form':
      draft.target = `http://${ctx.host}${draft.target}`;
      return void draft.effects.push(either(Stage.route, 'absolute-form request target'));
  }
}
