/**
 * A small typed client for the Mollie API v2 over fetch.
 *
 * Why not `@mollie/api-client`: it always sends requests through its own https agent with a bundled CA list, so it
 * cannot talk to a plain-http endpoint. That rules out `MOLLIE_API_URL` pointing at our fake in tests (and at any
 * local stand-in) without turning off TLS verification for the whole test process. The handful of calls we need
 * (payments, refunds, methods) are simple JSON; this client speaks exactly Mollie's wire format, error shape and
 * Idempotency-Key, and the fake in test/fakes/mollie proves it.
 */

import { parseRetryAfter } from '../rate-limit.js';

export const MOLLIE_API_URL = 'https://api.mollie.com';

export interface MollieAmount {
  currency: string;
  value: string;
}

export interface MollieLink {
  href: string;
  type: string;
}

export interface MollieRefund {
  resource: 'refund';
  id: string;
  amount: MollieAmount;
  status: 'queued' | 'pending' | 'processing' | 'refunded' | 'failed' | 'canceled';
  description?: string;
  metadata?: Record<string, unknown> | null;
  paymentId: string;
  createdAt: string;
}

export interface MollieChargeback {
  resource: 'chargeback';
  id: string;
  amount: MollieAmount;
  /** Negative: what was (approximately) deducted from the merchant's balance. */
  settlementAmount?: MollieAmount | null;
  reason?: { code: string; description: string } | null;
  paymentId: string;
  settlementId?: string | null;
  createdAt: string;
  /** Set once the chargeback was reversed: the funds came back. */
  reversedAt?: string | null;
}

export interface MolliePayment {
  resource: 'payment';
  id: string;
  mode: 'test' | 'live';
  amount: MollieAmount;
  description: string;
  createdAt?: string;
  status: 'open' | 'pending' | 'authorized' | 'paid' | 'canceled' | 'expired' | 'failed';
  isCancelable?: boolean;
  metadata: Record<string, unknown> | null;
  expiresAt?: string;
  paidAt?: string;
  amountRefunded?: MollieAmount;
  amountRemaining?: MollieAmount;
  /** Total charged back; absent when nothing was. */
  amountChargedBack?: MollieAmount;
  _links: { checkout?: MollieLink; [name: string]: MollieLink | undefined };
  _embedded?: { refunds?: MollieRefund[]; chargebacks?: MollieChargeback[] };
}

/** A list endpoint's objects by resource name. */
export type MollieListItem<K extends string> = K extends 'payments'
  ? MolliePayment
  : K extends 'refunds'
    ? MollieRefund
    : MollieChargeback;

/** Mollie's HAL list: `count`, the page in `_embedded.<resource>`, `_links.next` (null on the last page). */
export interface MollieList<K extends string> {
  count: number;
  _embedded?: { [resource in K]?: MollieListItem<K>[] };
  _links?: { next?: MollieLink | null; previous?: MollieLink | null; self?: MollieLink };
}

/** An error answer from Mollie (`{ status, title, detail, field? }`). */
export class MollieApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly field: string | null,
    /** What a 429's `Retry-After` asked for, in milliseconds (null when absent). */
    readonly retryAfterMs: number | null = null,
  ) {
    super(`Mollie ${status} ${title}: ${detail}`);
    this.name = 'MollieApiError';
  }
}

/** The request never got an answer (DNS, connection, timeout). */
export class MollieNetworkError extends Error {}

export class MollieClient {
  constructor(
    private readonly apiKey: string,
    private readonly baseUrl: string = MOLLIE_API_URL,
    private readonly timeoutMs = 10_000,
  ) {}

  createPayment(body: Record<string, unknown>, idempotencyKey: string): Promise<MolliePayment> {
    return this.request('POST', '/v2/payments', body, idempotencyKey);
  }

  getPayment(id: string, embed: Array<'refunds' | 'chargebacks'> = []): Promise<MolliePayment> {
    return this.request(
      'GET',
      `/v2/payments/${encodeURIComponent(id)}${embed.length ? `?embed=${embed.join(',')}` : ''}`,
    );
  }

  cancelPayment(id: string): Promise<MolliePayment> {
    return this.request('DELETE', `/v2/payments/${encodeURIComponent(id)}`);
  }

  createRefund(paymentId: string, body: Record<string, unknown>, idempotencyKey: string): Promise<MollieRefund> {
    return this.request('POST', `/v2/payments/${encodeURIComponent(paymentId)}/refunds`, body, idempotencyKey);
  }

  /**
   * One page of a list endpoint (`/v2/payments`, `/v2/refunds`, `/v2/chargebacks`), newest first, starting at the
   * object `from` (inclusive). `next` is the `from` of the following page, null on the last one.
   */
  async listPage<K extends 'payments' | 'refunds' | 'chargebacks'>(
    resource: K,
    options: { from?: string; limit: number },
  ): Promise<{ items: MollieListItem<K>[]; next: string | null }> {
    const query = new URLSearchParams({
      limit: String(options.limit),
      ...(options.from ? { from: options.from } : {}),
    });
    const page = await this.request<MollieList<K>>('GET', `/v2/${resource}?${query}`);
    const next = page._links?.next?.href ? new URL(page._links.next.href).searchParams.get('from') : null;
    return { items: page._embedded?.[resource] ?? [], next };
  }

  listMethods(): Promise<unknown> {
    return this.request('GET', '/v2/methods');
  }

  private async request<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          accept: 'application/hal+json',
          'user-agent': 'workestra-payments',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new MollieNetworkError(
        `Mollie ${method} ${path.split('?')[0]}: ${error instanceof Error ? error.name : 'network error'}`,
      );
    }
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      if (response.ok) throw new MollieNetworkError(`Mollie ${method} ${path.split('?')[0]}: answer is not JSON`);
    }
    if (!response.ok) {
      throw new MollieApiError(
        response.status,
        String(json.title ?? response.statusText),
        String(json.detail ?? ''),
        typeof json.field === 'string' ? json.field : null,
        parseRetryAfter(response.headers.get('retry-after')),
      );
    }
    return json as T;
  }
}
