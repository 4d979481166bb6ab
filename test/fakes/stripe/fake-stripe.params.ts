/**
 * Parameter validation for the fake's create endpoints, following Stripe's rules and error shapes.
 */
import type { Metadata } from './fake-stripe.types';
import {
  formatAmount,
  invalidParam,
  isParams,
  MINIMUM_AMOUNT,
  missingParam,
  noSuch,
  optArray,
  optInteger,
  optMetadata,
  optObject,
  optString,
  type Params,
  reqString,
  THREE_DECIMAL,
} from './fake-stripe.util';

/** Top-level parameters the SDK (API version of stripe-node 23) may send; anything else is `parameter_unknown`. */
const SESSION_PARAMS = new Set(
  (
    'adaptive_pricing after_expiration allow_promotion_codes allowed_payment_method_types automatic_tax ' +
    'billing_address_collection branding_settings cancel_url client_reference_id consent_collection currency ' +
    'custom_fields custom_text customer customer_account customer_creation customer_email customer_update discounts ' +
    'excluded_payment_method_types expand expires_at integration_identifier invoice_creation line_items locale ' +
    'managed_payments metadata mode name_collection optional_items origin_context payment_intent_data ' +
    'payment_method_collection payment_method_configuration payment_method_data payment_method_options ' +
    'payment_method_types permissions phone_number_collection redirect_on_completion return_url ' +
    'saved_payment_method_options setup_intent_data shipping_address_collection shipping_options submit_type ' +
    'subscription_data success_url tax_id_collection ui_mode wallet_options'
  ).split(' '),
);
const REFUND_PARAMS = new Set(
  'amount charge currency customer expand instructions_email metadata origin payment_intent reason refund_application_fee reverse_transfer'.split(
    ' ',
  ),
);
const ENDPOINT_PARAMS = new Set('enabled_events url api_version connect description expand metadata'.split(' '));

export function rejectUnknown(params: Params, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(params)) {
    if (!allowed.has(key)) throw invalidParam(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
  }
}

export interface ParsedLineItem {
  name: string;
  currency: string;
  unitAmount: number;
  quantity: number;
}

export interface ParsedSession {
  lineItems: ParsedLineItem[];
  currency: string;
  amountTotal: number;
  metadata: Metadata;
  paymentIntentMetadata: Metadata;
  customerEmail: string | null;
  clientReferenceId: string | null;
  successUrl: string;
  cancelUrl: string | null;
  expiresAt: number;
}

function checkUrl(value: string | undefined, param: string): void {
  if (value === undefined) return;
  try {
    new URL(value);
  } catch {
    throw invalidParam(`Not a valid URL`, param, 'url_invalid');
  }
}

function parseLineItem(raw: unknown, i: number): ParsedLineItem {
  const base = `line_items[${i}]`;
  if (!isParams(raw)) throw invalidParam(`Invalid object: ${base} must be a hash.`, base);
  const price = optString(raw, 'price', `${base}[price]`);
  if (price !== undefined) throw noSuch('price', price, `${base}[price]`);
  const priceData = optObject(raw, 'price_data', `${base}[price_data]`);
  if (!priceData) throw missingParam(`${base}[price_data]`);
  const currency = reqString(priceData, 'currency', `${base}[price_data][currency]`).toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) {
    throw invalidParam(
      `Invalid currency: ${currency}. Stripe currently supports these currencies: ...`,
      `${base}[price_data][currency]`,
    );
  }
  const productData = optObject(priceData, 'product_data', `${base}[price_data][product_data]`);
  if (!productData) throw missingParam(`${base}[price_data][product_data]`);
  const name = reqString(productData, 'name', `${base}[price_data][product_data][name]`);
  const amountParam = `${base}[price_data][unit_amount]`;
  const unitAmount = optInteger(priceData, 'unit_amount', amountParam, 0);
  if (unitAmount === undefined) throw missingParam(amountParam);
  if (THREE_DECIMAL.has(currency) && unitAmount % 10 !== 0) {
    throw invalidParam(
      `Invalid unit_amount: ${unitAmount}. For three-decimal currencies like ${currency.toUpperCase()}, ` +
        'the amount must be divisible by 10 (the last digit of the minor-unit amount must be 0).',
      amountParam,
    );
  }
  const quantity = optInteger(raw, 'quantity', `${base}[quantity]`, 1);
  if (quantity === undefined) throw missingParam(`${base}[quantity]`);
  return { name, currency, unitAmount, quantity };
}

