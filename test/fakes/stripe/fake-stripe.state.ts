/**
 * In-memory Stripe account state: checkout sessions, payment intents, charges, refunds, webhook
 * endpoints and events, plus the state transitions a real Checkout Session goes through.
 */
import type { ParsedEndpoint, ParsedSession } from './fake-stripe.params';
import type {
  FakeCharge,
  FakeCheckoutSession,
  FakeDispute,
  FakeEvent,
  FakeLineItem,
  FakePaymentIntent,
  FakeRefund,
  FakeWebhookEndpoint,
  Metadata,
  Owner,
  RefundStatus,
} from './fake-stripe.types';
import { invalidParam, newId, noSuch, nowSeconds, randomToken, stripeError } from './fake-stripe.util';

/** The API request that caused an event (null for dashboard actions and test controls). */
export interface RequestRef {
  id: string;
  idempotency_key: string | null;
}

export type EventSink = (
  type: string,
  object: unknown,
  owner: Owner,
  request: RequestRef | null,
  previousAttributes?: Record<string, unknown>,
) => FakeEvent;

export interface SessionTransition {
  session: FakeCheckoutSession;
  event: FakeEvent;
}

export interface Completion extends SessionTransition {
  paymentIntent: FakePaymentIntent;
  charge: FakeCharge;
}

export class FakeStripeState {
  readonly sessions = new Map<string, FakeCheckoutSession>();
  readonly lineItems = new Map<string, FakeLineItem[]>();
  readonly paymentIntents = new Map<string, FakePaymentIntent>();
  readonly charges = new Map<string, FakeCharge>();
  readonly refunds = new Map<string, FakeRefund>();
  readonly disputes = new Map<string, FakeDispute>();
  readonly webhookEndpoints = new Map<string, FakeWebhookEndpoint>();
  readonly events = new Map<string, FakeEvent>();
  /** Account and mode of every object, by id. */
  readonly owners = new Map<string, Owner>();
  /** Status the next created refund gets (consumed by that refund); null → 'succeeded'. */
  nextRefundStatus: RefundStatus | null = null;
  private readonly paymentIntentMetadata = new Map<string, Metadata>();

  constructor(
    private readonly publicUrl: string,
    readonly emit: EventSink,
  ) {}

  /** Finds an object the caller may see, answering like Stripe for other accounts and the other mode. */
  visible<T>(map: ReadonlyMap<string, T>, kind: string, id: string, owner: Owner, param = 'id'): T {
    const found = map.get(id);
    const objectOwner = this.owners.get(id);
    if (found === undefined || objectOwner === undefined || objectOwner.account !== owner.account) {
      throw noSuch(kind, id, param);
    }
    if (objectOwner.livemode !== owner.livemode) {
      const [has, used] = objectOwner.livemode ? ['live', 'test'] : ['test', 'live'];
      throw stripeError(404, {
        code: 'resource_missing',
        message: `No such ${kind}: '${id}'; a similar object exists in ${has} mode, but a ${used} mode key was used to make this request.`,
        param,
        type: 'invalid_request_error',
      });
    }
    return found;
  }

  ownerOf(id: string): Owner {
    const owner = this.owners.get(id);
    if (!owner) throw new Error(`fake-stripe: unknown object ${id}`);
    return owner;
  }

  createSession(parsed: ParsedSession, owner: Owner): FakeCheckoutSession {
    const created = nowSeconds();
    const id = `cs_${owner.livemode ? 'live' : 'test'}_${randomToken(58)}`;
    const session: FakeCheckoutSession = {
      id,
      object: 'checkout.session',
      amount_subtotal: parsed.amountTotal,
      amount_total: parsed.amountTotal,
      cancel_url: parsed.cancelUrl,
      client_reference_id: parsed.clientReferenceId,
      created,
      currency: parsed.currency,
      customer_details: null,
      customer_email: parsed.customerEmail,
      expires_at: parsed.expiresAt,
      livemode: owner.livemode,
      metadata: parsed.metadata,
      mode: 'payment',
      payment_intent: null,
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      status: 'open',
      success_url: parsed.successUrl,
      ui_mode: 'hosted',
      url: `${this.publicUrl}/checkout/pay/${id}`,
    };
    this.sessions.set(id, session);
    this.owners.set(id, owner);
    this.paymentIntentMetadata.set(id, parsed.paymentIntentMetadata);
    this.lineItems.set(
      id,
      parsed.lineItems.map((item) => ({
        id: newId('li'),
        object: 'item',
        amount_discount: 0,
        amount_subtotal: item.unitAmount * item.quantity,
        amount_tax: 0,
        amount_total: item.unitAmount * item.quantity,
        currency: item.currency,
        description: item.name,
        price: {
          id: newId('price'),
          object: 'price',
          active: false,
          currency: item.currency,
          livemode: owner.livemode,
          product: newId('prod', 14),
          type: 'one_time',
          unit_amount: item.unitAmount,
        },
        quantity: item.quantity,
      })),
    );
    return session;
  }

  private session(id: string): FakeCheckoutSession {
    const session = this.sessions.get(id);
    if (!session) throw new Error(`fake-stripe: no checkout session ${id}`);
    return session;
  }

