import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../src/crypto/key-ring.js';
import { AccountSecrets } from '../../src/crypto/account-secrets.js';
import { testEnv } from '../helpers/env.js';
import { runOpsCli } from '../helpers/ops.js';
import { startTestService, type TestService } from '../helpers/service.js';

const OLD = `old:${Buffer.alloc(32, 7).toString('base64')}`;
const NEW = `new:${Buffer.alloc(32, 9).toString('base64')}`;

describe('payments-ops keys reencrypt', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ PAYMENTS_ENCRYPTION_KEYS: OLD }, ['--role', 'worker']);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('re-seals every secret under the first key of the ring, so the old key can be retired; a rerun changes nothing', async () => {
    const workspaceId = randomUUID();
    const old = new AccountSecrets(parseKeyRing(OLD));
    const account = { workspaceId, provider: 'stripe' as never };
    await service.orm.em.getConnection().execute(
      `insert into payment_provider_accounts (id, workspace_id, workspace_domain, provider, mode, active, secret_key_sealed, webhook_secret_sealed)
       values (?, ?, 'rotate.workestra.test', 'stripe', 'test', true, ?, ?)`,
      [
        randomUUID(),
        workspaceId,
        old.seal(account, 'secretKey', 'sk_test_rotate_me_1234'),
        old.seal(account, 'webhookSecret', 'whsec_rotate_me_5678'),
      ],
    );
    const env = testEnv({ NATS_SUBJECT_PREFIX: service.names.prefix, PAYMENTS_ENCRYPTION_KEYS: `${NEW},${OLD}` });
    const dry = await runOpsCli(env, ['keys', 'reencrypt', '--workspace', workspaceId, '--dry-run']);
    expect(dry.stdout).toMatch(/would re-encrypt 1 of 1 /);
    const sealedOf = async () =>
      (
        await service.orm.em
          .getConnection()
          .execute<Array<{ secret_key_sealed: string; webhook_secret_sealed: string }>>(
            'select secret_key_sealed, webhook_secret_sealed from payment_provider_accounts where workspace_id = ?',
            [workspaceId],
          )
      )[0];
    expect((await sealedOf()).secret_key_sealed.split('.')[1]).toBe('old');

    const run = await runOpsCli(env, ['keys', 'reencrypt', '--workspace', workspaceId]);
    expect(run.code).toBe(0);
    const resealed = await sealedOf();
    expect([resealed.secret_key_sealed.split('.')[1], resealed.webhook_secret_sealed.split('.')[1]]).toEqual([
      'new',
      'new',
    ]);
    const retired = new AccountSecrets(parseKeyRing(NEW)); // the old key is gone from the ring
    expect(retired.open(account, 'secretKey', resealed.secret_key_sealed)).toBe('sk_test_rotate_me_1234');
    expect(retired.open(account, 'webhookSecret', resealed.webhook_secret_sealed)).toBe('whsec_rotate_me_5678');
    expect((await runOpsCli(env, ['keys', 'reencrypt', '--workspace', workspaceId])).stdout).toMatch(
      /re-encrypted 0 of 1 /,
    );
    // Accounts the ring cannot open (other keys) are reported with exit code 1, never half-written.
    const foreign = await runOpsCli(
      { ...env, PAYMENTS_ENCRYPTION_KEYS: `other:${Buffer.alloc(32, 3).toString('base64')}` },
      ['keys', 'reencrypt', '--workspace', workspaceId],
    );
    expect(foreign.code).toBe(1);
    expect(foreign.stdout).toContain('1 could not be decrypted');
    expect(await sealedOf()).toEqual(resealed);
    expect(run.stdout + run.stderr).not.toMatch(/sk_test_rotate|whsec_rotate/);
  });
});
