import { randomBytes } from 'node:crypto';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { startTestService, type TestService } from './service.js';
import { tokenFor, type TestCaller } from './tokens.js';

/** A Stripe-looking key body: unique per test so accounts at the fake never mix. */
export const keyBody = () => randomBytes(12).toString('hex');

export interface StripeKeys {
  secretKey: string;
  publishableKey: string;
  webhookSecret: string | null;
}

export function testKeys(mode: 'test' | 'live' = 'test', withWebhookSecret = true): StripeKeys {
  const body = keyBody();
  return {
    secretKey: `sk_${mode}_${body}SECRET4242`,
    publishableKey: `pk_${mode}_${body}PUBLIC`,
    webhookSecret: withWebhookSecret ? `whsec_${keyBody()}WHSEC9f2c` : null,
  };
}

export const SAVE_STRIPE_KEYS = `mutation ($input: SaveStripeKeysInput!) {
  saveStripeKeys(input: $input) { provider mode active offerCardPayments publishableKey secretKeyMasked webhookSecretMasked webhookUrl updatedAt }
}`;

/** The service wired to a fresh fake Stripe (STRIPE_API_URL), with the fake delivering webhooks back to it. */
export async function startWithFakeStripe(
  env: Record<string, string> = {},
  argv: string[] = [],
): Promise<{ service: TestService; stripe: FakeStripe }> {
  const stripe = await startFakeStripe();
  const service = await startTestService({ STRIPE_API_URL: stripe.url, ...env }, argv);
  return { service, stripe };
}

/** Connects Stripe for a caller through the real mutation; throws on GraphQL errors. */
export async function connectStripe(
  service: TestService,
  caller: TestCaller,
  options: { keys?: StripeKeys; mode?: 'TEST' | 'LIVE'; offerCardPayments?: boolean } = {},
): Promise<StripeKeys> {
  const keys = options.keys ?? testKeys(options.mode === 'LIVE' ? 'live' : 'test');
  const result = await service.gql(
    SAVE_STRIPE_KEYS,
    { input: { ...keys, mode: options.mode ?? 'TEST', offerCardPayments: options.offerCardPayments ?? true } },
    await tokenFor(caller),
  );
  if (result.errors) throw new Error(`saveStripeKeys failed: ${JSON.stringify(result.errors)}`);
  return keys;
}
