import { createHmac, randomBytes } from 'node:crypto';
import Stripe from 'stripe';

/** Builds (and caches) Stripe SDK clients per secret key; injected into the adapter so tests point it at a fake. */
export type StripeClientFactory = (secretKey: string) => Stripe;

export function stripeClientFactory(apiUrl: string | null): StripeClientFactory {
  const base = apiUrl ? new URL(apiUrl) : null;
  const cache = new Map<string, Stripe>();
  // The map never holds a secret as a key (the client itself must hold it). The key is a full-length HMAC-SHA-256
  // under a key of this factory alone: two secrets never share a client (a truncated fingerprint could collide), and
  // the cache keys are worthless outside this process.
  const cacheKeyKey = randomBytes(32);
  return (secretKey) => {
    const cacheKey = stripeClientCacheKey(cacheKeyKey, secretKey);
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

/** The cache key of a secret: HMAC-SHA-256 (all 256 bits) under the factory's random key. */
export const stripeClientCacheKey = (key: Buffer, secretKey: string): string =>
  createHmac('sha256', key).update(secretKey, 'utf8').digest('base64');
