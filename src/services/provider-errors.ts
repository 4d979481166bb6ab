import { BadUserInputError, ConflictError, DomainError, ProviderError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import {
  InvalidCredentialsError,
  ProviderIdempotencyError,
  ProviderRequestError,
  ProviderUnavailableError,
  UnknownProviderError,
} from '../providers/payment-provider.js';
import { PROVIDER_DISPLAY_NAMES, type Provider } from '../vocabulary/index.js';

/** How one operation words its failures (what the user may do next differs per operation). */
export interface ProviderFailureWording {
  /** Prefix of a refusal ("The provider refused the refund"); without it the adapter's safe message stands alone. */
  refused?: string;
  /** The answer when the provider saw our Idempotency-Key with other parameters. */
  idempotencyConflict?: string;
  /** After "<Provider> could not be reached; ", e.g. "nothing was saved. Try again shortly". */
  unavailable: string;
  /** After "<Provider> answered unexpectedly; ". */
  unexpected: string;
}

/**
 * The one place provider failures become user-facing errors (Medusa's `buildError`): adapters throw the neutral
 * errors of src/providers; services say what failed in their own words. The provider's own detail goes to the log
 * only, never to the user.
 */
export function providerUserError(
  error: unknown,
  provider: Provider,
  wording: ProviderFailureWording,
  log: Logger,
): DomainError {
  if (error instanceof DomainError) return error;
  const prefix = (message: string) => (wording.refused ? `${wording.refused}: ${message}` : message);
  if (error instanceof UnknownProviderError) return new BadUserInputError(error.message);
  if (error instanceof InvalidCredentialsError || error instanceof ProviderRequestError) {
    // the provider's own text may quote the request: the log keeps it, the user gets our words
    if (error instanceof ProviderRequestError && error.detail)
      log.info({ provider, detail: error.detail }, 'provider refused');
    return new BadUserInputError(prefix(error.message));
  }
  if (error instanceof ProviderIdempotencyError) return new ConflictError(wording.idempotencyConflict ?? error.message);
  const name = PROVIDER_DISPLAY_NAMES[provider];
  if (error instanceof ProviderUnavailableError) {
    log.warn({ provider, detail: error.detail }, 'provider call failed');
    return new ProviderError(`${name} could not be reached; ${wording.unavailable}`);
  }
  log.error({ provider, err: error }, 'provider call failed unexpectedly');
  return new ProviderError(`${name} answered unexpectedly; ${wording.unexpected}`);
}

/** A provider failure's detail for a log line (never shown to users). */
export const providerFailureDetail = (error: unknown): string =>
  error instanceof ProviderUnavailableError ? error.detail : error instanceof Error ? error.message : 'unknown';
