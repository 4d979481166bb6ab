import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import { claimEvent, failClaim, lastError, recordFailure, type InboxClaim } from '../db/inbox.repository.js';
import {
  claimAndLockInvoice,
  invoiceOwner,
  lockInvoice,
  paymentOwners,
  recomputeInvoice,
  settlePaymentRow,
} from '../db/ledger.repository.js';
import { PaymentProviderAccount, type Invoice } from '../entities/index.js';
import type { EventEnvelope } from '../jetstream/envelope.js';
import { parseEventMsgId } from '../jetstream/names.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { isDatabaseUnreachable } from '../errors.js';
import { UUID } from '../uuid.js';
import {
  InboxStatus,
  isAuditFixEvent,
  readAuditFixEvent,
  SettlementError,
  type IgnoreReason,
  type InterpretedEvent,
  type Provider,
} from '../vocabulary/index.js';
import {
  anotherInvoice,
  checkAmount,
  checkInvoice,
  checkPaymentTarget,
  singlePayment,
  toLedgerPayment,
  type Foreign,
  type PaymentItem,
  type SettleOutcome,
} from './payment-item.js';
import { DisputeLedger } from './dispute-ledger.js';
import { RefundLedger } from './refund-ledger.js';
import { batchable, closesOthers, ignoreEvent, settleBatch, type Applied } from './payment-batch.js';
import { SettlementBatcher } from './settlement-batcher.js';

export { singlePayment, type PaymentItem, type SettleOutcome } from './payment-item.js';

/** What the rest of the service hears about settled events, after their unit of work committed. */
export interface SettlementHooks {
  /** An event was recorded as ignored (metrics). */
  ignored?(provider: Provider, reason: IgnoreReason): void;
  /**
   * A payment made its invoice paid while other checkouts of it are still open (the settle statement says so): they
   * are closed (one invoice, one payment).
   */
  paid?(paid: { provider: Provider; workspaceId: string; invoiceId: string; reference: string }): void;
  /** A dispute new to the ledger is open: someone has to answer it before its evidence deadline. */
  disputeOpened?(opened: DisputeOpened): void;
}

/** A newly recorded open dispute, as the hooks hear of it. */
export interface DisputeOpened {
  provider: Provider;
  workspaceId: string;
  invoiceId: string;
  paymentId: string;
  providerDisputeId: string;
  amountMinor: number;
  currency: string;
  reason: string | null;
  evidenceDueBy: Date | null;
  eventId: string;
}

/**
 * The one idempotent settlement path (webhook consumer, DLQ replay, `payments-ops replay`, reconciler, refund API).
 * Per event: claim it in the inbox (a known event changes nothing), lock the invoice row, upsert the ledger with
 * forward-only transitions, recompute `paid_minor` and the status from the ledger; committed before the ack. Payment
 * events share a transaction with the others of their batch; an event that cannot apply writes nothing and does not
 * hold the others back. An event that names no invoice of its workspace is recorded as ignored, never settled.
 */
