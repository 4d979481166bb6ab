import { randomUUID } from 'node:crypto';
import { LockMode, raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AuthContext } from '../auth/auth-context.js';
import { fingerprintSecret, maskSecret } from '../crypto/secret-display.js';
import { PaymentProviderAccount } from '../entities/index.js';
import { PROVIDER_DISPLAY_NAMES, webhookUrl, type Provider } from '../vocabulary/index.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import {
  type CreatedWebhookEndpoint,
  type KeyInput,
  type PaymentProviderAdapter,
  type ProviderCredentials,
} from '../providers/payment-provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountSecrets, SecretField } from '../crypto/account-secrets.js';
import type { CheckoutSessions } from '../settlement/checkout-sessions.js';
import { audit } from './audit.js';
import { providerUserError } from './provider-errors.js';

export interface SaveKeysInput extends KeyInput {
  offerCardPayments: boolean;
}

/** An endpoint the service created earlier, to delete (best effort) once it is replaced. */
interface EndpointToDelete {
  credentials: ProviderCredentials;
  endpointId: string;
}

/** Trimmed keys, within length, in the provider's format (no network call). */
function checkedKeys(adapter: PaymentProviderAdapter, raw: SaveKeysInput): SaveKeysInput {
  const input: SaveKeysInput = {
    ...raw,
    secretKey: raw.secretKey.trim(),
    publishableKey: raw.publishableKey?.trim() || null,
    webhookSecret: raw.webhookSecret?.trim() || null,
  };
  for (const value of [input.secretKey, input.publishableKey, input.webhookSecret]) {
    if (value && value.length > 512) throw new BadUserInputError('Keys are at most 512 characters');
  }
  const problem = adapter.checkKeyFormat(input);
  if (problem) throw new BadUserInputError(problem);
  return input;
}

/** Connect, rotate, (de)activate and disconnect provider accounts. Every change is audited; no secret leaves sealed form. */
export class ProviderSettingsService {
  constructor(
    private readonly orm: MikroORM,
    private readonly providers: ProviderRegistry,
    private readonly secrets: AccountSecrets,
    private readonly sessions: CheckoutSessions,
    private readonly logger: Logger,
    /** DISCONNECT_GRACE_HOURS in milliseconds. */
    private readonly graceMs: number,
  ) {}

  /** Verifies keys with the provider, stores them sealed, activates the provider. Nothing is stored on any failure. */
  async saveKeys(
    em: EntityManager,
    auth: AuthContext,
    provider: Provider,
    raw: SaveKeysInput,
  ): Promise<PaymentProviderAccount> {
    const adapter = this.adapter(provider);
    const input = checkedKeys(adapter, raw);
    const credentials: ProviderCredentials = { mode: input.mode, secretKey: input.secretKey };
    await this.providerCall(provider, () => adapter.verifyCredentials(credentials));
    const created =
      adapter.usesWebhookSecret && !input.webhookSecret
        ? await this.providerCall(provider, () =>
            adapter.createWebhookEndpoint(credentials, webhookUrl(auth.workspaceDomain, provider)),
          )
        : null;
    try {
      const { account, replaced } = await em.transactional((tx) => this.storeKeys(tx, auth, provider, input, created));
      if (replaced) void this.deleteEndpoint(adapter, replaced);
      return account;
    } catch (error) {
      if (created) void this.deleteEndpoint(adapter, { credentials, endpointId: created.endpointId });
      if (error instanceof UniqueConstraintViolationException)
        throw new ConflictError('The provider settings changed concurrently; try again');
      throw error;
    }
  }

