import type Stripe from 'stripe';
import { Provider, ProviderMode, type CheckoutState } from '../../vocabulary/index.js';
import { fromStripeAmount, stripeAmountIssue, stripeChargeableAmount, toStripeAmount } from './stripe.amount.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { InterpretedEvent } from '../../vocabulary/settlement-event.js';
import { listStripeActivity } from './stripe.audit.js';
import type {
  ActivityRange,
  ProviderActivity,
  VerifiedWebhook,
  ProviderRefund,
  RefundRequest,
  CheckoutRequest,
  CreatedWebhookEndpoint,
  HostedCheckout,
  KeyInput,
  PaymentProviderAdapter,
  ProviderCredentials,
} from '../payment-provider.js';
import { writeMetadata } from '../metadata.js';
import { keyProblem } from '../key-format.js';
import type { StripeClientFactory } from './stripe.client.js';
import { callStripe } from './stripe.errors.js';
import {
  interpretStripeEvent,
  STRIPE_DISPUTE_EVENTS,
  stripeRefundState,
  verifyStripeWebhook,
} from './stripe.webhook.js';

/** Events the service subscribes its Stripe webhook endpoints to (docs/contract.md "HTTP routes"). */
export const STRIPE_WEBHOOK_EVENTS = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'charge.refunded',
  'refund.created',
  'refund.updated',
  'refund.failed',
  ...STRIPE_DISPUTE_EVENTS,
] as const;

const KEY_CHAR = /^[A-Za-z0-9_]$/;

/** Stripe behind the provider interface; the SDK client is injected (STRIPE_API_URL points it at a fake in tests). */
export class StripeProvider implements PaymentProviderAdapter {
  readonly provider = Provider.STRIPE;
  readonly interpretNeedsCredentials = false;
  readonly usesWebhookSecret = true;

  constructor(private readonly clients: StripeClientFactory) {}

  checkKeyFormat(input: KeyInput): string | null {
    const mode = input.mode === ProviderMode.LIVE ? 'live' : 'test';
    const other = mode === 'live' ? 'test' : 'live';
    const shape = { mode, body: KEY_CHAR, bodyChars: 'letters, digits and _' } as const;
    const { secretKey, publishableKey, webhookSecret } = input;
    const where = 'Stripe → Developers → API keys';
    return (
      keyProblem(secretKey, {
        ...shape,
        label: 'The secret key',
        prefixes: [`sk_${mode}_`, `rk_${mode}_`],
        otherModePrefixes: [`sk_${other}_`, `rk_${other}_`],
        minLength: 16,
        where,
      }) ??
      (publishableKey
        ? keyProblem(publishableKey, {
            ...shape,
            label: 'The publishable key',
            prefixes: [`pk_${mode}_`],
            otherModePrefixes: [`pk_${other}_`],
            minLength: 0,
            where,
          })
        : `The publishable key is required (pk_${mode}_…, from ${where})`) ??
      (webhookSecret === null
        ? null
        : keyProblem(webhookSecret, {
            ...shape,
            label: 'The webhook signing secret',
            prefixes: ['whsec_'],
            otherModePrefixes: [],
            minLength: 16,
            where: 'Stripe → Developers → Webhooks → the endpoint → Signing secret',
          }))
    );
  }

  async verifyCredentials({ secretKey }: ProviderCredentials): Promise<void> {
    await callStripe('verify the key', () => this.clients(secretKey).balance.retrieve());
  }

  async createWebhookEndpoint({ secretKey }: ProviderCredentials, url: string): Promise<CreatedWebhookEndpoint> {
    const endpoint = await callStripe('create the webhook endpoint', () =>
      this.clients(secretKey).webhookEndpoints.create({
        url,
        enabled_events: [...STRIPE_WEBHOOK_EVENTS],
        description: 'Workestra Payments (created automatically)',
      }),
    );
    if (!endpoint.secret) throw new Error('Stripe returned a webhook endpoint without a secret');
    return { endpointId: endpoint.id, secret: endpoint.secret };
  }

  async deleteWebhookEndpoint({ secretKey }: ProviderCredentials, endpointId: string): Promise<void> {
    await callStripe('delete the webhook endpoint', () => this.clients(secretKey).webhookEndpoints.del(endpointId));
  }