export class SettlementService {
  private readonly refunds = new RefundLedger();
  private readonly disputes = new DisputeLedger();
  private readonly batcher = new SettlementBatcher((items) => this.applyPayments(items));

  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly hooks: SettlementHooks = {},
  ) {}

  /** Interprets the provider event (outside any transaction: it may call the provider), then applies it once. */
  async settle(envelope: EventEnvelope, meta: { streamSequence?: number } = {}): Promise<SettleOutcome> {
    const event = await this.interpret(envelope);
    const streamSequence = meta.streamSequence ?? null;
    const payment = singlePayment(event);
    if (!payment) return this.apply(envelope.provider, envelope.workspaceId, event, streamSequence);
    const { provider, workspaceId } = envelope;
    const outcome = await this.batcher.submit({ provider, workspaceId, ...event, update: payment, streamSequence });
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /** Turns an envelope into neutral updates (providers whose webhooks carry only an id fetch the payment back). */
  async interpret(envelope: EventEnvelope): Promise<InterpretedEvent> {
    // an audit fix carries its neutral update already (see vocabulary/audit-event.ts)
    if (isAuditFixEvent(envelope.event)) return readAuditFixEvent(envelope.event);
    const adapter = this.providers.get(envelope.provider);
    try {
      const credentials = adapter.interpretNeedsCredentials
        ? await this.credentials(envelope.provider, envelope.workspaceId)
        : null;
      return await adapter.interpretEvent(envelope.event, credentials);
    } catch (error) {
      if (error instanceof SettlementError || isDatabaseUnreachable(error)) throw error;
      const reason = error instanceof Error ? error.message : 'unknown error';
      throw new SettlementError(`cannot interpret the ${envelope.provider} event: ${reason}`);
    }
  }

  /**
   * The hot path: payment events, each one claim-and-lock statement and one settle statement, several per transaction
   * (a commit per batch, not per event). Invoices are locked in id order, so concurrent batches cannot deadlock on
   * them. An event that cannot apply writes nothing and gets its own error; the others still commit.
   */
  async applyPayments(items: PaymentItem[]): Promise<Array<SettleOutcome | Error>> {
    const results: Array<Applied | Error> = items.map((item) => checkAmount(item) ?? { outcome: 'applied' });
    // foreign events lock nothing (last); the others lock their invoices in id order
    const key = (index: number) => (checkPaymentTarget(items[index]) ? '~' : items[index].update.invoiceId!);
    let pending = items
      .map((_, index) => index)
      .filter((index) => !(results[index] instanceof Error))
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    // Two statements for the whole batch when it can; on an SQL error (rolled back) the one-by-one path below finds
    // the event that cannot apply.
    if (pending.length > 1 && batchable(pending.map((index) => items[index]))) {
      const batch = await this.orm.em
        .fork()
        .transactional((tx) =>
          settleBatch(
            tx,
            pending.map((index) => items[index]),
          ),
        )
        .catch(() => null);
      if (batch) {
        pending.forEach((index, k) => (results[index] = batch[k]));
        pending = [];
      }
    }
    // One event that cannot apply (an SQL error) never fails the others: its batch is retried at once without it.
    while (pending.length > 0) {
      let current: number | null = null;
      try {
        await this.orm.em.fork().transactional(async (tx) => {
          for (const index of pending) {
            current = index;
            results[index] = await this.settlePayment(tx, items[index]);
          }
          current = null;
        });
        break;
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        // an unreachable database fails them all alike: no point retrying the others one by one
        if (current === null || isDatabaseUnreachable(failure)) {
          for (const index of pending) results[index] = failure; // the commit itself failed: all are retried
          break;
        }
        results[current] = failure;
        pending = pending.filter((index) => index !== current);
      }
    }
    results.forEach((result, index) => this.notify(items[index], result));
    return results.map((result) => (result instanceof Error ? result : result.outcome));
  }

  private async settlePayment(tx: EntityManager, item: PaymentItem): Promise<Applied | Error> {
    const foreign = checkPaymentTarget(item);
    if (foreign) return ignoreEvent(tx, item, foreign);
    const payment = toLedgerPayment(item);
    const lock = await claimAndLockInvoice(tx, item, payment.invoiceId, payment.currency);
    if (lock.owner && lock.owner !== item.workspaceId)
      return ignoreEvent(tx, item, { ignored: 'invoice_of_other_workspace' });
    const problem = checkInvoice(item, payment.invoiceId, lock.currency);
    if (problem) return problem;
    if (!lock.claimed) return { outcome: 'duplicate' };
    const settled = await settlePaymentRow(tx, payment);
    if (!settled) {
      // The reference belongs to another invoice: undo the claim in this transaction, so the event is retried, not lost.
      const error = anotherInvoice(item, payment.invoiceId);
      await failClaim(tx, item, error.message);
      return error;
    }
    return { outcome: 'applied', closeOthers: closesOthers(settled, payment) };
  }

  /** Tells the hooks what a committed event did (never throws into settlement). */
  private notify(item: Pick<PaymentItem, 'provider' | 'workspaceId' | 'update'>, result: Applied | Error): void {
    if (result instanceof Error) return;
    try {
      if (result.ignored) this.hooks.ignored?.(item.provider, result.ignored);
      if (result.closeOthers) {
        const { provider, workspaceId, update } = item;
        this.hooks.paid?.({
          provider,
          workspaceId,
          invoiceId: update.invoiceId!.toLowerCase(),
          reference: update.reference,
        });
      }
    } catch {
      // hooks are observers: settlement has committed whatever they do
    }
  }

  /** Applies an interpreted event in one unit of work. */
  async apply(
    provider: Provider,
    workspaceId: string,
    event: InterpretedEvent,
    streamSequence: number | null,
  ): Promise<SettleOutcome> {
    const payment = singlePayment(event);
    if (payment) {
      const [outcome] = await this.applyPayments([
        { provider, workspaceId, ...event, update: payment, streamSequence },
      ]);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    }
    const claim: InboxClaim = { provider, workspaceId, eventId: event.eventId, type: event.type, streamSequence };
    const opened: DisputeOpened[] = [];
    const result = await this.orm.em.fork().transactional(async (tx): Promise<Applied> => {
      opened.length = 0; // a retried transaction starts over
      const foreign = event.updates.length
        ? await this.foreignReason(tx, claim, event)
        : { ignored: event.ignoredReason ?? 'not_handled' };
      if (foreign) return ignoreEvent(tx, claim, foreign);
      if (!(await claimEvent(tx, claim, InboxStatus.APPLIED))) return { outcome: 'duplicate' };

      const touched = new Set<string>();
      for (const update of event.updates) {
        if (update.kind === 'payment') {
          const item: PaymentItem = { ...claim, update };
          const invalid = checkAmount(item);
          if (invalid) throw invalid;
          const ledger = toLedgerPayment(item);
          const invoice = await this.lockInvoice(tx, workspaceId, ledger.invoiceId);
          const mismatch = checkInvoice(item, invoice.id, invoice.currency);
          if (mismatch) throw mismatch;
          if (!(await settlePaymentRow(tx, ledger))) throw anotherInvoice(item, invoice.id);
        } else if (update.kind === 'dispute') {
          const lock = (invoiceId: string) => this.lockInvoice(tx, workspaceId, invoiceId);
          const applied = await this.disputes.apply(tx, provider, workspaceId, event.eventId, update, lock);
          touched.add(applied.invoice.id);
          if (applied.opened) {
            const { dispute } = applied;
            opened.push({
              provider,
              workspaceId,
              invoiceId: dispute.invoiceId,
              paymentId: dispute.paymentId,
              providerDisputeId: dispute.providerDisputeId,
              amountMinor: dispute.amountMinor,
              currency: dispute.currency,
              reason: dispute.reason ?? null,
              evidenceDueBy: dispute.evidenceDueBy ?? null,
              eventId: event.eventId,
            });
          }
        } else {
          const amounts =
            update.kind === 'charge_refunded'
              ? [update.amountRefundedMinor, ...update.refunds.map((r) => r.amountMinor)]
              : [update.amountMinor];
          if (!amounts.every((amount) => Number.isSafeInteger(amount) && amount >= 0)) {
            throw new SettlementError(
              `${event.type} ${event.eventId} has an amount that is not a whole number of minor units between 0 and 2^53`,
            );
          }
          const lock = (invoiceId: string) => this.lockInvoice(tx, workspaceId, invoiceId);
          touched.add((await this.refunds.apply(tx, provider, workspaceId, event.eventId, update, lock)).id);
        }
        await tx.flush(); // later updates of the same event (a payment's embedded refunds) look rows up by query
      }
      for (const invoiceId of touched) await recomputeInvoice(tx, invoiceId);
      return { outcome: 'applied' };
    });
    if (result.ignored) this.hooks.ignored?.(provider, result.ignored);
    for (const dispute of opened) {
      try {
        this.hooks.disputeOpened?.(dispute);
      } catch {
        // hooks are observers: settlement has committed whatever they do
      }
    }
    return result.outcome;
  }

  /** Whether an event names no invoice of its workspace (checked before anything is claimed or locked). */
  private async foreignReason(tx: EntityManager, claim: InboxClaim, event: InterpretedEvent): Promise<Foreign | null> {
    for (const update of event.updates) {
      if (update.kind === 'payment') {
        const foreign = checkPaymentTarget({ ...claim, update });
        if (foreign) return foreign;
        const owner = await invoiceOwner(tx, update.invoiceId!.toLowerCase());
        if (owner && owner !== claim.workspaceId) return { ignored: 'invoice_of_other_workspace' };
      } else {
        const owners = await paymentOwners(tx, claim.provider, update.providerPaymentId);
        if (owners.length > 0 && !owners.includes(claim.workspaceId)) return { ignored: 'payment_of_other_workspace' };
      }
    }
    return null;
  }

  /** Remembers why an event failed (the unit of work rolled back), for the DLQ and ops. Never overwrites a success. */
  async recordFailure(claim: Omit<InboxClaim, 'streamSequence'>, error: string): Promise<void> {
    await recordFailure(this.orm.em.fork(), claim, error);
  }

  /** The last recorded error of an event, by its message id. */
  async lastError(msgId: string): Promise<string | null> {
    const identity = parseEventMsgId(msgId);
    return identity ? lastError(this.orm.em.fork(), identity) : null;
  }

  /** The invoice, locked for the unit of work; a SettlementError when it does not exist in the workspace. */
  async lockInvoice(tx: EntityManager, workspaceId: string, invoiceId: string): Promise<Invoice> {
    if (!UUID.test(invoiceId)) throw new SettlementError(`invoice id "${invoiceId.slice(0, 64)}" is not a uuid`);
    const invoice = await lockInvoice(tx, workspaceId, invoiceId);
    // The invoice may not have reached this database yet: retried with backoff, then dead-lettered.
    if (!invoice) throw new SettlementError(`invoice ${invoiceId} does not exist in workspace ${workspaceId}`);
    return invoice;
  }

  private async credentials(provider: Provider, workspaceId: string) {
    const account = await this.orm.em.fork().findOne(PaymentProviderAccount, { workspaceId, provider });
    return account ? this.secrets.credentials(account) : null;
  }
}