  /** Seals the verified keys into the workspace's account (created on first save), audits, activates. */
  private async storeKeys(
    tx: EntityManager,
    auth: AuthContext,
    provider: Provider,
    input: SaveKeysInput,
    created: CreatedWebhookEndpoint | null,
  ): Promise<{ account: PaymentProviderAccount; replaced: EndpointToDelete | null }> {
    const accounts = await this.lockAccounts(tx, auth.workspaceId);
    const holder = await tx.findOne(PaymentProviderAccount, {
      provider,
      workspaceId: { $ne: auth.workspaceId },
      secretKeySealed: { $ne: null },
      [raw('lower(workspace_domain)')]: auth.workspaceDomain.toLowerCase(),
    });
    if (holder) {
      throw new ConflictError(
        `${auth.workspaceDomain} is already connected to ${PROVIDER_DISPLAY_NAMES[provider]} by another workspace; webhooks are routed by domain, so one domain serves one workspace per provider`,
      );
    }
    const existing = accounts.find((row) => row.provider === provider);
    // a save after a disconnect (even within its grace window) connects anew; a save while connected rotates
    const firstSave = !existing?.secretKeySealed || Boolean(existing.disconnectedAt);
    const replaced =
      existing?.webhookEndpointId && existing.secretKeySealed
        ? { credentials: this.secrets.credentials(existing)!, endpointId: existing.webhookEndpointId }
        : null;
    const account =
      existing ??
      tx.create(PaymentProviderAccount, {
        id: randomUUID(),
        workspaceId: auth.workspaceId,
        provider,
        workspaceDomain: auth.workspaceDomain,
        mode: input.mode,
      });
    const wasActive = account.active && !firstSave;
    const webhookSecret = created?.secret ?? input.webhookSecret;
    Object.assign(account, {
      workspaceDomain: auth.workspaceDomain,
      mode: input.mode,
      offerCardPayments: input.offerCardPayments,
      publishableKey: input.publishableKey,
      ...this.sealed(account, 'secretKey', input.secretKey),
      ...this.sealed(account, 'webhookSecret', webhookSecret),
      webhookEndpointId: created?.endpointId ?? null,
      disconnectedAt: null,
      graceUntil: null,
    });
    audit(tx, {
      workspaceId: auth.workspaceId,
      actorId: auth.userId,
      action: firstSave ? 'payments.provider.keys_saved' : 'payments.provider.keys_rotated',
      provider,
      details: {
        mode: input.mode,
        secretKeyFingerprint: account.secretKeyFingerprint,
        publishableKeyFingerprint: input.publishableKey ? fingerprintSecret(input.publishableKey) : null,
        webhookSecretFingerprint: account.webhookSecretFingerprint,
        webhookEndpointCreated: created !== null,
        offerCardPayments: input.offerCardPayments,
      },
    });
    await this.activate(tx, auth, accounts, account, wasActive);
    return { account, replaced };
  }

  /** The sealed value, mask and fingerprint columns of one secret (all null without it). */
  private sealed(account: PaymentProviderAccount, field: SecretField, secret: string | null) {
    return {
      [`${field}Sealed`]: secret ? this.secrets.seal(account, field, secret) : null,
      [`${field}Masked`]: secret ? maskSecret(secret) : null,
      [`${field}Fingerprint`]: secret ? fingerprintSecret(secret) : null,
    };
  }

  /** Turns a connected provider on (turning the other off) or off. */
  async setActive(
    em: EntityManager,
    auth: AuthContext,
    provider: Provider,
    active: boolean,
  ): Promise<PaymentProviderAccount> {
    return em.transactional(async (tx) => {
      const accounts = await this.lockAccounts(tx, auth.workspaceId);
      const account = accounts.find((row) => row.provider === provider && row.secretKeySealed && !row.disconnectedAt);
      if (!account)
        throw new NotFoundError(
          `${PROVIDER_DISPLAY_NAMES[provider]} is not connected to this workspace; save its keys first`,
        );
      if (active) await this.activate(tx, auth, accounts, account, account.active);
      else if (account.active) {
        account.active = false;
        audit(tx, {
          workspaceId: auth.workspaceId,
          actorId: auth.userId,
          action: 'payments.provider.deactivated',
          provider,
          details: { mode: account.mode },
        });
      }
      return account;
    });
  }

  /**
   * Disconnects a provider (the ledger stays): the account is out of use at once (no pay link, checkout or refund,
   * not listed), then every open checkout of the workspace at the provider is closed. The sealed keys are kept for
   * the grace window, only so webhooks of payments already made still settle and the reconciler can still ask; then
   * `endGrace` wipes them. False when the provider was not connected.
   */
  async disconnect(em: EntityManager, auth: AuthContext, provider: Provider): Promise<boolean> {
    const now = new Date();
    const graceUntil = new Date(now.getTime() + this.graceMs);
    const account = await em.transactional(async (tx) => {
      const accounts = await this.lockAccounts(tx, auth.workspaceId);
      const found = accounts.find((row) => row.provider === provider && row.secretKeySealed && !row.disconnectedAt);
      if (!found) return null;
      const wasActive = found.active;
      Object.assign(found, { active: false, offerCardPayments: false, disconnectedAt: now, graceUntil });
      return { ...found, wasActive };
    });
    if (!account) return false;
    const sessions = await this.sessions.expireAll(auth.workspaceId, provider);
    const tx = em.fork();
    audit(tx, {
      workspaceId: auth.workspaceId,
      actorId: auth.userId,
      action: 'payments.provider.disconnected',
      provider,
      details: {
        mode: account.mode,
        secretKeyFingerprint: account.secretKeyFingerprint,
        webhookSecretFingerprint: account.webhookSecretFingerprint,
        wasActive: account.wasActive,
        expiredSessions: sessions.expired,
        sessionsLeftToExpireAtProvider: sessions.open + sessions.failed,
        graceUntil: graceUntil.toISOString(),
      },
    });
    await tx.flush();
    if (this.graceMs === 0) await this.endGrace(now);
    return true;
  }

