import { LockMode } from '@mikro-orm/core';
import { needsReencryption, reencryptSecret } from '../crypto/secret-box.js';
import { PaymentProviderAccount } from '../entities/index.js';
import { parseArgs, UsageError, type CliContext } from './cli-context.js';
import { UUID } from '../uuid.js';

/**
 * `keys reencrypt [--dry-run]`: re-seals every stored secret under the first key of PAYMENTS_ENCRYPTION_KEYS so an
 * old key can be retired. One short transaction per account: safe to interrupt and run again.
 */
export async function keysCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== 'reencrypt') throw new UsageError('usage: payments-ops keys reencrypt [--workspace <uuid>] [--dry-run]');
  const { flags } = parseArgs(rest, ['dry-run']);
  const workspaceId = typeof flags.workspace === 'string' ? flags.workspace.toLowerCase() : undefined;
  if (flags.workspace !== undefined && !UUID.test(workspaceId ?? '')) {
    throw new UsageError('--workspace must be a workspace uuid');
  }
  const orm = await ctx.orm();
  const ring = (await ctx.services()).secrets.keyRing;
  const ids = (
    await orm.em.fork().find(
      PaymentProviderAccount,
      {
        $or: [{ secretKeySealed: { $ne: null } }, { webhookSecretSealed: { $ne: null } }],
        ...(workspaceId ? { workspaceId } : {}),
      },
      { fields: ['id'] },
    )
  ).map((row) => row.id);
  let changed = 0;
  let failed = 0;
  for (const id of ids) {
    // One account that cannot be opened (a key missing from the ring) is reported; the others still move.
    await orm.em
      .fork()
      .transactional(async (tx) => {
        const account = await tx.findOne(PaymentProviderAccount, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!account) return;
        const context = (field: string) => ({ workspaceId: account.workspaceId, provider: account.provider, field });
        let touched = false;
        if (account.secretKeySealed && needsReencryption(ring, account.secretKeySealed)) {
          if (!flags['dry-run'])
            account.secretKeySealed = reencryptSecret(ring, account.secretKeySealed, context('secretKey'));
          touched = true;
        }
        if (account.webhookSecretSealed && needsReencryption(ring, account.webhookSecretSealed)) {
          if (!flags['dry-run'])
            account.webhookSecretSealed = reencryptSecret(ring, account.webhookSecretSealed, context('webhookSecret'));
          touched = true;
        }
        if (touched) changed++;
      })
      .catch((error: unknown) => {
        failed++;
        ctx.logger.error(
          { accountId: id, reason: error instanceof Error ? error.message : 'unknown' },
          'keys reencrypt: account not re-encrypted',
        );
      });
  }
  out(
    `${flags['dry-run'] ? 'would re-encrypt' : 're-encrypted'} ${changed} of ${ids.length} provider accounts under key "${ring.primaryId}"${failed ? `; ${failed} could not be decrypted with this key ring (see the log)` : ''}`,
  );
  return failed ? 1 : 0;
}
