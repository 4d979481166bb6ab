/**
 * Stripe events and webhook deliveries: event objects, `Stripe-Signature` headers (HMAC-SHA256 of
 * `${t}.${payload}` keyed by the endpoint secret string) and POSTs to the service under test.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
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
  const url = new URL(options.targetUrl);
  const client = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string | number> = {
    host: options.host,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    'cache-control': 'no-cache',
    accept: '*/*; q=0.5, application/xml',
  };
  if (signature !== null) headers['stripe-signature'] = signature;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error('webhook delivery timed out')));
    req.on('error', reject);
    req.end(payload);
  });
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
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

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
  async flush(): Promise<void> {
    while (this.queued > 0) await this.queue;
  }

  private enqueue(event: FakeEvent, config: AutoDeliverConfig): Promise<Delivery[]> {
    this.queued += 1;
    const run = this.queue.then(async () => {
      try {
        if (config.delayMs) await new Promise((resolve) => setTimeout(resolve, config.delayMs));
        const results: Delivery[] = [];
        for (const endpoint of this.endpointsFor(event)) results.push(await this.deliverTo(event, endpoint, config));
        return results;
      } finally {
        this.queued -= 1;
      }
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async deliverTo(
    event: FakeEvent,
    endpoint: FakeWebhookEndpoint,
    config: AutoDeliverConfig,
  ): Promise<Delivery> {
    const endpointUrl = new URL(endpoint.url);
    const url = `${config.baseUrl.replace(/\/+$/, '')}${endpointUrl.pathname}${endpointUrl.search}`;
    const delivery: Delivery = {
      event,
      endpointId: endpoint.id,
      url,
      host: endpointUrl.host,
      status: 0,
      body: '',
      error: null,
    };
    try {
      const result = await deliverEvent(event, { targetUrl: url, host: endpointUrl.host, secret: endpoint.secret });
      delivery.status = result.status;
      delivery.body = result.body;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
    this.deliveries.push(delivery);
    return delivery;
  }
}
