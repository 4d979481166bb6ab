import { raw } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { PaymentProviderAccount } from '../entities/index.js';
import { type Provider, type ProviderMode } from '../vocabulary/index.js';
import type { AccountSecrets } from '../crypto/account-secrets.js';

/** What the webhook route needs of a workspace's provider account. */
export interface WebhookAccount {
  workspaceId: string;
  mode: ProviderMode;
  webhookSecret: string | null;
}

/** How long a host → account answer is reused on the hot path (a rotated secret applies within this). */
const TTL_MS = 2000;

/**
 * Resolves the workspace of a webhook by the request host (= the workspace_domain recorded when keys were saved),
 * with a short cache so bursts of webhooks cost no database round trip each. Disconnected accounts do not match.
 */
export class WebhookAccounts {
  private readonly cache = new Map<string, { at: number; value: Promise<WebhookAccount | null> }>();

  constructor(
    private readonly orm: MikroORM,
    private readonly secrets: AccountSecrets,
  ) {}

  find(provider: Provider, host: string): Promise<WebhookAccount | null> {
    const key = `${provider}|${host}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.value;
    const value = this.load(provider, host);
    this.cache.set(key, { at: now, value });
    value.catch(() => this.cache.delete(key));
    if (this.cache.size > 10_000) this.cache.clear();
    return value;
  }

  private async load(provider: Provider, host: string): Promise<WebhookAccount | null> {
    const rows = await this.orm.em
      .fork()
      .find(
        PaymentProviderAccount,
        { provider, secretKeySealed: { $ne: null }, [raw('lower(workspace_domain)')]: host },
        { orderBy: { updatedAt: 'desc' }, limit: 1 },
      );
    const account = rows[0];
    if (!account) return null;
    return { workspaceId: account.workspaceId, mode: account.mode, webhookSecret: this.secrets.webhookSecret(account) };
  }
}
