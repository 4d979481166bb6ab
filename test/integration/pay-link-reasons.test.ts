import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { insertInvoice, type InvoiceFixture } from '../helpers/fixtures.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, startWithFakeStripe } from '../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';

const QUERY = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Invoice { payLink { url } payLinkUnavailableReason } }
}`;

/** `Invoice.payLinkUnavailableReason`: null exactly when there is a pay link, else why not (never an error). */
describe('why an invoice has no pay link', () => {
  let service: TestService;
  let stripe: FakeStripe;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe());
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const ask = async (caller: TestCaller, invoiceId: string) => {
    const result = await service.gql<{
      _entities: Array<{ payLink: { url: string } | null; payLinkUnavailableReason: string | null }>;
    }>(QUERY, { reps: [{ __typename: 'Invoice', id: invoiceId }] }, await tokenFor(caller));
    expect(result.errors).toBeUndefined();
    return result.data!._entities[0];
  };
  const toggle = (caller: TestCaller, active: boolean) =>
    tokenFor(caller).then((token) =>
      service.gql(
        'mutation ($active: Boolean!) { setPaymentProviderActive(provider: STRIPE, active: $active) { active } }',
        { active },
        token,
      ),
    );

  it('names each reason, and is null exactly when the link exists', async () => {
    const caller = newCaller(['owner']);
    const invoice = (values: Partial<InvoiceFixture>) =>
      insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 5_000, ...values });
    const sent = await invoice({});
    expect(await ask(caller, sent.id)).toEqual({ payLink: null, payLinkUnavailableReason: 'NO_PROVIDER' });

    await connectStripe(service, caller, { offerCardPayments: false });
    expect((await ask(caller, sent.id)).payLinkUnavailableReason).toBe('CARD_PAYMENTS_OFF');
    await connectStripe(service, caller);
    const linked = await ask(caller, sent.id);
    expect(linked.payLink?.url).toMatch(/\/pay\//);
    expect(linked.payLinkUnavailableReason).toBeNull();
    await toggle(caller, false);
    expect((await ask(caller, sent.id)).payLinkUnavailableReason).toBe('PROVIDER_INACTIVE');
    await toggle(caller, true);

    for (const [values, reason] of [
      [{ status: 'draft' }, 'INVOICE_DRAFT'],
      [{ status: 'void' }, 'INVOICE_VOID'],
      [{ status: 'paid', paidMinor: 5_000 }, 'INVOICE_PAID'],
      [{ status: 'partial', paidMinor: 4_990 }, 'NOTHING_DUE'], // 0.10 EUR: below the card minimum
      [{ currency: 'XTS' }, 'CURRENCY_UNSUPPORTED'], // an ISO test code we never charge: no pay link, no error
    ] as const) {
      const row = await invoice(values);
      expect(await ask(caller, row.id), `${JSON.stringify(values)}`).toEqual({
        payLink: null,
        payLinkUnavailableReason: reason,
      });
    }
  });
});
