import type { IncomingHttpHeaders } from 'node:http';
import type { CheckoutState, Provider, ProviderCredentials, ProviderMode } from '../vocabulary/index.js';

export type { ProviderCredentials };
import type { InterpretedEvent, SettlementUpdate } from '../vocabulary/settlement-event.js';

/** What the service asks a provider to host a checkout for. */
export interface CheckoutRequest {
  workspaceId: string;
  invoiceId: string;
  invoiceNumber: string;
  payLinkId: string;
  amountMinor: number;
  currency: string;
  customerEmail: string | null;
  partial: boolean;
  /** Our success page; an adapter may add its provider's placeholders (e.g. the session id) to it. */
  successUrl: string;
  cancelUrl: string;
  /** Our own Idempotency-Key (derived from link, amount and session generation). */
  idempotencyKey: string;
  /** Where the provider should notify us (providers that take it per payment, e.g. Mollie). */
  webhookUrl: string;
}

/** A provider's hosted checkout, in neutral terms. */
export interface HostedCheckout {
  /** `cs_…` (Stripe) or `tr_…` (Mollie): the ledger's provider reference. */
  reference: string;
  url: string | null;
  amountMinor: number;
  currency: string;
  status: CheckoutState;
  /** Whether the money was collected (a complete checkout can still be awaiting an async payment). */
  paid: boolean;
  /** The provider's payment id behind the checkout (Stripe payment intent), once there is one. */
  providerPaymentId: string | null;
  expiresAt: Date | null;
}

/** A refund the service asks the provider for. */
export interface RefundRequest {
  providerPaymentId: string;
  amountMinor: number;
  currency: string;
  /** Free text; sent as metadata, and as the provider's reason code only when it is exactly one of them. */
  reason: string | null;
  /** Derived from the workspace and the client's idempotency key (contains the latter). */
  idempotencyKey: string;
  /** Our refund row, workspace and invoice: sent as metadata so the provider's refund events find them again. */
  localRefundId: string;
  workspaceId: string;
  invoiceId: string;
}

/** The provider's answer to a refund request. */
export interface ProviderRefund {
  providerRefundId: string;
  amountMinor: number;
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
}

/** Creation times (inclusive) the audit asks a provider about. */
export interface ActivityRange {
  since: Date;
  until: Date;
}

/** What the audit compares: a provider's hosted checkout or payment, a refund, or a dispute/chargeback. */
export type ActivityKind = 'payment' | 'refund' | 'dispute';

/**
 * One provider object as the audit sees it, in neutral terms (amounts in ISO minor units, states in the ledger's
 * vocabulary: a payment outcome, a refund state or a dispute state).
 */
export interface ProviderActivity {
  kind: ActivityKind;
  /** `cs_…`/`tr_…` for payments (the ledger's provider reference), the refund id, the dispute/chargeback id. */
  reference: string;
  /** The provider payment it belongs to (payment intent, `tr_…`); null for a checkout nobody paid yet. */
  providerPaymentId: string | null;
  /** From our metadata: null on objects made elsewhere (a refund from the provider's dashboard). */
  workspaceId: string | null;
  invoiceId: string | null;
  amountMinor: number;
  currency: string;
  state: string;
  /**
   * Other ledger states that agree with what the provider shows (a Stripe checkout whose asynchronous payment failed
   * still reads complete/unpaid there, while the ledger learned FAILED from its event).
   */
  agreesWith?: string[];
  createdAt: Date;
  /** Created before the range, but a webhook about it in the range was never delivered: compared all the same. */
  undelivered?: boolean;
  /** The neutral update that brings the ledger to this object's state (what an audit fix carries). */
  update: SettlementUpdate;
}

/** Keys entered by a user, before verification. */
export interface KeyInput {
  mode: ProviderMode;
  secretKey: string;
  publishableKey: string | null;
  webhookSecret: string | null;
}

/** A webhook endpoint the service created at the provider. */
export interface CreatedWebhookEndpoint {
  endpointId: string;
  secret: string;
}

/** A webhook that passed verification: its identity, and the bytes to carry to the worker. */
export interface VerifiedWebhook {
  eventId: string;
  type: string;
  /** The event's livemode, or null when the provider's webhook does not say (checked against the account's mode). */
  livemode: boolean | null;
  /** The JSON the worker receives as the envelope's `event` (the verified raw body for Stripe). */
  body: Buffer;
}

