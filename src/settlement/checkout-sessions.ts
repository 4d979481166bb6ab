import type { MikroORM } from '@mikro-orm/postgresql';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import { cancelPendingCheckout, pendingCheckouts } from '../db/ledger.repository.js';
import { PaymentProviderAccount, type InvoicePayment } from '../entities/index.js';
import type { Logger } from '../observability/logger.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Provider } from '../vocabulary/index.js';

/** A PENDING ledger row whose checkout is to be closed. */
export type OpenCheckout = Pick<InvoicePayment, 'id' | 'workspaceId' | 'invoiceId' | 'provider' | 'providerReference'>;

/** What closing a set of open checkouts did. */
export interface ExpirySummary {
  /** Closed at the provider (now or before): their ledger rows are CANCELLED. */
  expired: number;
  /** Completed meanwhile: their events settle them. */
  completed: number;
  /** Still open: the provider lets them expire on their own (the reconciler cancels them then). */
  open: number;
  /** Could not be asked (the provider was unreachable): the reconciler tries again. */
  failed: number;
}

/**
 * Closes open checkouts at the provider so that no more money can move through them: the other checkouts of an
 * invoice once it is paid (one invoice, one payment), and every open checkout of an account being disconnected.
 * Uses the account's credentials even while a disconnect's grace window keeps them.
 */
export class CheckoutSessions {
  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly logger: Logger,
  ) {}

  /** The invoice's PENDING checkouts other than the one that paid it. */
  async expireOthers(paid: { workspaceId: string; invoiceId: string; reference: string }): Promise<ExpirySummary> {
    const rows = await pendingCheckouts(this.orm.em.fork(), {
      invoiceId: paid.invoiceId,
      exceptReference: paid.reference,
    });
    return this.expire(rows.filter((row) => row.workspaceId === paid.workspaceId));
  }

  /** Every PENDING checkout of a workspace at a provider. */
  async expireAll(workspaceId: string, provider: Provider): Promise<ExpirySummary> {
    return this.expire(await pendingCheckouts(this.orm.em.fork(), { workspaceId, provider }));
  }

  /** Closes the checkouts of these ledger rows; a failure is logged and counted, never thrown. */
  async expire(rows: OpenCheckout[]): Promise<ExpirySummary> {
    const summary: ExpirySummary = { expired: 0, completed: 0, open: 0, failed: 0 };
    const em = this.orm.em.fork();
    for (const row of rows) {
      const log = this.logger.child({ workspaceId: row.workspaceId, invoiceId: row.invoiceId, provider: row.provider });
      try {
        const account = await em.findOne(PaymentProviderAccount, {
          workspaceId: row.workspaceId,
          provider: row.provider,
        });
        const credentials = account ? this.secrets.credentials(account) : null;
        if (!credentials || !this.providers.has(row.provider)) {
          summary.failed++;
          continue;
        }
        const state = await this.providers.get(row.provider).expireCheckout(credentials, row.providerReference);
        if (state === 'expired') {
          await cancelPendingCheckout(em, row.id);
          summary.expired++;
        } else if (state === 'complete') summary.completed++;
        else summary.open++;
        log.info({ reference: row.providerReference, state }, 'open checkout closed');
      } catch (error) {
        summary.failed++;
        log.warn(
          { reference: row.providerReference, reason: error instanceof Error ? error.message : String(error) },
          'could not close an open checkout; the reconciler tries again',
        );
      }
    }
    return summary;
  }
}
