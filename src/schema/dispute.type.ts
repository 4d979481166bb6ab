import { Field, ID, ObjectType } from 'type-graphql';
import { DisputeStatus } from './enums.js';
import { Money } from './money.type.js';

@ObjectType({
  description:
    "A dispute (chargeback) of a payment by the cardholder's bank. While its funds are withdrawn and not reinstated, " +
    "its amount is taken off the invoice's paid amount (Invoice.paymentSummary.disputed), so a paid invoice re-opens.",
})
export class Dispute {
  @Field(() => ID, { description: 'Workestra id of the dispute.' })
  id!: string;

  @Field(() => String, {
    description: "The provider's id of the dispute (`dp_…` for Stripe) or chargeback (`chb_…` for Mollie).",
  })
  providerDisputeId!: string;

  @Field(() => Money, { description: 'The disputed amount.' })
  amount!: Money;

  @Field(() => DisputeStatus, { description: 'Where the dispute stands; see DisputeStatus for what to do in each.' })
  status!: DisputeStatus;

  @Field(() => String, {
    nullable: true,
    description:
      "The bank's reason as the provider reports it (e.g. `fraudulent`, `product_not_received`, or a SEPA code such as `MD06`); null when none was given.",
  })
  reason!: string | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "Deadline for submitting evidence in the provider's dashboard while the status is NEEDS_RESPONSE; missing it loses the " +
      'dispute. Null when the provider takes no evidence (e.g. chargebacks already decided).',
  })
  evidenceDueBy!: Date | null;

  @Field(() => Boolean, {
    description:
      "True while the disputed amount is taken out of the merchant's balance (withdrawn and not reinstated): it is not counted as paid.",
  })
  fundsWithdrawn!: boolean;

  @Field(() => Date, { description: 'When the dispute was first recorded.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When the dispute last changed.' })
  updatedAt!: Date;
}
