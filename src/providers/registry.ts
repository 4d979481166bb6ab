import type { Provider } from '../entities/index.js';
import type { PaymentProviderAdapter } from './payment-provider.js';

/** The adapters the composition root registered, by provider. */
export class ProviderRegistry {
  private readonly adapters = new Map<Provider, PaymentProviderAdapter>();

  constructor(adapters: PaymentProviderAdapter[]) {
    for (const adapter of adapters) this.adapters.set(adapter.provider, adapter);
  }

  get(provider: Provider): PaymentProviderAdapter {
    const adapter = this.adapters.get(provider);
    if (!adapter) throw new Error(`no adapter registered for provider ${provider}`);
    return adapter;
  }

  has(provider: Provider): boolean {
    return this.adapters.has(provider);
  }
}