export function parseSessionCreate(params: Params, now: number): ParsedSession {
  rejectUnknown(params, SESSION_PARAMS);
  const mode = reqString(params, 'mode');
  if (!['payment', 'setup', 'subscription'].includes(mode)) {
    throw invalidParam(`Invalid mode: must be one of payment, setup, or subscription`, 'mode');
  }
  if (mode !== 'payment') throw invalidParam(`The fake Stripe API supports only mode=payment (got ${mode}).`, 'mode');
  const rawItems = optArray(params, 'line_items');
  if (!rawItems || rawItems.length === 0) throw missingParam('line_items');
  const lineItems = rawItems.map(parseLineItem);
  const currency = lineItems[0].currency;
  if (lineItems.some((item) => item.currency !== currency)) {
    throw invalidParam('All line_items must use the same currency.', 'line_items');
  }
  const amountTotal = lineItems.reduce((sum, item) => sum + item.unitAmount * item.quantity, 0);
  const minimum = MINIMUM_AMOUNT[currency];
  if (minimum !== undefined && amountTotal < minimum) {
    throw invalidParam(
      `The Checkout Session's total amount due must add up to at least ${formatAmount(minimum, currency)}`,
      undefined,
      'amount_too_small',
    );
  }
  const successUrl = reqString(params, 'success_url');
  checkUrl(successUrl, 'success_url');
  const cancelUrl = optString(params, 'cancel_url') ?? null;
  checkUrl(cancelUrl ?? undefined, 'cancel_url');
  const customerEmail = optString(params, 'customer_email') ?? null;
  if (customerEmail !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(customerEmail)) {
    throw invalidParam(`Invalid email address: ${customerEmail}`, 'customer_email', 'email_invalid');
  }
  const clientReferenceId = optString(params, 'client_reference_id') ?? null;
  if (clientReferenceId !== null && clientReferenceId.length > 200) {
    throw invalidParam('client_reference_id must be at most 200 characters.', 'client_reference_id');
  }
  const expiresAt = optInteger(params, 'expires_at') ?? now + 24 * 3600;
  if (expiresAt > now + 24 * 3600) {
    throw invalidParam(
      'The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.',
      'expires_at',
    );
  }
  if (expiresAt < now + 30 * 60) {
    throw invalidParam(
      'The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.',
      'expires_at',
    );
  }
  const piData = optObject(params, 'payment_intent_data') ?? {};
  return {
    lineItems,
    currency,
    amountTotal,
    metadata: optMetadata(params),
    paymentIntentMetadata: optMetadata(piData, 'metadata', 'payment_intent_data[metadata]'),
    customerEmail,
    clientReferenceId,
    successUrl,
    cancelUrl,
    expiresAt,
  };
}

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

export interface ParsedRefund {
  paymentIntent: string | undefined;
  charge: string | undefined;
  amount: number | undefined;
  reason: RefundReason | null;
  metadata: Metadata;
}

export function parseRefundCreate(params: Params): ParsedRefund {
  rejectUnknown(params, REFUND_PARAMS);
  const paymentIntent = optString(params, 'payment_intent');
  const charge = optString(params, 'charge');
  if (!paymentIntent && !charge) {
    throw invalidParam(
      'One of the following params should be provided for this request: payment_intent or charge.',
      'payment_intent',
      'parameter_missing',
    );
  }
  const amount = optInteger(params, 'amount', 'amount', 1);
  const rawReason = optString(params, 'reason');
  const reasons: readonly string[] = ['duplicate', 'fraudulent', 'requested_by_customer'];
  if (rawReason !== undefined && !reasons.includes(rawReason)) {
    throw invalidParam(
      `Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer`,
      'reason',
      'parameter_invalid_string',
    );
  }
  return {
    paymentIntent,
    charge,
    amount,
    reason: (rawReason as RefundReason | undefined) ?? null,
    metadata: optMetadata(params),
  };
}

export interface ParsedEndpoint {
  url: string;
  enabledEvents: string[];
  description: string | null;
  metadata: Metadata;
  apiVersion: string | null;
}

export function parseEndpointCreate(params: Params, livemode: boolean): ParsedEndpoint {
  rejectUnknown(params, ENDPOINT_PARAMS);
  const url = reqString(params, 'url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidParam(`Invalid URL: ${url}`, 'url', 'url_invalid');
  }
  if (livemode && parsed.protocol !== 'https:') {
    throw invalidParam('Invalid URL: URLs for live mode webhook endpoints must use HTTPS.', 'url', 'url_invalid');
  }
  const rawEvents = optArray(params, 'enabled_events');
  if (!rawEvents || rawEvents.length === 0) throw missingParam('enabled_events');
  const enabledEvents = rawEvents.map((event, i) => {
    if (typeof event !== 'string' || !(event === '*' || /^[a-z_]+(\.[a-z_]+)+$/.test(event))) {
      throw invalidParam(
        `Invalid enabled_events[${i}]: ${String(event)} is not a valid event type.`,
        `enabled_events[${i}]`,
      );
    }
    return event;
  });
  return {
    url,
    enabledEvents,
    description: optString(params, 'description') ?? null,
    metadata: optMetadata(params),
    apiVersion: optString(params, 'api_version') ?? null,
  };
}
