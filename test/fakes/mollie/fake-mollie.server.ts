/**
 * A fake Mollie API v2 server for tests, speaking Mollie's wire format over plain HTTP:
 *
 *   const fake = await startFakeMollie();
 *   await fetch(`${fake.url}/v2/payments`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, … });
 *
 * JSON in, HAL+JSON out, `{ currency, value }` amounts, one account per API key, Idempotency-Key
 * replay, a hosted checkout page, webhook calls (`id=tr_…`) and injectable outages.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type http from 'node:http';
import { FakeApiServer, listenOnLoopback } from '../shared/fake-api-server';
import { checkoutPageRouter } from './fake-mollie.checkout-page';
import {
  authenticate,
  type FailureKind,
  FaultControl,
  faults,
  IdempotencyLayer,
  keepRawBody,
  recorder,
  sendError,
  sendJson,
} from './fake-mollie.http';
import { apiRouter } from './fake-mollie.routes';
import { FakeMollieState } from './fake-mollie.state';
import {
  type Amount,
  type Delivery,
  type FakeChargeback,
  type FakePayment,
  type FakeRefund,
  MollieApiError,
  type PaymentStatus,
  type RecordedRequest,
} from './fake-mollie.types';
import { ownerOfKey as ownerOfKeyFn, parseAmount } from './fake-mollie.util';
import { withoutDelivery } from '../shared/webhook-delivery';
import { type AutoDeliverConfig, postWebhook, WebhookDispatcher } from './fake-mollie.webhooks';

export type * from './fake-mollie.types';
export type { AutoDeliverConfig, FailureKind };
export { MollieApiError, postWebhook };
export { fromMinor, ownerOfKey, toMinor } from './fake-mollie.util';

export interface FakeMollieOptions {
  /** Keys answered with 401 even though they look valid. */
  rejectKeys?: string[];
}

export class FakeMollie extends FakeApiServer<RecordedRequest, FaultControl> {
  protected readonly idempotency = new IdempotencyLayer();
  protected readonly dispatcher = new WebhookDispatcher();
  private readonly state: FakeMollieState;

  constructor(server: http.Server, port: number, options: FakeMollieOptions = {}) {
    super(server, port, new FaultControl(), options.rejectKeys);
    this.state = new FakeMollieState(this.url, (payment) => this.dispatcher.dispatch(payment));
    server.on('request', this.buildApp());
  }

