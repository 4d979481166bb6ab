import { describe, expect, it } from 'vitest';
import type { ProviderActivity } from '../../../src/providers/payment-provider.js';
import {
  chargebackActivity,
  paymentActivity,
  refundActivity as mollieRefundActivity,
} from '../../../src/providers/mollie/mollie.audit.js';
import type { MolliePayment } from '../../../src/providers/mollie/mollie.client.js';
import {
  disputeActivity,
  refundActivity as stripeRefundActivity,
  sessionActivity,
} from '../../../src/providers/stripe/stripe.audit.js';
import { compareLedger, type LedgerEntry } from '../../../src/settlement/audit-compare.js';

/** The comparison behind `payments-ops audit`, fed with provider objects in their wire formats (through the adapters). */
const WS = '7d0c5f1e-1111-4222-8333-944445555666';
const INVOICE = '0b7a2c3d-aaaa-4bbb-8ccc-ddddeeeeffff';
const CREATED = 1_764_400_000;

const stripeSession = (currency: string, amount: number, status = 'complete', paymentStatus = 'paid') =>
  sessionActivity({
    id: 'cs_test_1',
    object: 'checkout.session',
    amount_total: amount,
    currency,
    created: CREATED,
    status,
    payment_status: paymentStatus,
    payment_intent: status === 'complete' ? 'pi_1' : null,
    client_reference_id: INVOICE,
    metadata: { workspace_id: WS, invoice_id: INVOICE },
  })!;
const stripeRefund = (currency: string, amount: number, status = 'succeeded') =>
  stripeRefundActivity({
    id: 're_1',
    object: 'refund',
    amount,
    currency,
    status,
    payment_intent: 'pi_1',
    created: CREATED,
  })!;
const stripeDispute = (currency: string, amount: number, status = 'lost') =>
  disputeActivity({
    id: 'dp_1',
    object: 'dispute',
    amount,
    currency,
    status,
    reason: 'fraudulent',
    payment_intent: 'pi_1',
    created: CREATED,
    balance_transactions: [{ amount: -amount }],
    evidence_details: { due_by: CREATED + 86_400 },
  })!;
const molliePayment = (currency: string, value: string, status: MolliePayment['status'] = 'paid') =>
  paymentActivity({
    resource: 'payment',
    id: 'tr_1',
    mode: 'test',
    amount: { currency, value },
    description: 'Invoice 1',
    status,
    createdAt: '2026-11-29T10:00:00+00:00',
    metadata: { workspace_id: WS, invoice_id: INVOICE },
    _links: {},
  });
const mollieRefund = (currency: string, value: string, status: 'pending' | 'refunded' = 'refunded') =>
  mollieRefundActivity({
    resource: 'refund',
    id: 're_m1',
    amount: { currency, value },
    status,
    paymentId: 'tr_1',
    createdAt: '2026-11-29T10:00:00+00:00',
  });
const mollieChargeback = (currency: string, value: string, reversedAt: string | null = null) =>
  chargebackActivity({
    resource: 'chargeback',
    id: 'chb_1',
    amount: { currency, value },
    paymentId: 'tr_1',
    createdAt: '2026-11-29T10:00:00+00:00',
    reversedAt,
  });

const row = (object: ProviderActivity, values: Partial<LedgerEntry> = {}): LedgerEntry => ({
  kind: object.kind,
  reference: object.reference,
  invoiceId: INVOICE,
  amountMinor: object.amountMinor,
  currency: object.currency,
  state: object.state,
  ...values,
});

type Case = [string, 'stripe' | 'mollie', ProviderActivity, LedgerEntry | null, string[]];

