import { LockMode } from '@mikro-orm/core';
import { needsReencryption, reencryptSecret } from '../crypto/secret-box.js';
import { PaymentProviderAccount } from '../entities/index.js';
import { parseArgs, UsageError, type CliContext, type CommandSpec } from './cli-context.js';
import { UUID } from '../uuid.js';

export const KEYS_REENCRYPT: CommandSpec = {
  name: 'keys reencrypt',
  usage: `usage: payments-ops keys reencrypt [--workspace <uuid>] [--dry-run] [--log-json]
  Re-seals every stored provider secret under the first key of PAYMENTS_ENCRYPTION_KEYS, so an old key can retire.
  --workspace <uuid>   only this workspace's accounts
  --dry-run            count what would be re-sealed, change nothing
  --log-json           also write the pino JSON log to stderr`,
  options: { workspace: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'log-json': { type: 'boolean' } },
};

/**
 * `keys reencrypt [--dry-run]`: re-seals every stored secret under the first key of PAYMENTS_ENCRYPTION_KEYS so an
 * old key can be retired. One short transaction per account: safe to interrupt and run again.
 */
export async function keysCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === undefined || verb === '--help' || verb === '-h') {
    out(KEYS_REENCRYPT.usage);
    return verb ? 0 : 2;
  }
  if (verb !== 'reencrypt')
    throw new UsageError(`keys: unknown verb "${verb}" (reencrypt); see payments-ops keys --help`);
  const { flags } = parseArgs(rest, KEYS_REENCRYPT);
  ctx.useJsonLogs(Boolean(flags['log-json']));
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
        const reason = error instanceof Error ? error.message.split('\n')[0] : 'unknown';
        process.stderr.write(`account ${id}: not re-encrypted: ${reason}\n`);
        ctx.logger.error({ accountId: id, reason }, 'keys reencrypt: account not re-encrypted');
      });
  }
  out(
    `${flags['dry-run'] ? 'would re-encrypt' : 're-encrypted'} ${changed} of ${ids.length} provider accounts under key "${ring.primaryId}"${failed ? `; ${failed} could not be decrypted with this key ring (listed above)` : ''}`,
  );
  return failed ? 1 : 0;
}
