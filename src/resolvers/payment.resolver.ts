import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { InvoicePayment } from '../entities/index.js';
import { requireAuth, type GraphQLContext } from '../schema/context.js';
import { Payment } from '../schema/payment.type.js';
import { Refund } from '../schema/refund.type.js';
import { toPayment, toRefund } from './mappers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Resolver(() => Payment)
export class PaymentResolver {
  @Query(() => Payment, {
    nullable: true,
    description: 'One payment of the caller\'s workspace by its id; null when it does not exist or belongs to another workspace.',
  })
  async payment(@Arg('id', () => ID, { description: 'The payment (ledger row) id.' }) id: string, @Ctx() context: GraphQLContext): Promise<Payment | null> {
    const auth = requireAuth(context, 'read');
    if (!UUID.test(id)) return null;
    const row = await context.em.findOne(InvoicePayment, { id: id.toLowerCase(), workspaceId: auth.workspaceId });
    return row ? toPayment(row) : null;
  }

  @FieldResolver(() => [Refund], { description: 'Refunds of this payment, newest first.' })
  async refunds(@Root() payment: Payment, @Ctx() context: GraphQLContext): Promise<Refund[]> {
    requireAuth(context, 'read');
    const rows = await context.loaders().refundsByPayment.load(payment.id);
    return rows.map(toRefund);
  }
}
