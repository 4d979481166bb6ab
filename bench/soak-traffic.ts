import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { sleep } from './support.js';

/**
 * The soak's webhook traffic: signed Stripe `checkout.session.*` events at a fixed offered rate (open loop), each
 * delivered like Stripe does (re-signed and retried with backoff on anything but 200 until answered 200), with
 * duplicates (the same event id again, inside and outside JetStream's 2-minute duplicate window), partial payments
 * (many sessions per invoice, some overpaying) and asynchronous payments (completed `unpaid`, then
 * `async_payment_succeeded` for the same session). Everything sent is recorded for the reconciliation.
 */

export const WEBHOOK_PATH = '/api/finance/payments/stripe/webhook';
const DUPLICATE_SHARE = 0.08;
const ASYNC_SHARE = 0.05;
const JETSTREAM_WINDOW_MS = 120_000;
const GIVE_UP_AFTER_MS = 10 * 60_000;
const ATTEMPT_TIMEOUT_MS = 10_000;

export interface InvoicePlan {
  id: string;
  number: string;
  currency: 'EUR' | 'JPY';
  totalMinor: number;
  status: 'sent' | 'overdue' | 'draft' | 'void';
  dueDate: string;
}

export interface SessionRecord {
  id: string;
  invoice: number;
  amountMinor: number;
  async: boolean;
  /** A succeeding event (completed `paid`, or `async_payment_succeeded`) was answered 200. */
  succeededAcked: boolean;
  /** Any event of the session was answered 200 (the ledger must have its row). */
  anyAcked: boolean;
  /** Any event of the session was sent but never answered 200 (its outcome in the ledger is unknown). */
  unresolved: boolean;
  /** The succeeding event's first delivery: start of its first attempt, start of the attempt answered 200, time of the 200. */
  successFirstSentAt?: number;
  successAcceptedAttemptAt?: number;
  successAckedAt?: number;
}

interface EventRecord {
  id: string;
  session: SessionRecord;
  succeeds: boolean;
  body: string;
  acked: boolean;
  ackedAt: number;
}

export interface TrafficCounters {
  /** Logical webhooks started (first deliveries + resends). */
  sent: number;
  /** …answered 200. */
  acknowledged: number;
  /** Logical webhooks given up (no 200 within the give-up time, or still open at the end). */
  unacknowledged: number;
  /** HTTP attempts beyond the first of each logical webhook. */
  retries: number;
  attempts: number;
  /** Non-200 answers by status (`conn` for a connection error or timeout). */
  failures: Record<string, number>;
  distinctEvents: number;
  distinctEventsAcked: number;
  sessions: number;
  asyncSessions: number;
  /** Resends of an already acknowledged event, inside / outside JetStream's duplicate window. */
  resentInWindow: number;
  resentAfterWindow: number;
  /** 200 answers with `duplicate: true` (JetStream's dedup, incl. retries whose earlier attempt was stored after all). */
  duplicateAnswers: number;
}

export interface MinuteTraffic {
  sent: number;
  acknowledged: number;
  retries: number;
  failures: number;
}

export class Traffic {
  readonly counters: TrafficCounters = {
    sent: 0,
    acknowledged: 0,
    unacknowledged: 0,
    retries: 0,
    attempts: 0,
    failures: {},
    distinctEvents: 0,
    distinctEventsAcked: 0,
    sessions: 0,
    asyncSessions: 0,
    resentInWindow: 0,
    resentAfterWindow: 0,
    duplicateAnswers: 0,
  };
  readonly sessions: SessionRecord[] = [];
  readonly events: EventRecord[] = [];
  readonly minutes: MinuteTraffic[] = [];
  /** Acknowledged events in order of their first 200 (for picking duplicates by age). */
  private readonly acked: EventRecord[] = [];
  private readonly followUps: Array<{ at: number; session: SessionRecord }> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly urls: URL[];
  private attemptCount = 0;
  private stopping = false;
  private closing = false;
  private loop: Promise<void> | null = null;
  private t0 = 0;
  private sequence = 0;

