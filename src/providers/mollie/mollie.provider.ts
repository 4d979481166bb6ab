import type { IncomingHttpHeaders } from 'node:http';
import { Provider, ProviderMode, type CheckoutState } from '../../vocabulary/index.js';
import { formatMinor, parseDecimalToMinor } from '../../money/money.js';
import type { InterpretedEvent } from '../../vocabulary/settlement-event.js';
import { listMollieActivity } from './mollie.audit.js';
import type {
  ActivityRange,
  ProviderActivity,
  CheckoutRequest,
  HostedCheckout,
  KeyInput,
  PaymentProviderAdapter,
  ProviderCredentials,
  ProviderRefund,
  RefundRequest,
  VerifiedWebhook,
} from '../payment-provider.js';
import { writeMetadata } from '../metadata.js';
import { keyProblem } from '../key-format.js';
import { MollieClient, type MolliePayment } from './mollie.client.js';
import { callMollie } from './mollie.errors.js';
import {
  COALESCE_WINDOW_MS,
  interpretMolliePayment,
  isNotFound,
  mollieRefundState,
  unknownMolliePayment,
  verifyMollieWebhook,
} from './mollie.webhook.js';

/** Builds a client for an API key (MOLLIE_API_URL overrides the base URL). */
export type MollieClientFactory = (apiKey: string) => MollieClient;

export const mollieClientFactory =
  (apiUrl: string | null): MollieClientFactory =>
  (apiKey) =>
    new MollieClient(apiKey, apiUrl ?? undefined);

/** Mollie behind the provider interface: Payments API hosted checkout, fetch-back webhooks, refunds. */
export class MollieProvider implements PaymentProviderAdapter {
  readonly provider = Provider.MOLLIE;
  readonly interpretNeedsCredentials = true;
  readonly usesWebhookSecret = false;

  constructor(private readonly clients: MollieClientFactory) {}

  checkKeyFormat(input: KeyInput): string | null {
    const mode = input.mode === ProviderMode.LIVE ? 'live' : 'test';
    return keyProblem(input.secretKey, {
      label: 'The Mollie API key',
      mode,
      prefixes: [`${mode}_`],
      otherModePrefixes: [mode === 'live' ? 'test_' : 'live_'],
      body: /^[A-Za-z0-9]$/,
      bodyChars: 'letters and digits',
      // test_/live_ and 30 characters
      minLength: 35,
      where: 'Mollie → Developers → API keys',
    });
  }

  async verifyCredentials({ secretKey }: ProviderCredentials): Promise<void> {
    await callMollie('verify the API key', () => this.clients(secretKey).listMethods());
  }

  /** Mollie takes the webhook URL per payment: there is no endpoint to create. */
  async createWebhookEndpoint(): Promise<null> {
    return null;
  }

  async deleteWebhookEndpoint(): Promise<void> {}

  amountIssue(): string | null {
    return null;
  }

  chargeableAmount(amountMinor: number): number {
    return amountMinor;
  }

  verifyWebhook(rawBody: Buffer, _headers: IncomingHttpHeaders): VerifiedWebhook {
    return verifyMollieWebhook(rawBody);
  }

  async interpretEvent(event: unknown, credentials: ProviderCredentials | null): Promise<InterpretedEvent> {
    const { id, notBefore } = (event ?? {}) as { id?: unknown; notBefore?: unknown };
    if (typeof id !== 'string') throw new Error('Mollie notification without a payment id');
    if (!credentials) throw new Error('Mollie is not connected for this workspace');
    // Fetch only once the notification's coalescing window has ended (bounded: a clock far ahead waits no longer).
    const wait = typeof notBefore === 'number' ? Math.min(notBefore - Date.now(), 2 * COALESCE_WINDOW_MS) : 0;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      return interpretMolliePayment(
        await this.clients(credentials.secretKey).getPayment(id, ['refunds', 'chargebacks']),
      );
    } catch (error) {
      if (isNotFound(error)) return unknownMolliePayment(id);
      return callMollie('fetch the payment', () => Promise.reject(error));
    }
  }

  async createCheckout({ secretKey }: ProviderCredentials, request: CheckoutRequest): Promise<HostedCheckout> {
    const payment = await callMollie('create the payment', () =>
      this.clients(secretKey).createPayment(
        {
          amount: {
            currency: request.currency.toUpperCase(),
            value: formatMinor(request.amountMinor, request.currency),
          },
          description: `Invoice ${request.invoiceNumber}${request.partial ? ' (partial payment)' : ''}`,
          redirectUrl: request.successUrl,
          cancelUrl: request.cancelUrl,
          webhookUrl: request.webhookUrl,
          metadata: writeMetadata(request),
        },
        request.idempotencyKey,
      ),
    );
    return toHostedCheckout(payment);
  }

  async getCheckout({ secretKey }: ProviderCredentials, reference: string): Promise<HostedCheckout> {
    return toHostedCheckout(await callMollie('read the payment', () => this.clients(secretKey).getPayment(reference)));
  }

  /** Only cancelable payments can be closed; an open hosted checkout otherwise expires on its own (15 minutes). */
  async expireCheckout({ secretKey }: ProviderCredentials, reference: string): Promise<CheckoutState> {
    const payment = await callMollie('read the payment', () => this.clients(secretKey).getPayment(reference));
    const state = toHostedCheckout(payment).status;
    if (state !== 'open' || !payment.isCancelable) return state;
    await callMollie('cancel the payment', () => this.clients(secretKey).cancelPayment(reference));
    return 'expired';
  }

  async refund({ secretKey }: ProviderCredentials, request: RefundRequest): Promise<ProviderRefund> {
    const refund = await callMollie('refund the payment', () =>
      this.clients(secretKey).createRefund(
        request.providerPaymentId,
        {
          amount: {
            currency: request.currency.toUpperCase(),
            value: formatMinor(request.amountMinor, request.currency),
          },
          description: (request.reason ?? 'Refund').slice(0, 140),
          metadata: writeMetadata(request),
        },
        request.idempotencyKey,
      ),
    );
    // Mollie refunds start queued/pending; completion arrives through the payment webhook (re-fetch).
    return {
      providerRefundId: refund.id,
      amountMinor: parseDecimalToMinor(refund.amount.value, refund.amount.currency),
      status: mollieRefundState(refund.status),
    };
  }

  listActivity({ secretKey }: ProviderCredentials, range: ActivityRange): AsyncIterable<ProviderActivity> {
    return listMollieActivity(this.clients(secretKey), range);
  }
}

function toHostedCheckout(payment: MolliePayment): HostedCheckout {
  const closed = payment.status === 'failed' || payment.status === 'canceled' || payment.status === 'expired';
  return {
    reference: payment.id,
    url: payment._links.checkout?.href ?? null,
    amountMinor: parseDecimalToMinor(payment.amount.value, payment.amount.currency),
    currency: payment.amount.currency.toUpperCase(),
    status: payment.status === 'open' ? 'open' : closed ? 'expired' : 'complete',
    paid: payment.status === 'paid',
    providerPaymentId: payment.id,
    expiresAt: payment.expiresAt ? new Date(payment.expiresAt) : null,
  };
}
