/** Payment providers, stored lower-case in every table. */
export enum Provider {
  STRIPE = 'stripe',
  MOLLIE = 'mollie',
}

/** Test or live credentials. */
export enum ProviderMode {
  TEST = 'test',
  LIVE = 'live',
}
