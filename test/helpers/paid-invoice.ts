import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { sqlOn, untilInvoice } from './db.js';
import { insertInvoice, type InvoiceFixture } from './fixtures.js';
import type { TestService } from './service.js';
import { tokenFor, type TestCaller } from './tokens.js';

const PAY_LINK = 'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { payLink { url } } } }';

/** Follows an invoice's pay link to the fake checkout and returns the session id (the click creates the PENDING row). */
export async function openCheckout(service: TestService, caller: TestCaller, invoice: InvoiceFixture): Promise<string> {
  const result = await service.gql<{ _entities: Array<{ payLink: { url: string } | null }> }>(
    PAY_LINK,
    { reps: [{ __typename: 'Invoice', id: invoice.id }] },
    await tokenFor(caller),
  );
  const url = result.data?._entities[0]?.payLink?.url;
  if (!url) throw new Error(`no pay link: ${JSON.stringify(result)}`);
  const redirect = await fetch(url.replace(/^https?:\/\/[^/]+/, service.url), { redirect: 'manual' });
  const location = redirect.headers.get('location');
  if (redirect.status !== 303 || !location) throw new Error(`pay link answered ${redirect.status}`);
  return location.split('/').pop()!;
}

/** An invoice paid in full through the real flow: pay link → fake checkout → signed webhook → settlement. */
export async function paidInvoice(
  service: TestService,
  stripe: FakeStripe,
  caller: TestCaller,
  values: Partial<InvoiceFixture> = {},
): Promise<{ invoice: InvoiceFixture; sessionId: string; paymentId: string; paymentIntent: string }> {
  const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 10_000, ...values });
  const sessionId = await openCheckout(service, caller, invoice);
  const { paymentIntent } = await stripe.completeSession(sessionId);
  const sql = sqlOn(() => service.orm);
  await untilInvoice(sql, invoice.id, { status: 'paid' });
  const [row] = await sql<{ id: string }>('select id from invoice_payments where provider_reference = ?', [sessionId]);
  return { invoice, sessionId, paymentId: row.id, paymentIntent: paymentIntent.id };
}
