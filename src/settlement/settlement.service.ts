import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Invoice, InvoicePayment, InvoiceStatus, PaymentProviderAccount, Provider } from '../entities/index.js';
import type { Logger } from '../logger.js';
import type { ProviderCredentials } from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountSecrets } from '../services/account-secrets.js';
import { nextInvoiceStatus } from './invoice-status.js';
import { nextLedgerStatus, PAID_STATUSES } from './ledger-transitions.js';
import { RefundLedger } from './refund-ledger.js';
import { SettlementError, type EventEnvelope, type InterpretedEvent, type PaymentUpdate } from './settlement-event.js';

/** `applied`: changed the ledger; `duplicate`: this event was applied before; `ignored`: a type we do not act on. */
export type SettleOutcome = 'applied' | 'duplicate' | 'ignored';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROVIDERS = new Set<string>(Object.values(Provider));

/**
 * The one idempotent settlement path (webhook consumer, DLQ replay, `payments-ops replay`, reconciler). Each event is
 * one unit of work: claim it in the `webhook_events` inbox (a known event changes nothing), lock the invoice row,
 * upsert the ledger with forward-only transitions, recompute `paid_minor` and the status from the ledger, commit.
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
    if (typeof envelope?.provider !== 'string' || !PROVIDERS.has(envelope.provider) || typeof envelope.workspaceId !== 'string' || !UUID.test(envelope.workspaceId) || envelope.event === undefined) {
      throw new SettlementError('message is not an event envelope');
    }
    return envelope as EventEnvelope;
  }

  /** Interprets the provider event (outside any transaction: it may call the provider), then applies it once. */
  async settle(envelope: EventEnvelope, meta: { streamSequence?: number } = {}): Promise<SettleOutcome> {
    const provider = envelope.provider as Provider;
    const adapter = this.providers.get(provider);
    let interpreted: InterpretedEvent;
    try {
      interpreted = await adapter.interpretEvent(envelope.event, await this.credentials(provider, envelope.workspaceId));
    } catch (error) {
      if (error instanceof SettlementError) throw error;
      throw new SettlementError(`cannot interpret the ${provider} event: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
    return this.apply(provider, envelope.workspaceId, interpreted, meta.streamSequence ?? null);
  }

  /** Applies an interpreted event in one unit of work. */
  async apply(provider: Provider, workspaceId: string, event: InterpretedEvent, streamSequence: number | null): Promise<SettleOutcome> {
    return this.orm.em.fork().transactional(async (tx) => {
      const claimed = await tx.execute<Array<{ id: string }>>(
        `insert into webhook_events (id, provider, event_id, workspace_id, type, status, attempts, stream_sequence, processed_at)
         values (?, ?, ?, ?, ?, ?, 1, ?, now())
         on conflict (provider, event_id) do update
           set status = excluded.status, attempts = webhook_events.attempts + 1, last_error = null,
               stream_sequence = coalesce(excluded.stream_sequence, webhook_events.stream_sequence), processed_at = now()
           where webhook_events.status = 'failed'
         returning id`,
        [randomUUID(), provider, event.eventId, workspaceId, event.type, event.updates.length ? 'applied' : 'ignored', streamSequence],
      );
      if (claimed.length === 0) return 'duplicate';
      if (event.updates.length === 0) return 'ignored';

      const touched = new Map<string, Invoice>();
      for (const update of event.updates) {
        const invoice =
          update.kind === 'payment'
            ? await this.applyPayment(tx, provider, workspaceId, event.eventId, update)
            : await this.refunds.apply(tx, provider, workspaceId, event.eventId, update, (id) => this.lockInvoice(tx, workspaceId, id));
        if (invoice) touched.set(invoice.id, invoice);
        await tx.flush(); // later updates of the same event (a Mollie payment's refunds) look rows up by query
      }
      for (const invoice of touched.values()) await recomputeInvoice(tx, invoice);
      return 'applied';
    });
  }

  /** Remembers why an event failed (the unit of work rolled back), for the DLQ and ops. Never overwrites a success. */
  async recordFailure(envelope: Pick<EventEnvelope, 'provider' | 'workspaceId'> & { eventId: string; type: string }, error: string): Promise<void> {
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
    const rows = await this.orm.em.fork().execute<Array<{ last_error: string | null }>>(
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
    const invoice = await tx.findOne(Invoice, { id: invoiceId.toLowerCase(), workspaceId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    // The invoice may not have reached this database yet: retried with backoff, then dead-lettered.
    if (!invoice) throw new SettlementError(`invoice ${invoiceId} does not exist in workspace ${workspaceId}`);
    return invoice;
  }

  private async applyPayment(tx: EntityManager, provider: Provider, workspaceId: string, eventId: string, update: PaymentUpdate): Promise<Invoice> {
    if (!update.invoiceId) throw new SettlementError(`payment ${update.reference} names no invoice (metadata.invoice_id)`);
    if (update.metadataWorkspaceId && update.metadataWorkspaceId !== workspaceId) {
      throw new SettlementError(`payment ${update.reference} names workspace ${update.metadataWorkspaceId}, but arrived for workspace ${workspaceId}: not settled`);
    }
    const invoice = await this.lockInvoice(tx, workspaceId, update.invoiceId);
    if (update.currency !== invoice.currency.trim().toUpperCase()) {
      throw new SettlementError(`payment ${update.reference} is in ${update.currency} but invoice ${invoice.id} is in ${invoice.currency}`);
    }
    const row = await tx.findOne(InvoicePayment, { provider, providerReference: update.reference }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (row && row.invoiceId !== invoice.id) {
      throw new SettlementError(`payment ${update.reference} is recorded for invoice ${row.invoiceId}, not ${invoice.id}`);
    }
    const next = nextLedgerStatus(row?.status ?? null, update.outcome);
    if (!row) {
      tx.persist(
        tx.create(InvoicePayment, {
          id: randomUUID(),
          workspaceId,
          invoiceId: invoice.id,
          provider,
          providerReference: update.reference,
          providerPaymentId: update.providerPaymentId,
          eventId,
          status: next!,
          amountMinor: update.amountMinor,
          currency: update.currency,
          paidAt: update.outcome === 'succeeded' ? update.occurredAt : null,
        }),
      );
    } else {
      row.providerPaymentId ??= update.providerPaymentId;
      if (next) {
        row.status = next;
        row.eventId = eventId;
        if (update.outcome === 'succeeded') {
          row.amountMinor = update.amountMinor; // what was actually charged
          row.paidAt = update.occurredAt;
        }
      }
    }
    return invoice;
  }
}

/**
 * `paid_minor` = Σ settled payments − Σ succeeded refunds, from the ledger, under the invoice row lock.
 * Draft and void invoices get the amount but keep their status.
 */
export async function recomputeInvoice(tx: EntityManager, invoice: Invoice): Promise<void> {
  const [{ paid }] = await tx.execute<Array<{ paid: string }>>(
    `select (select coalesce(sum(amount_minor), 0) from invoice_payments where invoice_id = ? and status in (${PAID_STATUSES.map(() => '?').join(', ')}))
          - (select coalesce(sum(amount_minor), 0) from payment_refunds where invoice_id = ? and status = 'succeeded') as paid`,
    [invoice.id, ...PAID_STATUSES, invoice.id],
  );
  invoice.paidMinor = Math.max(0, Number(paid));
  invoice.status = nextInvoiceStatus(invoice.status, invoice.totalMinor, invoice.paidMinor, invoice.dueDate) as InvoiceStatus;
}
