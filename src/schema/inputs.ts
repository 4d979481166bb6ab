import { Field, InputType } from 'type-graphql';
import { PaymentMode } from './enums.js';

@InputType({ description: 'Stripe API keys for the caller\'s workspace. Saving verifies them with Stripe, stores them encrypted and activates Stripe.' })
export class SaveStripeKeysInput {
  @Field(() => String, { description: 'Secret key: sk_test_… in TEST mode, sk_live_… in LIVE mode (restricted rk_… keys are accepted). Never shown again, only masked.' })
  secretKey!: string;

  @Field(() => String, { description: 'Publishable key: pk_test_… or pk_live_…, matching the mode.' })
  publishableKey!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Webhook signing secret (whsec_…). Omit it to let the service create the webhook endpoint in Stripe itself and store the secret Stripe returns.',
  })
  webhookSecret?: string | null;

  @Field(() => PaymentMode, { description: 'TEST or LIVE; must match the key prefixes.' })
  mode!: PaymentMode;

  @Field(() => Boolean, { description: 'Whether sent invoices offer a card pay link through Stripe.' })
  offerCardPayments!: boolean;
}
