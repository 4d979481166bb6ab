import { Field, ID, InputType } from 'type-graphql';
import { IDEMPOTENCY_KEY_RULES, MAX_REFUND_REASON } from '../vocabulary/index.js';
import { PaymentMode } from './enums.js';
import { SafeInt } from './scalars.js';

@InputType({
  description:
    "Stripe API keys for the caller's workspace. Saving verifies them with Stripe, stores them encrypted and activates Stripe.",
})
export class SaveStripeKeysInput {
  @Field(() => String, {
    description:
      'Secret key: sk_test_… in TEST mode, sk_live_… in LIVE mode (restricted rk_… keys are accepted). Never shown again, only masked.',
  })
  secretKey!: string;

  @Field(() => String, { description: 'Publishable key: pk_test_… or pk_live_…, matching the mode.' })
  publishableKey!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Webhook signing secret (whsec_…). Omit it to let the service create the webhook endpoint in Stripe itself and store the secret Stripe returns.',
  })
  webhookSecret?: string | null;

  @Field(() => PaymentMode, { description: 'TEST or LIVE; must match the key prefixes.' })
  mode!: PaymentMode;

  @Field(() => Boolean, { description: 'Whether sent invoices offer a card pay link through Stripe.' })
  offerCardPayments!: boolean;
}

@InputType({ description: 'A refund request. Safe to retry: the same idempotencyKey returns the same refund.' })
export class RefundPaymentInput {
  @Field(() => ID, {
    description: 'The payment (ledger row id, Payment.id) to refund; it must be SUCCEEDED or PARTIALLY_REFUNDED.',
  })
  paymentId!: string;

  @Field(() => SafeInt, {
    nullable: true,
    description:
      'Amount to refund in minor units (cents). Omit to refund everything still refundable (the payment amount minus succeeded and pending refunds).',
  })
  amountMinor?: number | null;

  @Field(() => String, {
    nullable: true,
    description: `Why the refund is made (free text of at most ${MAX_REFUND_REASON} characters, kept with the refund). "duplicate", "fraudulent" or "requested_by_customer" are also passed to Stripe as its reason code.`,
  })
  reason?: string | null;

  @Field(() => String, {
    description: `Your unique key for this refund, scoped to the workspace: ${IDEMPOTENCY_KEY_RULES} (e.g. "refund-INV-0042-1"; a UUID works). Reusing it with the same payment and amount returns the same refund (safe to retry after a timeout or PROVIDER_ERROR); with another payment or amount it is a CONFLICT. A key that breaks these rules is BAD_USER_INPUT.`,
  })
  idempotencyKey!: string;
}

@InputType({
  description:
    "A Mollie API key for the caller's workspace. Saving verifies it with Mollie, stores it encrypted and activates Mollie.",
})
export class SaveMollieKeysInput {
  @Field(() => String, {
    description: 'API key: test_… in TEST mode, live_… in LIVE mode. Never shown again, only masked.',
  })
  apiKey!: string;

  @Field(() => PaymentMode, { description: 'TEST or LIVE; must match the key prefix.' })
  mode!: PaymentMode;

  @Field(() => Boolean, { description: 'Whether sent invoices offer a card pay link through Mollie.' })
  offerCardPayments!: boolean;
}