  constructor(
    private readonly opts: {
      /** The api processes; attempts go to each in turn (a retry to the next one). */
      apiUrls: string[];
      host: string;
      webhookSecret: string;
      workspaceId: string;
      runId: string;
      rate: number;
      invoices: InvoicePlan[];
      random: () => number;
      startedAt: number;
    },
  ) {
    this.urls = opts.apiUrls.map((url) => new URL(url));
  }

  start(): void {
    this.t0 = Date.now();
    this.loop = this.run();
  }

  /** Stops offering new traffic, sends the outstanding async follow-ups, waits for every delivery to end. */
  async finish(): Promise<void> {
    this.stopping = true;
    await this.loop;
    // an async session acknowledged during the wait still gets its follow-up
    for (;;) {
      for (const followUp of this.followUps.splice(0)) this.sendFollowUp(followUp.session);
      if (this.inFlight.size === 0) break;
      await Promise.race([...this.inFlight]);
    }
    this.agent.destroy();
  }

  /** Abandons deliveries still retrying (Ctrl-C, or the run's own time limit). */
  abandon(): void {
    this.stopping = true;
    this.closing = true;
    this.agent.destroy();
  }

  get openDeliveries(): number {
    return this.inFlight.size;
  }

  private minute(at = Date.now()): MinuteTraffic {
    const index = Math.max(0, Math.floor((at - this.opts.startedAt) / 60_000));
    while (this.minutes.length <= index) this.minutes.push({ sent: 0, acknowledged: 0, retries: 0, failures: 0 });
    return this.minutes[index];
  }

  private async run(): Promise<void> {
    let slots = 0;
    while (!this.stopping) {
      const due = Math.floor(((Date.now() - this.t0) * this.opts.rate) / 1000);
      while (slots < due && !this.stopping) {
        slots++;
        this.offer();
      }
      await sleep(5);
    }
  }

  /** One slot of the offered rate: a due async follow-up, a duplicate, or a new payment session. */
  private offer(): void {
    const now = Date.now();
    const r = this.opts.random;
    if (this.followUps.length > 0 && this.followUps[0].at <= now) {
      this.sendFollowUp(this.followUps.shift()!.session);
      return;
    }
    if (r() < DUPLICATE_SHARE && this.acked.length > 0) {
      const old = this.acked.filter((event) => now - event.ackedAt > JETSTREAM_WINDOW_MS + 15_000);
      const recent = this.acked.filter((event) => now - event.ackedAt < 60_000);
      const pool = r() < 0.5 && old.length > 0 ? old : recent.length > 0 ? recent : this.acked;
      const event = pool[Math.floor(r() * pool.length)];
      if (now - event.ackedAt > JETSTREAM_WINDOW_MS) this.counters.resentAfterWindow++;
      else this.counters.resentInWindow++;
      this.deliver(event, true);
      return;
    }
    const invoice = Math.floor(r() * this.opts.invoices.length);
    const plan = this.opts.invoices[invoice];
    // 1.00–100.00 EUR, 100–10,000 JPY
    const amountMinor = 100 + Math.floor(r() * 9_901);
    const async = r() < ASYNC_SHARE;
    const session: SessionRecord = {
      id: `cs_test_soak${this.opts.runId}${(this.sessions.length + 1).toString(36).padStart(7, '0')}`,
      invoice,
      amountMinor,
      async,
      succeededAcked: false,
      anyAcked: false,
      unresolved: false,
    };
    this.sessions.push(session);
    this.counters.sessions++;
    if (async) this.counters.asyncSessions++;
    const event = this.newEvent(session, 'checkout.session.completed', async ? 'unpaid' : 'paid', plan);
    this.deliver(event, false);
  }

  private sendFollowUp(session: SessionRecord): void {
    const event = this.newEvent(
      session,
      'checkout.session.async_payment_succeeded',
      'paid',
      this.opts.invoices[session.invoice],
    );
    this.deliver(event, false);
  }