  /**
   * Ends the grace windows that are over: deletes the webhook endpoint the service created (best effort) and wipes the
   * kept keys; the host's webhooks then answer 404. Saving keys again within a window ends it instead. Runs on an
   * interval in the worker role; the deadline is stored, so a restart does not lose it.
   */
  async endGrace(now = new Date(), workspaceId?: string): Promise<number> {
    const due = await this.orm.em.fork().find(
      PaymentProviderAccount,
      {
        graceUntil: { $lte: now },
        disconnectedAt: { $ne: null },
        secretKeySealed: { $ne: null },
        ...(workspaceId ? { workspaceId } : {}),
      },
      { fields: ['id'] },
    );
    let ended = 0;
    for (const { id } of due) {
      const endpoint = await this.orm.em.fork().transactional(async (tx) => {
        const account = await tx.findOne(PaymentProviderAccount, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!account?.disconnectedAt || !account.graceUntil || account.graceUntil > now) return undefined;
        const credentials = this.secrets.credentials(account);
        const replaced =
          account.webhookEndpointId && credentials ? { credentials, endpointId: account.webhookEndpointId } : null;
        Object.assign(account, {
          publishableKey: null,
          ...this.sealed(account, 'secretKey', null),
          ...this.sealed(account, 'webhookSecret', null),
          webhookEndpointId: null,
          graceUntil: null,
        });
        return { replaced, provider: account.provider, workspaceId: account.workspaceId };
      });
      if (!endpoint) continue;
      ended++;
      if (endpoint.replaced) await this.deleteEndpoint(this.adapter(endpoint.provider), endpoint.replaced);
      this.logger.info(
        { workspaceId: endpoint.workspaceId, provider: endpoint.provider },
        'disconnect grace ended: keys wiped',
      );
    }
    return ended;
  }

  /** The provider's adapter; one this server does not offer is a user error. */
  private adapter(provider: Provider): PaymentProviderAdapter {
    try {
      return this.providers.get(provider);
    } catch (error) {
      throw providerUserError(error, provider, { unavailable: '', unexpected: '' }, this.logger);
    }
  }

  private lockAccounts(tx: EntityManager, workspaceId: string): Promise<PaymentProviderAccount[]> {
    return tx.find(
      PaymentProviderAccount,
      { workspaceId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { provider: 'asc' } },
    );
  }

  /** At most one active provider per workspace: the others are switched off first (a partial unique index enforces it). */
  private async activate(
    tx: EntityManager,
    auth: AuthContext,
    accounts: PaymentProviderAccount[],
    account: PaymentProviderAccount,
    wasActive: boolean,
  ) {
    for (const other of accounts) {
      if (other === account || !other.active) continue;
      await tx.nativeUpdate(PaymentProviderAccount, { id: other.id }, { active: false });
      other.active = false;
      audit(tx, {
        workspaceId: auth.workspaceId,
        actorId: auth.userId,
        action: 'payments.provider.deactivated',
        provider: other.provider,
        details: { mode: other.mode, reason: `${account.provider} activated` },
      });
    }
    account.active = true;
    if (!wasActive) {
      audit(tx, {
        workspaceId: auth.workspaceId,
        actorId: auth.userId,
        action: 'payments.provider.activated',
        provider: account.provider,
        details: { mode: account.mode },
      });
    }
  }

  private async providerCall<T>(provider: Provider, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw providerUserError(
        error,
        provider,
        { unavailable: 'nothing was saved. Try again shortly', unexpected: 'nothing was saved' },
        this.logger,
      );
    }
  }

  private async deleteEndpoint(adapter: PaymentProviderAdapter, endpoint: EndpointToDelete) {
    try {
      await adapter.deleteWebhookEndpoint(endpoint.credentials, endpoint.endpointId);
    } catch (error) {
      this.logger.warn(
        {
          provider: adapter.provider,
          endpointId: endpoint.endpointId,
          detail: error instanceof Error ? error.message : 'unknown',
        },
        'could not delete a replaced webhook endpoint (best effort)',
      );
    }
  }
}
