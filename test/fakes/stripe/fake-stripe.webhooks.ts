/**
 * Stripe events and webhook deliveries: event objects, `Stripe-Signature` headers (HMAC-SHA256 of
 * `${t}.${payload}` keyed by the endpoint secret string) and POSTs to the service under test.
 */
import { createHmac } from 'node:crypto';
import { completeDelivery, DeliveryQueue, onBaseUrl, postRaw } from '../shared/webhook-delivery';
import type { RequestRef } from './fake-stripe.state';
import type { Delivery, DeliveryResult, FakeEvent, FakeWebhookEndpoint } from './fake-stripe.types';
import { newId, nowSeconds } from './fake-stripe.util';

/** The account's default API version, stamped on events (webhook endpoints may pin their own). */
export const FAKE_STRIPE_API_VERSION = '2025-10-29.clover';

export interface BuildEventOptions {
  livemode?: boolean;
  apiVersion?: string;
  request?: RequestRef | null;
  previousAttributes?: Record<string, unknown>;
  pendingWebhooks?: number;
}

function objectLivemode(object: unknown): boolean | undefined {
  if (typeof object !== 'object' || object === null || !('livemode' in object)) return undefined;
  return typeof object.livemode === 'boolean' ? object.livemode : undefined;
}

/** A Stripe event wrapping a snapshot (deep copy) of `object`; livemode defaults to the object's. */
export function buildEvent<T>(type: string, object: T, options: BuildEventOptions = {}): FakeEvent<T> {
  return {
    id: newId('evt'),
    object: 'event',
    api_version: options.apiVersion ?? FAKE_STRIPE_API_VERSION,
    created: nowSeconds(),
    data: {
      object: structuredClone(object),
      ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}),
    },
    livemode: options.livemode ?? objectLivemode(object) ?? false,
    pending_webhooks: options.pendingWebhooks ?? 1,
    request: options.request ?? { id: null, idempotency_key: null },
    type,
  };
}

/** The `Stripe-Signature` header value Stripe would send for `payload` (same as `generateTestHeaderString`). */
export function signPayload(payload: string, secret: string, timestamp: number = nowSeconds()): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/** Stripe sends events pretty-printed; the signature covers these exact bytes. */
export function serializeEvent(event: FakeEvent): string {
  return JSON.stringify(event, null, 2);
}

export interface DeliverOptions {
  /** Where to POST, e.g. http://127.0.0.1:4001/api/finance/payments/stripe/webhook. */
  targetUrl: string;
  /** HTTP Host header, e.g. acme.workestra.app (the workspace domain). */
  host: string;
  /** The endpoint's signing secret (whsec_…). */
  secret: string;
  /** Signature timestamp in seconds (default now); use an old one to test the 300 s tolerance. */
  timestamp?: number;
  /** Sent as `Stripe-Signature` instead of the computed one; null sends no signature header. */
  signatureOverride?: string | null;
  /** Raw body to send instead of the serialized event (it is what gets signed). */
  payload?: string;
  timeoutMs?: number;
}

/** POSTs `event` to the service under test with Stripe's headers, over node:http so Host can be set. */
export function deliverEvent(event: FakeEvent, options: DeliverOptions): Promise<DeliveryResult> {
  const payload = options.payload ?? serializeEvent(event);
  const signature =
    options.signatureOverride === undefined
      ? signPayload(payload, options.secret, options.timestamp)
      : options.signatureOverride;
  const headers: Record<string, string | number> = {
    host: options.host,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    'cache-control': 'no-cache',
    accept: '*/*; q=0.5, application/xml',
  };
  if (signature !== null) headers['stripe-signature'] = signature;
  return postRaw(options.targetUrl, headers, payload, options.timeoutMs);
}

export interface AutoDeliverConfig {
  /** Base URL of the service under test; the endpoint URL's path is appended to it. */
  baseUrl: string;
  /** Wait this long before each delivery (lets a test make webhooks arrive after API answers). */
  delayMs?: number;
}

/** Sends emitted events to the registered endpoints, one at a time in emission order. */
export class WebhookDispatcher {
  autoDeliver: AutoDeliverConfig | null = null;
  readonly deliveries: Delivery[] = [];
  private readonly queue = new DeliveryQueue();

  constructor(private readonly endpointsFor: (event: FakeEvent) => FakeWebhookEndpoint[]) {}

  /** Queues delivery of `event` when autoDeliver is on (called for every event the fake emits). */
  dispatch(event: FakeEvent): void {
    const config = this.autoDeliver;
    if (config) void this.enqueue(event, config);
  }

  /** Delivers `event` to every matching endpoint now (e.g. to simulate Stripe's retry); needs a base URL. */
  broadcast(event: FakeEvent, baseUrl?: string): Promise<Delivery[]> {
    const config = baseUrl ? { baseUrl } : this.autoDeliver;
    if (!config) throw new Error('fake-stripe: broadcast needs autoDeliver or a baseUrl');
    return this.enqueue(event, { ...config, delayMs: 0 });
  }

  /** Resolves once every queued delivery has been answered (or failed). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  private enqueue(event: FakeEvent, config: AutoDeliverConfig): Promise<Delivery[]> {
    return this.queue.run(config.delayMs, async () => {
      const results: Delivery[] = [];
      for (const endpoint of this.endpointsFor(event)) results.push(await this.deliverTo(event, endpoint, config));
      return results;
    });
  }

  private async deliverTo(
    event: FakeEvent,
    endpoint: FakeWebhookEndpoint,
    config: AutoDeliverConfig,
  ): Promise<Delivery> {
    const endpointUrl = new URL(endpoint.url);
    const url = onBaseUrl(config.baseUrl, endpointUrl);
    const delivery: Delivery = {
      event,
      endpointId: endpoint.id,
      url,
      host: endpointUrl.host,
      status: 0,
      body: '',
      error: null,
    };
    await completeDelivery(delivery, () =>
      deliverEvent(event, { targetUrl: url, host: endpointUrl.host, secret: endpoint.secret }),
    );
    this.deliveries.push(delivery);
    return delivery;
  }
}
