/**
 * In-memory Mollie accounts: payments, refunds and chargebacks with the status transitions Mollie
 * applies, the derived amounts (`amountRefunded`, `amountRemaining`) and HAL links.
 */
import type {
  Amount,
  FakeChargeback,
  FakePayment,
  FakeRefund,
  Owner,
  PaymentStatus,
  RefundStatus,
} from './fake-mollie.types';
import { docLink, fromMinor, isoTime, link, newId, notFound, toMinor, unprocessable } from './fake-mollie.util';

export interface PaymentInput {
  amount: Amount;
  description: string;
  redirectUrl: string | null;
  cancelUrl: string | null;
  webhookUrl: string | null;
  metadata: unknown;
  /** Methods the merchant allowed; one method is echoed as `method`. */
  methods: string[];
}

export interface RefundInput {
  /** Omitted only by dashboard refunds: the whole remaining amount. */
  amount?: Amount;
  description: string;
  metadata: unknown;
}

/** Called whenever Mollie would call the payment's webhook. */
export type PaymentChanged = (payment: FakePayment) => void;

/** Methods whose open payments Mollie lets the merchant cancel. */
const CANCELABLE_METHODS = new Set(['banktransfer', 'directdebit']);
const TIMESTAMP_OF: Partial<Record<PaymentStatus, 'paidAt' | 'canceledAt' | 'expiredAt' | 'failedAt'>> = {
  paid: 'paidAt',
  canceled: 'canceledAt',
  expired: 'expiredAt',
  failed: 'failedAt',
};

export class FakeMollieState {
  readonly payments = new Map<string, FakePayment>();
  readonly refunds = new Map<string, FakeRefund>();
  readonly chargebacks = new Map<string, FakeChargeback>();
  /** The API key (account) of every payment, by payment id. */
  readonly owners = new Map<string, Owner>();

  constructor(
    private readonly baseUrl: string,
    private readonly changed: PaymentChanged,
  ) {}

  /** A payment of the caller's account, or Mollie's 404 (other accounts never learn it exists). */
  payment(id: string, owner: Owner | null): FakePayment {
    const found = this.payments.get(id);
    if (!found || (owner !== null && this.owners.get(id)?.apiKey !== owner.apiKey)) throw notFound('payment', id);
    return found;
  }

  refund(paymentId: string, refundId: string, owner: Owner | null): FakeRefund {
    const payment = this.payment(paymentId, owner);
    const found = this.refunds.get(refundId);
    if (!found || found.paymentId !== payment.id) throw notFound('refund', refundId);
    return found;
  }

  refundsOf(paymentId: string): FakeRefund[] {
    return [...this.refunds.values()].filter((refund) => refund.paymentId === paymentId);
  }

  chargebacksOf(paymentId: string): FakeChargeback[] {
    return [...this.chargebacks.values()].filter((chargeback) => chargeback.paymentId === paymentId);
  }

  createPayment(input: PaymentInput, owner: Owner): FakePayment {
    const id = newId('tr');
    const now = Date.now();
    const method = input.methods.length === 1 ? input.methods[0] : null;
    const payment: FakePayment = {
      resource: 'payment',
      id,
      mode: owner.mode,
      createdAt: isoTime(now),
      amount: input.amount,
      description: input.description,
      method,
      metadata: input.metadata,
      status: 'open',
      isCancelable: method !== null && CANCELABLE_METHODS.has(method),
      expiresAt: isoTime(now + 15 * 60_000),
      profileId: owner.profileId,
      sequenceType: 'oneoff',
      redirectUrl: input.redirectUrl,
      cancelUrl: input.cancelUrl,
      webhookUrl: input.webhookUrl,
      _links: {},
    };
    this.payments.set(id, payment);
    this.owners.set(id, owner);
    this.refresh(payment);
    return payment;
  }

  /** Moves a payment to `status`, stamping its timestamp; notifies when the status changed. */
  setStatus(id: string, status: PaymentStatus): FakePayment {
    const payment = this.payment(id, null);
    if (payment.status === status) return payment;
    payment.status = status;
    const stamp = TIMESTAMP_OF[status];
    if (stamp) payment[stamp] = isoTime();
    if (status !== 'open' && status !== 'pending') {
      payment.isCancelable = false;
      delete payment.expiresAt;
    }
    this.refresh(payment);
    this.changed(payment);
    return payment;
  }

  /** DELETE /v2/payments/:id. */
  cancel(id: string, owner: Owner): FakePayment {
    const payment = this.payment(id, owner);
    if (!payment.isCancelable || (payment.status !== 'open' && payment.status !== 'pending')) {
      throw unprocessable(`The payment ${id} cannot be canceled`);
    }
    return this.setStatus(id, 'canceled');
  }

