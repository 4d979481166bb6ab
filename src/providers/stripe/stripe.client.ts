import Stripe from 'stripe';
import { fingerprintSecret } from '../../crypto/secret-display.js';

/** Builds (and caches) Stripe SDK clients per secret key; injected into the adapter so tests point it at a fake. */
export type StripeClientFactory = (secretKey: string) => Stripe;

export function stripeClientFactory(apiUrl: string | null): StripeClientFactory {
  const base = apiUrl ? new URL(apiUrl) : null;
  const cache = new Map<string, Stripe>();
  return (secretKey) => {
    // Cache by fingerprint so the map never holds a secret as a key; the client itself must hold it.
    const cacheKey = fingerprintSecret(secretKey);
    let client = cache.get(cacheKey);
    if (!client) {
      client = new Stripe(secretKey, {
        maxNetworkRetries: 1,
        timeout: 10_000,
        telemetry: false,
        ...(base
          ? {
              host: base.hostname,
              port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
              protocol: base.protocol.replace(':', '') as 'http' | 'https',
            }
          : {}),
      });
      if (cache.size > 1000) cache.clear();
      cache.set(cacheKey, client);
    }
    return client;
  };
}
