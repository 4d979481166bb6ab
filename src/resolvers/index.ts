import { InvoiceResolver } from './invoice.resolver.js';
import { PaymentResolver } from './payment.resolver.js';
import { ProviderSettingsResolver } from './provider-settings.resolver.js';
import { RefundResolver } from './refund.resolver.js';

export const resolvers = [InvoiceResolver, PaymentResolver, RefundResolver, ProviderSettingsResolver] as const;