/** A webhook that must be answered 400: bad signature, unparseable or not an event. The reason is safe to return. */
export class WebhookRejectedError extends Error {}

/** The provider rejected the credentials (a user error, BAD_USER_INPUT). */
export class InvalidCredentialsError extends Error {}

/** The provider could not be reached or failed (PROVIDER_ERROR); `detail` is for logs only, never secrets. */
export class ProviderUnavailableError extends Error {
  constructor(readonly detail: string) {
    super('The payment provider could not be reached');
  }
}

/** A provider this server does not offer (not registered). */
export class UnknownProviderError extends Error {
  constructor(readonly provider: string) {
    super(`${provider} is not available on this server`);
  }
}

/**
 * The provider refused the request's parameters. The message is our own wording, safe to show; `detail` is the
 * provider's own text (which may quote anything the request carried), for logs only.
 */
export class ProviderRequestError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** The provider already saw our Idempotency-Key with other parameters (a client key reused for a different request). */
export class ProviderIdempotencyError extends Error {}

/**
 * The one interface every provider adapter implements. Routes, resolvers and consumers talk only to this;
 * adding a provider is a new folder plus a registry entry.
 */
export interface PaymentProviderAdapter {
  readonly provider: Provider;
  /** Whether this provider signs webhooks with a per-endpoint secret (Stripe) or not (Mollie). */
  readonly usesWebhookSecret: boolean;
  /** Whether interpreting an event needs the account's credentials (providers whose webhooks carry only an id). */
  readonly interpretNeedsCredentials: boolean;

  /** Prefix and mode checks; returns a user-facing problem or null. Makes no network call. */
  checkKeyFormat(input: KeyInput): string | null;
  /** A cheap authenticated call. Throws InvalidCredentialsError or ProviderUnavailableError. */
  verifyCredentials(credentials: ProviderCredentials): Promise<void>;
  /** Creates the webhook endpoint for `url`, or returns null when the provider has none to create. */
  createWebhookEndpoint(credentials: ProviderCredentials, url: string): Promise<CreatedWebhookEndpoint | null>;
  /** Best effort: deletes an endpoint created earlier. */
  deleteWebhookEndpoint(credentials: ProviderCredentials, endpointId: string): Promise<void>;

  /** Provider rule on amounts (e.g. Stripe's three-decimal currencies); a user-facing problem or null. */
  amountIssue(amountMinor: number, currency: string): string | null;
  /** The largest chargeable amount not above `amountMinor` (full-balance links charge this). */
  chargeableAmount(amountMinor: number, currency: string): number;

  /** Verifies an incoming webhook (signature before parsing) with the account's webhook secret. Throws WebhookRejectedError. */
  verifyWebhook(rawBody: Buffer, headers: IncomingHttpHeaders, webhookSecret: string | null): VerifiedWebhook;
  /** Turns a verified event into neutral settlement updates (may call the provider, e.g. Mollie's fetch-back). */
  interpretEvent(event: unknown, credentials: ProviderCredentials | null): Promise<InterpretedEvent>;

  createCheckout(credentials: ProviderCredentials, request: CheckoutRequest): Promise<HostedCheckout>;
  getCheckout(credentials: ProviderCredentials, reference: string): Promise<HostedCheckout>;
  /** Refunds (part of) a payment. Throws ProviderRequestError when the provider refuses, ProviderUnavailableError when unreachable. */
  refund(credentials: ProviderCredentials, request: RefundRequest): Promise<ProviderRefund>;

  /**
   * Closes an open checkout so it can no longer be paid, and says where it stands afterwards: `expired` (closed now or
   * before), `complete` (paid or being paid: its events settle it) or `open` (the provider does not let this checkout
   * be closed; it expires on its own).
   */
  expireCheckout(credentials: ProviderCredentials, reference: string): Promise<CheckoutState>;

  /**
   * Streams the account's checkouts/payments, refunds and disputes created in `range`, page by page (each page one
   * provider call, backing off on 429). Throws ProviderUnavailableError or InvalidCredentialsError.
   */
  listActivity(credentials: ProviderCredentials, range: ActivityRange): AsyncIterable<ProviderActivity>;
}
