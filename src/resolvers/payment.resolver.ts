import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { InvoicePayment, type Invoice as InvoiceRow } from '../entities/index.js';
import { NotFoundError } from '../errors.js';
import { Invoice } from '../schema/invoice.type.js';
import { requireAuth, type GraphQLContext } from './context.js';
import { RefundPaymentInput } from '../schema/inputs.js';
import { Payment } from '../schema/payment.type.js';
import { Refund } from '../schema/refund.type.js';
import { toDispute, toPayment, toRefund } from './mappers.js';
import { Dispute } from '../schema/dispute.type.js';
import { UUID } from '../uuid.js';

@Resolver(() => Payment)
export class PaymentResolver {
  @Query(() => Payment, {
    nullable: true,
    description:
      "One payment of the caller's workspace by its id; null when it does not exist or belongs to another workspace.",
  })
  async payment(
    @Arg('id', () => ID, { description: 'The payment (ledger row) id.' }) id: string,
    @Ctx() context: GraphQLContext,
  ): Promise<Payment | null> {
    const auth = requireAuth(context, 'read');
    if (!UUID.test(id)) return null;
    const row = await context.em.findOne(InvoicePayment, { id: id.toLowerCase(), workspaceId: auth.workspaceId });
    return row ? toPayment(row) : null;
  }

  @FieldResolver(() => Invoice, {
    description:
      'The invoice this payment pays (the Invoices service owns it; the gateway adds its number, customer and lines). ' +
      'Use it to go from a payment or refund back to the invoice, e.g. to read `paymentSummary` or `payLink` after a refund.',
  })
  async invoice(@Root() payment: Payment, @Ctx() context: GraphQLContext): Promise<InvoiceRow> {
    requireAuth(context, 'read');
    const invoice = await context.loaders().invoice.load(payment.invoiceId);
    // The ledger row and its invoice share the workspace; a missing row means the Invoices service deleted it.
    if (!invoice) throw new NotFoundError(`The invoice of payment ${payment.id} no longer exists`);
    return invoice;
  }

  @FieldResolver(() => [Refund], { description: 'Refunds of this payment, newest first.' })
  async refunds(@Root() payment: Payment, @Ctx() context: GraphQLContext): Promise<Refund[]> {
    requireAuth(context, 'read');
    const rows = await context.loaders().refundsByPayment.load(payment.id);
    return rows.map(toRefund);
  }

  @FieldResolver(() => [Dispute], {
    description:
      "Disputes (chargebacks) of this payment, newest first. A NEEDS_RESPONSE dispute needs evidence in the provider's dashboard before its evidenceDueBy; " +
      'while one is NEEDS_RESPONSE or UNDER_REVIEW the payment cannot be refunded.',
  })
  async disputes(@Root() payment: Payment, @Ctx() context: GraphQLContext): Promise<Dispute[]> {
    requireAuth(context, 'read');
    const rows = await context.loaders().disputesByPayment.load(payment.id);
    return rows.map(toDispute);
  }

  @Mutation(() => Refund, {
    description:
      'Refund all or part of a card payment through its provider. Needs the owner, admin or finance role. The refund is recorded at once ' +
      "(PENDING until the provider confirms; a SUCCEEDED refund lowers the invoice's paid amount, so the invoice returns to PARTIAL, SENT or OVERDUE). " +
      'Errors: BAD_USER_INPUT when the payment is not SUCCEEDED/PARTIALLY_REFUNDED, has an open dispute (NEEDS_RESPONSE or UNDER_REVIEW: answer the dispute instead), or the amount is not between 1 and the refundable amount ' +
      '(the message states the refundable amount); CONFLICT when idempotencyKey was used for a different refund; NOT_FOUND for an unknown payment; ' +
      'PROVIDER_ERROR when the provider cannot be reached (nothing was refunded; retry with the same idempotencyKey).',
  })
  async refundPayment(
    @Arg('input', () => RefundPaymentInput, { description: 'Which payment, how much, why, and your idempotency key.' })
    input: RefundPaymentInput,
    @Ctx() context: GraphQLContext,
  ): Promise<Refund> {
    const auth = requireAuth(context, 'refund');
    const refund = await context.services.refunds.refund(auth, {
      paymentId: input.paymentId,
      amountMinor: input.amountMinor ?? null,
      reason: input.reason ?? null,
      idempotencyKey: input.idempotencyKey,
    });
    return toRefund(refund);
  }
}
