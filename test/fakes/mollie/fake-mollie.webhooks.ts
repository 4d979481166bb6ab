/**
 * Mollie webhook calls: a form-encoded `id=tr_…` POST to the payment's `webhookUrl`, no signature
 * (the receiver fetches the payment to learn what changed). Sent over node:http so the Host header
 * can name the workspace domain while the request goes to the service under test.
 */
import { completeDelivery, DeliveryQueue, onBaseUrl, postRaw } from '../shared/webhook-delivery';
import type { Delivery, FakePayment } from './fake-mollie.types';

export interface AutoDeliverConfig {
  /** Base URL of the service under test; the webhookUrl's path (and query) is appended to it. */
  baseUrl: string;
  /** Wait this long before each delivery (lets a test make webhooks arrive after API answers). */
  delayMs?: number;
}

export interface WebhookResult {
  status: number;
  body: string;
}

/** POSTs `id=<paymentId>` to `targetUrl` with `Host: host`. */
export function postWebhook(
  paymentId: string,
  targetUrl: string,
  host: string,
  timeoutMs = 10_000,
): Promise<WebhookResult> {
  const payload = new URLSearchParams({ id: paymentId }).toString();
  const headers = {
    host,
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': Buffer.byteLength(payload),
    'user-agent': 'Mollie.nl HTTP client/1.0',
    accept: '*/*',
  };
  return postRaw(targetUrl, headers, payload, timeoutMs).then(({ status, body }) => ({ status, body }));
}

/** Calls payment webhooks one at a time, in the order the changes happened. */
export class WebhookDispatcher {
  autoDeliver: AutoDeliverConfig | null = null;
  readonly deliveries: Delivery[] = [];
  private readonly queue = new DeliveryQueue();

  /** Queues a call when autoDeliver is on (invoked for every change Mollie would report). */
  dispatch(payment: FakePayment): void {
    const config = this.autoDeliver;
    if (config && payment.webhookUrl) void this.enqueue(payment.id, payment.webhookUrl, config);
  }

  /**
   * Calls the webhook now (after queued calls): to `baseUrl` (or autoDeliver's) + the webhookUrl's
   * path, else to the webhookUrl itself. Null when the payment has no webhookUrl.
   */
  send(payment: FakePayment, baseUrl?: string): Promise<Delivery | null> {
    if (!payment.webhookUrl) return Promise.resolve(null);
    const base = baseUrl ?? this.autoDeliver?.baseUrl;
    return this.enqueue(payment.id, payment.webhookUrl, base === undefined ? null : { baseUrl: base });
  }

  /** Resolves once every queued call has been answered (or failed). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  private enqueue(paymentId: string, webhookUrl: string, config: AutoDeliverConfig | null): Promise<Delivery> {
    return this.queue.run(config?.delayMs, () => this.deliver(paymentId, webhookUrl, config));
  }

  private async deliver(paymentId: string, webhookUrl: string, config: AutoDeliverConfig | null): Promise<Delivery> {
    const target = new URL(webhookUrl);
    const url = config ? onBaseUrl(config.baseUrl, target) : webhookUrl;
    const delivery: Delivery = { paymentId, url, host: target.host, status: 0, body: '', error: null };
    this.deliveries.push(await completeDelivery(delivery, () => postWebhook(paymentId, url, target.host)));
    return delivery;
  }
}
