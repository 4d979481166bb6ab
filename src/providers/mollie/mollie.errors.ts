import { InvalidCredentialsError, ProviderRequestError, ProviderUnavailableError } from '../payment-provider.js';
import { MollieApiError } from './mollie.client.js';

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
        throw new ProviderRequestError(`Mollie refused to ${action}: ${error.detail.slice(0, 200)}`);
      throw new ProviderUnavailableError(`mollie ${action}: ${error.status} ${error.title}`);
    }
    throw new ProviderUnavailableError(`mollie ${action}: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
}
