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

  readonly graphqlErrors = new Counter({
    name: 'payments_graphql_errors_total',
    help: 'GraphQL errors returned by /graphql, by extensions.code (GraphQL answers most of them with HTTP 200)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly providerCalls = new Counter({
    name: 'payments_provider_calls_total',
    help: 'Calls to payment provider APIs by provider, operation and outcome (ok, invalid_credentials, refused, unavailable, error)',
    labelNames: ['provider', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly providerCallDuration = new Histogram({
    name: 'payments_provider_call_duration_seconds',
    help: 'Latency of payment provider API calls by provider and operation (any outcome)',
    labelNames: ['provider', 'operation'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly payLinkClicks = new Counter({
    name: 'payments_pay_link_clicks_total',
    help: 'Pay-link clicks by outcome (redirect, reused, unknown, paid, void, unavailable, too_small, provider_down, rate_limited, error) and HTTP status',
    labelNames: ['outcome', 'status'] as const,
    registers: [this.registry],
  });

  readonly refunds = new Counter({
    name: 'payments_refunds_total',
    help: 'refundPayment requests sent to a provider and their answers, by provider and result (requested, succeeded, pending, failed, cancelled, error)',
    labelNames: ['provider', 'result'] as const,
    registers: [this.registry],
  });

  readonly backgroundRuns = new Counter({
    name: 'payments_background_runs_total',
    help: 'Passes of background tasks (reconcile, dlq_retry, disconnect_grace, audit…) by task and outcome (ok, failed)',
    labelNames: ['task', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly backgroundRunDuration = new Histogram({
    name: 'payments_background_run_duration_seconds',
    help: 'Duration of background task passes by task',
    labelNames: ['task'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly dlqAutoRetries = new Counter({
    name: 'payments_dlq_auto_retries_total',
    help: 'Automatic DLQ retries by outcome (retried, duplicate: another worker had put it back, failed, left_for_ops: out of automatic retries)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** One provider API call (the provider registry reports every adapter call here). */
  providerCall(provider: string, operation: string, outcome: string, seconds: number): void {
    this.providerCalls.inc({ provider, operation, outcome });
    this.providerCallDuration.observe({ provider, operation }, seconds);
  }

  /** One pass of a periodic background task (src/background/periodic.ts reports every pass here). */
  backgroundRun(task: string, outcome: 'ok' | 'failed', seconds: number): void {
    this.backgroundRuns.inc({ task, outcome });
    this.backgroundRunDuration.observe({ task }, seconds);
  }

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

  readonly consumerRebinds = new Counter({
    name: 'payments_consumer_rebinds_total',
    help: 'Times the settlement consume loop bound to its consumer again, by reason (stall, reconnect, heartbeats, fetch_timeout, error)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly databaseOutage = new Gauge({
    name: 'payments_worker_database_unreachable',
    help: '1 while this worker holds its messages because PostgreSQL does not answer, else 0',
    registers: [this.registry],
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
