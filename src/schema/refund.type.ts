import { Field, ID, ObjectType } from 'type-graphql';
import { RefundStatus } from './enums.js';
import { Money } from './money.type.js';

@ObjectType({ description: 'A refund of (part of) a payment.' })
export class Refund {
  @Field(() => ID, { description: 'Workestra id of the refund.' })
  id!: string;

  /** Not exposed as a scalar: Refund.payment loads the payment through the workspace-scoped DataLoader. */
  paymentId!: string;

  @Field(() => String, {
    nullable: true,
    description: "The provider's refund id (`re_…`); null until the provider has answered.",
  })
  providerRefundId!: string | null;

  @Field(() => Money, { description: 'The refunded amount.' })
  amount!: Money;

  @Field(() => RefundStatus, { description: 'Where the refund stands at the provider.' })
  status!: RefundStatus;

  @Field(() => String, { nullable: true, description: 'Free-text reason given when the refund was requested.' })
  reason!: string | null;

  @Field(() => Date, { description: 'When the refund was recorded.' })
  createdAt!: Date;
}
