/** What the gateway sends for a page of invoices with their payments (and refunds), pay link and provider settings. */
export const GATEWAY_ENTITIES = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Invoice {
  id payments { id provider providerReference eventId status amount { amountMinor currency amount } refunded { amountMinor currency amount }
    refunds { id providerRefundId amount { amountMinor currency amount } status reason createdAt } createdAt updatedAt }
  payLink { url provider amountDue { amountMinor currency amount } }
  providerSettings { provider mode active offerCardPayments publishableKey secretKeyMasked webhookSecretMasked webhookUrl updatedAt } } } }`;

/** The options of the fullest introspection query (graphql's `getIntrospectionQuery`). */
export const FULL_INTROSPECTION_OPTIONS = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
} as const;
