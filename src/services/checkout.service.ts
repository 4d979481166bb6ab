import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import { PAY_TOKEN_FORMAT } from '../crypto/pay-token.js';
import { cancelPendingCheckout, recordPendingCheckout } from '../db/ledger.repository.js';
import { nextSessionGeneration } from '../db/pay-link.repository.js';
import { Invoice, InvoicePayment, PayLink, PaymentProviderAccount } from '../entities/index.js';
import type { Logger } from '../observability/logger.js';
import type { HostedCheckout, PaymentProviderAdapter, ProviderCredentials } from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { InvoiceStatus, LedgerStatus, webhookUrl } from '../vocabulary/index.js';
import type { PayLinkService } from './pay-link.service.js';
import { providerFailureDetail } from './provider-errors.js';

/** What a pay-link click leads to: the provider's checkout, or one of our pages. */
export type ClickOutcome =
  | { kind: 'redirect'; url: string; /** An open session of an earlier click, not a new one. */ reused: boolean }
  | { kind: 'page'; status: number; page: 'unknown' | 'paid' | 'void' | 'unavailable' | 'too_small' | 'provider_down' };

/** A session this close to expiry is not handed to a customer: they need time to type their card. */
const REUSE_MIN_REMAINING_MS = 10 * 60 * 1000;
/** A session created this recently by a click is reused without confirming with the provider that it is open. */
const REUSE_WITHOUT_CHECK_MS = 60 * 1000;

/**
 * `GET /pay/:token`: re-checks the invoice and provider at click time, reuses an open session for the same
 * amount, otherwise creates one (expiring superseded ones) and records it as a PENDING ledger row.
 */
