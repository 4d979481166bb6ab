/**
 * Wire-format shapes served by the fake Stripe API. They are deliberately lean subsets of the real
 * objects (same field names and value kinds), not the SDK's exhaustive types.
 */

export type Metadata = Record<string, string>;

export interface StripeList<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

export interface FakeCheckoutSession {
  id: string;
  object: 'checkout.session';
  amount_subtotal: number;
  amount_total: number;
  cancel_url: string | null;
  client_reference_id: string | null;
  created: number;
  currency: string;
  customer_details: { email: string | null; name: string | null } | null;
  customer_email: string | null;
  expires_at: number;
  livemode: boolean;
  metadata: Metadata;
  mode: 'payment';
  payment_intent: string | null;
  payment_method_types: string[];
  payment_status: 'paid' | 'unpaid' | 'no_payment_required';
  status: 'open' | 'complete' | 'expired';
  success_url: string | null;
  ui_mode: 'hosted';
  url: string | null;
}

export interface FakePrice {
  id: string;
  object: 'price';
  active: boolean;
  currency: string;
  livemode: boolean;
  product: string;
  type: 'one_time';
  unit_amount: number;
}

export interface FakeLineItem {
  id: string;
  object: 'item';
  amount_discount: number;
  amount_subtotal: number;
  amount_tax: number;
  amount_total: number;
  currency: string;
  description: string;
  price: FakePrice;
  quantity: number;
}

export interface FakePaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  created: number;
  currency: string;
  latest_charge: string | FakeCharge | null;
  livemode: boolean;
  metadata: Metadata;
  status: 'processing' | 'requires_payment_method' | 'succeeded' | 'canceled';
}

export interface FakeCharge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  captured: boolean;
  created: number;
  currency: string;
  livemode: boolean;
  metadata: Metadata;
  paid: boolean;
  payment_intent: string;
  refunded: boolean;
  refunds: StripeList<FakeRefund>;
  status: 'pending' | 'succeeded' | 'failed';
  /** Set once a dispute was opened on the charge. */
  disputed?: boolean;
}

export interface FakeBalanceTransaction {
  id: string;
  object: 'balance_transaction';
  amount: number;
  available_on: number;
  created: number;
  currency: string;
  description: string;
  exchange_rate: number | null;
  fee: number;
  fee_details: Array<{
    amount: number;
    application: string | null;
    currency: string;
    description: string;
    type: string;
  }>;
  net: number;
  reporting_category: 'dispute' | 'dispute_reversal';
  source: string;
  status: 'available' | 'pending';
  type: 'adjustment';
}

export type DisputeStatus = 'needs_response' | 'under_review' | 'won' | 'lost';

/** A dispute as Stripe renders it (keys as in `resources.dispute` of stripe/openapi fixtures3.json). */
export interface FakeDispute {
  id: string;
  object: 'dispute';
  amount: number;
  balance_transactions: FakeBalanceTransaction[];
  charge: string;
  created: number;
  currency: string;
  evidence: Record<string, string | null>;
  evidence_details: { due_by: number; has_evidence: boolean; past_due: boolean; submission_count: number };
  is_charge_refundable: boolean;
  livemode: boolean;
  metadata: Metadata;
  payment_intent: string;
  reason: string;
  status: DisputeStatus;
}

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

export interface FakeRefund {
  id: string;
  object: 'refund';
  amount: number;
  balance_transaction: string | null;
  charge: string;
  created: number;
  currency: string;
  failure_reason?: string;
  metadata: Metadata;
  payment_intent: string;
  reason: 'duplicate' | 'fraudulent' | 'requested_by_customer' | null;
  receipt_number: string | null;
  status: RefundStatus;
}

export interface FakeWebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  api_version: string | null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: boolean;
  metadata: Metadata;
  /** Real Stripe returns the secret only in the create response; the fake keeps it here for tests. */
  secret: string;
  status: 'enabled' | 'disabled';
  url: string;
}

export interface FakeEvent<T = unknown> {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: T; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface StripeErrorBody {
  code?: string;
  doc_url?: string;
  message: string;
  param?: string;
  type: 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error' | 'rate_limit_error';
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/checkout/sessions`. */
  path: string;
  query: Record<string, unknown>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The form body parsed with bracket notation (numbers stay strings, as on the wire). */
  body: Record<string, unknown>;
  rawBody: string;
  idempotencyKey: string | null;
  apiKey: string | null;
  requestId: string;
  replayed: boolean;
  /** HTTP status of the answer; 0 until the answer has been sent, -1 when the socket was reset. */
  status: number;
}

export interface Delivery {
  event: FakeEvent;
  endpointId: string | null;
  url: string;
  host: string;
  /** HTTP status, or 0 when the request failed (connection refused, timeout). */
  status: number;
  body: string;
  error: string | null;
}

export interface DeliveryResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Who owns an object: the account derived from the API key, and test or live mode. */
export interface Owner {
  account: string;
  livemode: boolean;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /** Whether an idempotent request that failed this way stores the answer (validation errors don't). */
    readonly storeForIdempotency = true,
  ) {
    super(body.message);
  }
}
