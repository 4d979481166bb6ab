import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { expect } from 'vitest';
import { Provider } from '../../src/vocabulary/index.js';
import { singlePayment, type PaymentItem, type SettleOutcome } from '../../src/settlement/settlement.service.js';
import { SettlementError } from '../../src/vocabulary/settlement-event.js';
import type { EventEnvelope } from '../../src/jetstream/envelope.js';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import type { FakeEvent } from '../fakes/stripe/fake-stripe.types.js';
import { sqlOn } from '../helpers/db.js';
import { insertInvoice } from '../helpers/fixtures.js';
import type { TestService } from '../helpers/service.js';
import { tokenFor, type TestCaller } from '../helpers/tokens.js';
import { LedgerModel, expectedStatus, factOf, type InvoiceFields, type ModelFact } from './ledger-model.js';

/** One step of a generated history (see settlement.model.test.ts for the generators). */
/** Sessions and refunds are named by labels (the script that made them), so a step always finds its own session. */
export type Command =
  | { kind: 'open'; session: number; invoice: number; percent: number }
  | { kind: 'pay'; session: number; paid: boolean }
  | { kind: 'async'; session: number; succeeded: boolean }
  | { kind: 'expire'; session: number }
  | {
      kind: 'dashboardRefund';
      session: number;
      refund: number;
      percent: number | null;
      status: 'succeeded' | 'pending' | 'failed';
    }
  /** `twins`: two concurrent calls with one key; `again`: the same call once more afterwards (a client's retry). */
  | {
      kind: 'apiRefund';
      session: number;
      refund: number;
      percent: number | null;
      status: 'succeeded' | 'pending';
      twins: boolean;
      again?: boolean;
    }
  | { kind: 'settleRefund'; refund: number; status: 'succeeded' | 'failed' | 'canceled' }
  /** The cardholder's bank disputes `percent` of what is left of the session's charge (null: all of it). */
  | { kind: 'openDispute'; session: number; dispute: number; percent: number | null }
  /** A step of the dispute's life at the provider: funds withdrawn, evidence submitted, decided won or lost. */
  | { kind: 'disputeStep'; dispute: number; step: 'withdraw' | 'evidence' | 'won' | 'lost' }
  /** `shared`: the copy the provider sends to the other workspace connected to the same account is delivered too. */
  | {
      kind: 'deliver';
      picks: Array<{ fresh: boolean; index: number; copies: number; shared?: boolean }>;
      batch: boolean;
    }
  /** The owner disconnects the provider (the grace window keeps the keys for the rest of the history). */
  | { kind: 'disconnect' }
  | { kind: 'retry' }
  /** Regression tests: the first undelivered event of each type, one after the other. */
  | { kind: 'deliverTypes'; types: string[] }
  | {
      kind: 'edit';
      invoice: number;
      change: { total: number } | { status: 'void' | 'draft' | 'sent' } | { dueDate: string };
    };

interface InvoiceRow {
  id: string;
  status: string;
  paid_minor: string;
  total_minor: string;
  due_date: string | null;
  updated_at: Date;
}
interface PaymentRow {
  id: string;
  provider_reference: string;
  invoice_id: string;
  status: string;
  amount_minor: string;
  refunded_minor: string;
  disputed_minor: string;
  provider_payment_id: string | null;
}
interface RefundRow {
  provider_refund_id: string | null;
  payment_id: string;
  status: string;
  amount_minor: string;
  idempotency_key: string | null;
}
interface DisputeRow {
  provider_dispute_id: string;
  payment_id: string;
  status: string;
  amount_minor: string;
  funds_withdrawn: boolean;
  funds_reinstated: boolean;
}
interface Snapshot {
  invoices: InvoiceRow[];
  payments: PaymentRow[];
  refunds: RefundRow[];
  disputes: DisputeRow[];
}
const DISPUTE_RANK: Record<string, number> = { needs_response: 0, under_review: 1, lost: 2, won: 3 };

const PAID_FAMILY = new Set(['succeeded', 'partially_refunded', 'refunded']);
const REFUND = `mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { id providerRefundId status amount { amountMinor } } }`;
const today = () => new Date().toISOString().slice(0, 10);

/**
 * Instruments the real `CheckoutSessions.expireOthers` (the after-commit hook that closes a paid invoice's other open
 * checkouts) so a history can wait for the closes it started; the code that runs is the service's own.
 */
export function trackClosures(service: TestService): () => Promise<void> {
  const sessions = service.services.sessions;
  const inflight = new Set<Promise<unknown>>();
  const original = sessions.expireOthers.bind(sessions);
  sessions.expireOthers = (paid) => {
    const running = original(paid);
    inflight.add(running);
    void running.finally(() => inflight.delete(running));
    return running;
  };
  return async () => {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  };
}

/** The other workspace connected to the same provider account, and what it must make of its copies. */
export interface SharedAccount {
  caller: TestCaller;
}

/**
 * Runs one generated history against the real service (settlement path, refund mutation) and the fake Stripe, and
 * checks after every step that the database agrees with the pure model. One instance per history.
 */
export class History {
  readonly model = new LedgerModel();
  readonly invoices: string[] = [];
  private readonly fields = new Map<string, InvoiceFields>();
  private readonly sessions = new Map<number, string>();
  private readonly refundLabels = new Map<number, string>();
  private readonly providerRefunds: string[] = [];
  private readonly disputeLabels = new Map<number, string>();
  /** Emitted by the fake, not delivered yet. */
  private readonly undelivered: FakeEvent[] = [];
  private readonly delivered: FakeEvent[] = [];
  /** Deliveries the service refused for now (the provider, or JetStream, would send them again). */
  private readonly refused = new Map<string, FakeEvent>();
  private seenEvents: number;
  private previous: Snapshot | null = null;
  readonly log: string[] = [];
  refusals = 0;
  duplicates = 0;
  /** Copies delivered to the other workspace: ignored once, then duplicates. */
  readonly ignoredCopies = new Set<string>();
  /** Copies the other workspace refused for now (a refund of a payment not recorded anywhere yet). */
  private readonly refusedCopies = new Map<string, FakeEvent>();
  disconnected = false;
  /** Second checkouts of paid invoices the service closed, and sessions a disconnect closed. */
  closedByService = 0;
  closedByReconciler = 0;

