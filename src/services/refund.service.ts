import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AuthContext } from '../auth/auth-context.js';
import { InvoicePayment, PaymentProviderAccount, PaymentRefund } from '../entities/index.js';
import { idempotencyKeyProblem, LedgerStatus, MAX_REFUND_REASON, RefundState } from '../vocabulary/index.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { formatMinor } from '../money/money.js';
import { type ProviderRefund } from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { SettlementService } from '../settlement/settlement.service.js';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import { openDisputesOf } from '../db/dispute.repository.js';
import { audit } from './audit.js';
import { providerUserError } from './provider-errors.js';
import { UUID, uuidFrom } from '../uuid.js';

export interface RefundInput {
  paymentId: string;
  amountMinor: number | null;
  reason: string | null;
  idempotencyKey: string;
}

/** A control character (Unicode Cc) other than tab and line breaks: PostgreSQL cannot store NUL, and none belongs in a reason. */
const CONTROL_CHARACTERS = /[^\P{Cc}\t\n\r]/u;

const REFUNDABLE = new Set<LedgerStatus>([LedgerStatus.SUCCEEDED, LedgerStatus.PARTIALLY_REFUNDED]);
const RESERVING = new Set<RefundState>([RefundState.PENDING, RefundState.SUCCEEDED]);

/**
 * `refundPayment`: reserve the amount in our ledger (a PENDING row keyed by the client's idempotency key), ask the
 * provider with a derived Idempotency-Key, then record its answer through the settlement path (same unit of work,
 * same recompute as webhooks). A provider failure removes the reservation: nothing is half-recorded.
 */
