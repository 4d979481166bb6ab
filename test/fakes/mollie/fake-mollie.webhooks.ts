/**
 * Mollie webhook calls: a form-encoded `id=tr_…` POST to the payment's `webhookUrl`, no signature
 * (the receiver fetches the payment to learn what changed). Sent over node:http so the Host header
 * can name the workspace domain while the request goes to the service under test.
 */
import http from 'node:http';
import https from 'node:https';
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
  const url = new URL(targetUrl);
  const client = url.protocol === 'https:' ? https : http;
  const headers = {
    host,
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': Buffer.byteLength(payload),
    'user-agent': 'Mollie.nl HTTP client/1.0',
    accept: '*/*',
  };
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('webhook delivery timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Calls payment webhooks one at a time, in the order the changes happened. */
export class WebhookDispatcher {
  autoDeliver: AutoDeliverConfig | null = null;
  readonly deliveries: Delivery[] = [];
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

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
  async flush(): Promise<void> {
    while (this.queued > 0) await this.queue;
  }

  private enqueue(paymentId: string, webhookUrl: string, config: AutoDeliverConfig | null): Promise<Delivery> {
    this.queued += 1;
    const run = this.queue.then(async () => {
      try {
        if (config?.delayMs) await new Promise((resolve) => setTimeout(resolve, config.delayMs));
        return await this.deliver(paymentId, webhookUrl, config);
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

  private async deliver(paymentId: string, webhookUrl: string, config: AutoDeliverConfig | null): Promise<Delivery> {
    const target = new URL(webhookUrl);
    const url = config ? `${config.baseUrl.replace(/\/+$/, '')}${target.pathname}${target.search}` : webhookUrl;
    const delivery: Delivery = { paymentId, url, host: target.host, status: 0, body: '', error: null };
    try {
      const result = await postWebhook(paymentId, url, target.host);
      delivery.status = result.status;
      delivery.body = result.body;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
    this.deliveries.push(delivery);
    return delivery;
  }
}