  expireSession(id: string, request: RequestRef | null): SessionTransition {
    const session = this.session(id);
    if (session.status !== 'open') {
      throw invalidParam('Only Checkout Sessions with a status in ["open"] can be expired.', undefined, undefined);
    }
    session.status = 'expired';
    session.url = null;
    const event = this.emit('checkout.session.expired', session, this.ownerOf(id), request);
    return { session, event };
  }

  completeSession(id: string, paymentStatus: 'paid' | 'unpaid', email?: string): Completion {
    const session = this.session(id);
    if (session.status !== 'open') throw new Error(`fake-stripe: session ${id} is ${session.status}, not open`);
    const owner = this.ownerOf(id);
    const paid = paymentStatus === 'paid';
    const created = nowSeconds();
    const metadata = { ...(this.paymentIntentMetadata.get(id) ?? {}) };
    const paymentIntent: FakePaymentIntent = {
      id: newId('pi'),
      object: 'payment_intent',
      amount: session.amount_total,
      amount_received: paid ? session.amount_total : 0,
      created,
      currency: session.currency,
      latest_charge: null,
      livemode: owner.livemode,
      metadata,
      status: paid ? 'succeeded' : 'processing',
    };
    const chargeId = newId('ch');
    const charge: FakeCharge = {
      id: chargeId,
      object: 'charge',
      amount: session.amount_total,
      amount_captured: paid ? session.amount_total : 0,
      amount_refunded: 0,
      captured: paid,
      created,
      currency: session.currency,
      livemode: owner.livemode,
      metadata: { ...metadata },
      paid,
      payment_intent: paymentIntent.id,
      refunded: false,
      refunds: { object: 'list', data: [], has_more: false, url: `/v1/charges/${chargeId}/refunds` },
      status: paid ? 'succeeded' : 'pending',
    };
    paymentIntent.latest_charge = charge.id;
    for (const [key, value] of [
      [paymentIntent.id, paymentIntent],
      [charge.id, charge],
    ] as const) {
      this.owners.set(key, owner);
      if (value.object === 'charge') this.charges.set(key, value);
      else this.paymentIntents.set(key, value);
    }
    session.status = 'complete';
    session.payment_status = paymentStatus;
    session.payment_intent = paymentIntent.id;
    session.url = null;
    session.customer_details = {
      email: email ?? session.customer_email ?? 'customer@example.com',
      name: 'Test Customer',
    };
    const event = this.emit('checkout.session.completed', session, owner, null);
    return { session, paymentIntent, charge, event };
  }

  asyncPaymentResult(id: string, result: 'succeeded' | 'failed'): Completion {
    const session = this.session(id);
    const paymentIntent = session.payment_intent ? this.paymentIntents.get(session.payment_intent) : undefined;
    const chargeId = typeof paymentIntent?.latest_charge === 'string' ? paymentIntent.latest_charge : undefined;
    const charge = chargeId ? this.charges.get(chargeId) : undefined;
    if (session.status !== 'complete' || session.payment_status !== 'unpaid' || !paymentIntent || !charge) {
      throw new Error(
        `fake-stripe: session ${id} has no pending asynchronous payment (complete it with paymentStatus 'unpaid')`,
      );
    }
    if (paymentIntent.status !== 'processing')
      throw new Error(`fake-stripe: payment of ${id} is already ${paymentIntent.status}`);
    if (result === 'succeeded') {
      session.payment_status = 'paid';
      Object.assign(paymentIntent, { status: 'succeeded', amount_received: paymentIntent.amount });
      Object.assign(charge, { status: 'succeeded', paid: true, captured: true, amount_captured: charge.amount });
    } else {
      paymentIntent.status = 'requires_payment_method';
      charge.status = 'failed';
    }
    const event = this.emit(`checkout.session.async_payment_${result}`, session, this.ownerOf(id), null);
    return { session, paymentIntent, charge, event };
  }

  createEndpoint(parsed: ParsedEndpoint, owner: Owner): FakeWebhookEndpoint {
    const endpoint: FakeWebhookEndpoint = {
      id: newId('we'),
      object: 'webhook_endpoint',
      api_version: parsed.apiVersion,
      created: nowSeconds(),
      description: parsed.description,
      enabled_events: parsed.enabledEvents,
      livemode: owner.livemode,
      metadata: parsed.metadata,
      secret: `whsec_${randomToken(32)}`,
      status: 'enabled',
      url: parsed.url,
    };
    this.webhookEndpoints.set(endpoint.id, endpoint);
    this.owners.set(endpoint.id, owner);
    return endpoint;
  }

  /** Endpoints of the event's account (any account for events built by hand) and mode that subscribe to its type. */
  endpointsFor(event: FakeEvent): FakeWebhookEndpoint[] {
    return [...this.webhookEndpoints.values()].filter((endpoint) => {
      const owner = this.owners.get(endpoint.id);
      const eventOwner = this.owners.get(event.id);
      return (
        endpoint.status === 'enabled' &&
        owner?.livemode === event.livemode &&
        (eventOwner === undefined || owner.account === eventOwner.account) &&
        (endpoint.enabled_events.includes('*') || endpoint.enabled_events.includes(event.type))
      );
    });
  }
}
