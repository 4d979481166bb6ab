import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What `/metrics` shows of JetStream. */
export interface JetStreamState {
  dlqMessages: number;
  consumerPending: number;
}

/** Prometheus metrics of one process, in their own registry (tests create several apps per process). */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'payments_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'payments_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly webhooks = new Counter({
    name: 'payments_webhook_requests_total',
    help: 'Webhook requests by provider and outcome (stored, duplicate, rejected, wrong_mode, unknown_host, unavailable, too_large, aborted)',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly settlementDuration = new Histogram({
    name: 'payments_settlement_duration_seconds',
    help: 'Time to apply one event in its unit of work',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly eventsSettled = new Counter({
    name: 'payments_events_total',
    help: 'Events handled by the settlement worker, by result (applied, duplicate, ignored, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly eventsIgnored = new Counter({
    name: 'payments_events_ignored_total',
    help: 'Verified events acknowledged without settling, by provider and reason (e.g. other_workspace, no_invoice, not_handled)',
    labelNames: ['provider', 'reason'] as const,
    registers: [this.registry],
  });

  /** Reads JetStream state on scrape (set by the composition root); never on the hot path. */
  jetStreamProbe: (() => Promise<JetStreamState>) | null = null;

  /** How long one probe answers every scrape: scrapers (several Prometheus replicas, people) never load JetStream. */
  static readonly JETSTREAM_PROBE_TTL_MS = 5000;
  #probed: { at: number; state: Promise<JetStreamState> } | null = null;

  /** One probe serves both gauges and every scrape for JETSTREAM_PROBE_TTL_MS (concurrent scrapes share it too). */
  private async jetStreamState(): Promise<JetStreamState | null> {
    if (!this.jetStreamProbe) return null;
    const now = Date.now();
    if (!this.#probed || now - this.#probed.at >= Metrics.JETSTREAM_PROBE_TTL_MS) {
      this.#probed = { at: now, state: this.jetStreamProbe() };
    }
    return this.#probed.state;
  }

  readonly dlqDepth = new Gauge({
    name: 'payments_dlq_messages',
    help: 'Messages waiting in the dead-letter stream (read at most every 5 s)',
    registers: [this.registry],
    collect: async () => {
      const state = await this.jetStreamState();
      if (state) this.dlqDepth.set(state.dlqMessages);
    },
  });

  readonly consumerPending = new Gauge({
    name: 'payments_consumer_pending_messages',
    help: 'Messages not yet delivered to the settlement consumer (read at most every 5 s)',
    registers: [this.registry],
    collect: async () => {
      const state = await this.jetStreamState();
      if (state) this.consumerPending.set(state.consumerPending);
    },
  });

  /** Counts the open disputes on scrape (set by the composition root); never on the hot path. */
  openDisputesProbe: (() => Promise<number>) | null = null;
  #disputesProbed: { at: number; count: Promise<number> } | null = null;

  readonly disputesOpen = new Gauge({
    name: 'payments_disputes_open',
    help: 'Disputes and chargebacks waiting for a response or a decision (NEEDS_RESPONSE, UNDER_REVIEW; read at most every 5 s)',
    registers: [this.registry],
    collect: async () => {
      if (!this.openDisputesProbe) return;
      const now = Date.now();
      if (!this.#disputesProbed || now - this.#disputesProbed.at >= Metrics.JETSTREAM_PROBE_TTL_MS) {
        this.#disputesProbed = { at: now, count: this.openDisputesProbe() };
      }
      const count = await this.#disputesProbed.count.catch(() => null);
      if (count !== null) this.disputesOpen.set(count);
    },
  });

  readonly auditDiscrepancies = new Gauge({
    name: 'payments_audit_discrepancies',
    help: 'Discrepancies between the ledger and the providers found by the last scheduled audit, by kind (missing, status, amount, unknown), before its fixes',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly auditRuns = new Counter({
    name: 'payments_audit_runs_total',
    help: 'Scheduled ledger audits by result (completed, failed; skipped when another worker had this interval)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Express middleware that counts and times every request by its matched route (never the raw path: tokens live in paths).
   * Mounted sub-apps name their route in `res.locals.route`.
   */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const stop = this.httpDuration.startTimer();
      res.on('finish', () => {
        const route =
          (res.locals.route as string | undefined) ??
          (req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched');
        stop({ method: req.method, route });
        this.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    };
  }
}