export class CheckoutService {
  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly payLinks: PayLinkService,
    private readonly publicBaseUrl: string,
    private readonly logger: Logger,
  ) {}

  async click(token: string): Promise<ClickOutcome> {
    if (!PAY_TOKEN_FORMAT.test(token)) return page(404, 'unknown');
    const em = this.orm.em.fork();
    const link = await em.findOne(PayLink, { token });
    if (!link) return page(404, 'unknown');
    const invoice = await em.findOne(Invoice, { id: link.invoiceId, workspaceId: link.workspaceId });
    if (!invoice) return page(404, 'unknown');
    if (invoice.status === InvoiceStatus.VOID) return page(410, 'void');
    if (
      invoice.status === InvoiceStatus.PAID ||
      (invoice.status !== InvoiceStatus.DRAFT && invoice.totalMinor - invoice.paidMinor <= 0)
    )
      return page(410, 'paid');
    const accounts = await em.find(PaymentProviderAccount, { workspaceId: link.workspaceId });
    const account = this.payLinks.payingAccount(accounts);
    const plan = this.payLinks.plan(invoice, account, link.amountMinor ?? null);
    if (!plan.ok || !account) return page(410, plan.ok || plan.reason !== 'too_small' ? 'unavailable' : 'too_small');

    const adapter = this.providers.get(account.provider);
    const credentials = this.secrets.credentials(account)!;
    const log = this.logger.child({ workspaceId: link.workspaceId, invoiceId: invoice.id, provider: account.provider });
    try {
      const reusable = await this.supersedeOpenSessions(em, adapter, credentials, link, plan.amountMinor);
      if (reusable) return { kind: 'redirect', url: reusable, reused: true };
      const checkout = await this.createSession(
        em,
        adapter,
        credentials,
        link,
        invoice,
        account.workspaceDomain,
        plan.amountMinor,
      );
      await recordPendingCheckout(em, {
        workspaceId: invoice.workspaceId,
        invoiceId: invoice.id,
        provider: account.provider,
        reference: checkout.reference,
        amountMinor: checkout.amountMinor,
        currency: invoice.currency,
        payLinkId: link.id,
        checkoutUrl: checkout.url,
        expiresAt: checkout.expiresAt,
      });
      log.info({ reference: checkout.reference, amountMinor: checkout.amountMinor }, 'checkout session created');
      return { kind: 'redirect', url: checkout.url!, reused: false };
    } catch (error) {
      log.warn({ detail: providerFailureDetail(error) }, 'checkout could not be opened');
      return page(502, 'provider_down');
    }
  }

  /**
   * Looks at this link's PENDING sessions: returns the URL of one that is open, for this amount and not about to
   * expire (confirmed with the provider); expires the others at the provider and cancels them in the ledger.
   */
  private async supersedeOpenSessions(
    em: EntityManager,
    adapter: PaymentProviderAdapter,
    credentials: ProviderCredentials,
    link: PayLink,
    amountMinor: number,
  ): Promise<string | null> {
    const pending = await em.find(
      InvoicePayment,
      { payLinkId: link.id, status: LedgerStatus.PENDING },
      { orderBy: { createdAt: 'desc' } },
    );
    let reuse: string | null = null;
    let superseded = false;
    for (const row of pending) {
      const fresh = row.expiresAt && row.expiresAt.getTime() - Date.now() > REUSE_MIN_REMAINING_MS;
      if (!reuse && row.amountMinor === amountMinor && fresh && row.provider === adapter.provider) {
        // Created moments ago by an earlier click: reused without asking the provider (clicks cost no API calls).
        if (row.checkoutUrl && Date.now() - row.createdAt.getTime() < REUSE_WITHOUT_CHECK_MS) {
          reuse = row.checkoutUrl;
          continue;
        }
        const current = await adapter.getCheckout(credentials, row.providerReference);
        if (current.status === 'open' && current.url) {
          reuse = current.url;
          continue;
        }
      }
      if (row.provider !== adapter.provider) continue;
      // Completed sessions are left alone: their webhook settles them. Only closed sessions become CANCELLED.
      if ((await adapter.expireCheckout(credentials, row.providerReference)) === 'expired') {
        await cancelPendingCheckout(em, row.id);
      }
      superseded = true;
    }
    // A provider replays the original response for a known Idempotency-Key, so a superseded session must never be
    // asked for again under its key: the next session gets a new generation.
    if (!reuse && superseded) await this.nextGeneration(em, link);
    return reuse;
  }

  private async createSession(
    em: EntityManager,
    adapter: PaymentProviderAdapter,
    credentials: ProviderCredentials,
    link: PayLink,
    invoice: Invoice,
    workspaceDomain: string,
    amountMinor: number,
  ): Promise<HostedCheckout> {
    for (let attempt = 0; ; attempt++) {
      const checkout = await adapter.createCheckout(credentials, {
        workspaceId: invoice.workspaceId,
        invoiceId: invoice.id,
        invoiceNumber: invoice.number,
        payLinkId: link.id,
        amountMinor,
        currency: invoice.currency,
        customerEmail: invoice.customerEmail || null,
        partial: link.amountMinor !== null && link.amountMinor !== undefined,
        successUrl: `${this.publicBaseUrl}/pay/success`,
        cancelUrl: `${this.publicBaseUrl}/pay/cancel`,
        idempotencyKey: `workestra-paylink-${link.id}-${amountMinor}-${link.sessionGeneration}`,
        webhookUrl: webhookUrl(workspaceDomain, adapter.provider),
      });
      const known = await em.findOne(
        InvoicePayment,
        { provider: adapter.provider, providerReference: checkout.reference },
        { fields: ['status'] },
      );
      const usable =
        checkout.status === 'open' &&
        checkout.url &&
        (!known || known.status === LedgerStatus.PENDING) &&
        (!checkout.expiresAt || checkout.expiresAt.getTime() - Date.now() > REUSE_MIN_REMAINING_MS);
      if (usable) return checkout;
      // The provider replayed an older, closed session for this key: move to a new generation.
      if (attempt >= 2) throw new Error('the provider keeps returning a closed checkout session');
      await this.nextGeneration(em, link);
    }
  }

  private async nextGeneration(em: EntityManager, link: PayLink): Promise<void> {
    link.sessionGeneration = await nextSessionGeneration(em, link.id);
  }
}

const page = (status: number, kind: Extract<ClickOutcome, { kind: 'page' }>['page']): ClickOutcome => ({
  kind: 'page',
  status,
  page: kind,
});
