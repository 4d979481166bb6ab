import type { MikroORM } from '@mikro-orm/postgresql';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import {
  asScheduledRun,
  auditedAccounts,
  ledgerPaymentsByProviderId,
  ledgerRowsByReference,
  ledgerRowsInRange,
} from '../db/audit.repository.js';
import type { AuditFixPublisher } from '../jetstream/audit-fix.publisher.js';
import type { Logger } from '../observability/logger.js';
import {
  InvalidCredentialsError,
  ProviderRequestError,
  ProviderUnavailableError,
  UnknownProviderError,
  type ProviderActivity,
  type ProviderCredentials,
} from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { compareLedger, type Discrepancy, type DiscrepancyKind } from '../settlement/audit-compare.js';
import { auditFixEvent, isRefundStandIn, type Provider } from '../vocabulary/index.js';

export type { Discrepancy, DiscrepancyKind };

export interface AuditOptions {
  since: Date;
  until: Date;
  workspaceId?: string;
  provider?: Provider;
  /** Publish a synthetic event for each `missing` and `status` discrepancy (needs `publish`). */
  fix?: boolean;
  publish?: AuditFixPublisher;
  /** Called after each account (progress bars, plain progress lines). */
  onAccount?(done: AccountDone): void;
}

export interface AccountDone {
  index: number;
  total: number;
  workspaceId: string;
  provider: Provider;
  providerObjects: number;
  ledgerRows: number;
  discrepancies: number;
  /** Why the account could not be audited (the others still are). */
  error?: string;
}

export interface AuditReport {
  checked: { accounts: number; providerObjects: number; ledgerRows: number };
  discrepancies: Discrepancy[];
  fixed: number;
  unreachable: Array<{ workspaceId: string; provider: Provider; reason: string }>;
}

/** Provider objects are listed this much beyond the range, so a row recorded a little after its object still matches. */
const MARGIN_MS = 3_600_000;
const BATCH = 250;
const KIND_ORDER = { payment: 0, refund: 1, dispute: 2 } as const;

/**
 * The ledger audit: for each account in scope, streams the provider's objects created in the range and the ledger's
 * rows of the range, page by page, and reports what differs (audit-compare). `fix` publishes one synthetic event per
 * `missing` or `status` discrepancy into the events stream; the normal consumer settles it.
 */
