import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Provider } from '../vocabulary/index.js';
import { requireAuth, type GraphQLContext } from './context.js';
import { PaymentProvider } from '../schema/enums.js';
import { SaveMollieKeysInput, SaveStripeKeysInput } from '../schema/inputs.js';
import { PaymentProviderSettings } from '../schema/provider-settings.type.js';
import { fromGraphQLMode, fromGraphQLProvider, toProviderSettings } from './mappers.js';

@Resolver(() => PaymentProviderSettings)
export class ProviderSettingsResolver {
  @Query(() => [PaymentProviderSettings], {
    description:
      "The payment providers connected to the caller's workspace, with secrets masked. Empty when none is connected.",
  })
  async paymentProviders(@Ctx() context: GraphQLContext): Promise<PaymentProviderSettings[]> {
    requireAuth(context, 'read');
    return (await context.loaders().accounts()).map(toProviderSettings);
  }

  @Mutation(() => PaymentProviderSettings, {
    description:
      'Connect Stripe, or rotate its keys. Needs the owner or admin role. The keys are checked against the mode and verified with Stripe; ' +
      'Stripe becomes the active provider (any other is deactivated). Errors: BAD_USER_INPUT when a key is malformed, does not match the mode ' +
      'or is rejected by Stripe; PROVIDER_ERROR when Stripe cannot be reached. Nothing is stored when it fails.',
  })
  async saveStripeKeys(
    @Arg('input', () => SaveStripeKeysInput, { description: 'The keys, mode and pay-link preference.' })
    input: SaveStripeKeysInput,
    @Ctx() context: GraphQLContext,
  ): Promise<PaymentProviderSettings> {
    const auth = requireAuth(context, 'manageProviders');
    const account = await context.services.providerSettings.saveKeys(context.em, auth, Provider.STRIPE, {
      mode: fromGraphQLMode(input.mode),
      secretKey: input.secretKey,
      publishableKey: input.publishableKey,
      webhookSecret: input.webhookSecret ?? null,
      offerCardPayments: input.offerCardPayments,
    });
    return toProviderSettings(account);
  }

  @Mutation(() => PaymentProviderSettings, {
    description:
      'Connect Mollie, or rotate its API key. Needs the owner or admin role. The key prefix must match the mode and Mollie must accept the key; ' +
      'Mollie becomes the active provider (any other is deactivated). Mollie webhooks need no signing secret: the service fetches each ' +
      'payment back from Mollie. Errors: BAD_USER_INPUT (malformed, wrong mode or rejected key), PROVIDER_ERROR (Mollie unreachable).',
  })
  async saveMollieKeys(
    @Arg('input', () => SaveMollieKeysInput, { description: 'The API key, mode and pay-link preference.' })
    input: SaveMollieKeysInput,
    @Ctx() context: GraphQLContext,
  ): Promise<PaymentProviderSettings> {
    const auth = requireAuth(context, 'manageProviders');
    const account = await context.services.providerSettings.saveKeys(context.em, auth, Provider.MOLLIE, {
      mode: fromGraphQLMode(input.mode),
      secretKey: input.apiKey,
      publishableKey: null,
      webhookSecret: null,
      offerCardPayments: input.offerCardPayments,
    });
    return toProviderSettings(account);
  }

  @Mutation(() => PaymentProviderSettings, {
    description:
      'Activate or deactivate a connected provider. Needs owner or admin. Activating one deactivates the other; an inactive provider offers no pay links ' +
      '(webhooks for payments already started still settle). NOT_FOUND when the provider is not connected.',
  })
  async setPaymentProviderActive(
    @Arg('provider', () => PaymentProvider, { description: 'The provider to switch.' }) provider: PaymentProvider,
    @Arg('active', () => Boolean, { description: 'true to make it the active provider, false to switch it off.' })
    active: boolean,
    @Ctx() context: GraphQLContext,
  ): Promise<PaymentProviderSettings> {
    const auth = requireAuth(context, 'manageProviders');
    return toProviderSettings(
      await context.services.providerSettings.setActive(context.em, auth, fromGraphQLProvider(provider), active),
    );
  }

  @Mutation(() => Boolean, {
    description:
      'Disconnect a provider: its stored keys are wiped and pay links stop working at once; the payment ledger is kept. Needs owner or admin. ' +
      'Returns false when the provider was not connected.',
  })
  async disconnectPaymentProvider(
    @Arg('provider', () => PaymentProvider, { description: 'The provider to disconnect.' }) provider: PaymentProvider,
    @Ctx() context: GraphQLContext,
  ): Promise<boolean> {
    const auth = requireAuth(context, 'manageProviders');
    return context.services.providerSettings.disconnect(context.em, auth, fromGraphQLProvider(provider));
  }
}