  constructor(
    private readonly service: TestService,
    private readonly fake: FakeStripe,
    private readonly caller: TestCaller,
    private readonly stripe: Stripe,
    private readonly extra: {
      /** Waits for the closes the paid hook started (see trackClosures). */
      closures?: () => Promise<void>;
      shared?: SharedAccount;
      /** Reconnects the provider after a history that disconnected it. */
      reconnect?: () => Promise<void>;
    } = {},
  ) {
    this.seenEvents = fake.events.length;
  }

  /** The invoice's total as the Invoices service last set it. */
  totalOf(invoiceId: string): number {
    return this.fields.get(invoiceId)!.totalMinor;
  }

  async setUp(totals: number[], dueDates: Array<string | null>): Promise<void> {
    for (const [index, totalMinor] of totals.entries()) {
      const invoice = await insertInvoice(this.service.orm, {
        workspaceId: this.caller.workspaceId,
        totalMinor,
        dueDate: dueDates[index] ?? null,
      });
      this.invoices.push(invoice.id);
      this.fields.set(invoice.id, { status: 'sent', totalMinor, dueDate: dueDates[index] ?? null });
    }
    this.previous = await this.snapshot();
  }

  async run(command: Command): Promise<void> {
    this.log.push(JSON.stringify(command));
    const touched = await this.execute(command);
    this.collectEvents();
    await this.check(touched, command.kind === 'edit');
  }

  /** Delivers everything still undelivered (and every refused event again) until the service has applied it all. */
  async drain(order: number[]): Promise<void> {
    for (
      let round = 0;
      round < 6 && (this.undelivered.length > 0 || this.refused.size > 0 || this.refusedCopies.size > 0);
      round += 1
    ) {
      while (this.undelivered.length > 0) {
        const picks = order.slice(0, 6).map((index) => ({ fresh: true, index, copies: 1 }));
        await this.run({
          kind: 'deliver',
          picks: picks.length > 0 ? picks : [{ fresh: true, index: 0, copies: 1 }],
          batch: round % 2 === 0,
        });
      }
      await this.run({ kind: 'retry' });
    }
    expect(this.undelivered, 'every emitted event was delivered').toEqual([]);
    expect([...this.refused.keys()], 'every event was eventually applied').toEqual([]);
    expect([...this.refusedCopies.keys()], 'every copy of the other workspace was eventually ignored').toEqual([]);
  }

  private async execute(command: Command): Promise<Set<string>> {
    const touched = new Set<string>();
    switch (command.kind) {
      case 'open': {
        if (this.disconnected) break; // no pay link, no checkout after a disconnect
        const invoiceId = this.invoices[command.invoice % this.invoices.length];
        const amount = Math.max(50, Math.round((this.fields.get(invoiceId)!.totalMinor * command.percent) / 100));
        const session = await this.stripe.checkout.sessions.create({
          mode: 'payment',
          line_items: [
            {
              quantity: 1,
              price_data: { currency: 'eur', unit_amount: amount, product_data: { name: 'Invoice (model test)' } },
            },
          ],
          success_url: 'https://example.test/pay/success',
          cancel_url: 'https://example.test/pay/cancel',
          client_reference_id: invoiceId,
          metadata: { workspace_id: this.caller.workspaceId, invoice_id: invoiceId },
        });
        this.sessions.set(command.session, session.id);
        // the pay-link click records the open checkout as a PENDING row, as CheckoutService does
        await this.sql(
          `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, status, amount_minor, currency, expires_at)
           values (?, ?, ?, 'stripe', ?, 'pending', ?, 'EUR', to_timestamp(?))`,
          [randomUUID(), this.caller.workspaceId, invoiceId, session.id, amount, session.expires_at],
        );
        this.model.payments.set(session.id, {
          reference: session.id,
          invoiceId,
          amountMinor: amount,
          paymentIntent: null,
          state: 'pending',
        });
        break;
      }
      case 'disconnect':
        await this.disconnect();
        break;
      case 'pay': {
        const session = this.session(command.session);
        if (session?.status === 'open')
          await this.fake.completeSession(session.id, { paymentStatus: command.paid ? 'paid' : 'unpaid' });
        break;
      }
      case 'async': {
        const session = this.session(command.session);
        const intent = session?.payment_intent ? this.fake.paymentIntents.get(session.payment_intent) : undefined;
        if (session?.payment_status === 'unpaid' && intent?.status === 'processing')
          await this.fake.asyncPaymentResult(session.id, command.succeeded ? 'succeeded' : 'failed');
        break;
      }
      case 'expire': {
        const session = this.session(command.session);
        if (session?.status === 'open') await this.fake.expireSession(session.id);
        break;
      }
      case 'dashboardRefund': {
        const charge = this.refundableCharge(command.session);
        if (!charge) break;
        const remaining = charge.amount_captured - charge.amount_refunded;
        this.fake.nextRefundStatus = command.status;
        const refund = await this.fake.refundOutsideApi(
          String(charge.payment_intent),
          command.percent === null ? undefined : Math.max(1, Math.floor((remaining * command.percent) / 100)),
        );
        this.fake.nextRefundStatus = null;
        this.providerRefunds.push(refund.id);
        this.refundLabels.set(command.refund, refund.id);
        break;
      }
      case 'apiRefund':
        await this.apiRefund(command, touched);
        break;
      case 'openDispute': {
        const session = this.session(command.session);
        const intent = session?.payment_intent ? this.fake.paymentIntents.get(session.payment_intent) : undefined;
        const chargeId = typeof intent?.latest_charge === 'string' ? intent.latest_charge : intent?.latest_charge?.id;
        const charge = chargeId ? this.fake.charges.get(chargeId) : undefined;
        if (!charge || charge.status !== 'succeeded') break;
        const left = charge.amount_captured - charge.amount_refunded;
        if (left <= 0) break;
        const amount = command.percent === null ? left : Math.max(1, Math.floor((left * command.percent) / 100));
        const dispute = await this.fake.createDispute(String(charge.payment_intent), { amount });
        this.disputeLabels.set(command.dispute, dispute.id);
        break;
      }
      case 'disputeStep': {
        const id = this.disputeLabels.get(command.dispute);
        const dispute = id ? this.fake.disputes.get(id) : undefined;
        if (!dispute || dispute.status === 'won' || dispute.status === 'lost') break;
        if (command.step === 'withdraw' && dispute.balance_transactions.length === 0)
          await this.fake.withdrawDisputeFunds(dispute.id);
        if (command.step === 'evidence' && dispute.status === 'needs_response')
          await this.fake.submitDisputeEvidence(dispute.id);
        if (command.step === 'won' || command.step === 'lost') await this.fake.closeDispute(dispute.id, command.step);
        break;
      }
      case 'settleRefund': {
        const id = this.refundLabels.get(command.refund);
        if (id && this.fake.refunds.get(id)?.status === 'pending') await this.fake.settleRefund(id, command.status);
        break;
      }
      case 'deliver':
        await this.deliver(command.picks, command.batch, touched);
        break;
      case 'deliverTypes':
        for (const type of command.types) {
          const index = this.undelivered.findIndex((event) => event.type === type);
          if (index < 0)
            throw new Error(
              `no undelivered ${type} event (undelivered: ${this.undelivered.map((event) => event.type).join(', ')})`,
            );
          await this.deliverGroup(this.undelivered.splice(index, 1), false, touched);
        }
        break;
      case 'retry': {
        const again = [...this.refused.values()];
        this.refused.clear();
        const copies = [...this.refusedCopies.values()];
        this.refusedCopies.clear();
        await Promise.all([
          again.length > 0 ? this.deliverGroup(again, false, touched) : Promise.resolve(),
          this.deliverCopies(copies),
        ]);
        break;
      }
      case 'edit':
        await this.edit(command);
        break;
    }
    return touched;
  }

