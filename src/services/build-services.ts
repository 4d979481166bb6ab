import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { parseKeyRing } from '../crypto/key-ring.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { CheckoutSessions } from '../settlement/checkout-sessions.js';
import { createProviderRegistry } from '../providers/registry.js';
import { Reconciler } from '../settlement/reconciler.js';
import { SettlementService } from '../settlement/settlement.service.js';
import { AccountSecrets } from '../crypto/account-secrets.js';
import { AuditService } from './audit.service.js';
import { CheckoutService } from './checkout.service.js';
import { PayLinkService } from './pay-link.service.js';
import { ProviderSettingsService } from './provider-settings.service.js';
import { RefundService } from './refund.service.js';
import type { Services } from './services.js';

/** Builds the domain services once; the same set serves resolvers, routes, consumers and the CLI. */
export function buildServices(config: Config, orm: MikroORM, logger: Logger, metrics?: Metrics): Services {
  const providers = createProviderRegistry(config.providerApiUrls, metrics);
  const secrets = new AccountSecrets(parseKeyRing(config.encryptionKeys));
  const payLinks = new PayLinkService(providers, config.publicBaseUrl);
  const sessions = new CheckoutSessions(orm, providers, secrets, logger.child({ component: 'checkout-sessions' }));
  const settlement = new SettlementService(orm, providers, secrets, {
    ignored: (provider, reason) => metrics?.eventsIgnored.inc({ provider, reason }),
    // after the commit, off the settlement path: a close that fails is retried by the reconciler
    paid: (paid) =>
      void sessions
        .expireOthers(paid)
        .catch((error: unknown) =>
          logger.warn({ err: error, ...paid }, 'could not close the other checkouts; the reconciler will'),
        ),
    disputeOpened: (dispute) =>
      logger.warn(
        {
          provider: dispute.provider,
          workspaceId: dispute.workspaceId,
          invoiceId: dispute.invoiceId,
          paymentId: dispute.paymentId,
          disputeId: dispute.providerDisputeId,
          eventId: dispute.eventId,
          amountMinor: dispute.amountMinor,
          currency: dispute.currency,
          reason: dispute.reason,
          evidenceDueBy: dispute.evidenceDueBy?.toISOString() ?? null,
        },
        dispute.evidenceDueBy
          ? `dispute opened: submit evidence at the provider before ${dispute.evidenceDueBy.toISOString()}`
          : 'dispute opened: no evidence deadline given by the provider',
      ),
  });
  return {
    providers,
    secrets,
    payLinks,
    sessions,
    providerSettings: new ProviderSettingsService(orm, providers, secrets, sessions, logger, config.disconnectGraceMs),
    checkout: new CheckoutService(orm, providers, secrets, payLinks, config.publicBaseUrl, logger),
    settlement,
    refunds: new RefundService(orm, providers, secrets, settlement, logger, metrics),
    reconciler: new Reconciler(
      orm,
      providers,
      secrets,
      settlement,
      sessions,
      logger.child({ component: 'reconciler' }),
      config.reconcilePendingAfterMs,
      config.reconcileIntervalMs,
    ),
    audit: new AuditService(orm, providers, secrets, logger.child({ component: 'audit' })),
  };
}
