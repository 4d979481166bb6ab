import { randomUUID } from 'node:crypto';
import { WEBHOOK_PATH } from '../helpers/stripe-events.js';
import type { Cluster } from './cluster-harness.js';

/** One event the service answered 200 for: it must be settled exactly once. */
export interface Accepted {
  invoiceId: string;
  amount: number;
  acceptedAt: number;
}

/**
 * Signed `checkout.session.completed` webhooks at a steady rate, alternating between the api processes. A webhook
 * not answered 200 is sent again after 500 ms (as Stripe retries), so every event ends accepted.
 */
export class WebhookLoad {
  readonly accepted = new Map<string, Accepted>();
  /** Answers other than 200, by status (503 while a stream has no leader, …). */
  readonly refused = new Map<number, number>();
  /** When the first and the last refused answer came (ms since epoch), to tell how long webhooks were refused. */
  refusedWindow: { first: number; last: number } | null = null;
  private sent = 0;
  private running = false;
  private readonly pending = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly invoices: string[],
    private readonly maxInFlight = 128,
  ) {}

  start(perSecond: number): void {
    this.running = true;
    const startedAt = Date.now();
    const base = this.sent;
    this.loop = (async () => {
      while (this.running) {
        const due = base + Math.floor(((Date.now() - startedAt) / 1000) * perSecond);
        while (this.sent < due && this.pending.size < this.maxInFlight) this.launch(this.sent++);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
  }

  /** Stops new events and waits until every started one was answered 200 (retrying as needed). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private launch(index: number): void {
    const invoiceId = this.invoices[index % this.invoices.length];
    const amount = 100 + (index % 7) * 10;
    const event = this.cluster.stripe.buildEvent(
      'checkout.session.completed',
      {
        id: `cs_test_${randomUUID().replace(/-/g, '')}`,
        object: 'checkout.session',
        amount_total: amount,
        amount_subtotal: amount,
        currency: 'eur',
        client_reference_id: invoiceId,
        metadata: { workspace_id: this.cluster.caller.workspaceId, invoice_id: invoiceId },
        mode: 'payment',
        payment_intent: `pi_${randomUUID().replace(/-/g, '')}`,
        payment_status: 'paid',
        status: 'complete',
        livemode: false,
      },
      { livemode: false },
    );
    const task = (async () => {
      for (let attempt = 0; ; attempt++) {
        const api = this.cluster.apis[(index + attempt) % this.cluster.apis.length];
        const result = await this.cluster.stripe
          .deliverEvent(event, {
            targetUrl: `${api.url}${WEBHOOK_PATH}`,
            host: this.cluster.caller.workspaceDomain,
            secret: this.cluster.webhookSecret,
            timeoutMs: 15_000,
          })
          .catch(() => ({ status: 0 }));
        if (result.status === 200) {
          this.accepted.set(event.id, { invoiceId, amount, acceptedAt: Date.now() });
          return;
        }
        this.refused.set(result.status, (this.refused.get(result.status) ?? 0) + 1);
        const now = Date.now();
        this.refusedWindow = { first: this.refusedWindow?.first ?? now, last: now };
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }
}
