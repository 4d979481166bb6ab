import type { Provider } from '../vocabulary/index.js';
import { UnknownProviderError, type PaymentProviderAdapter } from './payment-provider.js';
import { mollieClientFactory, MollieProvider } from './mollie/mollie.provider.js';
import { stripeClientFactory } from './stripe/stripe.client.js';
import { StripeProvider } from './stripe/stripe.provider.js';
import { instrumentAdapter, type ProviderCallObserver } from './instrumented.js';

/** The adapters the composition root registered, by provider. */
export class ProviderRegistry {
  private readonly adapters = new Map<Provider, PaymentProviderAdapter>();

  constructor(adapters: PaymentProviderAdapter[]) {
    for (const adapter of adapters) this.adapters.set(adapter.provider, adapter);
  }

  /** The adapter; UnknownProviderError for a provider this server does not offer. */
  get(provider: Provider): PaymentProviderAdapter {
    const adapter = this.adapters.get(provider);
    if (!adapter) throw new UnknownProviderError(provider);
    return adapter;
  }

  has(provider: Provider): boolean {
    return this.adapters.has(provider);
  }
}

/**
 * Every adapter this service ships, with its API base URL (null: the provider's own); the one list of them. Every
 * provider API call is traced, and counted and timed by the observer when there is one (src/providers/instrumented.ts).
 */
export function createProviderRegistry(
  apiUrls: Record<Provider, string | null>,
  observer?: ProviderCallObserver,
): ProviderRegistry {
  const adapters: Record<Provider, PaymentProviderAdapter> = {
    stripe: new StripeProvider(stripeClientFactory(apiUrls.stripe)),
    mollie: new MollieProvider(mollieClientFactory(apiUrls.mollie)),
  };
  const all = Object.values(adapters);
  return new ProviderRegistry(all.map((adapter) => instrumentAdapter(adapter, observer ?? null)));
}
