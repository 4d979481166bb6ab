import { InvalidCredentialsError, ProviderRequestError, ProviderUnavailableError } from '../payment-provider.js';
import { MollieApiError } from './mollie.client.js';

/**
 * Our own words for a refusal: Mollie's `detail` is free text that can quote the request (or anything else), so it
 * only goes to the error's `detail`, for logs. The field Mollie names is kept when it looks like a parameter name.
 */
function refusal(action: string, error: MollieApiError): string {
  if (error.status === 404) return `Mollie refused to ${action}: it does not know the payment or refund`;
  if (error.status === 409) return `Mollie refused to ${action}: it conflicts with the payment's current state`;
  const field = error.field && /^[A-Za-z][A-Za-z0-9_.]{0,63}$/.test(error.field) ? ` (field "${error.field}")` : '';
  return `Mollie refused to ${action}: the request was not accepted${field}`;
}

/** Maps Mollie failures onto the provider-neutral errors; Mollie's own detail stays in `detail` for logs. */
export async function callMollie<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof MollieApiError) {
      if (error.status === 401) throw new InvalidCredentialsError('Mollie rejected the API key');
      if (error.status === 403)
        throw new InvalidCredentialsError('The Mollie API key lacks a permission this service needs');
      if (error.status === 422 || error.status === 404 || error.status === 409)
        throw new ProviderRequestError(refusal(action, error), `${error.status} ${error.title}: ${error.detail}`);
      throw new ProviderUnavailableError(`mollie ${action}: ${error.status} ${error.title}`);
    }
    throw new ProviderUnavailableError(`mollie ${action}: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
}