export class RefundService {
  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly settlement: SettlementService,
    private readonly logger: Logger,
    /** `payments_refunds_total{provider,result}`: each request sent to a provider, and its answer. */
    private readonly metrics?: Metrics,
  ) {}

  async refund(auth: AuthContext, input: RefundInput): Promise<PaymentRefund> {
    const key = input.idempotencyKey.trim();
    const keyProblem = idempotencyKeyProblem(key);
    if (keyProblem) throw new BadUserInputError(keyProblem);
    if (!UUID.test(input.paymentId)) throw new NotFoundError('No such payment in this workspace');
    const reason = input.reason?.trim() || null;
    if (reason && reason.length > MAX_REFUND_REASON)
      throw new BadUserInputError(`reason must be at most ${MAX_REFUND_REASON} characters (it has ${reason.length})`);
    if (reason && CONTROL_CHARACTERS.test(reason))
      throw new BadUserInputError('reason must not contain control characters');
    const paymentId = input.paymentId.toLowerCase();

    const existing = await this.byKey(auth.workspaceId, key);
    if (existing) return this.replay(auth, existing, paymentId, input.amountMinor);
    let reservation: { refund: PaymentRefund; twin: boolean };
    try {
      reservation = await this.reserve(auth, paymentId, input.amountMinor, reason, key);
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      return this.replay(auth, (await this.byKey(auth.workspaceId, key))!, paymentId, input.amountMinor); // a concurrent twin won
    }
    // A concurrent twin with the same key reserved first (we waited for its lock): its refund is this one.
    if (reservation.twin) return this.replay(auth, reservation.refund, paymentId, input.amountMinor);
    return this.submit(auth, reservation.refund);
  }

  private byKey(workspaceId: string, idempotencyKey: string) {
    return this.orm.em.fork().findOne(PaymentRefund, { workspaceId, idempotencyKey });
  }

  /** The same key again: the same refund (finishing it if a crash interrupted it), or CONFLICT for other parameters. */
  private async replay(
    auth: AuthContext,
    existing: PaymentRefund,
    paymentId: string,
    amountMinor: number | null,
  ): Promise<PaymentRefund> {
    if (existing.paymentId !== paymentId || (amountMinor !== null && amountMinor !== existing.amountMinor)) {
      throw new ConflictError(
        `idempotencyKey was already used for a refund of ${existing.amountMinor} on payment ${existing.paymentId}; use a new key for a different refund`,
      );
    }
    return existing.providerRefundId ? existing : this.submit(auth, existing);
  }

  /**
   * Locks invoice and payment, checks what is refundable, and records a PENDING refund with the audit row. A twin
   * request with the same key that reserved while we waited for the lock is returned instead (`twin`): checking the
   * refundable amount first would refuse the twin of a full refund as "nothing left to refund".
   */
  private async reserve(
    auth: AuthContext,
    paymentId: string,
    requested: number | null,
    reason: string | null,
    key: string,
  ): Promise<{ refund: PaymentRefund; twin: boolean }> {
    return this.orm.em.fork().transactional(async (tx) => {
      const found = await tx.findOne(InvoicePayment, { id: paymentId, workspaceId: auth.workspaceId });
      if (!found) throw new NotFoundError('No such payment in this workspace');
      await this.settlement.lockInvoice(tx, auth.workspaceId, found.invoiceId);
      const twin = await tx.findOne(PaymentRefund, { workspaceId: auth.workspaceId, idempotencyKey: key });
      if (twin) return { refund: twin, twin: true };
      const payment = await tx.findOneOrFail(
        InvoicePayment,
        { id: paymentId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (!REFUNDABLE.has(payment.status)) {
        throw new BadUserInputError(
          `Payment ${payment.id} is ${payment.status.toUpperCase()}; only SUCCEEDED or PARTIALLY_REFUNDED payments can be refunded`,
        );
      }
      // The cardholder's bank is deciding: a refund now could pay the same money back twice (refund + lost dispute).
      const [open] = await openDisputesOf(tx, payment.id);
      if (open) {
        throw new BadUserInputError(
          `Payment ${payment.id} has an open dispute (${open.providerDisputeId}, ${open.status.toUpperCase()}); it cannot be refunded until the dispute is closed (WON or LOST)`,
        );
      }
      const refundable = await this.refundable(tx, payment);
      const show = (minor: number) => `${minor} (${formatMinor(minor, payment.currency)} ${payment.currency.trim()})`;
      if (refundable <= 0)
        throw new BadUserInputError(
          `Nothing is left to refund on payment ${payment.id}: refunds already cover ${show(payment.amountMinor)}`,
        );
      const amountMinor = requested ?? refundable;
      if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0 || amountMinor > refundable) {
        throw new BadUserInputError(
          `amountMinor must be between 1 and ${show(refundable)}, the amount still refundable on this payment (omit it to refund all of it)`,
        );
      }
      const issue = this.providers.get(payment.provider).amountIssue(amountMinor, payment.currency.trim());
      if (issue) throw new BadUserInputError(issue);
      const refund = tx.create(PaymentRefund, {
        // Named by the workspace and the client's key: a retry after a refused attempt (whose row was removed) sends
        // the provider the same parameters (our id travels as metadata) under the same derived Idempotency-Key.
        id: uuidFrom('refund', auth.workspaceId, key),
        workspaceId: auth.workspaceId,
        paymentId: payment.id,
        invoiceId: payment.invoiceId,
        provider: payment.provider,
        amountMinor,
        currency: payment.currency.trim(),
        status: RefundState.PENDING,
        reason,
        idempotencyKey: key,
        requestedBy: UUID.test(auth.userId) ? auth.userId : null,
      });
      tx.persist(refund);
      audit(tx, {
        workspaceId: auth.workspaceId,
        actorId: auth.userId,
        action: 'payments.refund.requested',
        provider: payment.provider,
        details: {
          refundId: refund.id,
          paymentId: payment.id,
          invoiceId: payment.invoiceId,
          amountMinor,
          currency: refund.currency,
          idempotencyKey: key,
          reason,
        },
      });
      return { refund, twin: false };
    });
  }

  /** Refundable = amount − refunds that succeeded or are pending (pending ones reserve their amount). */
  private async refundable(tx: EntityManager, payment: InvoicePayment): Promise<number> {
    const refunds = await tx.find(PaymentRefund, { paymentId: payment.id });
    // Funds a dispute took back (and that were not reinstated) are no longer the merchant's to refund.
    return (
      payment.amountMinor -
      payment.disputedMinor -
      refunds.filter((refund) => RESERVING.has(refund.status)).reduce((sum, refund) => sum + refund.amountMinor, 0)
    );
  }

  /** Calls the provider and records its answer through the settlement path. */
  private async submit(auth: AuthContext, refund: PaymentRefund): Promise<PaymentRefund> {
    const em = this.orm.em.fork();
    const payment = await em.findOneOrFail(InvoicePayment, { id: refund.paymentId });
    const account = await em.findOne(PaymentProviderAccount, {
      workspaceId: auth.workspaceId,
      provider: payment.provider,
    });
    // a disconnected account (even in its grace window) starts nothing new: its kept keys only settle and check
    const credentials = account && !account.disconnectedAt ? this.secrets.credentials(account) : null;
    const adapter = this.providers.get(payment.provider);
    let answer: ProviderRefund;
    try {
      if (!credentials)
        throw new BadUserInputError(
          `${payment.provider} is disconnected from this workspace; reconnect it to refund this payment`,
        );
      if (!payment.providerPaymentId)
        throw new BadUserInputError(
          `Payment ${payment.id} has no provider payment id yet; try again once its confirmation has arrived`,
        );
      this.metrics?.refunds.inc({ provider: payment.provider, result: 'requested' });
      answer = await adapter.refund(credentials, {
        providerPaymentId: payment.providerPaymentId,
        amountMinor: refund.amountMinor,
        currency: refund.currency,
        reason: refund.reason ?? null,
        idempotencyKey: `workestra-refund-${auth.workspaceId}-${refund.idempotencyKey}`,
        localRefundId: refund.id,
        workspaceId: auth.workspaceId,
        invoiceId: payment.invoiceId,
      });
      this.metrics?.refunds.inc({ provider: payment.provider, result: answer.status });
    } catch (error) {
      if (!(error instanceof BadUserInputError))
        this.metrics?.refunds.inc({ provider: payment.provider, result: 'error' });
      await em.nativeDelete(PaymentRefund, { id: refund.id, providerRefundId: null });
      throw providerUserError(
        error,
        payment.provider,
        {
          refused: 'The provider refused the refund',
          idempotencyConflict:
            'idempotencyKey was already sent to the provider for a refund with other parameters (an earlier attempt with this key asked for a different amount); use a new key',
          unavailable: 'no refund was made. Retry with the same idempotencyKey',
          unexpected: 'no refund was made. Retry with the same idempotencyKey',
        },
        this.logger.child({ workspaceId: auth.workspaceId, paymentId: payment.id }),
      );
    }

    await this.settlement.apply(
      payment.provider,
      auth.workspaceId,
      {
        eventId: `api:${answer.providerRefundId}:${answer.status}`,
        type: 'refund.api',
        updates: [
          {
            kind: 'refund',
            providerRefundId: answer.providerRefundId,
            providerPaymentId: payment.providerPaymentId!,
            amountMinor: answer.amountMinor,
            currency: refund.currency,
            status: answer.status,
            reason: refund.reason ?? null,
            localRefundId: refund.id,
          },
        ],
      },
      null,
    );
    return this.adopted(em, refund, answer.providerRefundId);
  }

  /**
   * Our reserved row normally carries the provider refund id now. If a webhook recorded the same refund first under
   * another row (our earlier reservation was rolled back after a timeout), that row takes over our key.
   */
  private async adopted(em: EntityManager, refund: PaymentRefund, providerRefundId: string): Promise<PaymentRefund> {
    const ours = await em.fork().findOne(PaymentRefund, { id: refund.id });
    if (ours?.providerRefundId) return ours;
    return em.fork().transactional(async (tx) => {
      const recorded = await tx.findOneOrFail(
        PaymentRefund,
        { provider: refund.provider, providerRefundId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      await tx.nativeDelete(PaymentRefund, { id: refund.id, providerRefundId: null });
      recorded.idempotencyKey ??= refund.idempotencyKey;
      recorded.reason ??= refund.reason;
      recorded.requestedBy ??= refund.requestedBy;
      return recorded;
    });
  }
}
