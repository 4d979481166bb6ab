/**
 * Wire-format shapes served by the fake Mollie API v2: lean subsets of the real resources with the
 * same field names and value kinds (amounts are `{ currency, value }` with a decimal string).
 */

export interface Amount {
  currency: string;
  value: string;
}

export interface Link {
  href: string;
  type: string;
}

export type Links = Record<string, Link | null>;

export type Mode = 'test' | 'live';

export type PaymentStatus = 'open' | 'pending' | 'authorized' | 'paid' | 'canceled' | 'expired' | 'failed';

export type RefundStatus = 'queued' | 'pending' | 'processing' | 'refunded' | 'failed' | 'canceled';

export interface FakePayment {
  resource: 'payment';
  id: string;
  mode: Mode;
  createdAt: string;
  amount: Amount;
  description: string;
  method: string | null;
  /** Any JSON value the merchant sent (null when omitted). */
  metadata: unknown;
  status: PaymentStatus;
  isCancelable: boolean;
  expiresAt?: string;
  paidAt?: string;
  canceledAt?: string;
  expiredAt?: string;
  failedAt?: string;
  profileId: string;
  sequenceType: 'oneoff';
  redirectUrl: string | null;
  cancelUrl: string | null;
  webhookUrl: string | null;
  /** Present once paid: sum of refunds that are not failed or canceled. */
  amountRefunded?: Amount;
  /** Present once paid: amount − amountRefunded − amountChargedBack (what may still be refunded). */
  amountRemaining?: Amount;
  amountChargedBack?: Amount;
  _links: Links;
  _embedded?: { refunds?: FakeRefund[]; chargebacks?: FakeChargeback[] };
}

export interface FakeRefund {
  resource: 'refund';
  id: string;
  mode: Mode;
  amount: Amount;
  status: RefundStatus;
  createdAt: string;
  description: string;
  metadata: unknown;
  paymentId: string;
  _links: Links;
}

export interface FakeChargeback {
  resource: 'chargeback';
  id: string;
  amount: Amount;
  settlementAmount: Amount;
  createdAt: string;
  reason: { code: string; description: string } | null;
  reversedAt: string | null;
  paymentId: string;
  _links: Links;
}

/** The account an API key stands for: one account per distinct key, mode from its prefix. */
export interface Owner {
  apiKey: string;
  mode: Mode;
  profileId: string;
}

export interface MollieErrorBody {
  status: number;
  title: string;
  detail: string;
  field?: string;
  _links?: Links;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v2/payments`. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
  rawBody: string;
  idempotencyKey: string | null;
  apiKey: string | null;
  replayed: boolean;
  /** HTTP status of the answer; 0 until it has been sent, -1 when the socket was reset. */
  status: number;
}

export interface Delivery {
  paymentId: string;
  url: string;
  /** The Host header sent (the webhookUrl's host). */
  host: string;
  /** HTTP status, or 0 when the request failed (connection refused, timeout). */
  status: number;
  body: string;
  error: string | null;
}

export class MollieApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly field?: string,
  ) {
    super(detail);
  }
}
