import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type * as SdkTraceNode from '@opentelemetry/sdk-trace-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type * as Sdk from '@opentelemetry/sdk-node';
import type * as SdkTraceBase from '@opentelemetry/sdk-trace-base';
import type * as OtlpExporter from '@opentelemetry/exporter-trace-otlp-proto';
import type * as HttpInst from '@opentelemetry/instrumentation-http';
import type * as PgInst from '@opentelemetry/instrumentation-pg';
import type * as GraphQLInst from '@opentelemetry/instrumentation-graphql';

/**
 * The SDK is loaded when tracing starts, and the Node SDK, the OTLP exporter and the instrumentations only when
 * spans are recorded: they take seconds to load on a busy machine, which the CLI (it only uses the API) and a service
 * without an endpoint should not pay.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const lazy = {
  core: () => require('@opentelemetry/core') as typeof Core,
  node: () => require('@opentelemetry/sdk-trace-node') as typeof SdkTraceNode,
  sdk: () => require('@opentelemetry/sdk-node') as typeof Sdk,
  base: () => require('@opentelemetry/sdk-trace-base') as typeof SdkTraceBase,
  otlp: () => require('@opentelemetry/exporter-trace-otlp-proto') as typeof OtlpExporter,
  http: () => require('@opentelemetry/instrumentation-http') as typeof HttpInst,
  pg: () => require('@opentelemetry/instrumentation-pg') as typeof PgInst,
  graphql: () => require('@opentelemetry/instrumentation-graphql') as typeof GraphQLInst,
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const SERVICE_NAME = 'workestra-payments';

export interface TracingOptions {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: spans are exported over OTLP (http/protobuf) only when it is set. */
  otlpEndpoint: string | null;
  /** Where spans go instead of OTLP (tests: a SimpleSpanProcessor over an InMemorySpanExporter). */
  spanProcessors?: SpanProcessor[];
}

export interface Tracing {
  /** Whether spans are recorded and exported (false: ids and propagation only). */
  recording: boolean;
  shutdown(): Promise<void>;
}

/** Paths whose segments are secrets (pay tokens) never reach a span attribute. */
const maskPath = (path: string) => path.replace(/^\/pay\/(?!success\b|cancel\b)[^/?]+/, '/pay/:token');
const UNTRACED = /^\/(healthz|readyz|metrics)\b/;

/**
 * The ecosystem's instrumentations where they fit: http (Express routes, the Stripe SDK's requests), pg (every SQL
 * statement, text only: values are not recorded) and GraphQL (operations; literal values in the document are masked).
 * The webhook route, the JetStream hop, settlement and provider calls get manual spans (see README "Tracing").
 */
function instrumentations() {
  return [
    new (lazy.http().HttpInstrumentation)({
      ignoreIncomingRequestHook: (req) => UNTRACED.test(req.url ?? ''),
      requestHook: (span, req) => {
        if ('url' in req && typeof req.url === 'string' && req.url.startsWith('/pay/')) {
          span.setAttribute('url.path', maskPath(req.url.split('?')[0]));
          span.setAttribute('http.target', maskPath(req.url.split('?')[0]));
        }
      },
    }),
    new (lazy.pg().PgInstrumentation)({ enhancedDatabaseReporting: false }),
    new (lazy.graphql().GraphQLInstrumentation)({
      allowValues: false,
      ignoreTrivialResolveSpans: true,
      mergeItems: true,
    }),
  ];
}

// OpenTelemetry's tracer provider and propagator are process-wide by design; the first start wins, later calls
// (several in-process services in tests) share it.
let started: Tracing | null = null;

/**
 * Installs OpenTelemetry once per process. With an endpoint (or span processors), the Node SDK records and exports
 * spans. Without, a tracer provider that samples nothing still gives every request and event a trace id (logs carry
 * it) and passes `traceparent` on: no span is recorded, no instrumentation is installed, nothing is exported.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (started) return started;
  const propagator = new (lazy.core().W3CTraceContextPropagator)();
  if (options.otlpEndpoint || options.spanProcessors) {
    const { ParentBasedSampler, AlwaysOnSampler, BatchSpanProcessor } = lazy.base();
    const sdk = new (lazy.sdk().NodeSDK)({
      serviceName: SERVICE_NAME,
      textMapPropagator: propagator,
      sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
      spanProcessors: options.spanProcessors ?? [new BatchSpanProcessor(new (lazy.otlp().OTLPTraceExporter)())],
      instrumentations: options.otlpEndpoint ? instrumentations() : [],
    });
    sdk.start();
    started = { recording: true, shutdown: () => sdk.shutdown() };
  } else {
    const provider = new (lazy.node().NodeTracerProvider)({ sampler: new (lazy.base().AlwaysOffSampler)() });
    // No context manager: nothing is recorded, so no span needs an implicit parent, and an AsyncLocalStorage would put
    // a hook on every promise of the process (about a tenth of the webhook route's CPU on Node 20). The two places that
    // carry a trace on (webhook → NATS headers, NATS headers → settlement logs) pass their context explicitly.
    provider.register({ propagator, contextManager: null });
    started = { recording: false, shutdown: () => provider.shutdown() };
  }
  return started;
}

/** The service's tracer (a no-op one until `startTracing`). */
export const tracer = () => trace.getTracer(SERVICE_NAME);

/** The trace id of a span, for logs; null when there is no valid trace. */
export function traceIdOf(span: Span): string | null {
  const { traceId } = span.spanContext();
  return /^0+$/.test(traceId) ? null : traceId;
}

/** NATS message headers (`MsgHdrs`) as an OpenTelemetry carrier. */
interface NatsHeaderLike {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

export const natsHeaderGetter: TextMapGetter<NatsHeaderLike | undefined> = {
  get: (carrier, key) => carrier?.get(key) || undefined,
  keys: (carrier) => carrier?.keys() ?? [],
};

/** Writes the active trace context (`traceparent`, `tracestate`) into NATS headers. */
export function injectIntoNatsHeaders(headers: NatsHeaderLike, from?: Context): void {
  propagation.inject(from ?? context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
}

/** The trace context a NATS message carries (a fresh root when it carries none): each message is its own unit. */
export function extractFromNatsHeaders(headers: NatsHeaderLike | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, natsHeaderGetter);
}

/**
 * The parent of an incoming request's span: the http instrumentation's server span when it is active, else the
 * caller's `traceparent` (the webhook route is served on plain node:http ahead of Express).
 */
export function incomingRequestContext(headers: Record<string, string | string[] | undefined>): Context {
  const active = context.active();
  return trace.getSpan(active) ? active : propagation.extract(active, headers);
}
