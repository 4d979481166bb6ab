import fc from 'fast-check';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { invoiceRow, sqlOn } from '../helpers/db.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe, testKeys, type StripeKeys } from '../helpers/stripe.js';
import { newCaller, type TestCaller } from '../helpers/tokens.js';
import { History, trackClosures, type Command } from './settlement-harness.js';

/**
 * Model-based settlement tier: fast-check generates provider histories (payments that succeed, fail, expire or settle
 * asynchronously; refunds from the dashboard and through `refundPayment`, pending ones settling later; invoice edits
 * by the Invoices service) and delivery schedules (reordered, duplicated, replayed, racing in concurrent groups, some
 * through the consumer's batched path), runs them against the real settlement path on PostgreSQL, and after every
 * step compares the ledger with a pure model (ledger-model.ts). At the end the ledger must equal the provider's truth.
 *
 * Money outside the happy path: every checkout is recorded PENDING when opened (as a pay-link click records it); a
 * second session of an invoice may be paid after the first made it paid (the service closes it, or records the raced
 * payment as overpaid); the owner may disconnect mid-history (open checkouts closed, later events still settle, no
 * refund starts); and the other workspace connected to the same Stripe account gets copies of the events, which it
 * only ever records as ignored.
 *
 * MODEL_RUNS (default 60) and MODEL_SEED make a run reproducible or longer: MODEL_RUNS=500 npx vitest run test/model;
 * MODEL_SEED with MODEL_PATH replays a reported failure, MODEL_SHRINK=1 shrinks it.
 */
const RUNS = Number(process.env.MODEL_RUNS ?? 60);
const SEED = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED);

const percent = fc.integer({ min: 1, max: 100 });

/** What happens to one checkout session at the provider, and to its payment afterwards. */
const sessionScript = fc.record({
  invoice: fc.nat(1),
  percent: fc.integer({ min: 10, max: 120 }), // above 100: an overpayment
  fate: fc.constantFrom('paid', 'paid', 'asyncSucceeded', 'asyncFailed', 'unpaid', 'expired', 'open'),
  refunds: fc.array(
    fc.record({
      api: fc.boolean(),
      percent: fc.option(percent, { nil: null }),
      status: fc.constantFrom('succeeded' as const, 'succeeded' as const, 'pending' as const, 'failed' as const),
      later: fc.constantFrom(null, 'succeeded' as const, 'failed' as const, 'canceled' as const),
      twins: fc.boolean(),
      again: fc.boolean(),
    }),
    { maxLength: 3 },
  ),
  /** A dispute of the paid charge, opened among the refunds (`at`), moved through the steps of its life. */
  dispute: fc.option(
    fc.record({
      at: fc.nat(3),
      percent: fc.option(percent, { nil: null }),
      withdraw: fc.boolean(),
      evidence: fc.boolean(),
      outcome: fc.constantFrom('won' as const, 'lost' as const, null),
    }),
    { nil: null },
  ),
});
type SessionScript = typeof sessionScript extends fc.Arbitrary<infer T> ? T : never;

/** The provider actions of one session, in causal order (opened, paid, refunded, the refund settled). */
function actionsOf(script: SessionScript, label: number): Command[] {
  const actions: Command[] = [{ kind: 'open', session: label, invoice: script.invoice, percent: script.percent }];
  if (script.fate === 'expired') actions.push({ kind: 'expire', session: label });
  if (script.fate === 'paid') actions.push({ kind: 'pay', session: label, paid: true });
  if (script.fate === 'unpaid' || script.fate === 'asyncSucceeded' || script.fate === 'asyncFailed')
    actions.push({ kind: 'pay', session: label, paid: false });
  if (script.fate === 'asyncSucceeded' || script.fate === 'asyncFailed')
    actions.push({ kind: 'async', session: label, succeeded: script.fate === 'asyncSucceeded' });
  if (script.fate === 'paid' || script.fate === 'asyncSucceeded') {
    for (const [index, refund] of script.refunds.entries()) {
      const label_ = label * 10 + index;
      if (refund.api)
        actions.push({
          kind: 'apiRefund',
          session: label,
          refund: label_,
          percent: refund.percent,
          status: refund.status === 'failed' ? 'pending' : refund.status,
          twins: refund.twins,
          again: refund.again,
        });
      else
        actions.push({
          kind: 'dashboardRefund',
          session: label,
          refund: label_,
          percent: refund.percent,
          status: refund.status,
        });
      if (refund.later && refund.status === 'pending')
        actions.push({ kind: 'settleRefund', refund: label_, status: refund.later });
    }
    if (script.dispute) {
      const { at, percent: share, withdraw, evidence, outcome } = script.dispute;
      const steps: Command[] = [{ kind: 'openDispute', session: label, dispute: label, percent: share }];
      if (withdraw) steps.push({ kind: 'disputeStep', dispute: label, step: 'withdraw' });
      if (evidence) steps.push({ kind: 'disputeStep', dispute: label, step: 'evidence' });
      if (outcome) steps.push({ kind: 'disputeStep', dispute: label, step: outcome });
      // after the payment itself (the first two actions at least), among the refunds
      const paidAt = actions.map((action) => action.kind === 'pay' || action.kind === 'async').lastIndexOf(true);
      const position = Math.min(actions.length, paidAt + 1 + at);
      actions.splice(position, 0, ...steps);
    }
  }
  return actions;
}