const cases: Case[] = [
  // payments: zero-decimal (JPY), two (EUR), three (KWD) currencies
  ['a paid JPY session the ledger lacks', 'stripe', stripeSession('jpy', 5000), null, ['missing']],
  [
    'a paid KWD session still PENDING in the ledger',
    'stripe',
    stripeSession('kwd', 12_340),
    row(stripeSession('kwd', 12_340), { state: 'pending' }),
    ['status'],
  ],
  [
    'a paid EUR session recorded with another amount',
    'stripe',
    stripeSession('eur', 10_000),
    row(stripeSession('eur', 10_000), { amountMinor: 9_000 }),
    ['amount'],
  ],
  [
    'a session in another currency',
    'stripe',
    stripeSession('eur', 10_000),
    row(stripeSession('eur', 10_000), { currency: 'USD' }),
    ['amount'],
  ],
  [
    'an ISK session (Stripe counts it in hundredths)',
    'stripe',
    stripeSession('isk', 50_000),
    row(stripeSession('isk', 50_000), { amountMinor: 500 }),
    [],
  ],
  [
    'a refunded payment matches a paid session',
    'stripe',
    stripeSession('eur', 10_000),
    row(stripeSession('eur', 10_000), { state: 'partially_refunded' }),
    [],
  ],
  [
    'an async payment that failed (session complete, unpaid)',
    'stripe',
    stripeSession('eur', 10_000, 'complete', 'unpaid'),
    row(stripeSession('eur', 10_000), { state: 'failed' }),
    [],
  ],
  [
    'an expired session the ledger still has open',
    'stripe',
    stripeSession('eur', 10_000, 'expired', 'unpaid'),
    row(stripeSession('eur', 10_000), { state: 'pending' }),
    ['status'],
  ],
  [
    'an amount and a status both wrong',
    'stripe',
    stripeSession('eur', 10_000),
    row(stripeSession('eur', 10_000), { state: 'pending', amountMinor: 1 }),
    ['amount', 'status'],
  ],
  ['a paid Mollie KWD payment the ledger lacks', 'mollie', molliePayment('KWD', '12.345'), null, ['missing']],
  [
    'a paid Mollie JPY payment in the ledger',
    'mollie',
    molliePayment('JPY', '5000'),
    row(molliePayment('JPY', '5000'), { amountMinor: 5000 }),
    [],
  ],
  [
    'a failed Mollie payment the ledger has pending',
    'mollie',
    molliePayment('EUR', '10.00', 'failed'),
    row(molliePayment('EUR', '10.00'), { state: 'pending' }),
    ['status'],
  ],
  // refunds
  ['a Stripe dashboard refund the ledger lacks', 'stripe', stripeRefund('eur', 4_000), null, ['missing']],
  [
    'a Stripe refund still pending in the ledger',
    'stripe',
    stripeRefund('kwd', 1_230),
    row(stripeRefund('kwd', 1_230), { state: 'pending' }),
    ['status'],
  ],
  [
    'a Mollie refund in JPY with another amount',
    'mollie',
    mollieRefund('JPY', '300'),
    row(mollieRefund('JPY', '300'), { amountMinor: 200 }),
    ['amount'],
  ],
  [
    'a Mollie refund that completed',
    'mollie',
    mollieRefund('KWD', '1.005'),
    row(mollieRefund('KWD', '1.005'), { state: 'pending' }),
    ['status'],
  ],
  // disputes
  ['a lost Stripe dispute the ledger lacks', 'stripe', stripeDispute('eur', 10_000), null, ['missing']],
  [
    'a Stripe dispute the ledger still has open',
    'stripe',
    stripeDispute('jpy', 700),
    row(stripeDispute('jpy', 700), { state: 'needs_response' }),
    ['status'],
  ],
  ['a Mollie KWD chargeback the ledger lacks', 'mollie', mollieChargeback('KWD', '2.345'), null, ['missing']],
  [
    'a reversed Mollie chargeback the ledger has lost',
    'mollie',
    mollieChargeback('EUR', '5.00', '2026-11-29T11:00:00+00:00'),
    row(mollieChargeback('EUR', '5.00'), { state: 'lost' }),
    ['status'],
  ],
  [
    'a Mollie chargeback as the ledger has it',
    'mollie',
    mollieChargeback('EUR', '5.00'),
    row(mollieChargeback('EUR', '5.00')),
    [],
  ],
];

describe('compareLedger', () => {
  it.each(cases)('%s (%s)', (_name, provider, listed, ledger, kinds) => {
    // refunds and disputes made outside the service carry no metadata: the audit attributes them through the payment
    const object = { ...listed, invoiceId: listed.invoiceId ?? INVOICE };
    const found = compareLedger(provider, WS, [object], ledger ? [ledger] : []);
    expect(found.map((d) => d.kind)).toEqual(kinds);
    for (const discrepancy of found) {
      expect(discrepancy).toMatchObject({ workspaceId: WS, invoiceId: INVOICE, provider, reference: object.reference });
      expect(discrepancy.providerState).toEqual({
        object: object.kind,
        status: object.state,
        amountMinor: object.amountMinor,
        currency: object.currency,
      });
      expect(discrepancy.ledger).toEqual(ledger ? expect.objectContaining({ status: ledger.state }) : null);
      // missing and status carry the update a fix publishes; amount needs a person
      expect(discrepancy.fix).toEqual(discrepancy.kind === 'amount' ? null : object.update);
    }
  });

  it.each([
    ['payment', 'cs_test_gone', 'succeeded'],
    ['refund', 're_gone', 'succeeded'],
    ['dispute', 'dp_gone', 'lost'],
  ] as const)('a %s row the provider does not know is unknown and never fixable', (kind, reference, state) => {
    const ledger: LedgerEntry = { kind, reference, invoiceId: INVOICE, amountMinor: 1_000, currency: 'KWD', state };
    expect(compareLedger('stripe', WS, [], [ledger])).toEqual([
      {
        kind: 'unknown',
        workspaceId: WS,
        invoiceId: INVOICE,
        provider: 'stripe',
        reference,
        ledger: { object: kind, status: state, amountMinor: 1_000, currency: 'KWD' },
        providerState: null,
        fix: null,
      },
    ]);
  });

  it.each([
    [
      'a payment the ledger has succeeded, an expired session at Stripe',
      stripeSession('eur', 10_000, 'expired', 'unpaid'),
      'succeeded',
    ],
    ['a refund the ledger has failed, succeeded at Stripe', stripeRefund('eur', 4_000), 'failed'],
    ['a dispute the ledger has won, lost at Stripe', stripeDispute('eur', 10_000), 'won'],
  ] as const)('%s: a status no settlement can move, so no fix is offered', (_name, object, state) => {
    const found = compareLedger('stripe', WS, [object], [row(object, { state })]);
    expect(found).toEqual([expect.objectContaining({ kind: 'status', fix: null })]);
  });

  it("a refund stand-in (known only from a charge total) is the ledger's own, never unknown", () => {
    const standIn: LedgerEntry = {
      kind: 'refund',
      reference: 'unattributed:pi_1',
      invoiceId: INVOICE,
      amountMinor: 500,
      currency: 'EUR',
      state: 'succeeded',
    };
    expect(compareLedger('stripe', WS, [], [standIn])).toEqual([]);
  });

  it('matches by kind and reference: a refund and a payment never pair up', () => {
    const session = stripeSession('eur', 10_000);
    const found = compareLedger('stripe', WS, [session], [{ ...row(session), kind: 'refund' }]);
    expect(found.map((d) => d.kind).sort()).toEqual(['missing', 'unknown']);
  });
});
