/** Payment providers, stored lower-case in every table. The one list of them: everything else derives from it. */
export const Provider = {
  STRIPE: 'stripe',
  MOLLIE: 'mollie',
} as const;
export type Provider = (typeof Provider)[keyof typeof Provider];

/** Every provider, in a stable order. */
export const PROVIDERS: readonly Provider[] = Object.values(Provider);

export const isProvider = (value: unknown): value is Provider =>
  typeof value === 'string' && (PROVIDERS as readonly string[]).includes(value);

/** How people and the AI assistant read each provider's name. */
export const PROVIDER_DISPLAY_NAMES: Record<Provider, string> = { stripe: 'Stripe', mollie: 'Mollie' };

/** What each provider's customers pay on (GraphQL enum descriptions). */
export const PROVIDER_CHECKOUTS: Record<Provider, string> = {
  stripe: 'Stripe (hosted Checkout).',
  mollie: 'Mollie (Payments API hosted checkout).',
};

/** Test or live credentials. */
export const ProviderMode = {
  TEST: 'test',
  LIVE: 'live',
} as const;
export type ProviderMode = (typeof ProviderMode)[keyof typeof ProviderMode];

/** Decrypted credentials of one workspace's provider account; they live only for the duration of a call. */
export interface ProviderCredentials {
  mode: ProviderMode;
  secretKey: string;
}

/** The webhook route, with the provider as its one parameter (metrics label it with this pattern). */
export const WEBHOOK_ROUTE = '/api/finance/payments/:provider/webhook';

/** Where a workspace's provider posts webhooks: routed by host (the workspace's domain), then by provider. */
export const webhookUrl = (workspaceDomain: string, provider: Provider) =>
  `https://${workspaceDomain}${WEBHOOK_ROUTE.replace(':provider', provider)}`;
