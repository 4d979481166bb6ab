import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { tracer } from '../observability/tracing.js';
import {
  InvalidCredentialsError,
  ProviderIdempotencyError,
  ProviderRequestError,
  ProviderUnavailableError,
  type PaymentProviderAdapter,
} from './payment-provider.js';

/** Told of every provider API call (Metrics implements it: `payments_provider_calls_total` and its latency). */
export interface ProviderCallObserver {
  providerCall(provider: string, operation: string, outcome: ProviderCallOutcome, seconds: number): void;
}

export type ProviderCallOutcome = 'ok' | 'invalid_credentials' | 'refused' | 'unavailable' | 'error';

type NetworkMethod =
  | 'verifyCredentials'
  | 'createWebhookEndpoint'
  | 'deleteWebhookEndpoint'
  | 'createCheckout'
  | 'getCheckout'
  | 'refund'
  | 'expireCheckout'
  | 'interpretEvent';

/** The adapter methods that call the provider's API, with their metric label. */
function networkMethods(adapter: PaymentProviderAdapter): Array<[NetworkMethod, string]> {
  const methods: Array<[NetworkMethod, string]> = [
    ['verifyCredentials', 'verify_credentials'],
    ['createCheckout', 'create_checkout'],
    ['getCheckout', 'get_checkout'],
    ['refund', 'refund'],
    ['expireCheckout', 'expire_checkout'],
  ];
  // Providers without webhook endpoints (Mollie) answer these without a call.
  if (adapter.usesWebhookSecret)
    methods.push(
      ['createWebhookEndpoint', 'create_webhook_endpoint'],
      ['deleteWebhookEndpoint', 'delete_webhook_endpoint'],
    );
  // Interpreting a Stripe event is local; a Mollie notification is fetched back from Mollie.
  if (adapter.interpretNeedsCredentials) methods.push(['interpretEvent', 'fetch_back']);
  return methods;
}

export function callOutcome(error: unknown): ProviderCallOutcome {
  if (error instanceof InvalidCredentialsError) return 'invalid_credentials';
  if (error instanceof ProviderRequestError || error instanceof ProviderIdempotencyError) return 'refused';
  if (error instanceof ProviderUnavailableError) return 'unavailable';
  return 'error';
}

/**
 * The adapter with every provider API call traced (a client span, child of the request or settlement span), timed
 * and counted, in this one place rather than at each call site: routes, services and the worker call the adapter as
 * before. Spans carry the provider and the operation only: no argument (keys, amounts, metadata) is recorded.
 */
export function instrumentAdapter(
  adapter: PaymentProviderAdapter,
  observer: ProviderCallObserver | null,
): PaymentProviderAdapter {
  const instrumented = Object.create(adapter) as PaymentProviderAdapter;
  for (const [method, operation] of networkMethods(adapter)) {
    const original = adapter[method] as (...args: unknown[]) => Promise<unknown>;
    const attributes = { 'payments.provider': adapter.provider, 'payments.provider.operation': operation };
    const wrapped = (...args: unknown[]) =>
      tracer().startActiveSpan(
        `${adapter.provider} ${operation}`,
        { kind: SpanKind.CLIENT, attributes },
        async (span) => {
          const started = performance.now();
          const seconds = () => (performance.now() - started) / 1000;
          try {
            const result = await original.apply(adapter, args);
            observer?.providerCall(adapter.provider, operation, 'ok', seconds());
            return result;
          } catch (error) {
            const outcome = callOutcome(error);
            observer?.providerCall(adapter.provider, operation, outcome, seconds());
            // the outcome only: provider messages may quote the request
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    Object.defineProperty(instrumented, method, { value: wrapped });
  }
  return instrumented;
}
