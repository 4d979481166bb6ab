import { Ctx, Query, Resolver } from 'type-graphql';
import { requireAuth, type GraphQLContext } from '../schema/context.js';
import { PaymentProviderSettings } from '../schema/provider-settings.type.js';
import { toProviderSettings } from './mappers.js';

@Resolver(() => PaymentProviderSettings)
export class ProviderSettingsResolver {
  @Query(() => [PaymentProviderSettings], {
    description: 'The payment providers connected to the caller\'s workspace, with secrets masked. Empty when none is connected.',
  })
  async paymentProviders(@Ctx() context: GraphQLContext): Promise<PaymentProviderSettings[]> {
    requireAuth(context, 'read');
    return (await context.loaders().accounts()).map(toProviderSettings);
  }
}
