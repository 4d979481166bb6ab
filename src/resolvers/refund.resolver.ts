import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../errors.js';
import { requireAuth, type GraphQLContext } from './context.js';
import { Payment } from '../schema/payment.type.js';
import { Refund } from '../schema/refund.type.js';
import { toPayment } from './mappers.js';

@Resolver(() => Refund)
export class RefundResolver {
  @FieldResolver(() => Payment, {
    description:
      'The payment this refund gives money back from. Its `refunded` and `status` (PARTIALLY_REFUNDED, REFUNDED) show the effect ' +
      'of succeeded refunds, and `payment.invoice` leads on to the invoice. Batched: many refunds cost one SQL statement.',
  })
  async payment(@Root() refund: Refund, @Ctx() context: GraphQLContext): Promise<Payment> {
    requireAuth(context, 'read');
    // Workspace-scoped like every loader: a refund only ever reaches a payment of the caller's workspace.
    const row = await context.loaders().payment.load(refund.paymentId);
    if (!row) throw new NotFoundError(`The payment of refund ${refund.id} no longer exists`);
    return toPayment(row);
  }
}
