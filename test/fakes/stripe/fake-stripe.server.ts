/**
 * A fake Stripe API server for tests. The real `stripe` SDK talks to it over HTTP:
 *
 *   const fake = await startFakeStripe();
 *   const stripe = new Stripe('sk_test_abc', { host: fake.host, port: fake.port, protocol: 'http' });
 *
 * It speaks Stripe's wire format (form-encoded bracket bodies in, JSON and Stripe error shapes out),
 * keeps per-account state, signs and delivers webhooks, and lets tests inject outages.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type http from 'node:http';
import { FakeApiServer, listenOnLoopback } from '../shared/fake-api-server';
import { withoutDelivery } from '../shared/webhook-delivery';
import { ownerOfKey as ownerOf } from './fake-stripe.util';
import { checkoutPageRouter } from './fake-stripe.checkout-page';
import {
  authenticate,
  FaultControl,
  type FailureKind,
  faults,
  IdempotencyLayer,
  keepRawBody,
  recorder,
  sendStripeError,
} from './fake-stripe.http';
import { createRefund, settleRefund } from './fake-stripe.refunds';
import { apiRouter } from './fake-stripe.routes';
import { type Completion, type EventSink, FakeStripeState, type SessionTransition } from './fake-stripe.state';
import type {
  Delivery,
  DeliveryResult,
  FakeDispute,
  FakeEvent,
  FakeRefund,
  RecordedRequest,
} from './fake-stripe.types';
import {
  closeDispute,
  createDispute,
  submitDisputeEvidence,
  withdrawDisputeFunds,
  type DisputeOptions,
} from './fake-stripe.disputes';
import {
  type AutoDeliverConfig,
  buildEvent,
  type BuildEventOptions,
  deliverEvent,
  type DeliverOptions,
  FAKE_STRIPE_API_VERSION,
  signPayload,
  WebhookDispatcher,
} from './fake-stripe.webhooks';

export type * from './fake-stripe.types';
export type { AutoDeliverConfig, BuildEventOptions, Completion, DeliverOptions, SessionTransition };
export { FAKE_STRIPE_API_VERSION, signPayload };
export { ownerOfKey, maskKey } from './fake-stripe.util';

export interface FakeStripeOptions {
  /** Keys answered with 401 even though they look valid. */
  rejectKeys?: string[];
  /** api_version stamped on events (default FAKE_STRIPE_API_VERSION). */
  apiVersion?: string;
  /** Port to listen on (default: any free port). */
  port?: number;
}

export class FakeStripe extends FakeApiServer<RecordedRequest, FaultControl> {
  protected readonly idempotency = new IdempotencyLayer();
  protected readonly dispatcher: WebhookDispatcher;
  private readonly state: FakeStripeState;

  constructor(
    server: http.Server,
    port: number,
    private readonly options: FakeStripeOptions,
  ) {
    super(server, port, new FaultControl(), options.rejectKeys);
    const sink: EventSink = (type, object, owner, request, previousAttributes) => {
      const event = buildEvent(type, object, {
        livemode: owner.livemode,
        request,
        previousAttributes,
        apiVersion: this.options.apiVersion,
      });
      this.state.owners.set(event.id, owner);
      this.state.events.set(event.id, event);
      event.pending_webhooks = this.state.endpointsFor(event).length;
      this.dispatcher.dispatch(event);
      return event;
    };
    this.state = new FakeStripeState(this.url, sink);
    this.dispatcher = new WebhookDispatcher((event) => this.state.endpointsFor(event));
    server.on('request', this.buildApp());
  }

