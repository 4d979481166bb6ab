import type { KeyRing } from './key-ring.js';
import { decryptSecret, encryptSecret } from './secret-box.js';
import type { Provider, ProviderCredentials, ProviderMode } from '../vocabulary/index.js';

/** The parts of a provider account the secrets are bound to and stored in. */
export interface SealedAccount {
  workspaceId: string;
  provider: Provider;
  mode: ProviderMode;
  secretKeySealed?: string | null;
  webhookSecretSealed?: string | null;
}

/** The sealed fields of a provider account; the AAD field names are part of the ciphertext binding. */
export type SecretField = 'secretKey' | 'webhookSecret';

/** Seals and opens provider secrets, bound to workspace + provider + field (a ciphertext moved elsewhere fails). */
export class AccountSecrets {
  constructor(private readonly ring: KeyRing) {}

  seal(account: Pick<SealedAccount, 'workspaceId' | 'provider'>, field: SecretField, plaintext: string): string {
    return encryptSecret(this.ring, plaintext, { workspaceId: account.workspaceId, provider: account.provider, field });
  }

  open(account: Pick<SealedAccount, 'workspaceId' | 'provider'>, field: SecretField, sealed: string): string {
    return decryptSecret(this.ring, sealed, { workspaceId: account.workspaceId, provider: account.provider, field });
  }

  /** Credentials for a provider call, or null when the account is disconnected (secrets wiped). */
  credentials(account: SealedAccount): ProviderCredentials | null {
    if (!account.secretKeySealed) return null;
    return { mode: account.mode, secretKey: this.open(account, 'secretKey', account.secretKeySealed) };
  }

  /** The webhook signing secret, or null. */
  webhookSecret(account: SealedAccount): string | null {
    return account.webhookSecretSealed ? this.open(account, 'webhookSecret', account.webhookSecretSealed) : null;
  }

  get keyRing(): KeyRing {
    return this.ring;
  }
}
