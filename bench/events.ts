import { createHmac, randomBytes } from 'node:crypto';

/** Stripe-shaped webhook bodies, signatures and JetStream envelopes for the benchmark. */

export const WEBHOOK_PATH = '/api/finance/payments/stripe/webhook';
export const EVENT_TYPE = 'checkout.session.completed';

/** Per-run random part of event and session ids: ids never repeat across runs (JetStream dedups for 2 min). */
const RUN = randomBytes(4).toString('hex');

/** Realistic Checkout Session fields that carry no meaning for settlement; they bring the body to ~2 KB. */
const FILLER = {
  adaptive_pricing: { enabled: false },
  allow_promotion_codes: null,
  automatic_tax: { enabled: false, liability: null, status: null },
  billing_address_collection: null,
  cancel_url: 'https://bench.workestra.test/pay/cancel',
  consent: null,
  consent_collection: null,
  custom_fields: [],
  custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
  customer: null,
  customer_creation: 'if_required',
  customer_details: {
    address: { city: 'Berlin', country: 'DE', line1: 'Torstrasse 1', line2: null, postal_code: '10119', state: null },
    email: 'customer@example.com',
    name: 'Customer Ltd',
    phone: null,
    tax_exempt: 'none',
    tax_ids: [],
  },
  customer_email: 'customer@example.com',
  expires_at: 1_900_000_000,
  invoice: null,
  invoice_creation: {
    enabled: false,
    invoice_data: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: null,
      metadata: {},
      rendering_options: null,
    },
  },
  locale: null,
  mode: 'payment',
  payment_link: null,
  payment_method_collection: 'if_required',
  payment_method_configuration_details: { id: 'pmc_1BenchWorkestraConfiguration', parent: null },
  payment_method_options: { card: { request_three_d_secure: 'automatic' } },
  payment_method_types: ['card', 'link'],
  phone_number_collection: { enabled: false },
  recovered_from: null,
  saved_payment_method_options: null,
  setup_intent: null,
  shipping_address_collection: null,
  shipping_cost: null,
  shipping_options: [],
  status: 'complete',
  submit_type: null,
  subscription: null,
  success_url: 'https://bench.workestra.test/pay/success?session_id={CHECKOUT_SESSION_ID}',
  total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
  ui_mode: 'hosted',
  url: null,
};

export interface EventSpec {
  /** Distinct per event (the bench numbers them). */
  n: number;
  workspaceId: string;
  invoiceId: string;
  amountMinor: number;
}

export const eventIdOf = (n: number) => `evt_bench${RUN}${n.toString(36).padStart(8, '0')}`;

/** A `checkout.session.completed` event JSON (payment_status paid), ~2 KB. */
export function stripeEventJson(spec: EventSpec): string {
  const sessionId = `cs_test_bench${RUN}${spec.n.toString(36).padStart(8, '0')}`;
  const metadata = { workspace_id: spec.workspaceId, invoice_id: spec.invoiceId };
  return JSON.stringify({
    id: eventIdOf(spec.n),
    object: 'event',
    api_version: '2025-06-30.basil',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: EVENT_TYPE,
    data: {
      object: {
        id: sessionId,
        object: 'checkout.session',
        amount_subtotal: spec.amountMinor,
        amount_total: spec.amountMinor,
        client_reference_id: spec.invoiceId,
        created: Math.floor(Date.now() / 1000),
        currency: 'eur',
        livemode: false,
        metadata,
        payment_intent: `pi_bench${RUN}${spec.n.toString(36).padStart(8, '0')}`,
        payment_status: 'paid',
        ...FILLER,
      },
    },
  });
}

/** `Stripe-Signature` for a body: HMAC-SHA256 hex of `${t}.${body}` with the endpoint secret. */
export function stripeSignature(body: string | Buffer, secret: string, t = Math.floor(Date.now() / 1000)): string {
  const hex = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},v1=${hex}`;
}

/** The JetStream message body exactly as the webhook route builds it. */
export function envelopeOf(workspaceId: string, eventJson: string): string {
  return `{"provider":"stripe","workspaceId":"${workspaceId}","receivedAt":"${new Date().toISOString()}","event":${eventJson}}`;
}
