import { startFakeStripe, type FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import type { TestService } from '../helpers/service.js';
import { WEBHOOK_PATH } from '../helpers/stripe-events.js';
import { connectStripe, testKeys } from '../helpers/stripe.js';
import type { TestCaller } from '../helpers/tokens.js';
import type { ProviderDriver } from './provider-driver.js';

export class StripeDriver implements ProviderDriver {
  readonly provider = 'STRIPE' as const;
  readonly foreignStatus = 400;
  readonly referencePattern = /^cs_test_/;
  readonly closesOpenCheckouts = true;
  private fake!: FakeStripe;
  private baseUrl = '';
  /** Events emitted while notifications are held. */
  private heldFrom: number | null = null;

  async start() {
    this.fake = await startFakeStripe();
  }

  close() {
    return this.fake.close();
  }

  env() {
    return { STRIPE_API_URL: this.fake.url };
  }

  deliverTo(baseUrl: string) {
    this.baseUrl = baseUrl;
    this.fake.autoDeliver = { baseUrl };
  }

  async connect(service: TestService, caller: TestCaller, secretKey?: string) {
    const keys = testKeys('test', false);
    if (secretKey) keys.secretKey = secretKey;
    await connectStripe(service, caller, { keys }); // the service creates the endpoint
    return keys.secretKey;
  }

  checkoutState(reference: string) {
    const status = this.fake.sessions.get(reference)?.status;
    return status === 'complete' ? 'paid' : status === 'expired' ? 'closed' : 'open';
  }

  requestsAbout(reference: string) {
    return this.fake.requests.filter((request) => request.path.startsWith(`/v1/checkout/sessions/${reference}`)).length;
  }

  async payHeld(checkoutUrl: string) {
    this.fake.autoDeliver = null;
    this.heldFrom ??= this.fake.events.length;
    const response = await fetch(`${checkoutUrl}/complete`, { method: 'POST', redirect: 'manual' });
    if (response.status !== 303) throw new Error(`fake checkout answered ${response.status}`);
  }

  async release() {
    const held = this.fake.events.slice(this.heldFrom ?? this.fake.events.length);
    this.heldFrom = null;
    this.fake.autoDeliver = { baseUrl: this.baseUrl };
    for (const event of held) await this.fake.redeliver(event, this.baseUrl);
  }

  async notifyOtherWorkspace(service: TestService, caller: TestCaller, reference: string) {
    // Stripe sends an account's event to each of its endpoints, signed with that endpoint's secret.
    const event = this.fake.events
      .filter((candidate) => (candidate.data.object as { id?: string }).id === reference)
      .pop();
    const endpoint = [...this.fake.webhookEndpoints.values()].find(
      (candidate) => new URL(candidate.url).host === caller.workspaceDomain,
    );
    if (!event || !endpoint) throw new Error(`no event about ${reference} or no endpoint of ${caller.workspaceDomain}`);
    const result = await this.fake.deliverEvent(event, {
      targetUrl: `${service.url}${WEBHOOK_PATH}`,
      host: caller.workspaceDomain,
      secret: endpoint.secret,
    });
    return result.status;
  }

  async pay(checkoutUrl: string) {
    const response = await fetch(`${checkoutUrl}/complete`, { method: 'POST', redirect: 'manual' });
    if (response.status !== 303) throw new Error(`fake checkout answered ${response.status}`);
    await this.fake.flushDeliveries();
  }

  async abandon(reference: string) {
    await this.fake.expireSession(reference);
    await this.fake.flushDeliveries();
  }

  async renotify(reference: string) {
    const last = this.fake.events.filter((event) => (event.data.object as { id?: string }).id === reference).pop();
    if (!last) throw new Error(`no event about ${reference}`);
    await this.fake.redeliver(last, this.baseUrl);
  }

  async dashboardRefund(reference: string, amountMinor: number) {
    const paymentIntent = this.fake.sessions.get(reference)?.payment_intent;
    if (!paymentIntent) throw new Error(`session ${reference} has no payment intent`);
    await this.fake.refundOutsideApi(paymentIntent, amountMinor);
    await this.fake.flushDeliveries();
  }

  async settleRefunds() {
    await this.fake.flushDeliveries(); // Stripe card refunds succeed at once
  }

  async disputeWithdrawn(reference: string, amountMinor: number) {
    const paymentIntent = this.fake.sessions.get(reference)?.payment_intent;
    if (!paymentIntent) throw new Error(`session ${reference} has no payment intent`);
    const dispute = await this.fake.createDispute(paymentIntent, { amount: amountMinor });
    await this.fake.withdrawDisputeFunds(dispute.id);
    return dispute.id;
  }

  async disputeWon(_reference: string, disputeId: string) {
    await this.fake.submitDisputeEvidence(disputeId);
    await this.fake.closeDispute(disputeId, 'won');
  }

  async disputeLost(_reference: string, disputeId: string) {
    await this.fake.closeDispute(disputeId, 'lost');
  }

  async foreignNotification(service: TestService, caller: TestCaller, invoiceId: string, amountMinor: number) {
    // An event of another Stripe account, signed with that account's secret.
    const event = this.fake.buildEvent('checkout.session.completed', {
      id: 'cs_test_foreign',
      object: 'checkout.session',
      amount_total: amountMinor,
      currency: 'eur',
      client_reference_id: invoiceId,
      metadata: { workspace_id: caller.workspaceId, invoice_id: invoiceId },
      payment_status: 'paid',
    });
    const result = await this.fake.deliverEvent(event, {
      targetUrl: `${service.url}/api/finance/payments/stripe/webhook`,
      host: caller.workspaceDomain,
      secret: 'whsec_another_account_entirely_123456',
    });
    return result.status;
  }
}
