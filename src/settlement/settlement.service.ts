import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Invoice, PaymentProviderAccount } from '../entities/index.js';
import { LedgerStatus, Provider } from '../vocabulary/index.js';
import type { Logger } from '../observability/logger.js';
import type { ProviderCredentials } from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import { CLAIM_AND_LOCK, RECOMPUTE_INVOICE, SETTLE_PAYMENT } from '../db/ledger.sql.js';
import { RefundLedger } from './refund-ledger.js';
import { UUID } from '../uuid.js';
import {
  SettlementError,
  type EventEnvelope,
  type InterpretedEvent,
  type PaymentUpdate,
} from '../vocabulary/settlement-event.js';

/** `applied`: changed the ledger; `duplicate`: this event was applied before; `ignored`: a type we do not act on. */
export type SettleOutcome = 'applied' | 'duplicate' | 'ignored';

/** One payment event on the batched hot path. */
export interface PaymentItem {
  provider: Provider;
  workspaceId: string;
  eventId: string;
  type: string;
  update: PaymentUpdate;
  streamSequence: number | null;
}

const LEDGER_STATUS: Record<PaymentUpdate['outcome'], LedgerStatus> = {
  pending: LedgerStatus.PENDING,
  succeeded: LedgerStatus.SUCCEEDED,
  failed: LedgerStatus.FAILED,
  cancelled: LedgerStatus.CANCELLED,
};

/** The event's only update when it is a single payment update (the batched hot path), else null. */
export function singlePayment(event: InterpretedEvent): PaymentUpdate | null {
  return event.updates.length === 1 && event.updates[0].kind === 'payment' ? event.updates[0] : null;
}

/** Checks that need no database: a payment must name an invoice (a uuid) of the workspace it arrived for. */
function validatePayment({ workspaceId, update }: PaymentItem): SettlementError | null {
  if (!update.invoiceId)
    return new SettlementError(`payment ${update.reference} names no invoice (metadata.invoice_id)`);
  if (update.metadataWorkspaceId && update.metadataWorkspaceId !== workspaceId) {
    return new SettlementError(
      `payment ${update.reference} names workspace ${update.metadataWorkspaceId}, but arrived for workspace ${workspaceId}: not settled`,
    );
  }
  if (!UUID.test(update.invoiceId))
    return new SettlementError(`invoice id "${update.invoiceId.slice(0, 64)}" is not a uuid`);
  return null;
}

const PROVIDERS = new Set<string>(Object.values(Provider));

/**
 * The one idempotent settlement path (webhook consumer, DLQ replay, `payments-ops replay`, reconciler, refund API).
 * Per event: claim it in the `webhook_events` inbox (a known event changes nothing), lock the invoice row, upsert the
 * ledger with forward-only transitions, recompute `paid_minor` and the status from the ledger; committed before the
 * ack. Payment events from the consumer share a transaction with the others of their batch (`applyPayments`); an
 * event that cannot apply writes nothing and does not hold the others back.
 */
