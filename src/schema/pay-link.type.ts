import { Field, ObjectType } from 'type-graphql';
import { PaymentProvider } from './enums.js';
import { Money } from './money.type.js';

@ObjectType({ description: "A stable link the customer opens to pay on the provider's hosted checkout." })
export class PayLink {
  @Field(() => String, { description: 'The URL to share or put in the invoice email.' })
  url!: string;

  @Field(() => PaymentProvider, { description: 'Provider whose checkout the link opens.' })
  provider!: PaymentProvider;

  @Field(() => Money, {
    description: 'What the customer will be asked to pay now: the balance, or the partial amount of this link.',
  })
  amountDue!: Money;
}
