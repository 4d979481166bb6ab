import type { MikroORM } from '@mikro-orm/postgresql';
import { InvoicePayment, PaymentProviderAccount } from '../entities/index.js';
import { LedgerStatus } from '../vocabulary/index.js';
import type { Logger } from '../observability/logger.js';
import type { ProviderCredentials } from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import type { PaymentUpdate } from '../vocabulary/settlement-event.js';
import type { SettlementService } from './settlement.service.js';

export interface ReconcileSummary {
  checked: number;
  settled: number;
  cancelled: number;
  unchanged: number;
  failed: number;
}

export interface ReconcileOptions {
  workspaceId?: string;
  dryRun?: boolean;
  /** Rows looked at per pass (oldest first). */
  limit?: number;
}

/**
 * Catches webhooks that never arrived (misconfigured endpoint, a secret regenerated late): asks the provider about
 * PENDING ledger rows whose checkout has expired or that have been pending longer than a threshold, and applies what
 * it learns through the same idempotent settlement path (succeeded → settle, expired → CANCELLED).
 */
export class Reconciler {
  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly settlement: SettlementService,
    private readonly logger: Logger,
    private readonly pendingAfterMs: number,
  ) {}

  async runOnce(options: ReconcileOptions = {}): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { checked: 0, settled: 0, cancelled: 0, unchanged: 0, failed: 0 };
    const em = this.orm.em.fork();
    const now = new Date();
    const rows = await em.find(
      InvoicePayment,
      {
        status: LedgerStatus.PENDING,
        $or: [{ expiresAt: { $lt: now } }, { createdAt: { $lt: new Date(now.getTime() - this.pendingAfterMs) } }],
        ...(options.workspaceId ? { workspaceId: options.workspaceId } : {}),
      },
      { orderBy: { createdAt: 'asc' }, limit: options.limit ?? 500 },
    );
    const credentials = new Map<string, ProviderCredentials | null>();
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
      if (!creds || !this.providers.has(row.provider)) continue; // disconnected: nothing to ask
      summary.checked++;
      try {
        const checkout = await this.providers.get(row.provider).getCheckout(creds, row.providerReference);
        const outcome: PaymentUpdate['outcome'] | null =
          checkout.status === 'complete' && checkout.paid
            ? 'succeeded'
            : checkout.status === 'expired'
              ? 'cancelled'
              : null;
        if (!outcome) {
          summary.unchanged++;
          continue;
        }
        if (options.dryRun) {
          summary[outcome === 'succeeded' ? 'settled' : 'cancelled']++;
          continue;
        }
        const result = await this.settlement.apply(
          row.provider,
          row.workspaceId,
          {
            eventId: `reconcile:${row.providerReference}:${outcome}`,
            type: 'reconcile',
            updates: [
              {
                kind: 'payment',
                reference: row.providerReference,
                providerPaymentId: checkout.providerPaymentId,
                outcome,
                amountMinor: outcome === 'succeeded' ? checkout.amountMinor : row.amountMinor,
                currency: checkout.currency || row.currency.trim(),
                invoiceId: row.invoiceId,
                metadataWorkspaceId: row.workspaceId,
                occurredAt: now,
              },
            ],
          },
          null,
        );
        if (result === 'applied') summary[outcome === 'succeeded' ? 'settled' : 'cancelled']++;
        else summary.unchanged++;
      } catch (error) {
        summary.failed++;
        this.logger.warn(
          {
            workspaceId: row.workspaceId,
            reference: row.providerReference,
            reason: error instanceof Error ? error.message : String(error),
          },
          'reconcile: payment not checked',
        );
      }
    }
    if (summary.checked) this.logger.info({ ...summary, dryRun: Boolean(options.dryRun) }, 'reconcile pass');
    return summary;
  }
}
