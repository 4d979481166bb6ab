import { randomBytes } from 'node:crypto';
import { formatMinor } from '../../src/money/money.js';
import { startFakeMollie, type FakeMollie } from '../fakes/mollie/fake-mollie.server.js';
import { postWithHost } from '../helpers/post-with-host.js';
import type { TestService } from '../helpers/service.js';
import { tokenFor, type TestCaller } from '../helpers/tokens.js';
import type { ProviderDriver } from './provider-driver.js';

const mollieKey = () => `test_${randomBytes(20).toString('hex').slice(0, 32)}`;

export class MollieDriver implements ProviderDriver {
  readonly provider = 'MOLLIE' as const;
  readonly foreignStatus = 200;
  readonly referencePattern = /^tr_/;
  /** The service opens card checkouts, which Mollie does not let the merchant cancel (`isCancelable: false`). */
  readonly closesOpenCheckouts = false;
  private fake!: FakeMollie;
  private baseUrl = '';
  private readonly held: string[] = [];

  async start() {
    this.fake = await startFakeMollie();
  }

  close() {
    return this.fake.close();
  }

  env() {
    return { MOLLIE_API_URL: this.fake.url };
  }

  deliverTo(baseUrl: string) {
    this.baseUrl = baseUrl;
    this.fake.autoDeliver = { baseUrl };
  }

  async connect(service: TestService, caller: TestCaller, secretKey?: string) {
    const apiKey = secretKey ?? mollieKey();
    const result = await service.gql(
      'mutation ($input: SaveMollieKeysInput!) { saveMollieKeys(input: $input) { active } }',
      { input: { apiKey, mode: 'TEST', offerCardPayments: true } },
      await tokenFor(caller),
    );
    if (result.errors) throw new Error(`saveMollieKeys failed: ${JSON.stringify(result.errors)}`);
    return apiKey;
  }

  checkoutState(reference: string) {
    const status = this.fake.payments.get(reference)?.status;
    return status === 'paid' ? 'paid' : status === 'open' || status === 'pending' ? 'open' : 'closed';
  }

  requestsAbout(reference: string) {
    return this.fake.requests.filter((request) => request.path.startsWith(`/v2/payments/${reference}`)).length;
  }

  async payHeld(checkoutUrl: string, reference: string) {
    this.fake.autoDeliver = null;
    const response = await fetch(`${checkoutUrl}/pay`, { method: 'POST', redirect: 'manual' });
    if (response.status !== 303) throw new Error(`fake checkout answered ${response.status}`);
    this.held.push(reference);
  }

  async release() {
    this.fake.autoDeliver = { baseUrl: this.baseUrl };
    for (const reference of this.held.splice(0)) await this.fake.notify(reference);
    await this.fake.flushDeliveries();
  }

  async notifyOtherWorkspace(service: TestService, caller: TestCaller, reference: string) {
    // Mollie's notification carries only the id; the workspace's key (the same account) can fetch the payment.
    return postWithHost(
      `${service.url}/api/finance/payments/mollie/webhook`,
      caller.workspaceDomain,
      `id=${reference}`,
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
  }

  async pay(checkoutUrl: string) {
    const response = await fetch(`${checkoutUrl}/pay`, { method: 'POST', redirect: 'manual' });
    if (response.status !== 303) throw new Error(`fake checkout answered ${response.status}`);
    await this.fake.flushDeliveries();
  }

  async abandon(reference: string) {
    await this.fake.setPaymentStatus(reference, 'expired');
  }

  async renotify(reference: string) {
    await this.fake.notify(reference);
    await this.fake.flushDeliveries();
  }

  async dashboardRefund(reference: string, amountMinor: number, currency: string) {
    await this.fake.refundOutsideApi(reference, formatMinor(amountMinor, currency));
  }

  /** Mollie refunds start pending; the bank completes them later and Mollie notifies the payment's webhook. */
  async settleRefunds(reference: string) {
    for (const refund of [...this.fake.refunds.values()]) {
      if (refund.paymentId === reference && ['queued', 'pending', 'processing'].includes(refund.status)) {
        await this.fake.settleRefund(reference, refund.id, 'refunded');
      }
    }
  }

  async disputeWithdrawn(reference: string, amountMinor: number, currency: string) {
    const chargeback = await this.fake.addChargeback(reference, formatMinor(amountMinor, currency));
    await this.fake.flushDeliveries();
    return chargeback.id;
  }

  async disputeWon(reference: string, disputeId: string) {
    await this.fake.reverseChargeback(reference, disputeId);
    await this.fake.flushDeliveries();
  }

  async disputeLost() {
    // a Mollie chargeback is decided when it arrives: nothing more happens
  }

  async foreignNotification(service: TestService, caller: TestCaller, invoiceId: string, amountMinor: number) {
    // A payment of another Mollie account: this workspace's key cannot see it, so the fetch-back finds nothing.
    const response = await fetch(`${this.fake.url}/v2/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mollieKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        amount: { currency: 'EUR', value: formatMinor(amountMinor, 'EUR') },
        description: 'foreign',
        redirectUrl: 'https://example.com',
        metadata: { workspace_id: caller.workspaceId, invoice_id: invoiceId },
      }),
    });
    const foreign = (await response.json()) as { id: string };
    await this.fake.setPaymentStatus(foreign.id, 'paid');
    // Mollie's notification: `id=tr_…`, form-encoded, no signature, sent to the workspace's host.
    return postWithHost(
      `${service.url}/api/finance/payments/mollie/webhook`,
      caller.workspaceDomain,
      `id=${foreign.id}`,
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
  }
}