  /** Creates a pending refund; `notify` is set for dashboard refunds (Mollie then calls the webhook). */
  createRefund(paymentId: string, input: RefundInput, owner: Owner | null, notify: boolean): FakeRefund {
    const payment = this.payment(paymentId, owner);
    if (payment.status !== 'paid' || payment.amountRemaining === undefined) {
      throw unprocessable(`The payment ${paymentId} is not paid and cannot be refunded`);
    }
    const remaining = toMinor(payment.amountRemaining);
    const amount = input.amount ?? payment.amountRemaining;
    if (amount.currency !== payment.amount.currency) {
      throw unprocessable('The refund currency must match the currency of the payment', 'amount.currency');
    }
    const minor = toMinor(amount);
    if (minor <= 0) throw unprocessable('The refund amount must be greater than zero', 'amount.value');
    if (minor > remaining)
      throw unprocessable('The refund amount is higher than the amount that is refundable', 'amount.value');
    const id = newId('re');
    const refund: FakeRefund = {
      resource: 'refund',
      id,
      mode: payment.mode,
      amount: { ...amount },
      status: 'pending',
      createdAt: isoTime(),
      description: input.description,
      metadata: input.metadata,
      paymentId,
      _links: {
        self: link(`${this.baseUrl}/v2/payments/${paymentId}/refunds/${id}`),
        payment: link(`${this.baseUrl}/v2/payments/${paymentId}`),
        documentation: docLink('/reference/get-refund'),
      },
    };
    this.refunds.set(id, refund);
    this.refresh(payment);
    if (notify) this.changed(payment);
    return refund;
  }

  settleRefund(paymentId: string, refundId: string, status: RefundStatus): FakeRefund {
    const refund = this.refund(paymentId, refundId, null);
    refund.status = status;
    const payment = this.payment(paymentId, null);
    this.refresh(payment);
    this.changed(payment);
    return refund;
  }

  addChargeback(paymentId: string, amount: Amount): FakeChargeback {
    const payment = this.payment(paymentId, null);
    if (payment.status !== 'paid') throw new Error(`fake-mollie: payment ${paymentId} is ${payment.status}, not paid`);
    const id = newId('chb');
    const chargeback: FakeChargeback = {
      resource: 'chargeback',
      id,
      amount: { ...amount },
      settlementAmount: fromMinor(-toMinor(amount), amount.currency),
      createdAt: isoTime(),
      reason: { code: 'AC04', description: 'Account closed' },
      reversedAt: null,
      paymentId,
      _links: {
        self: link(`${this.baseUrl}/v2/payments/${paymentId}/chargebacks/${id}`),
        payment: link(`${this.baseUrl}/v2/payments/${paymentId}`),
        documentation: docLink('/reference/get-chargeback'),
      },
    };
    this.chargebacks.set(id, chargeback);
    this.refresh(payment);
    this.changed(payment);
    return chargeback;
  }

  /** The chargeback is reversed (the merchant won it back): `reversedAt` is set and the payment's webhook is called. */
  reverseChargeback(paymentId: string, chargebackId: string): FakeChargeback {
    const payment = this.payment(paymentId, null);
    const chargeback = this.chargebacks.get(chargebackId);
    if (!chargeback || chargeback.paymentId !== paymentId)
      throw new Error(`fake-mollie: no chargeback ${chargebackId} on ${paymentId}`);
    if (chargeback.reversedAt) throw new Error(`fake-mollie: chargeback ${chargebackId} is already reversed`);
    chargeback.reversedAt = isoTime();
    this.refresh(payment);
    this.changed(payment);
    return chargeback;
  }

  chargeback(paymentId: string, chargebackId: string, owner: Owner | null): FakeChargeback {
    const payment = this.payment(paymentId, owner);
    const found = this.chargebacks.get(chargebackId);
    if (!found || found.paymentId !== payment.id) throw notFound('chargeback', chargebackId);
    return found;
  }

  /** Recomputes the derived amounts and links after any change. */
  refresh(payment: FakePayment): void {
    const { id } = payment;
    const currency = payment.amount.currency;
    const refunds = this.refundsOf(id);
    const chargebacks = this.chargebacksOf(id);
    if (payment.paidAt !== undefined) {
      const refunded = refunds
        .filter((r) => r.status !== 'failed' && r.status !== 'canceled')
        .reduce((sum, r) => sum + toMinor(r.amount), 0);
      // a reversed chargeback gave its amount back
      const chargedBack = chargebacks.filter((c) => !c.reversedAt).reduce((sum, c) => sum + toMinor(c.amount), 0);
      payment.amountRefunded = fromMinor(refunded, currency);
      payment.amountRemaining = fromMinor(Math.max(0, toMinor(payment.amount) - refunded - chargedBack), currency);
      if (chargedBack > 0) payment.amountChargedBack = fromMinor(chargedBack, currency);
      else delete payment.amountChargedBack;
    }
    payment._links = {
      self: link(`${this.baseUrl}/v2/payments/${id}`),
      ...(payment.status === 'open' ? { checkout: link(`${this.baseUrl}/checkout/mollie/${id}`, 'text/html') } : {}),
      dashboard: link(`https://my.mollie.com/dashboard/org_fake/payments/${id}`, 'text/html'),
      ...(refunds.length > 0 ? { refunds: link(`${this.baseUrl}/v2/payments/${id}/refunds`) } : {}),
      ...(chargebacks.length > 0 ? { chargebacks: link(`${this.baseUrl}/v2/payments/${id}/chargebacks`) } : {}),
      documentation: docLink('/reference/get-payment'),
    };
  }
}
