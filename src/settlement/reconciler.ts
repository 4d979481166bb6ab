import type { MikroORM } from '@mikro-orm/postgresql';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import { deferReconcile, reconcileCandidates, type ReconcileCandidate } from '../db/reconcile.repository.js';
import { PaymentProviderAccount } from '../entities/index.js';
import type { Logger } from '../observability/logger.js';
import type { HostedCheckout, ProviderCredentials } from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { PaymentOutcome } from '../vocabulary/index.js';
import type { CheckoutSessions } from './checkout-sessions.js';
import type { SettlementService } from './settlement.service.js';

export interface ReconcileSummary {
  checked: number;
  settled: number;
  cancelled: number;
  /** Open checkouts of paid invoices or disconnected accounts closed at the provider. */
  expired: number;
  unchanged: number;
  failed: number;
}

export interface ReconcileOptions {
  workspaceId?: string;
  dryRun?: boolean;
  /** Provider checks per pass at most (oldest rows first). */
  limit?: number;
}

const PAGE = 200;

/**
 * Catches webhooks that never arrived (misconfigured endpoint, a secret regenerated late): asks the provider about
 * PENDING ledger rows whose checkout has expired or that have been pending longer than a threshold, and applies what
 * it learns through the same idempotent settlement path (succeeded → settle, expired → CANCELLED). It also closes the
 * checkouts still open on paid invoices and on disconnected accounts (a close that failed after the commit is retried
 * here). A row it cannot check is asked about again only after `retryAfterMs`, so it never blocks the rows behind it.
 */
export class Reconciler {
  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly settlement: SettlementService,
    private readonly sessions: CheckoutSessions,
    private readonly logger: Logger,
    private readonly pendingAfterMs: number,
    private readonly retryAfterMs: number,
  ) {}

  async runOnce(options: ReconcileOptions = {}): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { checked: 0, settled: 0, cancelled: 0, expired: 0, unchanged: 0, failed: 0 };
    const em = this.orm.em.fork();
    const budget = options.limit ?? 2000;
    const credentials = new Map<string, ProviderCredentials | null>();
    const failed: string[] = [];
    let after: { cursor: string; id: string } | null = null;
    while (summary.checked < budget) {
      const rows = await reconcileCandidates(em, {
        pendingBefore: new Date(Date.now() - this.pendingAfterMs),
        workspaceId: options.workspaceId,
        after,
        limit: Math.min(PAGE, budget - summary.checked),
      });
      for (const row of rows) {
        const key = `${row.workspaceId}|${row.provider}`;
        if (!credentials.has(key)) {
          const account = await em.findOne(PaymentProviderAccount, {
            workspaceId: row.workspaceId,
            provider: row.provider,
          });
          credentials.set(key, account ? this.secrets.credentials(account) : null);
        }
        const creds = credentials.get(key);
        if (!creds || !this.providers.has(row.provider)) continue;
        summary.checked++;
        try {
          summary[await this.reconcile(row, creds, options.dryRun ?? false)]++;
        } catch (error) {
          summary.failed++;
          failed.push(row.id);
          const reason = error instanceof Error ? error.message : String(error);
          this.logger.warn(
            { workspaceId: row.workspaceId, reference: row.providerReference, reason },
            'reconcile: payment not checked',
          );
        }
      }
      if (rows.length === 0) break;
      after = { cursor: rows[rows.length - 1].cursor, id: rows[rows.length - 1].id };
    }
    if (!options.dryRun) await deferReconcile(em, failed, new Date(Date.now() + this.retryAfterMs));
    if (summary.checked) this.logger.info({ ...summary, dryRun: Boolean(options.dryRun) }, 'reconcile pass');
    return summary;
  }

  /** Asks the provider about one row and acts on the answer. */
  private async reconcile(
    row: ReconcileCandidate,
    credentials: ProviderCredentials,
    dryRun: boolean,
  ): Promise<'settled' | 'cancelled' | 'expired' | 'unchanged'> {
    const checkout = await this.providers.get(row.provider).getCheckout(credentials, row.providerReference);
    const outcome: PaymentOutcome | null =
      checkout.status === 'complete' && checkout.paid
        ? 'succeeded'
        : checkout.status === 'expired'
          ? 'cancelled'
          : null;
    if (!outcome) {
      if (checkout.status !== 'open' || !(row.invoicePaid || row.accountDisconnected)) return 'unchanged';
      if (dryRun) return 'expired';
      const closed = await this.sessions.expire([row]);
      if (closed.failed) throw new Error('the provider could not close the checkout');
      return closed.expired ? 'expired' : 'unchanged';
    }
    if (dryRun) return outcome === 'succeeded' ? 'settled' : 'cancelled';
    const result = await this.settlement.apply(row.provider, row.workspaceId, this.event(row, checkout, outcome), null);
    return result === 'applied' ? (outcome === 'succeeded' ? 'settled' : 'cancelled') : 'unchanged';
  }

  private event(row: ReconcileCandidate, checkout: HostedCheckout, outcome: PaymentOutcome) {
    return {
      eventId: `reconcile:${row.providerReference}:${outcome}`,
      type: 'reconcile',
      updates: [
        {
          kind: 'payment' as const,
          reference: row.providerReference,
          providerPaymentId: checkout.providerPaymentId,
          outcome,
          amountMinor: outcome === 'succeeded' ? checkout.amountMinor : row.amountMinor,
          currency: checkout.currency || row.currency,
          invoiceId: row.invoiceId,
          metadataWorkspaceId: row.workspaceId,
          occurredAt: new Date(),
        },
      ],
    };
  }
}
