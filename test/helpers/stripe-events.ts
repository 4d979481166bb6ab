import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import type { FakeEvent } from '../fakes/stripe/fake-stripe.types.js';
import type { TestService } from './service.js';
import { connectStripe, testKeys } from './stripe.js';
import { newCaller, type TestCaller } from './tokens.js';

export const WEBHOOK_PATH = '/api/finance/payments/stripe/webhook';

export interface SessionEventOptions {
  sessionId?: string;
  amountMinor: number;
  currency?: string;
  paymentStatus?: 'paid' | 'unpaid';
  workspaceId?: string;
  livemode?: boolean;
  paymentIntent?: string;
}

/** A workspace connected to the fake Stripe with a known webhook secret, and helpers to send it signed events. */
export class StripeWorkspace {
  constructor(
    readonly service: TestService,
    readonly stripe: FakeStripe,
    readonly caller: TestCaller,
    readonly secret: string,
  ) {}

  static async connect(service: TestService, stripe: FakeStripe, roles = ['owner']): Promise<StripeWorkspace> {
    const caller = newCaller(roles);
    const keys = testKeys();
    await connectStripe(service, caller, { keys });
    return new StripeWorkspace(service, stripe, caller, keys.webhookSecret!);
  }

  /** A Stripe Checkout Session event for an invoice, shaped as Stripe sends it. */
  sessionEvent(type: string, invoiceId: string, options: SessionEventOptions): FakeEvent {
    const sessionId = options.sessionId ?? `cs_test_${randomBytes(12).toString('hex')}`;
    const metadata = { workspace_id: options.workspaceId ?? this.caller.workspaceId, invoice_id: invoiceId };
    return this.stripe.buildEvent(
      type,
      {
        id: sessionId,
        object: 'checkout.session',
        amount_total: options.amountMinor,
        amount_subtotal: options.amountMinor,
        currency: (options.currency ?? 'eur').toLowerCase(),
        client_reference_id: invoiceId,
        metadata,
        mode: 'payment',
        payment_intent: options.paymentIntent ?? `pi_${sessionId.slice(8)}`,
        payment_status: options.paymentStatus ?? (type === 'checkout.session.expired' ? 'unpaid' : 'paid'),
        status: type === 'checkout.session.expired' ? 'expired' : 'complete',
        livemode: options.livemode ?? false,
      },
      { livemode: options.livemode ?? false },
    );
  }

  send(
    event: FakeEvent,
    overrides: {
      host?: string;
      timestamp?: number;
      signatureOverride?: string | null;
      payload?: string;
      secret?: string;
    } = {},
  ) {
    return this.stripe.deliverEvent(event, {
      targetUrl: `${this.service.url}${WEBHOOK_PATH}`,
      host: overrides.host ?? this.caller.workspaceDomain,
      secret: overrides.secret ?? this.secret,
      timestamp: overrides.timestamp,
      signatureOverride: overrides.signatureOverride,
      payload: overrides.payload,
    });
  }
}

export const newId = () => randomUUID();
