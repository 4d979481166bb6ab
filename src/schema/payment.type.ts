import { Field, ID, ObjectType } from 'type-graphql';
import { PaymentProvider, PaymentStatus } from './enums.js';
import { Money } from './money.type.js';

@ObjectType({
  description: "One provider payment in an invoice's ledger (one hosted checkout at the provider).",
})
export class Payment {
  @Field(() => ID, { description: 'Workestra id of the ledger row.' })
  id!: string;

  /** Not exposed: used to load refunds. */
  invoiceId!: string;

  @Field(() => PaymentProvider, { description: 'Provider that processed the payment.' })
  provider!: PaymentProvider;

  @Field(() => String, {
    description:
      'Provider reference: the id of the hosted checkout at the provider (`cs_…` checkout session, `tr_…` payment).',
  })
  providerReference!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Id of the last provider event applied to this payment; null before any.',
  })
  eventId!: string | null;

  @Field(() => PaymentStatus, { description: 'Current state of the payment.' })
  status!: PaymentStatus;

  @Field(() => Money, { description: 'Amount charged (or being charged while PENDING).' })
  amount!: Money;

  @Field(() => Money, { description: 'Sum of succeeded refunds of this payment.' })
  refunded!: Money;

  @Field(() => Date, { description: 'When the payment was first recorded.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When the payment last changed.' })
  updatedAt!: Date;
}
