import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import type { AuditService } from './audit.service.js';
import type { CheckoutService } from './checkout.service.js';
import type { PayLinkService } from './pay-link.service.js';
import type { ProviderSettingsService } from './provider-settings.service.js';
import type { RefundService } from './refund.service.js';
import type { CheckoutSessions } from '../settlement/checkout-sessions.js';
import type { Reconciler } from '../settlement/reconciler.js';
import type { SettlementService } from '../settlement/settlement.service.js';

/** Domain services shared by resolvers, HTTP routes, consumers and the CLI; built once in the composition root. */
export interface Services {
  providers: ProviderRegistry;
  secrets: AccountSecrets;
  providerSettings: ProviderSettingsService;
  payLinks: PayLinkService;
  sessions: CheckoutSessions;
  checkout: CheckoutService;
  settlement: SettlementService;
  refunds: RefundService;
  reconciler: Reconciler;
  audit: AuditService;
}