  private buildApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.use('/checkout', express.urlencoded({ extended: false }));
    app.use(checkoutPageRouter(this.state));
    app.use(
      '/v2',
      recorder(this.requests),
      express.json({ type: ['application/json', 'application/*+json'], verify: keepRawBody, limit: '1mb' }),
      express.urlencoded({ extended: true, verify: keepRawBody, limit: '1mb' }),
      faults(this.faultControl),
      authenticate(this.faultControl),
    );
    app.use(apiRouter(this.state, this.idempotency, this.url));
    app.use((req: Request, res: Response) => {
      sendError(
        res,
        new MollieApiError(
          404,
          'Not Found',
          `The resource ${req.method} ${req.originalUrl.split('?')[0]} does not exist`,
        ),
      );
    });
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const status =
        typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number'
          ? error.status
          : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (status >= 400 && status < 500)
        sendError(
          res,
          new MollieApiError(
            status,
            status === 413 ? 'Payload Too Large' : 'Bad Request',
            `The request body is invalid: ${message}`,
          ),
        );
      else
        sendJson(res, 500, {
          status: 500,
          title: 'Internal Server Error',
          detail: `fake-mollie internal error: ${message}`,
        });
    });
    return app;
  }

  // ---- state readable by tests (live objects: mutate them to set up odd cases) ----
  get payments(): Map<string, FakePayment> {
    return this.state.payments;
  }
  get refunds(): Map<string, FakeRefund> {
    return this.state.refunds;
  }
  get chargebacks(): Map<string, FakeChargeback> {
    return this.state.chargebacks;
  }
  /** Every webhook call made, oldest first. */
  get deliveries(): Delivery[] {
    return this.dispatcher.deliveries;
  }

  /** When set, every webhook call goes to `baseUrl + <path of webhookUrl>` with Host = the webhookUrl's host. */
  get autoDeliver(): AutoDeliverConfig | null {
    return this.dispatcher.autoDeliver;
  }
  set autoDeliver(config: AutoDeliverConfig | null) {
    this.dispatcher.autoDeliver = config;
  }

  /** Every API request answers 503 Service Unavailable while on. */
  setOutage(on: boolean): void {
    this.faultControl.outage = on;
  }
  /** The next `count` API requests fail with `status` (e.g. 500, 429, 503) or a reset socket. */
  failNext(count: number, status: FailureKind = 503): void {
    for (let i = 0; i < count; i += 1) this.faultControl.failures.push(status);
  }

  // ---- controls: what the customer, the bank or a dashboard user does (each calls the webhook) ----
  /** Moves a payment to `status` ('paid' stamps paidAt and adds amountRefunded/amountRemaining). */
  async setPaymentStatus(id: string, status: PaymentStatus): Promise<FakePayment> {
    return this.settled(this.state.setStatus(id, status));
  }

  /** A refund made in the Mollie dashboard (default: the whole remaining amount); starts pending. */
  async refundOutsideApi(paymentId: string, amountValue?: string): Promise<FakeRefund> {
    const payment = this.state.payment(paymentId, null);
    const amount =
      amountValue === undefined
        ? undefined
        : parseAmount({ currency: payment.amount.currency, value: amountValue }, 'amount');
    return this.settled(
      this.state.createRefund(
        paymentId,
        { amount, description: 'Refund from the dashboard', metadata: null },
        null,
        true,
      ),
    );
  }

  /** A pending refund reaches its final status. */
  async settleRefund(
    paymentId: string,
    refundId: string,
    status: 'refunded' | 'failed' | 'canceled',
  ): Promise<FakeRefund> {
    return this.settled(this.state.settleRefund(paymentId, refundId, status));
  }

  /** The customer's bank reverses (part of) a paid payment. */
  async addChargeback(paymentId: string, amountValue: string): Promise<FakeChargeback> {
    const payment = this.state.payment(paymentId, null);
    const amount = parseAmount({ currency: payment.amount.currency, value: amountValue }, 'amount');
    return this.settled(this.state.addChargeback(paymentId, amount));
  }

  /** The chargeback is reversed: `reversedAt` set, the payment's webhook called. */
  async reverseChargeback(paymentId: string, chargebackId: string): Promise<FakeChargeback> {
    return this.settled(this.state.reverseChargeback(paymentId, chargebackId));
  }

  /** Runs `act` (a payment paid, a dashboard refund, a chargeback…) without calling any webhook. */
  withoutWebhooks<T>(act: () => Promise<T> | T): Promise<T> {
    return withoutDelivery(this.dispatcher, act);
  }

  /** A payment created and paid at Mollie without the service (bulk set-ups: no HTTP round trips, no webhook). */
  seedPaidPayment(apiKey: string, values: { amount: Amount; metadata: Record<string, string> }): FakePayment {
    const payment = this.state.createPayment(
      {
        amount: values.amount,
        description: 'Seeded',
        redirectUrl: 'https://example.com/pay/success',
        cancelUrl: null,
        webhookUrl: null,
        metadata: values.metadata,
        methods: [],
      },
      ownerOfKeyFn(apiKey),
    );
    return this.state.setStatus(payment.id, 'paid');
  }

  /**
   * Calls the payment's webhook now (like Mollie's retries): to `baseUrl` (default autoDeliver's)
   * + the webhookUrl's path, else to the webhookUrl itself. Null when it has no webhookUrl.
   */
  notify(paymentId: string, baseUrl?: string): Promise<Delivery | null> {
    return this.dispatcher.send(this.state.payment(paymentId, null), baseUrl);
  }
}

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeMollie(options: FakeMollieOptions = {}): Promise<FakeMollie> {
  const { server, port } = await listenOnLoopback();
  return new FakeMollie(server, port, options);
}