  private session(label: number) {
    const id = this.sessions.get(label);
    return id ? this.fake.sessions.get(id) : undefined;
  }

  /** The fake's charge of a paid session that still has something to refund. */
  private refundableCharge(index: number) {
    const session = this.session(index);
    const intent = session?.payment_intent ? this.fake.paymentIntents.get(session.payment_intent) : undefined;
    const chargeId = typeof intent?.latest_charge === 'string' ? intent.latest_charge : intent?.latest_charge?.id;
    const charge = chargeId ? this.fake.charges.get(chargeId) : undefined;
    return charge && charge.status === 'succeeded' && charge.amount_captured > charge.amount_refunded
      ? charge
      : undefined;
  }

  /** `refundPayment` through GraphQL (optionally two concurrent twins with one key), checked against the model. */
  private async apiRefund(command: Extract<Command, { kind: 'apiRefund' }>, touched: Set<string>): Promise<void> {
    const session = this.session(command.session);
    if (!session) return;
    const [row] = await this.sql<PaymentRow>(
      'select * from invoice_payments where provider = ? and provider_reference = ?',
      ['stripe', session.id],
    );
    if (!row) return;
    const modelPayment = this.model.payments.get(session.id);
    const charge = this.refundableCharge(command.session);
    const reserved = this.previous!.refunds.filter(
      (refund) => refund.payment_id === row.id && (refund.status === 'succeeded' || refund.status === 'pending'),
    ).reduce((sum, refund) => sum + Number(refund.amount_minor), 0);
    const ourRefundable = Number(row.amount_minor) - Number(row.disputed_minor) - reserved;
    const disputeOpen = row.provider_payment_id !== null && this.model.hasOpenDispute(row.provider_payment_id);
    const amount =
      command.percent === null ? null : Math.max(1, Math.floor((Number(row.amount_minor) * command.percent) / 100));
    const requested = amount ?? ourRefundable;
    const providerRemaining = charge ? charge.amount_captured - charge.amount_refunded : 0;
    const refundsBefore = this.fake.refunds.size;

    this.fake.nextRefundStatus = command.status;
    const idempotencyKey = `model-${randomUUID()}`;
    const input = { paymentId: row.id, idempotencyKey, ...(amount === null ? {} : { amountMinor: amount }) };
    const token = await tokenFor(this.caller);
    const calls = command.twins ? 2 : 1;
    const call = () =>
      this.service.gql<{
        refundPayment: { id: string; providerRefundId: string; status: string; amount: { amountMinor: number } };
      }>(REFUND, { input }, token);
    const answers = await Promise.all(Array.from({ length: calls }, call));
    this.fake.nextRefundStatus = null;
    if (command.again) answers.push(await call());

    const succeeded = answers.filter((answer) => !answer.errors);
    const mustSucceed =
      !this.disconnected && // a disconnected account starts no refund, even in its grace window
      modelPayment?.state === 'succeeded' &&
      !disputeOpen &&
      requested >= 1 &&
      requested <= ourRefundable &&
      requested <= providerRemaining;
    if (mustSucceed)
      expect(
        answers.map((answer) => answer.errors ?? null),
        `refundPayment of ${requested} (refundable ${ourRefundable}, provider ${providerRemaining})`,
      ).toEqual(answers.map(() => null));
    for (const answer of answers) {
      if (answer.errors) expect(answer.errors.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
    if (disputeOpen) expect(succeeded, 'refundPayment of a payment with an open dispute is refused').toEqual([]);
    if (succeeded.length === 0) {
      expect(this.fake.refunds.size, 'a refused refund made no refund at the provider').toBe(refundsBefore);
      expect(
        await this.sql('select 1 from payment_refunds where workspace_id = ? and idempotency_key = ?', [
          this.caller.workspaceId,
          idempotencyKey,
        ]),
      ).toEqual([]);
      return;
    }
    const first = succeeded[0].data!.refundPayment;
    for (const answer of succeeded)
      expect(answer.data!.refundPayment.id, 'twins with one key get one refund').toBe(first.id);
    expect(this.fake.refunds.size, 'one refund at the provider per key').toBe(refundsBefore + 1);
    const providerRefund = this.fake.refunds.get(first.providerRefundId)!;
    expect(providerRefund.amount).toBe(first.amount.amountMinor);
    this.providerRefunds.push(providerRefund.id);
    this.refundLabels.set(command.refund, providerRefund.id);
    // The service recorded the provider's answer: the model takes it the same way.
    this.model.applyRefund(
      providerRefund.id,
      String(providerRefund.payment_intent),
      providerRefund.amount,
      command.status,
    );
    touched.add(row.invoice_id);
  }

  private async deliver(
    picks: Array<{ fresh: boolean; index: number; copies: number; shared?: boolean }>,
    batch: boolean,
    touched: Set<string>,
  ): Promise<void> {
    const group: FakeEvent[] = [];
    const copies: FakeEvent[] = [];
    for (const pick of picks) {
      let event: FakeEvent | undefined;
      if (pick.fresh && this.undelivered.length > 0)
        [event] = this.undelivered.splice(pick.index % this.undelivered.length, 1);
      else if (this.delivered.length > 0) event = this.delivered[pick.index % this.delivered.length];
      if (!event) continue;
      for (let copy = 0; copy < pick.copies; copy += 1) group.push(event);
      if (pick.shared && this.extra.shared) copies.push(event);
    }
    // the other workspace's copies race this workspace's deliveries (two hosts, one account)
    await Promise.all([
      group.length > 0 ? this.deliverGroup(group, batch, touched) : Promise.resolve(),
      this.deliverCopies(copies),
    ]);
  }

  /**
   * Delivers the copies the provider sends to the other workspace on the same account: each is recorded as ignored
   * once (then a duplicate), never applied; a refund of a payment recorded nowhere yet may be refused and retried.
   */
  private async deliverCopies(copies: FakeEvent[]): Promise<void> {
    const shared = this.extra.shared;
    if (!shared || copies.length === 0) return;
    const settlement = this.service.services.settlement;
    const ignoredBefore = new Set(this.ignoredCopies);
    const outcomes = await Promise.all(
      copies.map((event) =>
        settlement
          .settle({
            provider: 'stripe',
            workspaceId: shared.caller.workspaceId,
            receivedAt: new Date().toISOString(),
            event: JSON.parse(JSON.stringify(event)),
          })
          .catch((error: Error) => error),
      ),
    );
    const ignoredNow = new Map<string, number>();
    for (const [index, event] of copies.entries()) {
      const outcome = outcomes[index];
      const fact = factOf(event as unknown as Record<string, unknown>);
      const what = `the other workspace's copy of ${event.type} ${event.id}`;
      if (outcome instanceof Error) {
        expect(outcome, `${what} failed: ${outcome.message}`).toBeInstanceOf(SettlementError);
        // refunds and disputes of a payment no ledger has recorded yet wait (the payment's own success is on its way)
        expect(
          fact.kind === 'refund' || fact.kind === 'charge_refunded' || fact.kind === 'dispute',
          `${what} failed: ${outcome.message}`,
        ).toBe(true);
        this.refusedCopies.set(event.id, event);
        continue;
      }
      expect(outcome, `${what} was settled`).not.toBe('applied');
      if (outcome === 'duplicate')
        expect(
          ignoredBefore.has(event.id) || copies.some((other, at) => other.id === event.id && at !== index),
          `${what} answered duplicate but was never recorded`,
        ).toBe(true);
      else {
        expect(ignoredBefore.has(event.id), `${what} was recorded as ignored twice`).toBe(false);
        ignoredNow.set(event.id, (ignoredNow.get(event.id) ?? 0) + 1);
      }
    }
    for (const [eventId, count] of ignoredNow) {
      expect(count, `${eventId} ignored by ${count} concurrent copies`).toBe(1);
      this.ignoredCopies.add(eventId);
      this.refusedCopies.delete(eventId);
    }
  }

  /** `disconnectPaymentProvider`: every open checkout is closed at the provider first, its row CANCELLED. */
  private async disconnect(): Promise<void> {
    if (this.disconnected) return;
    const closable = this.closable();
    const result = await this.service.gql(
      'mutation { disconnectPaymentProvider(provider: STRIPE) }',
      {},
      await tokenFor(this.caller),
    );
    expect(result.errors, 'disconnect').toBeUndefined();
    this.disconnected = true;
    for (const payment of closable) {
      expect(this.fake.sessions.get(payment.reference)!.status, `${payment.reference} closed by the disconnect`).toBe(
        'expired',
      );
      payment.state = 'cancelled';
      this.closedByService += 1;
    }
  }

  /** The model's PENDING rows whose checkout is open, or already expired, at the provider: the service closes these. */
  private closable() {
    return [...this.model.payments.values()].filter((payment) => {
      const status = this.fake.sessions.get(payment.reference)?.status;
      return payment.state === 'pending' && (status === 'open' || status === 'expired');
    });
  }

  /**
   * One invoice, one payment: once a succeeded payment makes an invoice paid, the service closes the invoice's other
   * open checkouts (after the commit) and cancels their rows; a checkout already expired at the provider (the customer
   * let it lapse, its event still on its way) is cancelled the same way. Required when the group only paid the invoice
   * and it ends paid; allowed (an intermediate paid state of a concurrent group) when it also refunded.
   */
  /** Whether the model has the invoice paid right now. */
  private isPaidNow(invoiceId: string): boolean {
    const paid =
      this.model.paidPaymentsOf(invoiceId) -
      this.model.knownRefundsOf(invoiceId) -
      this.model.withdrawnDisputesOf(invoiceId);
    return expectedStatus(this.fields.get(invoiceId)!, Math.max(0, paid), today()) === 'paid';
  }

  private async closeOthers(paidHere: Map<string, { references: Set<string>; refunds: boolean }>) {
    await this.extra.closures?.();
    for (const [invoiceId, { references, refunds }] of paidHere) {
      const fields = this.fields.get(invoiceId)!;
      const paid = Math.max(
        0,
        this.model.paidPaymentsOf(invoiceId) -
          this.model.knownRefundsOf(invoiceId) -
          this.model.withdrawnDisputesOf(invoiceId),
      );
      const [stored] = await this.sql<{ status: string }>('select status from invoices where id = ?', [invoiceId]);
      // required once both the model and the service have the invoice paid (a difference between them is the
      // final invariant check's to report, with the whole ledger)
      const required = !refunds && expectedStatus(fields, paid, today()) === 'paid' && stored?.status === 'paid';
      for (const payment of this.closable()) {
        if (payment.invoiceId !== invoiceId || references.has(payment.reference)) continue;
        let status = this.fake.sessions.get(payment.reference)!.status;
        if (required && status === 'open') {
          // "a failed attempt is retried by the reconciler": a close the paid hook did not complete is the reconciler's
          await this.service.services.reconciler.runOnce({ workspaceId: this.caller.workspaceId });
          status = this.fake.sessions.get(payment.reference)!.status;
          this.closedByReconciler += 1;
        }
        const [row] = await this.sql<{ status: string }>(
          'select status from invoice_payments where provider_reference = ?',
          [payment.reference],
        );
        if (required)
          expect(
            status,
            `the other open checkout ${payment.reference} (ledger ${row?.status}) of paid invoice ${invoiceId}`,
          ).toBe('expired');
        if (required || (status === 'expired' && row?.status === 'cancelled')) {
          payment.state = 'cancelled';
          this.closedByService += 1;
        }
      }
    }
  }

  /** Reconnects after a disconnect, so the next history starts connected. */
  async finish(): Promise<void> {
    if (this.disconnected) await this.extra.reconnect?.();
  }

  /**
   * Delivers a group of events at once, as concurrent workers would: each through `settle` (interpret + apply), or
   * the payment events of the group through one `applyPayments` batch (the consumer's hot path).
   */
  private async deliverGroup(group: FakeEvent[], batch: boolean, touched: Set<string>): Promise<void> {
    const settlement = this.service.services.settlement;
    const envelopes = group.map((event): EventEnvelope => ({
      provider: 'stripe',
      workspaceId: this.caller.workspaceId,
      receivedAt: new Date().toISOString(),
      event: JSON.parse(JSON.stringify(event)),
    }));
    const outcomes: Array<SettleOutcome | Error> = new Array(group.length);
    const single: number[] = [];
    const items: Array<{ index: number; item: PaymentItem }> = [];
    if (batch) {
      for (const [index, envelope] of envelopes.entries()) {
        const interpreted = await settlement.interpret(envelope);
        const update = singlePayment(interpreted);
        if (update)
          items.push({
            index,
            item: {
              provider: Provider.STRIPE,
              workspaceId: this.caller.workspaceId,
              eventId: interpreted.eventId,
              type: interpreted.type,
              update,
              streamSequence: null,
            },
          });
        else single.push(index);
      }
    } else single.push(...group.keys());
    await Promise.all([
      items.length > 0
        ? settlement
            .applyPayments(items.map(({ item }) => item))
            .then((results) => results.forEach((result, at) => (outcomes[items[at].index] = result)))
        : Promise.resolve(),
      ...single.map((index) =>
        settlement.settle(envelopes[index]).then(
          (result) => (outcomes[index] = result),
          (error: Error) => (outcomes[index] = error),
        ),
      ),
    ]);

    // Judge the outcomes against the model as it stood before the group (all of the group ran concurrently).
    const appliedBefore = new Set(this.model.appliedEvents);
    const facts = new Map<string, ModelFact>();
    const appliedNow = new Map<string, number>();
    for (const [index, event] of group.entries()) {
      const outcome = outcomes[index];
      const fact = factOf(event as unknown as Record<string, unknown>);
      facts.set(event.id, fact);
      if (outcome instanceof Error) {
        expect(
          outcome,
          `${event.type} ${event.id} failed with something other than a SettlementError: ${outcome.message}`,
        ).toBeInstanceOf(SettlementError);
        expect(appliedBefore.has(event.id), `${event.id} was applied before, yet failed`).toBe(false);
        expect(
          this.model.canApply(fact),
          `${event.type} ${event.id} could apply now but failed: ${outcome.message}`,
        ).toBe(false);
        this.refused.set(event.id, event);
        this.refusals += 1;
      } else if (outcome === 'duplicate') {
        this.duplicates += 1;
        // A duplicate must be an event applied before (or by a twin in this group): never one that was lost.
        expect(
          appliedBefore.has(event.id) || group.some((other, at) => other.id === event.id && at !== index),
          `${event.id} answered duplicate but was never applied`,
        ).toBe(true);
      } else {
        expect(appliedBefore.has(event.id), `${event.type} ${event.id} was applied twice`).toBe(false);
        appliedNow.set(event.id, (appliedNow.get(event.id) ?? 0) + 1);
      }
    }
    for (const [eventId, count] of appliedNow) {
      expect(count, `${eventId} applied by ${count} concurrent deliveries`).toBe(1);
      const fact = facts.get(eventId)!;
      if (fact.kind === 'refund' || fact.kind === 'charge_refunded' || fact.kind === 'dispute') {
        // A refund (or dispute) counts only against a payment that took money (before the group, or by a success in this group).
        const succeedsHere = [...facts.values()].some(
          (other) =>
            other.kind === 'payment' && other.outcome === 'succeeded' && other.paymentIntent === fact.paymentIntent,
        );
        expect(
          this.model.canApply(fact) || succeedsHere,
          `${eventId} (${fact.kind}) applied to a payment that has not succeeded`,
        ).toBe(true);
      }
    }
    for (const event of group) if (!this.delivered.includes(event)) this.delivered.push(event);
    const paidHere = new Map<string, { references: Set<string>; refunds: boolean }>();
    for (const [eventId] of appliedNow) {
      this.refused.delete(eventId);
      const fact = facts.get(eventId)!;
      const invoiceId = this.invoiceOfFact(fact);
      // the contract closes the other checkouts when settlement *makes* the invoice paid; one already paid before this
      // group (an overpayment) leaves them to the reconciler, so the check does not require it then
      if (invoiceId && !paidHere.has(invoiceId) && this.isPaidNow(invoiceId)) {
        paidHere.set(invoiceId, { references: new Set<string>(), refunds: true });
      }
      this.model.apply(eventId, fact);
      if (!invoiceId) continue;
      touched.add(invoiceId);
      const entry = paidHere.get(invoiceId) ?? { references: new Set<string>(), refunds: false };
      if (fact.kind === 'payment' && fact.outcome === 'succeeded') entry.references.add(fact.reference);
      else if (fact.kind !== 'payment') entry.refunds = true;
      paidHere.set(invoiceId, entry);
    }
    for (const [invoiceId, entry] of paidHere) if (entry.references.size === 0) paidHere.delete(invoiceId);
    await this.closeOthers(paidHere);
  }

  private invoiceOfFact(fact: ModelFact): string | null {
    if (fact.kind === 'payment') return fact.invoiceId;
    if (fact.kind === 'refund' || fact.kind === 'charge_refunded' || fact.kind === 'dispute')
      return this.model.paymentByIntent(fact.paymentIntent)?.invoiceId ?? null;
    return null;
  }

  /** The Invoices service edits the row (plain SQL, as it would). */
  private async edit(command: Extract<Command, { kind: 'edit' }>): Promise<void> {
    const invoiceId = this.invoices[command.invoice % this.invoices.length];
    const fields = this.fields.get(invoiceId)!;
    if ('total' in command.change) {
      fields.totalMinor = command.change.total;
      await this.sql('update invoices set total_minor = ? where id = ?', [command.change.total, invoiceId]);
    } else if ('status' in command.change) {
      fields.status = command.change.status;
      await this.sql('update invoices set status = ? where id = ?', [command.change.status, invoiceId]);
    } else {
      fields.dueDate = command.change.dueDate;
      await this.sql('update invoices set due_date = ? where id = ?', [command.change.dueDate, invoiceId]);
    }
  }

  private collectEvents(): void {
    const events = this.fake.events;
    for (const event of events.slice(this.seenEvents)) {
      // this history's sessions only: a disconnect also closes the open checkouts earlier histories left behind
      const object = event.data.object as { id?: string; payment_intent?: string };
      const ours =
        [...this.sessions.values()].includes(String(object.id)) ||
        (typeof object.payment_intent === 'string' && this.ownsIntent(object.payment_intent));
      if (ours) this.undelivered.push(event);
    }
    this.seenEvents = events.length;
  }

  private ownsIntent(paymentIntent: string): boolean {
    return [...this.sessions.values()].some((id) => this.fake.sessions.get(id)?.payment_intent === paymentIntent);
  }

  private readonly sql = sqlOn(() => this.service.orm);

  private async snapshot(): Promise<Snapshot> {
    const ids = this.invoices;
    const [invoices, payments, refunds, disputes] = await Promise.all([
      this.sql<InvoiceRow>(
        "select id, status, paid_minor, total_minor, to_char(due_date, 'YYYY-MM-DD') as due_date, updated_at from invoices where id in (?) order by id",
        [ids],
      ),
      this.sql<PaymentRow>(
        'select id, provider_reference, invoice_id, status, amount_minor, refunded_minor, disputed_minor, provider_payment_id from invoice_payments where invoice_id in (?) order by provider_reference',
        [ids],
      ),
      this.sql<RefundRow>(
        'select provider_refund_id, payment_id, status, amount_minor, idempotency_key from payment_refunds where invoice_id in (?) order by provider_refund_id',
        [ids],
      ),
      this.sql<DisputeRow>(
        'select provider_dispute_id, payment_id, status, amount_minor, funds_withdrawn, funds_reinstated from payment_disputes where invoice_id in (?) order by provider_dispute_id',
        [ids],
      ),
    ]);
    return { invoices, payments, refunds, disputes };
  }

  /** The invariants, after every step. */
  private async check(touched: Set<string>, edited: boolean): Promise<void> {
    const now = await this.snapshot();
    const before = this.previous!;
    const context = () => `after:\n  ${this.log.join('\n  ')}`;

    // Forward-only payment rows: money taken is never undone, a terminal row only ever becomes paid.
    for (const row of now.payments) {
      const old = before.payments.find((candidate) => candidate.provider_reference === row.provider_reference);
      if (old && PAID_FAMILY.has(old.status))
        expect(
          PAID_FAMILY.has(row.status),
          `${row.provider_reference}: ${old.status} → ${row.status}\n${context()}`,
        ).toBe(true);
      if (old && (old.status === 'failed' || old.status === 'cancelled'))
        expect([old.status, 'succeeded', 'partially_refunded', 'refunded'], context()).toContain(row.status);
    }
    // Refunds: failed and cancelled are final (the unattributed placeholder is a stand-in, set again by each total).
    for (const row of now.refunds.filter((refund) => !refund.provider_refund_id?.startsWith('unattributed:'))) {
      const old = before.refunds.find((candidate) => candidate.provider_refund_id === row.provider_refund_id);
      if (old && (old.status === 'failed' || old.status === 'cancelled'))
        expect(row.status, `${row.provider_refund_id}\n${context()}`).toBe(old.status);
    }

    // Disputes only move forward: the state never goes back, withdrawn and reinstated funds stay so.
    for (const row of now.disputes) {
      const old = before.disputes.find((candidate) => candidate.provider_dispute_id === row.provider_dispute_id);
      if (!old) continue;
      expect(
        DISPUTE_RANK[row.status],
        `${row.provider_dispute_id}: ${old.status} → ${row.status}\n${context()}`,
      ).toBeGreaterThanOrEqual(DISPUTE_RANK[old.status]);
      if (old.funds_withdrawn) expect(row.funds_withdrawn, `${row.provider_dispute_id}\n${context()}`).toBe(true);
      if (old.funds_reinstated) expect(row.funds_reinstated, `${row.provider_dispute_id}\n${context()}`).toBe(true);
    }

    // The ledger equals the model: one row per provider payment and per provider refund, with the model's state.
    const modelPayments = [...this.model.payments.values()]
      .map((payment) => ({
        reference: payment.reference,
        invoiceId: payment.invoiceId,
        state: payment.state,
        amount: payment.amountMinor,
      }))
      .sort((a, b) => (a.reference < b.reference ? -1 : 1));
    const dbPayments = now.payments.map((row) => ({
      reference: row.provider_reference,
      invoiceId: row.invoice_id,
      state: PAID_FAMILY.has(row.status) ? 'succeeded' : row.status,
      amount: Number(row.amount_minor),
    }));
    expect(dbPayments, `payments\n${context()}`).toEqual(modelPayments);
    const placeholders = now.refunds.filter((row) => row.provider_refund_id?.startsWith('unattributed:'));
    const dbRefunds = now.refunds
      .filter((row) => !placeholders.includes(row))
      .map((row) => ({ id: row.provider_refund_id, state: row.status, amount: Number(row.amount_minor) }));
    const modelRefunds = [...this.model.refunds.values()]
      .map((refund) => ({ id: refund.id, state: refund.state, amount: refund.amountMinor }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(dbRefunds, `refunds\n${context()}`).toEqual(modelRefunds);
    const dbDisputes = now.disputes.map((row) => ({
      id: row.provider_dispute_id,
      state: row.status,
      amount: Number(row.amount_minor),
      withdrawn: row.funds_withdrawn,
      reinstated: row.funds_reinstated,
    }));
    const modelDisputes = [...this.model.disputes.values()]
      .map((dispute) => ({
        id: dispute.id,
        state: dispute.state,
        amount: dispute.amountMinor,
        withdrawn: dispute.withdrawn,
        reinstated: dispute.reinstated,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(dbDisputes, `disputes\n${context()}`).toEqual(modelDisputes);

    for (const row of now.payments) {
      const own = now.refunds
        .filter((refund) => refund.payment_id === row.id && refund.status === 'succeeded')
        .reduce((sum, refund) => sum + Number(refund.amount_minor), 0);
      expect(Number(row.refunded_minor), `refunded_minor of ${row.provider_reference}\n${context()}`).toBe(own);
      expect(Number(row.disputed_minor), `disputed_minor of ${row.provider_reference}\n${context()}`).toBe(
        row.provider_payment_id ? this.model.withdrawnDisputesOfIntent(row.provider_payment_id) : 0,
      );
      // Refunded never exceeds what the payment took (a payment that took nothing has nothing refunded).
      expect(own, `refunds of ${row.provider_reference} (${row.status})\n${context()}`).toBeLessThanOrEqual(
        PAID_FAMILY.has(row.status) ? Number(row.amount_minor) : 0,
      );
      if (PAID_FAMILY.has(row.status)) {
        const expected = own === 0 ? 'succeeded' : own >= Number(row.amount_minor) ? 'refunded' : 'partially_refunded';
        expect(row.status, `${row.provider_reference} with ${own} refunded\n${context()}`).toBe(expected);
      }
      const placeholder = placeholders
        .filter((refund) => refund.payment_id === row.id && refund.status === 'succeeded')
        .reduce((sum, refund) => sum + Number(refund.amount_minor), 0);
      if (row.provider_payment_id) {
        const atProvider = [...this.fake.refunds.values()]
          .filter((refund) => refund.payment_intent === row.provider_payment_id)
          .map((refund) => ({ id: refund.id, amountMinor: refund.amount }));
        expect(placeholder, `unattributed refunds of ${row.provider_reference}\n${context()}`).toBeLessThanOrEqual(
          this.model.unattributedAllowance(row.provider_payment_id, atProvider),
        );
      }
    }

    // paid_minor = Σ payments that took money − Σ succeeded refunds; the status follows the rule after every settlement.
    for (const row of now.invoices) {
      const placeholder = placeholders
        .filter(
          (refund) =>
            now.payments.some((payment) => payment.id === refund.payment_id && payment.invoice_id === row.id) &&
            refund.status === 'succeeded',
        )
        .reduce((sum, refund) => sum + Number(refund.amount_minor), 0);
      const paid = Math.max(
        0,
        this.model.paidPaymentsOf(row.id) -
          this.model.knownRefundsOf(row.id) -
          placeholder -
          this.model.withdrawnDisputesOf(row.id),
      );
      expect(Number(row.paid_minor), `paid_minor of invoice ${row.id}\n${context()}`).toBe(paid);
      const old = before.invoices.find((candidate) => candidate.id === row.id)!;
      // What the Invoices service owns (total, due date) is never rewritten by settlement.
      const owned = this.fields.get(row.id)!;
      expect({ total: Number(row.total_minor), due: row.due_date }, `invoice ${row.id}\n${context()}`).toEqual({
        total: owned.totalMinor,
        due: owned.dueDate,
      });
      if (touched.has(row.id)) {
        // Read under the lock: the status the Invoices service left (draft and void stay), today's total and due date.
        const fields = { status: old.status, totalMinor: Number(row.total_minor), dueDate: row.due_date };
        expect(
          row.status,
          `status of invoice ${row.id} (paid ${paid} of ${row.total_minor}, due ${row.due_date})\n${context()}`,
        ).toBe(expectedStatus(fields, paid, today()));
      } else if (!edited) {
        // Nothing settled for it: the row is exactly as it was (a duplicate or a refused event writes nothing).
        expect({ ...row }, `invoice ${row.id} changed without a settlement\n${context()}`).toEqual({ ...old });
      }
    }
    this.previous = now;
  }

  /** After draining: the ledger equals the provider's own final truth. */
  async checkAgainstProvider(): Promise<void> {
    const now = this.previous!;
    // Invoice.paymentSummary says what the model says: paid, outstanding, overpaid (a second checkout paid anyway)
    const summaries = await this.service.gql<{
      _entities: Array<{ id: string; paymentSummary: Record<string, { amountMinor: number }> }>;
    }>(
      'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { id paymentSummary { paid { amountMinor } outstanding { amountMinor } overpaid { amountMinor } } } } }',
      { reps: this.invoices.map((id) => ({ __typename: 'Invoice', id })) },
      await tokenFor(this.caller),
    );
    for (const entity of summaries.data!._entities) {
      const paid = Math.max(
        0,
        this.model.paidPaymentsOf(entity.id) -
          this.model.knownRefundsOf(entity.id) -
          this.model.withdrawnDisputesOf(entity.id),
      );
      const total = this.fields.get(entity.id)!.totalMinor;
      expect(
        {
          paid: entity.paymentSummary.paid.amountMinor,
          outstanding: entity.paymentSummary.outstanding.amountMinor,
          overpaid: entity.paymentSummary.overpaid.amountMinor,
        },
        `paymentSummary of ${entity.id}`,
      ).toEqual({ paid, outstanding: Math.max(total - paid, 0), overpaid: Math.max(paid - total, 0) });
    }
    if (this.extra.shared) {
      // the other workspace on the account: every copy it got is ignored with its reason, nothing of it settled
      const other = this.extra.shared.caller.workspaceId;
      const rows = await this.sql<{ event_id: string; status: string; ignored_reason: string }>(
        'select event_id, status, ignored_reason from webhook_events where workspace_id = ? and event_id in (?)',
        [other, [...this.ignoredCopies, '-']],
      );
      expect(rows.map((row) => row.event_id).sort(), 'an inbox row per ignored copy').toEqual(
        [...this.ignoredCopies].sort(),
      );
      for (const row of rows) {
        expect(row.status).toBe('ignored');
        expect(['other_workspace', 'payment_of_other_workspace']).toContain(row.ignored_reason);
      }
      expect(await this.sql('select 1 from invoice_payments where workspace_id = ?', [other])).toEqual([]);
    }
    for (const id of this.sessions.values()) {
      const session = this.fake.sessions.get(id)!;
      const intent = session.payment_intent ? this.fake.paymentIntents.get(session.payment_intent) : undefined;
      const row = now.payments.find((payment) => payment.provider_reference === id);
      const truth =
        session.status === 'expired'
          ? 'cancelled'
          : session.status === 'open'
            ? 'pending'
            : session.payment_status === 'paid'
              ? 'succeeded'
              : intent?.status === 'processing'
                ? 'pending'
                : 'failed';
      expect(
        row ? (PAID_FAMILY.has(row.status) ? 'succeeded' : row.status) : null,
        `session ${id} (${session.status}/${session.payment_status})`,
      ).toBe(truth);
      if (row && truth === 'succeeded') expect(Number(row.amount_minor)).toBe(session.amount_total);
    }
    for (const id of this.providerRefunds) {
      const refund = this.fake.refunds.get(id)!;
      const rows = now.refunds.filter((row) => row.provider_refund_id === id);
      expect(
        rows.map((row) => [row.status, Number(row.amount_minor)]),
        `refund ${id}`,
      ).toEqual([[refund.status === 'canceled' ? 'cancelled' : refund.status, refund.amount]]);
    }
    for (const id of this.disputeLabels.values()) {
      const dispute = this.fake.disputes.get(id)!;
      const rows = now.disputes.filter((row) => row.provider_dispute_id === id);
      const moves = dispute.balance_transactions.map((txn) => txn.amount);
      expect(
        rows.map((row) => [row.status, Number(row.amount_minor), row.funds_withdrawn, row.funds_reinstated]),
        `dispute ${id}`,
      ).toEqual([[dispute.status, dispute.amount, moves.some((m) => m < 0), moves.some((m) => m > 0)]]);
    }
    expect(
      now.refunds.filter(
        (row) =>
          row.provider_refund_id === null ||
          (row.provider_refund_id.startsWith('unattributed:') && row.status !== 'cancelled'),
      ),
      'no reservation or unattributed amount is left once every refund is known',
    ).toEqual([]);
  }
}
