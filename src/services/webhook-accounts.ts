import { raw } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { PaymentProviderAccount } from '../entities/index.js';
import { type Provider, type ProviderMode } from '../vocabulary/index.js';
import type { AccountSecrets } from '../crypto/account-secrets.js';
import { isDatabaseUnreachable, ServiceUnavailableError } from '../errors.js';

/** What the webhook route needs of a workspace's provider account. */
export interface WebhookAccount {
  workspaceId: string;
  mode: ProviderMode;
  webhookSecret: string | null;
}

/** How long a host → account answer is reused on the hot path (a rotated secret applies within this). */
const TTL_MS = 2000;
/** How long the last answer read from PostgreSQL still verifies webhooks while PostgreSQL cannot be reached. */
const LAST_KNOWN_MS = 60 * 60 * 1000;
const MAX_HOSTS = 10_000;

/**
 * Resolves the workspace of a webhook by the request host (= the workspace_domain recorded when keys were saved),
 * with a short cache so bursts of webhooks cost no database round trip each. Disconnected accounts do not match.
 *
 * During a PostgreSQL outage the last answer read for a host (up to an hour old) keeps verifying its webhooks, so
 * they are still stored in JetStream and settled when PostgreSQL is back; a host never read in that hour gets
 * ServiceUnavailableError (503: the provider retries). A fallback answer is cached like a fresh one, so an outage
 * costs at most one connection attempt per host per TTL.
 */
export class WebhookAccounts {
  private readonly cache = new Map<string, { at: number; value: Promise<WebhookAccount | null> }>();
  private readonly lastKnown = new Map<string, { at: number; account: WebhookAccount | null }>();

  constructor(
    private readonly orm: MikroORM,
    private readonly secrets: AccountSecrets,
    private readonly now: () => number = Date.now,
  ) {}

  find(provider: Provider, host: string): Promise<WebhookAccount | null> {
    const key = `${provider}|${host}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.value;
    const value = this.load(provider, host).then(
      (account) => {
        if (this.lastKnown.size >= MAX_HOSTS && !this.lastKnown.has(key)) this.lastKnown.clear();
        this.lastKnown.set(key, { at: this.now(), account });
        return account;
      },
      (error: unknown) => this.fallback(key, error),
    );
    this.cache.set(key, { at: now, value });
    value.catch(() => this.cache.delete(key));
    if (this.cache.size > MAX_HOSTS) this.cache.clear();
    return value;
  }

  /** The last known answer when PostgreSQL is unreachable (and recent enough); anything else is rethrown. */
  private fallback(key: string, error: unknown): WebhookAccount | null {
    if (!isDatabaseUnreachable(error)) throw error;
    const known = this.lastKnown.get(key);
    if (known && this.now() - known.at < LAST_KNOWN_MS) return known.account;
    throw new ServiceUnavailableError();
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
