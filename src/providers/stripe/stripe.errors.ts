import Stripe from 'stripe';
import {
  InvalidCredentialsError,
  ProviderIdempotencyError,
  ProviderRequestError,
  ProviderUnavailableError,
} from '../payment-provider.js';

/**
 * Maps Stripe SDK errors onto the provider-neutral errors. Stripe's messages can echo a masked key, so only
 * our own wording travels upward; Stripe's type/code stays in `detail` for logs.
 */
export function mapStripeError(error: unknown, action: string): Error {
  if (error instanceof Stripe.errors.StripeAuthenticationError)
    return new InvalidCredentialsError('Stripe rejected the secret key');
  if (error instanceof Stripe.errors.StripePermissionError) {
    return new InvalidCredentialsError(
      'The Stripe key lacks a permission this service needs (checkout sessions, refunds, webhook endpoints)',
    );
  }
  if (error instanceof Stripe.errors.StripeIdempotencyError)
    return new ProviderIdempotencyError(`Stripe saw this request's Idempotency-Key with other parameters`);
  if (error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripeCardError) {
    return new ProviderRequestError(`Stripe refused to ${action}${error.code ? ` (${error.code})` : ''}`);
  }
  if (error instanceof Stripe.errors.StripeError) {
    return new ProviderUnavailableError(
      `stripe ${action}: ${error.type}${error.statusCode ? ` ${error.statusCode}` : ''}`,
    );
  }
  return new ProviderUnavailableError(`stripe ${action}: ${error instanceof Error ? error.name : 'unknown error'}`);
}

/** Runs a Stripe call and maps its failure. */
export async function callStripe<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw mapStripeError(error, action);
  }
}
