import Stripe from 'stripe';
import type { PaymentUpdate } from '../../vocabulary/index.js';
import { activityOfUpdate } from '../activity.js';
import { readMetadata } from '../metadata.js';
import type { ActivityRange, ProviderActivity } from '../payment-provider.js';
import { withBackoff } from '../rate-limit.js';
import { fromStripeAmount } from './stripe.amount.js';
import { mapStripeError } from './stripe.errors.js';
import { disputeUpdate, refundUpdate, STRIPE_DISPUTE_EVENTS } from './stripe.webhook.js';

type Json = Record<string, unknown>;

/** Objects per list call: Stripe's maximum. */
export const STRIPE_PAGE_SIZE = 100;

const rateLimited = (error: unknown): number | null | undefined => {
  if (
    !(error instanceof Stripe.errors.StripeRateLimitError) &&
    !(error instanceof Stripe.errors.StripeError && error.statusCode === 429)
  )
    return undefined;
  const header = (error as { headers?: Record<string, string> }).headers?.['retry-after'];
  return header && /^\d+$/.test(header) ? Number(header) * 1000 : null;
};

interface Page {
  data: Json[];
  has_more: boolean;
}

/** Every object of a Stripe list, page by page (`starting_after` the last one), backing off on 429. */
async function* paginate(
  action: string,
  list: (startingAfter: string | undefined) => Promise<Page>,
): AsyncGenerator<Json> {
  let startingAfter: string | undefined;
  for (;;) {
    let page: Page;
    try {
      page = await withBackoff(() => list(startingAfter), rateLimited);
    } catch (error) {
      throw mapStripeError(error, action);
    }
    yield* page.data;
    if (!page.has_more || page.data.length === 0) return;
    startingAfter = String(page.data[page.data.length - 1].id);
  }
}

const createdAt = (object: Json) => new Date(Number(object.created) * 1000);

/** A checkout session in the ledger's terms; null when it is not a payment session we can read. */
export function sessionActivity(session: Json): ProviderActivity | null {
  const currency = typeof session.currency === 'string' ? session.currency.toUpperCase() : null;
  if (typeof session.id !== 'string' || !currency || typeof session.amount_total !== 'number') return null;
  const ours = readMetadata(session.metadata);
  const paid = session.payment_status === 'paid' || session.payment_status === 'no_payment_required';
  const outcome: PaymentUpdate['outcome'] =
    session.status === 'expired' ? 'cancelled' : session.status === 'complete' && paid ? 'succeeded' : 'pending';
  const intent = session.payment_intent;
  const providerPaymentId =
    typeof intent === 'string'
      ? intent
      : typeof (intent as Json | null)?.id === 'string'
        ? String((intent as Json).id)
        : null;
  const invoiceId =
    ours.invoiceId ?? (typeof session.client_reference_id === 'string' ? session.client_reference_id : null);
  const amountMinor = fromStripeAmount(session.amount_total, currency);
  return {
    kind: 'payment',
    reference: session.id,
    providerPaymentId,
    workspaceId: ours.workspaceId,
    invoiceId,
    amountMinor,
    currency,
    state: outcome,
    // an asynchronous payment that failed leaves the session complete and unpaid; its event made the row FAILED
    ...(session.status === 'complete' && !paid ? { agreesWith: ['failed'] } : {}),
    createdAt: createdAt(session),
    update: {
      kind: 'payment',
      reference: session.id,
      providerPaymentId,
      outcome,
      amountMinor,
      currency,
      invoiceId,
      metadataWorkspaceId: ours.workspaceId,
      occurredAt: new Date(),
    },
  };
}

export function refundActivity(refund: Json): ProviderActivity | null {
  const update = refundUpdate(refund);
  return update ? activityOfUpdate(update, readMetadata(refund.metadata), createdAt(refund)) : null;
}

export function disputeActivity(dispute: Json): ProviderActivity | null {
  try {
    const update = disputeUpdate('charge.dispute.updated', dispute);
    return activityOfUpdate(update, readMetadata(dispute.metadata), createdAt(dispute));
  } catch {
    return null; // a status this service does not know: its events are dead-lettered with the reason
  }
}

/**
 * The account's checkout sessions, refunds and disputes created in the range, then — the second source — objects
 * created earlier whose webhook Stripe never managed to deliver (`GET /v1/events?delivery_success=false`), read again
 * so the audit compares their current state.
 */
export async function* listStripeActivity(client: Stripe, range: ActivityRange): AsyncGenerator<ProviderActivity> {
  const created = { gte: Math.floor(range.since.getTime() / 1000), lte: Math.ceil(range.until.getTime() / 1000) };
  const params = (startingAfter: string | undefined) => ({
    created,
    limit: STRIPE_PAGE_SIZE,
    ...(startingAfter ? { starting_after: startingAfter } : {}),
  });
  const sources: Array<
    [string, (after: string | undefined) => Promise<Page>, (object: Json) => ProviderActivity | null]
  > = [
    ['list checkout sessions', (after) => client.checkout.sessions.list(params(after)) as never, sessionActivity],
    ['list refunds', (after) => client.refunds.list(params(after)) as never, refundActivity],
    ['list disputes', (after) => client.disputes.list(params(after)) as never, disputeActivity],
  ];
  for (const [action, list, map] of sources) {
    for await (const object of paginate(action, list)) {
      const activity = map(object);
      if (activity) yield activity;
    }
  }
  const undelivered = (after: string | undefined) =>
    client.events.list({ ...params(after), delivery_success: false } as Stripe.EventListParams) as never;
  for await (const event of paginate('list undelivered events', undelivered)) {
    const object = ((event.data ?? {}) as Json).object as Json | undefined;
    if (!object || typeof object.id !== 'string' || Number(object.created) >= created.gte) continue; // listed above
    const type = String(event.type);
    const read = async (): Promise<ProviderActivity | null> => {
      if (type.startsWith('checkout.session.'))
        return sessionActivity((await client.checkout.sessions.retrieve(object.id as string)) as never);
      if (type.startsWith('refund.'))
        return refundActivity((await client.refunds.retrieve(object.id as string)) as never);
      if ((STRIPE_DISPUTE_EVENTS as readonly string[]).includes(type))
        return disputeActivity((await client.disputes.retrieve(object.id as string)) as never);
      return null;
    };
    let activity: ProviderActivity | null;
    try {
      activity = await withBackoff(read, rateLimited);
    } catch (error) {
      throw mapStripeError(error, 'read an object of an undelivered event');
    }
    if (activity) yield { ...activity, undelivered: true };
  }
}
