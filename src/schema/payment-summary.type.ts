import { Field, ObjectType } from 'type-graphql';
import { Money } from './money.type.js';

@ObjectType({
  description:
    "Where an invoice's money stands, in the invoice's currency, computed from the payment ledger: what the UI or the AI " +
    'assistant shows without adding anything up itself.',
})
export class PaymentSummary {
  @Field(() => Money, {
    description:
      "Paid: succeeded payments minus succeeded refunds minus funds withdrawn by disputes (the invoice's paid amount).",
  })
  paid!: Money;

  @Field(() => Money, { description: 'Refunded: the sum of succeeded refunds.' })
  refunded!: Money;

  @Field(() => Money, {
    description: 'Disputed: funds withdrawn by disputes or chargebacks and not (yet) reinstated.',
  })
  disputed!: Money;

  @Field(() => Money, { description: 'Outstanding: what the customer still owes, max(total − paid, 0).' })
  outstanding!: Money;

  @Field(() => Money, {
    description:
      'Overpaid: what was paid beyond the total, max(paid − total, 0) — e.g. a second checkout paid after the first; refund it with refundPayment.',
  })
  overpaid!: Money;
}
