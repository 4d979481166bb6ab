import { Field, ObjectType } from 'type-graphql';
import { PaymentMode, PaymentProvider } from './enums.js';

@ObjectType({ description: "A workspace's connection to a payment provider. Secrets are only ever shown masked." })
export class PaymentProviderSettings {
  @Field(() => PaymentProvider, { description: 'The provider.' })
  provider!: PaymentProvider;

  @Field(() => PaymentMode, { description: 'Test or live credentials.' })
  mode!: PaymentMode;

  @Field(() => Boolean, { description: "Whether this provider is the workspace's active one (at most one is)." })
  active!: boolean;

  @Field(() => Boolean, { description: 'Whether sent invoices offer a card pay link through this provider.' })
  offerCardPayments!: boolean;

  @Field(() => String, { nullable: true, description: 'Publishable key (not secret); null for providers without one.' })
  publishableKey!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The secret key, masked: prefix and last 4 characters, e.g. `sk_test_…4242`.',
  })
  secretKeyMasked!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The webhook signing secret, masked (`whsec_…9f2c`); null for providers whose webhooks carry no signature.',
  })
  webhookSecretMasked!: string | null;

  @Field(() => String, { description: 'URL the provider must send webhooks to for this workspace.' })
  webhookUrl!: string;

  @Field(() => Date, { description: 'When these settings last changed.' })
  updatedAt!: Date;
}