export class SettlementService {
  private readonly refunds = new RefundLedger();

  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly logger: Logger,
  ) {}

  /** Parses the JetStream body; a malformed one is a SettlementError (it can never apply). */
  static parseEnvelope(data: Uint8Array): EventEnvelope {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(data).toString('utf8'));
    } catch {
      throw new SettlementError('message body is not JSON');
    }
    const envelope = parsed as Partial<EventEnvelope>;
    if (
      typeof envelope?.provider !== 'string' ||
      !PROVIDERS.has(envelope.provider) ||
      typeof envelope.workspaceId !== 'string' ||
      !UUID.test(envelope.workspaceId) ||
      envelope.event === undefined
    ) {
      throw new SettlementError('message is not an event envelope');
    }
    return envelope as EventEnvelope;
  }

  /** Interprets the provider event (outside any transaction: it may call the provider), then applies it once. */
  async settle(envelope: EventEnvelope, meta: { streamSequence?: number } = {}): Promise<SettleOutcome> {
    return this.apply(
      envelope.provider as Provider,
      envelope.workspaceId,
      await this.interpret(envelope),
      meta.streamSequence ?? null,
    );
  }

  /**
   * The hot path: payment events, each one claim-and-lock statement and one settle statement, several per transaction
   * (a commit per batch, not per event). Invoices are locked in id order, so concurrent batches cannot deadlock on
   * them. An event that cannot apply writes nothing and gets its own error; the others still commit.
   */
  async applyPayments(items: PaymentItem[]): Promise<Array<SettleOutcome | Error>> {
    const outcomes: Array<SettleOutcome | Error> = items.map((item) => validatePayment(item) ?? 'applied');
    const order = items.map((_, index) => index).filter((index) => !(outcomes[index] instanceof Error));
    order.sort((a, b) => (items[a].update.invoiceId! < items[b].update.invoiceId! ? -1 : 1));
    if (order.length === 0) return outcomes;
    try {
      await this.orm.em.fork().transactional(async (tx) => {
        for (const index of order) outcomes[index] = await this.settlePayment(tx, items[index]);
      });
    } catch (error) {
      for (const index of order) outcomes[index] = error instanceof Error ? error : new Error(String(error));
    }
    return outcomes;
  }

  private async settlePayment(tx: EntityManager, item: PaymentItem): Promise<SettleOutcome | Error> {
    const { provider, workspaceId, eventId, update } = item;
    const invoiceId = update.invoiceId!.toLowerCase();
    const [lock] = await tx.execute<Array<{ currency: string | null; claimed: number }>>(CLAIM_AND_LOCK, [
      invoiceId,
      workspaceId,
      randomUUID(),
      provider,
      eventId,
      workspaceId,
      item.type,
      item.streamSequence,
      update.currency,
    ]);
    // The invoice may not have reached this database yet: retried with backoff, then dead-lettered.
    if (lock.currency === null)
      return new SettlementError(`invoice ${invoiceId} does not exist in workspace ${workspaceId}`);
    if (lock.currency.trim().toUpperCase() !== update.currency) {
      return new SettlementError(
        `payment ${update.reference} is in ${update.currency} but invoice ${invoiceId} is in ${lock.currency}`,
      );
    }
    if (lock.claimed === 0) return 'duplicate';
    if (!(await settleRow(tx, item))) {
      // The reference belongs to another invoice: undo the claim in this transaction, so the event is retried, not lost.
      const error = new SettlementError(
        `payment ${update.reference} is recorded for another invoice, not ${invoiceId}`,
      );
      await tx.execute(
        "update webhook_events set status = 'failed', last_error = ? where provider = ? and event_id = ?",
        [error.message, provider, eventId],
      );
      return error;
    }
    return 'applied';
  }

  /** Turns a JetStream envelope into neutral updates (outside any transaction: Mollie's needs a provider call). */
  async interpret(envelope: EventEnvelope): Promise<InterpretedEvent> {
    const provider = envelope.provider as Provider;
    try {
      return await this.providers
        .get(provider)
        .interpretEvent(envelope.event, await this.credentials(provider, envelope.workspaceId));
    } catch (error) {
      if (error instanceof SettlementError) throw error;
      throw new SettlementError(
        `cannot interpret the ${provider} event: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
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
        { provider, workspaceId, eventId: event.eventId, type: event.type, update: payment, streamSequence },
      ]);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    }
    return this.orm.em.fork().transactional(async (tx) => {
      const claimed = await tx.execute<Array<{ id: string }>>(
        `insert into webhook_events (id, provider, event_id, workspace_id, type, status, attempts, stream_sequence, processed_at)
         values (?, ?, ?, ?, ?, ?, 1, ?, now())
         on conflict (provider, event_id) do update
           set status = excluded.status, attempts = webhook_events.attempts + 1, last_error = null,
               stream_sequence = coalesce(excluded.stream_sequence, webhook_events.stream_sequence), processed_at = now()
           where webhook_events.status = 'failed'
         returning id`,
        [
          randomUUID(),
          provider,
          event.eventId,
          workspaceId,
          event.type,
          event.updates.length ? 'applied' : 'ignored',
          streamSequence,
        ],
      );
      if (claimed.length === 0) return 'duplicate';
      if (event.updates.length === 0) return 'ignored';

      const touched = new Set<string>();
      for (const update of event.updates) {
        if (update.kind === 'payment') {
          const item = { provider, workspaceId, eventId: event.eventId, type: event.type, update, streamSequence };
          const problem = validatePayment(item);
          if (problem) throw problem;
          const invoice = await this.lockInvoice(tx, workspaceId, update.invoiceId!);
          if (invoice.currency.trim().toUpperCase() !== update.currency)
            throw new SettlementError(
              `payment ${update.reference} is in ${update.currency} but invoice ${invoice.id} is in ${invoice.currency}`,
            );
          if (!(await settleRow(tx, item)))
            throw new SettlementError(`payment ${update.reference} is recorded for another invoice, not ${invoice.id}`);
        } else {
          touched.add(
            (
              await this.refunds.apply(tx, provider, workspaceId, event.eventId, update, (id) =>
                this.lockInvoice(tx, workspaceId, id),
              )
            ).id,
          );
        }
        await tx.flush(); // later updates of the same event (a Mollie payment's refunds) look rows up by query
      }
      for (const invoiceId of touched) await recomputeInvoice(tx, invoiceId);
      return 'applied';
    });
  }

  /** Remembers why an event failed (the unit of work rolled back), for the DLQ and ops. Never overwrites a success. */
  async recordFailure(
    envelope: Pick<EventEnvelope, 'provider' | 'workspaceId'> & { eventId: string; type: string },
    error: string,
  ): Promise<void> {
    await this.orm.em.fork().execute(
      `insert into webhook_events (id, provider, event_id, workspace_id, type, status, attempts, last_error)
       values (?, ?, ?, ?, ?, 'failed', 1, ?)
       on conflict (provider, event_id) do update
         set attempts = webhook_events.attempts + 1, last_error = excluded.last_error
         where webhook_events.status = 'failed'`,
      [randomUUID(), envelope.provider, envelope.eventId, envelope.workspaceId, envelope.type, error.slice(0, 2000)],
    );
  }

  /** The last recorded error of an event, by `<provider>:<eventId>`. */
  async lastError(msgId: string): Promise<string | null> {
    const index = msgId.indexOf(':');
    if (index < 0) return null;
    const rows = await this.orm.em
      .fork()
      .execute<Array<{ last_error: string | null }>>(
        'select last_error from webhook_events where provider = ? and event_id = ?',
        [msgId.slice(0, index), msgId.slice(index + 1)],
      );
    return rows[0]?.last_error ?? null;
  }

  private async credentials(provider: Provider, workspaceId: string): Promise<ProviderCredentials | null> {
    if (provider === Provider.STRIPE) return null; // Stripe events carry everything; no provider call needed.
    const account = await this.orm.em.fork().findOne(PaymentProviderAccount, { workspaceId, provider });
    return account ? this.secrets.credentials(account) : null;
  }

  async lockInvoice(tx: EntityManager, workspaceId: string, invoiceId: string): Promise<Invoice> {
    if (!UUID.test(invoiceId)) throw new SettlementError(`invoice id "${invoiceId.slice(0, 64)}" is not a uuid`);
    const invoice = await tx.findOne(
      Invoice,
      { id: invoiceId.toLowerCase(), workspaceId },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    // The invoice may not have reached this database yet: retried with backoff, then dead-lettered.
    if (!invoice) throw new SettlementError(`invoice ${invoiceId} does not exist in workspace ${workspaceId}`);
    return invoice;
  }
}

/** Upserts the payment's ledger row and recomputes its invoice (the caller holds the invoice lock); false: another invoice's reference. */
async function settleRow(tx: EntityManager, { provider, workspaceId, eventId, update }: PaymentItem): Promise<boolean> {
  const invoiceId = update.invoiceId!.toLowerCase();
  const settled = await tx.execute<Array<{ status: string }>>(SETTLE_PAYMENT, [
    randomUUID(),
    workspaceId,
    invoiceId,
    provider,
    update.reference,
    update.providerPaymentId,
    eventId,
    LEDGER_STATUS[update.outcome],
    update.amountMinor,
    update.currency,
    update.outcome === 'succeeded' ? update.occurredAt : null,
    invoiceId,
    provider,
    update.reference,
    invoiceId,
    invoiceId,
  ]);
  return settled.length > 0;
}

/** Recomputes an invoice from its ledger (the caller holds the invoice row lock). */
export async function recomputeInvoice(tx: EntityManager, invoiceId: string): Promise<void> {
  await tx.execute(RECOMPUTE_INVOICE, [invoiceId, invoiceId, invoiceId]);
}
