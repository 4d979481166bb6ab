import { Arg, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Invoice as InvoiceRow } from '../entities/index.js';
import { ensurePartialLink } from '../db/pay-link.repository.js';
import { requireAuth, type GraphQLContext } from './context.js';
import { Invoice } from '../schema/invoice.type.js';
import { PayLink } from '../schema/pay-link.type.js';
import { Payment } from '../schema/payment.type.js';
import { PaymentProviderSettings } from '../schema/provider-settings.type.js';
import { SafeInt } from '../schema/scalars.js';
import { Money } from '../schema/money.type.js';
import { toGraphQLProvider, toPayment, toPaymentSummary, toProviderSettings } from './mappers.js';
import { PaymentSummary } from '../schema/payment-summary.type.js';
import { PayLinkUnavailableReason } from '../schema/enums.js';
import type { PayLinkUnavailable } from '../services/pay-link.service.js';

const UNAVAILABLE_REASONS: Record<PayLinkUnavailable, PayLinkUnavailableReason> = {
  no_provider: PayLinkUnavailableReason.NO_PROVIDER,
  provider_inactive: PayLinkUnavailableReason.PROVIDER_INACTIVE,
  card_payments_off: PayLinkUnavailableReason.CARD_PAYMENTS_OFF,
  invoice_draft: PayLinkUnavailableReason.INVOICE_DRAFT,
  invoice_void: PayLinkUnavailableReason.INVOICE_VOID,
  invoice_paid: PayLinkUnavailableReason.INVOICE_PAID,
  nothing_due: PayLinkUnavailableReason.NOTHING_DUE,
  currency_unsupported: PayLinkUnavailableReason.CURRENCY_UNSUPPORTED,
};

/** Payment fields this subgraph adds to the Invoices service's Invoice. The root is the invoice row. */
@Resolver(() => Invoice)
export class InvoiceResolver {
  @FieldResolver(() => [Payment], { description: 'The payment ledger of this invoice, newest first.' })
  async payments(@Root() invoice: InvoiceRow, @Ctx() context: GraphQLContext): Promise<Payment[]> {
    requireAuth(context, 'read');
    const rows = await context.loaders().paymentsByInvoice.load(invoice.id);
    return rows.map(toPayment);
  }

  @FieldResolver(() => PayLinkUnavailableReason, {
    nullable: true,
    description:
      'Null when `payLink` would give a link; otherwise why not, so the UI or the assistant can say what to do (e.g. PROVIDER_INACTIVE: activate the provider).',
  })
  async payLinkUnavailableReason(
    @Root() invoice: InvoiceRow,
    @Ctx() context: GraphQLContext,
  ): Promise<PayLinkUnavailableReason | null> {
    requireAuth(context, 'read');
    const reason = context.services.payLinks.unavailableReason(invoice, await context.loaders().accounts());
    return reason ? UNAVAILABLE_REASONS[reason] : null;
  }

  @FieldResolver(() => PaymentSummary, {
    description:
      'Paid, refunded, disputed, outstanding and overpaid amounts of this invoice, from its payment ledger (batched with `payments`).',
  })
  async paymentSummary(@Root() invoice: InvoiceRow, @Ctx() context: GraphQLContext): Promise<PaymentSummary> {
    requireAuth(context, 'read');
    const rows = await context.loaders().paymentsByInvoice.load(invoice.id);
    return toPaymentSummary(invoice, rows);
  }

  @FieldResolver(() => PaymentProviderSettings, {
    nullable: true,
    description: "The active payment provider of the invoice's workspace (masked), or null.",
  })
  async providerSettings(
    @Root() _invoice: InvoiceRow,
    @Ctx() context: GraphQLContext,
  ): Promise<PaymentProviderSettings | null> {
    requireAuth(context, 'read');
    const active = (await context.loaders().accounts()).find((account) => account.active && account.secretKeySealed);
    return active ? toProviderSettings(active) : null;
  }

  @FieldResolver(() => PayLink, {
    nullable: true,
    description:
      'Stable customer pay link; null unless the invoice is sent/overdue/partial with a balance and an active provider offers card payment. amountMinor asks for a partial (deposit) link.',
  })
  async payLink(
    @Root() invoice: InvoiceRow,
    @Ctx() context: GraphQLContext,
    @Arg('amountMinor', () => SafeInt, {
      nullable: true,
      description:
        'Ask for a partial (deposit) link for this amount in minor units; must be > 0 and at most the balance. Omit for the full balance.',
    })
    amountMinor?: number | null,
  ): Promise<PayLink | null> {
    requireAuth(context, 'read');
    const { payLinks } = context.services;
    const account = payLinks.payingAccount(await context.loaders().accounts());
    const partial = amountMinor !== undefined && amountMinor !== null;
    if (!account) return null;
    const plan = payLinks.plan(invoice, account, null);
    if (!plan.ok) {
      // A balance too small for a card payment still tells a caller asking for a partial amount why.
      if (partial && plan.reason === 'too_small') payLinks.checkPartialAmount(invoice, account, amountMinor);
      return null;
    }
    const link = new PayLink();
    link.provider = toGraphQLProvider(account.provider);
    if (partial) {
      payLinks.checkPartialAmount(invoice, account, amountMinor);
      link.url = payLinks.url((await ensurePartialLink(context.em, invoice, amountMinor)).token);
      link.amountDue = Money.of(amountMinor, invoice.currency);
    } else {
      link.url = payLinks.url(await context.loaders().fullBalanceToken.load(invoice.id));
      link.amountDue = Money.of(plan.amountMinor, invoice.currency);
    }
    return link;
  }
}