  private buildApp(): express.Express {
    const app = express();
    app.set('query parser', 'extended');
    app.disable('x-powered-by');
    app.use(express.urlencoded({ extended: true, verify: keepRawBody, limit: '1mb' }));
    app.use(checkoutPageRouter(this.state));
    app.use('/v1', recorder(this.requests), faults(this.faultControl), authenticate(this.faultControl));
    app.use(apiRouter(this.state, this.idempotency, () => this.deliveredCheck()));
    app.use((req: Request, res: Response) => {
      sendStripeError(res, 404, {
        message: `Unrecognized request URL (${req.method}: ${req.originalUrl.split('?')[0]}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        type: 'invalid_request_error',
      });
    });
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const status =
        typeof error === 'object' && error !== null && 'status' in error && error.status === 400 ? 400 : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (status === 400)
        sendStripeError(res, 400, { message: `Invalid request body: ${message}`, type: 'invalid_request_error' });
      else sendStripeError(res, 500, { message: `fake-stripe internal error: ${message}`, type: 'api_error' });
    });
    return app;
  }

  /** Whether every webhook of an event was answered 2xx (`GET /v1/events?delivery_success=`). */
  private deliveredCheck(): (event: FakeEvent) => boolean {
    const ok = new Set(
      this.dispatcher.deliveries.filter((d) => d.status >= 200 && d.status < 300).map((d) => d.event.id),
    );
    return (event) => ok.has(event.id);
  }

  // ---- state readable by tests (live objects: mutate them to set up odd cases) ----
  get sessions() {
    return this.state.sessions;
  }
  get lineItems() {
    return this.state.lineItems;
  }
  get paymentIntents() {
    return this.state.paymentIntents;
  }
  get charges() {
    return this.state.charges;
  }
  get refunds() {
    return this.state.refunds;
  }
  get disputes() {
    return this.state.disputes;
  }
  get webhookEndpoints() {
    return this.state.webhookEndpoints;
  }
  /** Every event the fake emitted, oldest first. */
  get events(): FakeEvent[] {
    return [...this.state.events.values()];
  }
  get deliveries(): Delivery[] {
    return this.dispatcher.deliveries;
  }

  /** Status for the next refund created (API or dashboard), then back to 'succeeded'. */
  get nextRefundStatus(): 'succeeded' | 'pending' | 'failed' | null {
    return this.state.nextRefundStatus === 'canceled' ? null : this.state.nextRefundStatus;
  }
  set nextRefundStatus(status: 'succeeded' | 'pending' | 'failed' | null) {
    this.state.nextRefundStatus = status;
  }

  /** When set, every emitted event is POSTed to `baseUrl + endpoint path` of each matching endpoint. */
  get autoDeliver(): AutoDeliverConfig | null {
    return this.dispatcher.autoDeliver;
  }
  set autoDeliver(config: AutoDeliverConfig | null) {
    this.dispatcher.autoDeliver = config;
  }

  /** Every API request answers 500 api_error while on. `shouldRetry` sets `Stripe-Should-Retry` (false: the SDK gives up at once). */
  setOutage(on: boolean, options: { shouldRetry?: boolean } = {}): void {
    this.faultControl.outage = on;
    this.faultControl.shouldRetry = options.shouldRetry ?? null;
  }

  /** The next `count` API requests fail with `status` (500 api_error, 429 rate_limit_error, …) or a reset socket. */
  failNext(count: number, status: FailureKind = 500): void {
    for (let i = 0; i < count; i += 1) this.faultControl.failures.push(status);
  }

  // ---- controls: what the customer, the bank or a dashboard user does ----
  /** The customer pays on the hosted page ('unpaid': an asynchronous method that settles later). Emits checkout.session.completed. */
  async completeSession(
    id: string,
    options: { paymentStatus?: 'paid' | 'unpaid'; email?: string } = {},
  ): Promise<Completion> {
    return this.settled(this.state.completeSession(id, options.paymentStatus ?? 'paid', options.email));
  }

  /**
   * A checkout session created and paid at Stripe without the service (bulk set-ups: no HTTP round trips). It emits
   * the same events as a real one; they are delivered only when autoDeliver is on.
   */
  seedPaidSession(
    secretKey: string,
    values: { amount: number; currency: string; metadata: Record<string, string> },
  ): Completion {
    const session = this.state.createSession(
      {
        lineItems: [{ name: 'Seeded', currency: values.currency, unitAmount: values.amount, quantity: 1 }],
        currency: values.currency,
        amountTotal: values.amount,
        metadata: values.metadata,
        paymentIntentMetadata: values.metadata,
        customerEmail: null,
        clientReferenceId: values.metadata.invoice_id ?? null,
        successUrl: 'https://example.com/pay/success',
        cancelUrl: null,
        expiresAt: Math.floor(Date.now() / 1000) + 86_400,
      } as never,
      ownerOf(secretKey),
    );
    return this.state.completeSession(session.id, 'paid');
  }

  /** The asynchronous payment of an 'unpaid' completed session settles. Emits checkout.session.async_payment_<result>. */
  async asyncPaymentResult(id: string, result: 'succeeded' | 'failed'): Promise<Completion> {
    return this.settled(this.state.asyncPaymentResult(id, result));
  }

  /** The session times out. Emits checkout.session.expired. */
  async expireSession(id: string): Promise<SessionTransition> {
    return this.settled(this.state.expireSession(id, null));
  }

  /** A refund made in the Stripe dashboard (omit amount for the remaining amount). Emits refund.created and charge.refunded. */
  async refundOutsideApi(paymentIntentId: string, amount?: number): Promise<FakeRefund> {
    if (!this.state.paymentIntents.has(paymentIntentId))
      throw new Error(`fake-stripe: no payment intent ${paymentIntentId}`);
    const input = { paymentIntent: paymentIntentId, charge: undefined, amount, reason: null, metadata: {} };
    return this.settled(createRefund(this.state, input, null, null));
  }

  /** A pending refund reaches its final status. Emits refund.updated (+ refund.failed) and charge.refund.updated. */
  async settleRefund(refundId: string, status: 'succeeded' | 'failed' | 'canceled'): Promise<FakeRefund> {
    return this.settled(settleRefund(this.state, refundId, status));
  }

  /** The cardholder's bank disputes a paid payment intent's charge. Emits charge.dispute.created (needs_response). */
  async createDispute(paymentIntentId: string, options: DisputeOptions = {}): Promise<FakeDispute> {
    return this.settled(createDispute(this.state, paymentIntentId, options));
  }

  /** Stripe withdraws the disputed amount. Emits charge.dispute.funds_withdrawn. */
  async withdrawDisputeFunds(disputeId: string): Promise<FakeDispute> {
    return this.settled(withdrawDisputeFunds(this.state, disputeId));
  }

  /** The merchant submits evidence. Emits charge.dispute.updated (under_review). */
  async submitDisputeEvidence(disputeId: string): Promise<FakeDispute> {
    return this.settled(submitDisputeEvidence(this.state, disputeId));
  }

  /** The bank decides. Emits charge.dispute.closed, and charge.dispute.funds_reinstated when won after a withdrawal. */
  async closeDispute(disputeId: string, outcome: 'won' | 'lost'): Promise<FakeDispute> {
    return this.settled(closeDispute(this.state, disputeId, outcome));
  }

  /**
   * Runs `act` (completing a session, a dashboard refund, a lost dispute…) with webhook delivery off: its events exist
   * at Stripe (and list under `delivery_success=false`) but never reach the service, as when an endpoint was down.
   */
  withoutWebhooks<T>(act: () => Promise<T> | T): Promise<T> {
    return withoutDelivery(this.dispatcher, act);
  }

  // ---- events and webhooks ----
  buildEvent<T>(type: string, object: T, options: BuildEventOptions = {}): FakeEvent<T> {
    return buildEvent(type, object, { apiVersion: this.options.apiVersion, ...options });
  }

  signPayload(payload: string, secret: string, timestamp?: number): string {
    return signPayload(payload, secret, timestamp);
  }

  deliverEvent(event: FakeEvent, options: DeliverOptions): Promise<DeliveryResult> {
    return deliverEvent(event, options);
  }

  /** Sends `event` again to every matching endpoint (like Stripe's retries); uses autoDeliver's base URL unless given. */
  redeliver(event: FakeEvent, baseUrl?: string): Promise<Delivery[]> {
    return this.dispatcher.broadcast(event, baseUrl);
  }
}

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const { server, port } = await listenOnLoopback(options.port);
  return new FakeStripe(server, port, options);
}