export class AuditService {
  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly logger: Logger,
  ) {}

  async run(options: AuditOptions): Promise<AuditReport> {
    const report: AuditReport = {
      checked: { accounts: 0, providerObjects: 0, ledgerRows: 0 },
      discrepancies: [],
      fixed: 0,
      unreachable: [],
    };
    const accounts = await auditedAccounts(this.orm.em.fork(), options);
    let index = 0;
    for (const account of accounts) {
      index++;
      const { workspaceId, provider } = account;
      const before = { ...report.checked, discrepancies: report.discrepancies.length };
      let error: string | undefined;
      try {
        const credentials = this.secrets.credentials(account);
        if (!credentials) throw new InvalidCredentialsError('the account has no keys');
        await this.auditAccount(workspaceId, provider, credentials, options, report);
        report.checked.accounts++;
      } catch (failure) {
        if (!isAccountProblem(failure)) throw failure; // the database or the stream: nothing else can be audited either
        error = failure.message;
        report.unreachable.push({ workspaceId, provider, reason: error });
        this.logger.warn({ workspaceId, provider, reason: error }, 'audit: account not audited');
      }
      options.onAccount?.({
        index,
        total: accounts.length,
        workspaceId,
        provider,
        providerObjects: report.checked.providerObjects - before.providerObjects,
        ledgerRows: report.checked.ledgerRows - before.ledgerRows,
        discrepancies: report.discrepancies.length - before.discrepancies,
        error,
      });
    }
    return report;
  }

  /**
   * The worker's audit of the last `lookbackMs`, fixing what it can; at most one run per interval across all workers
   * (see asScheduledRun: a run is skipped when another started within 90 % of the interval, so workers whose timers
   * drift apart still share one run). Null when another worker has this interval.
   */
  async runScheduled(lookbackMs: number, intervalMs: number, publish: AuditFixPublisher): Promise<AuditReport | null> {
    const until = new Date();
    const since = new Date(until.getTime() - lookbackMs);
    const report = await asScheduledRun(this.orm.em.fork(), intervalMs * 0.9, () =>
      this.run({ since, until, fix: true, publish }),
    );
    if (report) {
      this.logger.info(
        {
          since: since.toISOString(),
          until: until.toISOString(),
          ...report.checked,
          discrepancies: countByKind(report.discrepancies),
          fixed: report.fixed,
          unreachable: report.unreachable.length,
        },
        `audit: checked ${report.checked.accounts} accounts (${report.checked.providerObjects} provider objects, ${report.checked.ledgerRows} ledger rows), found ${report.discrepancies.length} discrepancies, fixed ${report.fixed}`,
      );
    }
    return report;
  }

  private async auditAccount(
    workspaceId: string,
    provider: Provider,
    credentials: ProviderCredentials,
    options: AuditOptions,
    report: AuditReport,
  ): Promise<void> {
    const em = this.orm.em.fork();
    const { since, until } = options;
    const seen = new Set<string>();
    /** Provider payment ids of payments missing from the ledger: their refunds and disputes are ours too. */
    const unledgered = new Map<string, string | null>();
    const found = async (discrepancies: Discrepancy[]) => {
      for (const discrepancy of discrepancies) {
        report.discrepancies.push(discrepancy);
        if (discrepancy.kind === 'missing' && discrepancy.fix?.kind === 'payment' && discrepancy.fix.providerPaymentId)
          unledgered.set(discrepancy.fix.providerPaymentId, discrepancy.invoiceId);
        if (options.fix && options.publish && discrepancy.fix) {
          const type = discrepancy.kind === 'missing' ? 'audit.missing' : 'audit.status';
          const state = discrepancy.providerState!.status;
          await options.publish(
            provider,
            workspaceId,
            auditFixEvent(type, discrepancy.reference, state, discrepancy.fix),
          );
          report.fixed++;
        }
      }
    };

    const flush = async (batch: ProviderActivity[]) => {
      batch.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind]); // payments first: their refunds may need them
      for (const kind of ['payment', 'refund', 'dispute'] as const) {
        const ofKind = batch.filter((activity) => activity.kind === kind);
        if (ofKind.length === 0) continue;
        const anonymous = ofKind.filter((activity) => !activity.workspaceId && activity.providerPaymentId);
        const owners = await ledgerPaymentsByProviderId(em, provider, [
          ...new Set(anonymous.map((activity) => activity.providerPaymentId!)),
        ]);
        const ours: ProviderActivity[] = [];
        for (const activity of ofKind) {
          const id = `${activity.kind}:${activity.reference}`;
          if (seen.has(id)) continue; // the second source (undelivered events) repeats what the lists showed
          let owner: { workspaceId: string | null; invoiceId: string | null } = activity;
          if (!activity.workspaceId && activity.kind !== 'payment' && activity.providerPaymentId) {
            const known = owners.get(activity.providerPaymentId);
            const pending = unledgered.has(activity.providerPaymentId)
              ? { workspaceId, invoiceId: unledgered.get(activity.providerPaymentId) ?? null }
              : null;
            owner = known ?? pending ?? owner;
          }
          if (owner.workspaceId !== workspaceId) continue; // another workspace's, or not made by this service
          seen.add(id);
          const time = activity.createdAt.getTime();
          if (!activity.undelivered && (time < since.getTime() || time > until.getTime())) continue;
          ours.push({ ...activity, invoiceId: activity.invoiceId ?? owner.invoiceId });
        }
        report.checked.providerObjects += ours.length;
        const rows = await ledgerRowsByReference(em, workspaceId, provider, ours);
        await found(compareLedger(provider, workspaceId, ours, rows));
      }
    };

    const range = { since: new Date(since.getTime() - MARGIN_MS), until: new Date(until.getTime() + MARGIN_MS) };
    let batch: ProviderActivity[] = [];
    for await (const activity of this.providers.get(provider).listActivity(credentials, range)) {
      batch.push(activity);
      if (batch.length >= BATCH) {
        await flush(batch);
        batch = [];
      }
    }
    await flush(batch);

    let after: Parameters<typeof ledgerRowsInRange>[1]['after'] = null;
    for (;;) {
      const page = await ledgerRowsInRange(em, { workspaceId, provider, since, until, after, limit: 500 });
      report.checked.ledgerRows += page.length;
      const unseen = page.filter((row) => !seen.has(`${row.kind}:${row.reference}`) && !isRefundStandIn(row.reference));
      await found(compareLedger(provider, workspaceId, [], unseen));
      if (page.length < 500) break;
      after = page[page.length - 1];
    }
  }
}

/** How many discrepancies of each kind (every kind present, 0 when none: the gauge drops back). */
export function countByKind(discrepancies: readonly Discrepancy[]): Record<DiscrepancyKind, number> {
  const counts: Record<DiscrepancyKind, number> = { missing: 0, status: 0, amount: 0, unknown: 0 };
  for (const discrepancy of discrepancies) counts[discrepancy.kind]++;
  return counts;
}

/** Failures of one account (the provider unreachable or refusing its keys): reported, and the others still audited. */
const isAccountProblem = (error: unknown): error is Error =>
  error instanceof ProviderUnavailableError ||
  error instanceof InvalidCredentialsError ||
  error instanceof ProviderRequestError ||
  error instanceof UnknownProviderError;
