/**
 * The oracle of the model-based settlement tier: a pure, in-memory ledger written from the settlement rules in docs/contract.md, not from
 * the service's code. It reads the provider events as Stripe sends them and says what the ledger must hold once a
 * set of them has been applied, whatever the order, the duplicates and the concurrency.
 */

export type PaymentState = 'pending' | 'succeeded' | 'failed' | 'cancelled';
export type RefundState = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface ModelPayment {
  reference: string;
  invoiceId: string;
  amountMinor: number;
  paymentIntent: string | null;
  /** null: no ledger row yet. `succeeded` covers SUCCEEDED, PARTIALLY_REFUNDED and REFUNDED. */
  state: PaymentState | null;
}

export interface ModelRefund {
  id: string;
  paymentIntent: string;
  amountMinor: number;
  state: RefundState;
}

/**
 * A dispute as the contract describes it: its state only moves forward (needs response → under review → decided; a
 * lost chargeback can still be reversed, i.e. won, never the other way), and whether its funds were withdrawn or
 * reinstated are facts that, once learned, stay learned.
 */
export type DisputeState = 'needs_response' | 'under_review' | 'won' | 'lost';
export interface ModelDispute {
  id: string;
  paymentIntent: string;
  amountMinor: number;
  state: DisputeState;
  withdrawn: boolean;
  reinstated: boolean;
}

export interface InvoiceFields {
  status: string;
  totalMinor: number;
  dueDate: string | null;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});

/** What one provider event says, in the model's own words. */
export type ModelFact =
  | {
      kind: 'payment';
      reference: string;
      invoiceId: string;
      amountMinor: number;
      paymentIntent: string | null;
      outcome: PaymentState;
    }
  | { kind: 'refund'; id: string; paymentIntent: string; amountMinor: number; state: RefundState }
  | { kind: 'charge_refunded'; paymentIntent: string; cumulativeMinor: number }
  | {
      kind: 'dispute';
      id: string;
      paymentIntent: string;
      amountMinor: number;
      state: DisputeState;
      withdrawn: boolean;
      reinstated: boolean;
    }
  | { kind: 'none' };

/** Stripe's dispute statuses (inquiries `warning_*` included) in the contract's four. */
export const DISPUTE_STATES: Record<string, DisputeState> = {
  warning_needs_response: 'needs_response',
  needs_response: 'needs_response',
  warning_under_review: 'under_review',
  under_review: 'under_review',
  won: 'won',
  warning_closed: 'won',
  lost: 'lost',
};

const REFUND_STATES: Record<string, RefundState> = {
  pending: 'pending',
  requires_action: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'cancelled',
};

/** Reads a Stripe event (as JSON on the wire) into a fact. */
export function factOf(event: Json): ModelFact {
  const object = asObject(asObject(event.data).object);
  const type = String(event.type);
  if (type.startsWith('checkout.session.')) {
    const outcome: PaymentState | null =
      type === 'checkout.session.completed'
        ? object.payment_status === 'paid'
          ? 'succeeded'
          : 'pending'
        : type === 'checkout.session.async_payment_succeeded'
          ? 'succeeded'
          : type === 'checkout.session.async_payment_failed'
            ? 'failed'
            : type === 'checkout.session.expired'
              ? 'cancelled'
              : null;
    if (!outcome) return { kind: 'none' };
    return {
      kind: 'payment',
      reference: String(object.id),
      invoiceId: String(asObject(object.metadata).invoice_id),
      amountMinor: Number(object.amount_total),
      paymentIntent: typeof object.payment_intent === 'string' ? object.payment_intent : null,
      outcome,
    };
  }
  if (type === 'refund.created' || type === 'refund.updated' || type === 'refund.failed') {
    return {
      kind: 'refund',
      id: String(object.id),
      paymentIntent: String(object.payment_intent),
      amountMinor: Number(object.amount),
      state: type === 'refund.failed' ? 'failed' : (REFUND_STATES[String(object.status)] ?? 'pending'),
    };
  }
  if (type.startsWith('charge.dispute.')) {
    // What the dispute object says now: withdrawals are negative balance transactions, reinstatements positive ones.
    const moves = (Array.isArray(object.balance_transactions) ? object.balance_transactions : []).map((txn) =>
      Number(asObject(txn).amount),
    );
    return {
      kind: 'dispute',
      id: String(object.id),
      paymentIntent: String(object.payment_intent),
      amountMinor: Number(object.amount),
      state: DISPUTE_STATES[String(object.status)],
      withdrawn: type === 'charge.dispute.funds_withdrawn' || moves.some((amount) => amount < 0),
      reinstated: type === 'charge.dispute.funds_reinstated' || moves.some((amount) => amount > 0),
    };
  }
  if (type === 'charge.refunded')
    return {
      kind: 'charge_refunded',
      paymentIntent: String(object.payment_intent),
      cumulativeMinor: Number(object.amount_refunded),
    };
  return { kind: 'none' };
}

