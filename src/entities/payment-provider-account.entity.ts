import { Entity, OptionalProps, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Provider, ProviderMode } from '../vocabulary/index.js';

/**
 * A workspace's connection to one provider. Secrets are sealed with AES-256-GCM (src/crypto) and bound to
 * workspace + provider + field; masks and fingerprints are stored beside them so reads never decrypt.
 */
@Entity({ tableName: 'payment_provider_accounts' })
@Unique({ name: 'payment_provider_accounts_workspace_provider_unique', properties: ['workspaceId', 'provider'] })
@Index({
  name: 'payment_provider_accounts_domain_idx',
  expression:
    'create index "payment_provider_accounts_domain_idx" on "payment_provider_accounts" (lower("workspace_domain"))',
})
export class PaymentProviderAccount {
  [OptionalProps]?: 'active' | 'offerCardPayments' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  workspaceId!: string;

  /** Host the provider's webhooks arrive on; recorded from the saving user's token. */
  @Property({ type: 'text' })
  workspaceDomain!: string;

  @Enum({ items: () => Provider, type: 'text' })
  provider!: Provider;

  @Enum({ items: () => ProviderMode, type: 'text' })
  mode!: ProviderMode;

  @Property({ type: 'boolean', default: false })
  active: boolean = false;

  @Property({ type: 'boolean', default: false })
  offerCardPayments: boolean = false;

  @Property({ type: 'text', nullable: true })
  publishableKey?: string | null;

  @Property({ type: 'text', nullable: true })
  secretKeySealed?: string | null;

  @Property({ type: 'text', nullable: true })
  secretKeyMasked?: string | null;

  @Property({ type: 'text', nullable: true })
  secretKeyFingerprint?: string | null;

  @Property({ type: 'text', nullable: true })
  webhookSecretSealed?: string | null;

  @Property({ type: 'text', nullable: true })
  webhookSecretMasked?: string | null;

  @Property({ type: 'text', nullable: true })
  webhookSecretFingerprint?: string | null;

  /** Provider id of a webhook endpoint this service created (deleted when replaced or disconnected). */
  @Property({ type: 'text', nullable: true })
  webhookEndpointId?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  disconnectedAt?: Date | null;

  /**
   * After a disconnect the sealed secrets are kept until then, only so webhooks of payments started before still
   * settle and the reconciler and audit can still ask the provider; then they are wiped.
   */
  @Property({ type: 'timestamptz', nullable: true })
  graceUntil?: Date | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