  /** Stripe requires amounts in BHD, JOD, KWD, OMR and TND to end in 0 (charges to the hundredth). */
  amountIssue(amountMinor: number, currency: string): string | null {
    return stripeAmountIssue(amountMinor, currency);
  }

  /** Full-balance links round a three-decimal balance down to a multiple of 10: never charge more than owed. */
  chargeableAmount(amountMinor: number, currency: string): number {
    return stripeChargeableAmount(amountMinor, currency);
  }

  verifyWebhook(rawBody: Buffer, headers: IncomingHttpHeaders, webhookSecret: string | null): VerifiedWebhook {
    return verifyStripeWebhook(rawBody, headers, webhookSecret);
  }

  async interpretEvent(event: unknown): Promise<InterpretedEvent> {
    return interpretStripeEvent(event);
  }

  async createCheckout({ secretKey }: ProviderCredentials, request: CheckoutRequest): Promise<HostedCheckout> {
    const metadata = writeMetadata(request);
    const session = await callStripe('create the checkout session', () =>
      this.clients(secretKey).checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: request.currency.toLowerCase(),
                unit_amount: toStripeAmount(request.amountMinor, request.currency),
                product_data: {
                  name: `Invoice ${request.invoiceNumber}${request.partial ? ' (partial payment)' : ''}`,
                },
              },
            },
          ],
          ...(request.customerEmail ? { customer_email: request.customerEmail } : {}),
          client_reference_id: request.invoiceId,
          metadata,
          payment_intent_data: { metadata },
          success_url: `${request.successUrl}?session_id={CHECKOUT_SESSION_ID}`, // Stripe fills in the session id
          cancel_url: request.cancelUrl,
        },
        { idempotencyKey: request.idempotencyKey },
      ),
    );
    return toHostedCheckout(session);
  }

  async refund({ secretKey }: ProviderCredentials, request: RefundRequest): Promise<ProviderRefund> {
    const reason = request.reason?.trim() ?? '';
    const refund = await callStripe('refund the payment', () =>
      this.clients(secretKey).refunds.create(
        {
          payment_intent: request.providerPaymentId,
          amount: toStripeAmount(request.amountMinor, request.currency),
          ...(STRIPE_REASONS.has(reason) ? { reason: reason as Stripe.RefundCreateParams.Reason } : {}),
          metadata: { ...writeMetadata(request), ...(reason ? { reason: reason.slice(0, 500) } : {}) },
        },
        { idempotencyKey: request.idempotencyKey },
      ),
    );
    return {
      providerRefundId: refund.id,
      amountMinor: fromStripeAmount(refund.amount, request.currency),
      status: stripeRefundState(refund.status),
    };
  }

  async getCheckout({ secretKey }: ProviderCredentials, reference: string): Promise<HostedCheckout> {
    return toHostedCheckout(
      await callStripe('read the checkout session', () =>
        this.clients(secretKey).checkout.sessions.retrieve(reference),
      ),
    );
  }

  async expireCheckout(credentials: ProviderCredentials, reference: string): Promise<CheckoutState> {
    const current = await this.getCheckout(credentials, reference);
    if (current.status !== 'open') return current.status;
    await callStripe('expire the checkout session', () =>
      this.clients(credentials.secretKey).checkout.sessions.expire(reference),
    );
    return 'expired';
  }

  listActivity({ secretKey }: ProviderCredentials, range: ActivityRange): AsyncIterable<ProviderActivity> {
    return listStripeActivity(this.clients(secretKey), range);
  }
}

const STRIPE_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

function toHostedCheckout(session: Stripe.Checkout.Session): HostedCheckout {
  const currency = (session.currency ?? '').toUpperCase();
  return {
    reference: session.id,
    url: session.url,
    amountMinor: fromStripeAmount(session.amount_total ?? 0, currency),
    currency,
    status: session.status === 'complete' ? 'complete' : session.status === 'expired' ? 'expired' : 'open',
    paid: session.payment_status === 'paid' || session.payment_status === 'no_payment_required',
    providerPaymentId:
      typeof session.payment_intent === 'string' ? session.payment_intent : (session.payment_intent?.id ?? null),
    expiresAt: session.expires_at ? new Date(session.expires_at * 1000) : null,
  };
}