/** Forward-only payment rows: money taken is never undone; failed/cancelled only end a pending row; pending never overwrites. */
export function nextPaymentState(current: PaymentState | null, incoming: PaymentState): PaymentState {
  if (current === null) return incoming;
  if (current === 'succeeded') return current;
  if (incoming === 'succeeded') return incoming;
  if ((incoming === 'failed' || incoming === 'cancelled') && current === 'pending') return incoming;
  return current;
}

/** Refund objects are authoritative; failed and cancelled are final; a succeeded refund never goes back to pending. */
export function nextRefundState(current: RefundState | null, incoming: RefundState): RefundState {
  if (current === null) return incoming;
  if (current === 'failed' || current === 'cancelled') return current;
  if (current === 'succeeded' && incoming === 'pending') return current;
  return incoming;
}

const DISPUTE_ORDER: DisputeState[] = ['needs_response', 'under_review', 'lost', 'won'];

/** A dispute's state never goes back: the later of the two in the dispute's life. */
export function nextDisputeState(current: DisputeState | null, incoming: DisputeState): DisputeState {
  if (current === null) return incoming;
  return DISPUTE_ORDER.indexOf(incoming) > DISPUTE_ORDER.indexOf(current) ? incoming : current;
}

/** The invoice status rule (docs/contract.md "Settlement rules") for a recomputed paid amount. */
export function expectedStatus(invoice: InvoiceFields, paidMinor: number, today: string): string {
  if (invoice.status === 'draft' || invoice.status === 'void') return invoice.status;
  if (paidMinor > 0 && paidMinor >= invoice.totalMinor) return 'paid';
  if (paidMinor > 0) return 'partial';
  if (invoice.dueDate !== null && invoice.dueDate < today) return 'overdue';
  return 'sent';
}

export class LedgerModel {
  readonly payments = new Map<string, ModelPayment>();
  readonly refunds = new Map<string, ModelRefund>();
  readonly disputes = new Map<string, ModelDispute>();
  /** The largest cumulative `amount_refunded` applied per payment intent (an upper bound for unattributed refunds). */
  readonly cumulative = new Map<string, number>();
  readonly appliedEvents = new Set<string>();

  paymentByIntent(paymentIntent: string): ModelPayment | undefined {
    for (const payment of this.payments.values()) if (payment.paymentIntent === paymentIntent) return payment;
    return undefined;
  }

  /**
   * Whether the service may apply the fact now. A refund (or a charge's refunded total) for a payment whose success
   * the ledger has not seen yet waits: the payment's own event is still on its way (retried, then dead-lettered).
   */
  canApply(fact: ModelFact): boolean {
    if (fact.kind === 'refund' || fact.kind === 'charge_refunded' || fact.kind === 'dispute')
      return this.paymentByIntent(fact.paymentIntent)?.state === 'succeeded';
    return true;
  }