/** Everything else a history does between provider actions: deliveries (reordered, duplicated, replayed), retries, edits. */
const token: fc.Arbitrary<Command | { kind: 'act'; session: number }> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('act' as const), session: fc.nat(7) }), weight: 5 },
  {
    arbitrary: fc.record({
      kind: fc.constant('deliver' as const),
      picks: fc.array(fc.record({ fresh: fc.boolean(), index: fc.nat(20), copies: fc.integer({ min: 1, max: 3 }) }), {
        minLength: 1,
        maxLength: 5,
      }),
      batch: fc.boolean(),
    }),
    weight: 4,
  },
  {
    // the same deliveries, with the copy Stripe sends to the other workspace connected to the account
    arbitrary: fc.record({
      kind: fc.constant('deliver' as const),
      picks: fc.array(
        fc.record({
          fresh: fc.boolean(),
          index: fc.nat(20),
          copies: fc.integer({ min: 1, max: 2 }),
          shared: fc.constant(true),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      batch: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.constant({ kind: 'retry' as const }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      invoice: fc.nat(1),
      change: fc.oneof(
        fc.record({ total: fc.integer({ min: 100, max: 20_000 }) }),
        fc.record({ status: fc.constantFrom('void' as const, 'draft' as const, 'sent' as const) }),
        fc.record({ dueDate: fc.constantFrom('2020-01-31', '2099-12-31') }),
      ),
    }),
    weight: 1,
  },
);

/** Weaves the sessions' actions (each session's own order kept) with the other steps; leftovers run at the end. */
function weave(scripts: SessionScript[], tokens: Array<Command | { kind: 'act'; session: number }>): Command[] {
  const queues = scripts.map(actionsOf);
  const commands: Command[] = [];
  for (const step of tokens) {
    if (step.kind !== 'act') commands.push(step);
    else {
      const queue = queues[step.session % queues.length];
      const next = queue.shift();
      if (next) commands.push(next);
    }
  }
  for (const queue of queues) commands.push(...queue);
  return commands;
}

/** "Pay a second session of a paid invoice": a full checkout and a deposit checkout of one invoice, both paid. */
const secondTab = fc
  .record({ invoice: fc.nat(1), percent: fc.integer({ min: 10, max: 60 }) })
  .map(({ invoice, percent }): SessionScript[] => [
    { invoice, percent: 100, fate: 'paid', refunds: [], dispute: null },
    { invoice, percent, fate: 'paid', refunds: [], dispute: null },
  ]);

const history = fc
  .record({
    totals: fc.array(fc.integer({ min: 100, max: 20_000 }), { minLength: 1, maxLength: 2 }),
    dueDates: fc.array(fc.constantFrom<string | null>(null, '2020-01-31', '2099-12-31'), {
      minLength: 2,
      maxLength: 2,
    }),
    scripts: fc.array(sessionScript, { minLength: 1, maxLength: 4 }),
    tokens: fc.array(token, { minLength: 4, maxLength: 40 }),
    drainOrder: fc.array(fc.nat(30), { minLength: 1, maxLength: 6 }),
    tabs: fc.oneof({ arbitrary: fc.constant([]), weight: 1 }, { arbitrary: secondTab, weight: 1 }),
    // "disconnect with open sessions, then the customer pays (within grace)": the owner disconnects at some step
    disconnectAt: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.nat(40), weight: 1 }),
  })
  .map(({ scripts, tokens, tabs, disconnectAt, ...rest }) => {
    const commands = weave([...tabs, ...scripts], tokens);
    if (disconnectAt !== null) commands.splice(Math.min(disconnectAt, commands.length), 0, { kind: 'disconnect' });
    return { ...rest, commands };
  });

describe('settlement against a pure ledger model (fast-check)', () => {
  let service: TestService;
  let fake: FakeStripe;
  let caller: TestCaller;
  let other: TestCaller;
  let keys: StripeKeys;
  let stripe: Stripe;
  let closures: () => Promise<void>;

  beforeAll(async () => {
    // the reconciler would close checkouts on its own schedule: the histories decide what happens when
    ({ service, stripe: fake } = await startWithFakeStripe({ RECONCILE_INTERVAL_MS: '3600000' }));
    caller = newCaller(['owner']);
    keys = await connectStripe(service, caller, { keys: testKeys('test', false) });
    other = newCaller(['owner']); // a second workspace connected to the same Stripe account
    await connectStripe(service, other, { keys: { ...testKeys('test', false), secretKey: keys.secretKey } });
    fake.autoDeliver = null; // the histories decide when (and how often) each event is delivered
    stripe = new Stripe(keys.secretKey, { host: fake.host, port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
    closures = trackClosures(service);
  });
  afterAll(async () => {
    await service?.stop();
    await fake?.close();
  });

  /** Runs one history: set-up, every command with its checks, the drain, and the comparison with the provider. */
  const runHistory = async (input: {
    totals: number[];
    dueDates: Array<string | null>;
    commands: Command[];
    drainOrder: number[];
  }) => {
    const run = new History(service, fake, caller, stripe, {
      closures,
      shared: { caller: other },
      reconnect: async () => {
        await connectStripe(service, caller, { keys: { ...keys, webhookSecret: null } });
      },
    });
    try {
      await run.setUp(input.totals, input.dueDates);
      for (const step of input.commands) await run.run(step);
      await run.drain(input.drainOrder);
      await run.checkAgainstProvider();
    } finally {
      await run.finish();
    }
    stats.histories += 1;
    if (process.env.MODEL_STATS === 'log') console.log(run.log.join('\n'), '\napplied', run.model.appliedEvents.size);
    stats.applied += run.model.appliedEvents.size;
    stats.payments += [...run.model.payments.values()].filter((payment) => payment.state === 'succeeded').length;
    stats.refunds += run.model.refunds.size;
    stats.disputes += run.model.disputes.size;
    stats.withdrawn += [...run.model.disputes.values()].filter((dispute) => dispute.withdrawn).length;
    stats.refusals += run.refusals;
    stats.duplicates += run.duplicates;
    stats.ignoredCopies += run.ignoredCopies.size;
    stats.closedByService += run.closedByService;
    stats.disconnects += run.disconnected ? 1 : 0;
    stats.overpaid += run.invoices.filter((id) => {
      const paid = run.model.paidPaymentsOf(id) - run.model.knownRefundsOf(id);
      return paid > run.totalOf(id);
    }).length;
    return run;
  };

  const stats = {
    histories: 0,
    applied: 0,
    payments: 0,
    refunds: 0,
    disputes: 0,
    withdrawn: 0,
    refusals: 0,
    duplicates: 0,
    ignoredCopies: 0,
    closedByService: 0,
    disconnects: 0,
    overpaid: 0,
  };
  afterAll(() => {
    if (process.env.MODEL_STATS) console.log('model tier:', stats);
  });

  it(
    `holds the ledger invariants over ${RUNS} generated histories`,
    async () => {
      await fc.assert(
        fc.asyncProperty(history, async (input) => {
          await runHistory(input);
        }),
        {
          numRuns: RUNS,
          seed: SEED,
          path: process.env.MODEL_PATH, // with MODEL_SEED: replays the failure fast-check reported ({ seed, path })
          endOnFailure: process.env.MODEL_SHRINK === undefined,
        },
      );
    },
    Math.max(120_000, RUNS * 1_000),
  ); // long runs (MODEL_RUNS=5000) get the time they need

  it('a generated history really exercises the model (payments, refunds, duplicates and refusals happen)', async () => {
    // Guards the generators: a history that never settles or refunds anything would pass every invariant vacuously.
    const run = await runHistory({
      totals: [5_000],
      dueDates: [null, null],
      commands: [
        { kind: 'open', session: 0, invoice: 0, percent: 100 },
        { kind: 'pay', session: 0, paid: true },
        { kind: 'dashboardRefund', session: 0, refund: 0, percent: 40, status: 'succeeded' },
        {
          kind: 'deliver',
          picks: [
            { fresh: true, index: 2, copies: 3 },
            { fresh: true, index: 0, copies: 2 },
          ],
          batch: false,
        },
      ],
      drainOrder: [0],
    });
    expect(
      await invoiceRow(
        sqlOn(() => service.orm),
        run.invoices[0],
      ),
    ).toEqual({ status: 'partial', paid_minor: '3000' });
    expect(run.model.appliedEvents.size).toBeGreaterThanOrEqual(3);
  });

  describe('disputes: named histories', () => {
    const replay = (totalMinor: number, commands: Command[]) =>
      runHistory({ totals: [totalMinor], dueDates: [null, null], commands, drainOrder: [0] });
    const paidSession: Command[] = [
      { kind: 'open', session: 0, invoice: 0, percent: 100 },
      { kind: 'pay', session: 0, paid: true },
      { kind: 'deliverTypes', types: ['checkout.session.completed'] },
    ];

    it('withdrawn then won and reinstated, its events in reverse order with duplicates, a refund in between', async () => {
      await replay(10_000, [
        ...paidSession,
        { kind: 'dashboardRefund', session: 0, refund: 0, percent: 20, status: 'succeeded' },
        { kind: 'openDispute', session: 0, dispute: 0, percent: 50 },
        { kind: 'disputeStep', dispute: 0, step: 'withdraw' },
        { kind: 'disputeStep', dispute: 0, step: 'evidence' },
        { kind: 'disputeStep', dispute: 0, step: 'won' },
        {
          kind: 'deliverTypes',
          types: [
            'charge.dispute.funds_reinstated',
            'charge.dispute.closed',
            'refund.created',
            'charge.dispute.updated',
            'charge.dispute.funds_withdrawn',
            'charge.refunded',
            'charge.dispute.created',
          ],
        },
        {
          kind: 'deliver',
          picks: [
            { fresh: false, index: 3, copies: 3 },
            { fresh: false, index: 6, copies: 2 },
          ],
          batch: true,
        },
      ]);
    });

    it('a refund is refused while the dispute is open; once lost, only what the dispute left can be refunded', async () => {
      await replay(10_000, [
        ...paidSession,
        { kind: 'openDispute', session: 0, dispute: 0, percent: 30 },
        { kind: 'disputeStep', dispute: 0, step: 'withdraw' },
        { kind: 'deliverTypes', types: ['charge.dispute.funds_withdrawn'] },
        { kind: 'apiRefund', session: 0, refund: 0, percent: 10, status: 'succeeded', twins: false },
        { kind: 'disputeStep', dispute: 0, step: 'lost' },
        { kind: 'deliverTypes', types: ['charge.dispute.closed', 'charge.dispute.created'] },
        { kind: 'apiRefund', session: 0, refund: 1, percent: null, status: 'succeeded', twins: true },
      ]);
    });

    it("a dispute's events before the payment's success wait, then count once", async () => {
      await replay(10_000, [
        { kind: 'open', session: 0, invoice: 0, percent: 100 },
        { kind: 'pay', session: 0, paid: true },
        { kind: 'openDispute', session: 0, dispute: 0, percent: null },
        { kind: 'disputeStep', dispute: 0, step: 'withdraw' },
        { kind: 'deliverTypes', types: ['charge.dispute.funds_withdrawn', 'charge.dispute.created'] },
        { kind: 'deliverTypes', types: ['checkout.session.completed'] },
        { kind: 'retry' },
      ]);
    });
  });

  describe('regressions found by the model (shrunk counterexamples)', () => {
    /** One invoice of `totalMinor`, the commands, then the drain and the comparison with the provider. */
    const replay = (totalMinor: number, commands: Command[]) =>
      runHistory({ totals: [totalMinor], dueDates: [null, null], commands, drainOrder: [0] });
    const paidSession: Command[] = [
      { kind: 'open', session: 0, invoice: 0, percent: 100 },
      { kind: 'pay', session: 0, paid: true },
    ];

    it('a pending refund that later fails is not counted when the charge total from before the failure arrives last', async () => {
      // Found: the stale cumulative `amount_refunded` (which included the then-pending refund) came after the refund's
      // failure, was "unexplained" by known refunds, and took 50 off the invoice for good.
      await replay(500, [
        ...paidSession,
        { kind: 'dashboardRefund', session: 0, refund: 0, percent: 10, status: 'pending' },
        { kind: 'settleRefund', refund: 0, status: 'failed' },
        {
          kind: 'deliverTypes',
          types: ['checkout.session.completed', 'refund.created', 'refund.updated', 'refund.failed', 'charge.refunded'],
        },
      ]);
    });

    it('a refund first known as failed takes its amount out of an unattributed total that counted it', async () => {
      // The charge total (with the refund still pending) arrives first and is held as "refunded at the provider";
      // the refund's first own event says it failed: the stand-in must go, or the invoice stays short by its amount.
      await replay(500, [
        ...paidSession,
        { kind: 'dashboardRefund', session: 0, refund: 0, percent: 10, status: 'pending' },
        { kind: 'settleRefund', refund: 0, status: 'failed' },
        {
          kind: 'deliverTypes',
          types: ['checkout.session.completed', 'charge.refunded', 'refund.failed', 'refund.updated', 'refund.created'],
        },
      ]);
    });

    it('twin refundPayment calls with one key and no amount get the same full refund', async () => {
      // Found: the second twin waited for the first one's lock, then saw nothing left to refund: BAD_USER_INPUT
      // instead of the refund its key already stood for.
      await replay(100, [
        ...paidSession,
        { kind: 'deliverTypes', types: ['checkout.session.completed'] },
        { kind: 'apiRefund', session: 0, refund: 0, percent: null, status: 'succeeded', twins: true },
      ]);
    });

    it('a full refundPayment after an unattributed charge total leaves the stand-in for the refund still unknown', async () => {
      // Found as a model error (its bound was too strict), kept: the dashboard refund of 1 is known only through
      // charge.refunded when refundPayment refunds the other 49; the ledger must count 1 + 49, and 50 at the end.
      await replay(100, [
        { kind: 'open', session: 0, invoice: 0, percent: 10 },
        { kind: 'pay', session: 0, paid: true },
        { kind: 'deliverTypes', types: ['checkout.session.completed'] },
        { kind: 'dashboardRefund', session: 0, refund: 0, percent: 1, status: 'succeeded' },
        { kind: 'deliverTypes', types: ['charge.refunded'] },
        { kind: 'apiRefund', session: 0, refund: 1, percent: null, status: 'succeeded', twins: false },
      ]);
    });

    it('refundPayment retried with the same key after the provider refused it gets the same answer, not a provider error', async () => {
      // Found: the dashboard had refunded everything (its webhooks not delivered yet), so Stripe refused the 54 %
      // refund; the retry with the same key reserved a row with a new id, which travels as metadata, so Stripe saw
      // the key with other parameters (an idempotency error): PROVIDER_ERROR "no refund was made". The row id is now
      // named by the key, and the retry gets Stripe's stored answer (BAD_USER_INPUT) again.
      await replay(10_000, [
        ...paidSession,
        { kind: 'deliverTypes', types: ['checkout.session.completed'] },
        { kind: 'dashboardRefund', session: 0, refund: 0, percent: null, status: 'pending' },
        { kind: 'apiRefund', session: 0, refund: 1, percent: 54, status: 'succeeded', twins: false, again: true },
      ]);
    });

    it("a refund's events before the payment's success wait instead of counting against a payment that took nothing", async () => {
      // An asynchronous payment: completed (unpaid) gives a PENDING row with the payment intent; the refund made after
      // the money arrived is delivered before async_payment_succeeded. It must wait, not make refunded > paid.
      await replay(1_000, [
        { kind: 'open', session: 0, invoice: 0, percent: 100 },
        { kind: 'pay', session: 0, paid: false },
        { kind: 'async', session: 0, succeeded: true },
        { kind: 'dashboardRefund', session: 0, refund: 0, percent: 30, status: 'succeeded' },
        {
          kind: 'deliverTypes',
          types: [
            'checkout.session.completed',
            'refund.created',
            'charge.refunded',
            'checkout.session.async_payment_succeeded',
          ],
        },
      ]);
    });
  });
});
