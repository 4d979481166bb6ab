import type { TestService } from '../helpers/service.js';
import type { TestCaller } from '../helpers/tokens.js';

/**
 * What the conformance suite needs from a provider's fake: the customer's and the provider's side of each scenario.
 * One driver per provider; the scenarios in conformance.test.ts never mention a provider by name.
 */
export interface ProviderDriver {
  readonly provider: 'STRIPE' | 'MOLLIE';
  /** Shape of the ledger's providerReference for this provider. */
  readonly referencePattern: RegExp;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Environment pointing the service at the fake (`STRIPE_API_URL` / `MOLLIE_API_URL`). */
  env(): Record<string, string>;
  /** Makes the fake send its webhooks to the service under test. */
  deliverTo(baseUrl: string): void;
  /**
   * Connects the provider for a workspace through the real GraphQL mutation; with `secretKey`, to the same provider
   * account as another workspace (one key, two workspace domains). Resolves with the key used.
   */
  connect(service: TestService, caller: TestCaller, secretKey?: string): Promise<string>;
  /** The customer pays on the hosted checkout page; resolves once the provider's notifications were answered. */
  pay(checkoutUrl: string): Promise<void>;
  /** The checkout expires or is cancelled at the provider, which notifies. */
  abandon(reference: string): Promise<void>;
  /** The provider sends its latest notification about a payment again. */
  renotify(reference: string): Promise<void>;
  /** A refund made in the provider's dashboard (notified by webhook only). */
  dashboardRefund(reference: string, amountMinor: number, currency: string): Promise<void>;
  /** Completes refunds the provider still reports as pending. */
  settleRefunds(reference: string): Promise<void>;
  /**
   * The cardholder's bank takes (part of) a paid payment back: a dispute whose funds are withdrawn (Stripe: opened and
   * withdrawn, awaiting evidence; Mollie: a chargeback). Resolves with the provider's dispute id once notified.
   */
  disputeWithdrawn(reference: string, amountMinor: number, currency: string): Promise<string>;
  /** The merchant wins it back (Stripe: evidence, won, funds reinstated; Mollie: the chargeback is reversed). */
  disputeWon(reference: string, disputeId: string): Promise<void>;
  /** The merchant loses it for good (Stripe: closed as lost; Mollie: a chargeback is lost already). */
  disputeLost(reference: string, disputeId: string): Promise<void>;
  /**
   * Whether the service can close an open hosted checkout at this provider. Stripe expires any open session; Mollie
   * cancels only payments it marks `isCancelable` (some methods, not cards): such a checkout stays open and expires on
   * its own at Mollie.
   */
  readonly closesOpenCheckouts: boolean;
  /** The checkout as the provider sees it now. */
  checkoutState(reference: string): 'open' | 'closed' | 'paid';
  /** How many API requests the service made about this checkout so far. */
  requestsAbout(reference: string): number;
  /** The customer pays, but the provider's notifications are held back until `release` (they are still on their way). */
  payHeld(checkoutUrl: string, reference: string): Promise<void>;
  /** Sends the held notifications; resolves once the service answered them. */
  release(): Promise<void>;
  /**
   * Notifies `caller`'s webhook host about a checkout of another workspace connected to the same provider account
   * (Stripe sends every event of an account to each of its endpoints; a Mollie notification names only an id, which
   * the workspace's key can fetch); returns the HTTP status.
   */
  notifyOtherWorkspace(service: TestService, caller: TestCaller, reference: string): Promise<number>;
  /** How the webhook route answers a notification about another account's payment (rejected, or accepted and ignored). */
  readonly foreignStatus: number;
  /**
   * A paid payment of another account whose metadata names `invoiceId` of this workspace, notified to this workspace's
   * webhook URL (a service that trusted it would settle the invoice); returns the HTTP status.
   */
  foreignNotification(
    service: TestService,
    caller: TestCaller,
    invoiceId: string,
    amountMinor: number,
  ): Promise<number>;
}
