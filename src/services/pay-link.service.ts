import type { Invoice, PaymentProviderAccount } from '../entities/index.js';
import { InvoiceStatus, PAYABLE_STATUSES } from '../vocabulary/index.js';
import { BadUserInputError } from '../errors.js';
import { formatMinor, isSupportedCurrency, minimumChargeMinor } from '../money/money.js';
import type { ProviderRegistry } from '../providers/registry.js';

/** What a pay link would charge right now, or why it cannot. */
export type ChargePlan =
  | { ok: true; amountMinor: number }
  | { ok: false; reason: 'not_payable' | 'no_provider' | 'too_small' | 'currency_unsupported' };

/** Why an invoice offers no pay link (the vocabulary of `Invoice.payLinkUnavailableReason`). */
export type PayLinkUnavailable =
  | 'no_provider'
  | 'provider_inactive'
  | 'card_payments_off'
  | 'invoice_draft'
  | 'invoice_void'
  | 'invoice_paid'
  | 'nothing_due'
  | 'currency_unsupported';

/** Pay-link rules shared by the GraphQL field and the click route, so both always agree. */
export class PayLinkService {
  constructor(
    private readonly providers: ProviderRegistry,
    private readonly publicBaseUrl: string,
  ) {}

  url(token: string): string {
    return `${this.publicBaseUrl}/pay/${token}`;
  }

  /** The account that may take payments for a workspace: active, connected, offering card payments. */
  payingAccount(accounts: PaymentProviderAccount[]): PaymentProviderAccount | null {
    return (
      accounts.find(
        (account) =>
          account.active &&
          account.offerCardPayments &&
          account.secretKeySealed &&
          this.providers.has(account.provider),
      ) ?? null
    );
  }

  /** Why the invoice has no full-balance pay link right now; null when it has one. */
  unavailableReason(invoice: Invoice, accounts: PaymentProviderAccount[]): PayLinkUnavailable | null {
    const account = this.payingAccount(accounts);
    const plan = this.plan(invoice, account, null);
    if (plan.ok) return null;
    if (invoice.status === InvoiceStatus.DRAFT) return 'invoice_draft';
    if (invoice.status === InvoiceStatus.VOID) return 'invoice_void';
    if (invoice.status === InvoiceStatus.PAID) return 'invoice_paid';
    if (plan.reason === 'not_payable' || plan.reason === 'too_small') return 'nothing_due';
    if (plan.reason === 'currency_unsupported') return 'currency_unsupported';
    const connected = accounts.filter((row) => row.secretKeySealed && !row.disconnectedAt);
    if (connected.length === 0) return 'no_provider';
    const active = connected.find((row) => row.active);
    return active ? 'card_payments_off' : 'provider_inactive';
  }

  /** The amount a link charges now: its own amount (capped at the balance) or the chargeable balance. */
  plan(invoice: Invoice, account: PaymentProviderAccount | null, linkAmountMinor: number | null): ChargePlan {
    const balance = invoice.totalMinor - invoice.paidMinor;
    if (!PAYABLE_STATUSES.has(invoice.status) || balance <= 0) return { ok: false, reason: 'not_payable' };
    if (!account) return { ok: false, reason: 'no_provider' };
    // an invoice in a currency we cannot reason about gets no pay link (never a guessed exponent, never a 500)
    if (!isSupportedCurrency(invoice.currency)) return { ok: false, reason: 'currency_unsupported' };
    const adapter = this.providers.get(account.provider);
    const amountMinor =
      linkAmountMinor !== null
        ? Math.min(linkAmountMinor, balance)
        : adapter.chargeableAmount(balance, invoice.currency);
    if (amountMinor < minimumChargeMinor(invoice.currency) || adapter.amountIssue(amountMinor, invoice.currency)) {
      return { ok: false, reason: 'too_small' };
    }
    return { ok: true, amountMinor };
  }

  /** Validates a requested partial amount against the balance, the currency minimum and the provider's rules. */
  checkPartialAmount(invoice: Invoice, account: PaymentProviderAccount, amountMinor: number): void {
    const balance = invoice.totalMinor - invoice.paidMinor;
    const show = (minor: number) => `${formatMinor(minor, invoice.currency)} ${invoice.currency}`;
    if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0 || amountMinor > balance) {
      throw new BadUserInputError(
        `amountMinor must be between 1 and the outstanding balance, ${balance} (${show(balance)})`,
      );
    }
    const minimum = minimumChargeMinor(invoice.currency);
    if (amountMinor < minimum)
      throw new BadUserInputError(`amountMinor is below the minimum card payment of ${minimum} (${show(minimum)})`);
    const issue = this.providers.get(account.provider).amountIssue(amountMinor, invoice.currency);
    if (issue) throw new BadUserInputError(issue);
  }
}