  private newEvent(
    session: SessionRecord,
    type: string,
    paymentStatus: 'paid' | 'unpaid',
    plan: InvoicePlan,
  ): EventRecord {
    const created = Math.floor(Date.now() / 1000);
    const metadata = { workspace_id: this.opts.workspaceId, invoice_id: plan.id };
    const id = `evt_soak${this.opts.runId}${(++this.sequence).toString(36).padStart(7, '0')}`;
    const body = JSON.stringify(
      {
        id,
        object: 'event',
        api_version: '2025-10-29.clover',
        created,
        data: {
          object: {
            id: session.id,
            object: 'checkout.session',
            amount_subtotal: session.amountMinor,
            amount_total: session.amountMinor,
            client_reference_id: plan.id,
            created,
            currency: plan.currency.toLowerCase(),
            customer_email: 'customer@example.com',
            livemode: false,
            metadata,
            mode: 'payment',
            payment_intent: `pi_soak${session.id.slice(12)}`,
            payment_method_types: ['card', 'sepa_debit'],
            payment_status: paymentStatus,
            status: 'complete',
            success_url: `https://${this.opts.host}/pay/success?session_id={CHECKOUT_SESSION_ID}`,
            cancel_url: `https://${this.opts.host}/pay/cancel`,
            url: null,
          },
        },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type,
      },
      null,
      2, // Stripe sends events pretty-printed; the signature covers these bytes
    );
    const event: EventRecord = { id, session, succeeds: paymentStatus === 'paid', body, acked: false, ackedAt: 0 };
    this.events.push(event);
    this.counters.distinctEvents++;
    return event;
  }

  /** One logical webhook: attempts until 200 (re-signed each time, like Stripe), backoff 0.25 s doubling to 8 s. */
  private deliver(event: EventRecord, resend: boolean): void {
    const task = (async () => {
      const firstAt = Date.now();
      this.counters.sent++;
      this.minute(firstAt).sent++;
      for (let attempt = 1; ; attempt++) {
        if (this.closing || Date.now() - firstAt > GIVE_UP_AFTER_MS) {
          this.counters.unacknowledged++;
          if (!event.acked) event.session.unresolved = true;
          return;
        }
        const attemptAt = Date.now();
        this.counters.attempts++;
        if (attempt > 1) {
          this.counters.retries++;
          this.minute(attemptAt).retries++;
        }
        const { status, duplicate } = await this.post(event.body);
        if (status === 200) {
          const at = Date.now();
          this.counters.acknowledged++;
          this.minute(at).acknowledged++;
          if (duplicate) this.counters.duplicateAnswers++;
          if (!event.acked) {
            event.acked = true;
            event.ackedAt = at;
            this.acked.push(event);
            this.counters.distinctEventsAcked++;
            const session = event.session;
            session.anyAcked = true;
            if (event.succeeds && !session.succeededAcked) {
              session.succeededAcked = true;
              session.successFirstSentAt = firstAt;
              session.successAcceptedAttemptAt = attemptAt;
              session.successAckedAt = at;
            }
            if (session.async && !event.succeeds && !resend) {
              // the asynchronous payment method settles 5–30 s later
              this.followUps.push({ at: at + 5000 + Math.floor(this.opts.random() * 25_000), session });
              this.followUps.sort((a, b) => a.at - b.at);
            }
          }
          return;
        }
        const key = status === 0 ? 'conn' : String(status);
        this.counters.failures[key] = (this.counters.failures[key] ?? 0) + 1;
        this.minute().failures++;
        const backoff = Math.min(250 * 2 ** (attempt - 1), 8000);
        await sleep(backoff * (0.5 + Math.random()));
      }
    })();
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private post(body: string): Promise<{ status: number; duplicate: boolean }> {
    const t = Math.floor(Date.now() / 1000);
    const signature = `t=${t},v1=${createHmac('sha256', this.opts.webhookSecret).update(`${t}.${body}`, 'utf8').digest('hex')}`;
    const url = this.urls[this.attemptCount++ % this.urls.length];
    return new Promise((resolve) => {
      const req = request(
        {
          agent: this.agent,
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: WEBHOOK_PATH,
          headers: {
            host: this.opts.host,
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(body),
            'stripe-signature': signature,
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          },
          timeout: ATTEMPT_TIMEOUT_MS,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              duplicate: res.statusCode === 200 && /"duplicate":\s*true/.test(text),
            }),
          );
          res.on('error', () => resolve({ status: 0, duplicate: false }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve({ status: 0, duplicate: false }));
      req.end(body);
    });
  }
}