  apply(eventId: string, fact: ModelFact): void {
    this.appliedEvents.add(eventId);
    if (fact.kind === 'payment') {
      const row = this.payments.get(fact.reference);
      const state = nextPaymentState(row?.state ?? null, fact.outcome);
      const charged = fact.outcome === 'succeeded' && row?.state !== 'succeeded';
      this.payments.set(fact.reference, {
        reference: fact.reference,
        invoiceId: fact.invoiceId,
        amountMinor: charged || !row ? fact.amountMinor : row.amountMinor,
        paymentIntent: row?.paymentIntent ?? fact.paymentIntent,
        state,
      });
    } else if (fact.kind === 'refund') this.applyRefund(fact.id, fact.paymentIntent, fact.amountMinor, fact.state);
    else if (fact.kind === 'dispute') {
      const row = this.disputes.get(fact.id);
      const reinstated = (row?.reinstated ?? false) || fact.reinstated;
      this.disputes.set(fact.id, {
        id: fact.id,
        paymentIntent: fact.paymentIntent,
        amountMinor: fact.amountMinor,
        state: nextDisputeState(row?.state ?? null, fact.state),
        withdrawn: (row?.withdrawn ?? false) || fact.withdrawn || reinstated,
        reinstated,
      });
    } else if (fact.kind === 'charge_refunded')
      this.cumulative.set(
        fact.paymentIntent,
        Math.max(this.cumulative.get(fact.paymentIntent) ?? 0, fact.cumulativeMinor),
      );
  }

  /** Also the path of a refund answered by the provider to our own API call. */
  applyRefund(id: string, paymentIntent: string, amountMinor: number, state: RefundState): void {
    const row = this.refunds.get(id);
    this.refunds.set(id, { id, paymentIntent, amountMinor, state: nextRefundState(row?.state ?? null, state) });
  }

  succeededRefundsOf(paymentIntent: string): number {
    let sum = 0;
    for (const refund of this.refunds.values())
      if (refund.paymentIntent === paymentIntent && refund.state === 'succeeded') sum += refund.amountMinor;
    return sum;
  }

  /** Σ amounts of the invoice's payments that took money (before refunds). */
  paidPaymentsOf(invoiceId: string): number {
    let sum = 0;
    for (const payment of this.payments.values())
      if (payment.invoiceId === invoiceId && payment.state === 'succeeded') sum += payment.amountMinor;
    return sum;
  }

  /** Refunds known by their own objects that must count against the invoice. */
  knownRefundsOf(invoiceId: string): number {
    let sum = 0;
    for (const payment of this.payments.values()) {
      if (payment.invoiceId === invoiceId && payment.paymentIntent)
        sum += this.succeededRefundsOf(payment.paymentIntent);
    }
    return sum;
  }

  /** What a payment's disputes keep away from the merchant: amounts withdrawn and not reinstated. */
  withdrawnDisputesOfIntent(paymentIntent: string): number {
    let sum = 0;
    for (const dispute of this.disputes.values())
      if (dispute.paymentIntent === paymentIntent && dispute.withdrawn && !dispute.reinstated)
        sum += dispute.amountMinor;
    return sum;
  }

  withdrawnDisputesOf(invoiceId: string): number {
    let sum = 0;
    for (const payment of this.payments.values())
      if (payment.invoiceId === invoiceId && payment.paymentIntent)
        sum += this.withdrawnDisputesOfIntent(payment.paymentIntent);
    return sum;
  }

  /** A dispute the bank has not decided yet: the payment cannot be refunded meanwhile. */
  hasOpenDispute(paymentIntent: string): boolean {
    for (const dispute of this.disputes.values())
      if (
        dispute.paymentIntent === paymentIntent &&
        (dispute.state === 'needs_response' || dispute.state === 'under_review')
      )
        return true;
    return false;
  }

  /**
   * How much a charge's cumulative total may add for refunds whose objects have not arrived: it stands only for
   * refunds the ledger does not know yet (`providerRefunds`: the provider's refunds of the charge, whatever their
   * state), and never for more than the largest cumulative seen. Once every refund object is known it is 0.
   */
  unattributedAllowance(paymentIntent: string, providerRefunds: Array<{ id: string; amountMinor: number }>): number {
    const unknown = providerRefunds
      .filter((refund) => !this.refunds.has(refund.id))
      .reduce((sum, refund) => sum + refund.amountMinor, 0);
    return Math.min(this.cumulative.get(paymentIntent) ?? 0, unknown);
  }
}
