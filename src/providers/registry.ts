import type { Provider } from '../vocabulary/index.js';
import { BadUserInputError } from '../errors.js';
import type { PaymentProviderAdapter } from './payment-provider.js';

/** The adapters the composition root registered, by provider. */
export class ProviderRegistry {
  private readonly adapters = new Map<Provider, PaymentProviderAdapter>();

  constructor(adapters: PaymentProviderAdapter[]) {
    for (const adapter of adapters) this.adapters.set(adapter.provider, adapter);
  }

  /** The adapter; a provider this server does not offer is a user error (BAD_USER_INPUT), not a crash. */
  get(provider: Provider): PaymentProviderAdapter {
    const adapter = this.adapters.get(provider);
    if (!adapter) throw new BadUserInputError(`${provider} is not available on this server`);
    return adapter;
  }

  has(provider: Provider): boolean {
    return this.adapters.has(provider);
  }
}
