import { registerEnumType } from 'type-graphql';
import { PROVIDER_CHECKOUTS, PROVIDERS, type Provider } from '../vocabulary/index.js';

/** The GraphQL names of the providers: the vocabulary's, upper-cased (one list, so a mapping can never miss one). */
export type PaymentProvider = Uppercase<Provider>;
export const PaymentProvider = Object.fromEntries(
  PROVIDERS.map((provider) => [provider.toUpperCase(), provider.toUpperCase()]),
) as {
  [P in Provider as Uppercase<P>]: Uppercase<P>;
};
registerEnumType(PaymentProvider, {
  name: 'PaymentProvider',
  description: 'A payment provider whose hosted checkout customers pay on.',
  valuesConfig: Object.fromEntries(
    PROVIDERS.map((provider) => [provider.toUpperCase(), { description: PROVIDER_CHECKOUTS[provider] }]),
  ),
});

export enum PaymentStatus {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  REFUNDED = 'REFUNDED',
  PARTIALLY_REFUNDED = 'PARTIALLY_REFUNDED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(PaymentStatus, {
  name: 'PaymentStatus',
  description: 'State of one provider payment in the ledger.',
  valuesConfig: {
    PENDING: { description: 'The customer started checkout; nothing has been charged yet.' },
    SUCCEEDED: { description: 'The card was charged and the invoice was credited.' },
    FAILED: { description: 'The charge was declined or checkout failed.' },
    REFUNDED: { description: 'The whole payment was refunded.' },
    PARTIALLY_REFUNDED: { description: 'Part of the payment was refunded.' },
    CANCELLED: { description: 'The customer abandoned the checkout or it expired.' },
  },
});

export enum RefundStatus {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(RefundStatus, {
  name: 'RefundStatus',
  description: 'State of a refund at the provider.',
  valuesConfig: {
    PENDING: { description: 'Requested; the provider has not completed it yet. Its amount is reserved.' },
    SUCCEEDED: { description: 'Money was returned; the invoice balance was increased again.' },
    FAILED: { description: 'The provider could not refund; the amount is refundable again.' },
    CANCELLED: { description: 'The refund was cancelled before completing.' },
  },
});

export enum PaymentMode {
  TEST = 'TEST',
  LIVE = 'LIVE',
}
registerEnumType(PaymentMode, {
  name: 'PaymentMode',
  description: 'Whether a provider account uses test or live credentials.',
  valuesConfig: {
    TEST: { description: 'Test keys; no real money moves.' },
    LIVE: { description: 'Live keys; real charges.' },
  },
});

export enum PayLinkUnavailableReason {
  NO_PROVIDER = 'NO_PROVIDER',
  PROVIDER_INACTIVE = 'PROVIDER_INACTIVE',
  CARD_PAYMENTS_OFF = 'CARD_PAYMENTS_OFF',
  INVOICE_DRAFT = 'INVOICE_DRAFT',
  INVOICE_VOID = 'INVOICE_VOID',
  INVOICE_PAID = 'INVOICE_PAID',
  NOTHING_DUE = 'NOTHING_DUE',
  CURRENCY_UNSUPPORTED = 'CURRENCY_UNSUPPORTED',
}
registerEnumType(PayLinkUnavailableReason, {
  name: 'PayLinkUnavailableReason',
  description: 'Why an invoice offers no pay link, and what would change that.',
  valuesConfig: {
    NO_PROVIDER: { description: 'No payment provider is connected to the workspace: connect Stripe or Mollie first.' },
    PROVIDER_INACTIVE: {
      description: 'A provider is connected but switched off: activate it (setPaymentProviderActive).',
    },
    CARD_PAYMENTS_OFF: {
      description: 'The active provider does not offer card payments on invoices: turn offerCardPayments on.',
    },
    INVOICE_DRAFT: { description: 'The invoice is a draft: send it first.' },
    INVOICE_VOID: { description: 'The invoice is void and cannot be paid.' },
    INVOICE_PAID: { description: 'The invoice is paid: there is nothing to pay.' },
    NOTHING_DUE: {
      description: 'Nothing a card payment can collect is due (no balance, or less than the card minimum).',
    },
    CURRENCY_UNSUPPORTED: { description: "The invoice's currency cannot be charged by card here." },
  },
});

export enum DisputeStatus {
  NEEDS_RESPONSE = 'NEEDS_RESPONSE',
  UNDER_REVIEW = 'UNDER_REVIEW',
  WON = 'WON',
  LOST = 'LOST',
}
registerEnumType(DisputeStatus, {
  name: 'DisputeStatus',
  description:
    "State of a dispute (chargeback) the cardholder's bank opened on a payment. It only moves forward: " +
    'NEEDS_RESPONSE → UNDER_REVIEW → WON or LOST (a LOST chargeback becomes WON when the provider reverses it).',
  valuesConfig: {
    NEEDS_RESPONSE: {
      description:
        "Action required: submit evidence (receipt, delivery proof, customer communication) in the provider's dashboard before " +
        'evidenceDueBy, or the dispute is lost by default. The payment cannot be refunded meanwhile.',
    },
    UNDER_REVIEW: {
      description:
        'Evidence was submitted; the bank is deciding. Nothing to do but wait. The payment cannot be refunded meanwhile.',
    },
    WON: {
      description:
        "Decided in the merchant's favour (or the chargeback was reversed): any withdrawn funds were reinstated and count as paid again.",
    },
    LOST: {
      description:
        "Decided in the cardholder's favour: the funds stay withdrawn, and the invoice's balance is open again (collect it another way).",
    },
  },
});
