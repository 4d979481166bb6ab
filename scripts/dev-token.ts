import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEV_JWT_SECRET } from '../src/config.js';
import { signDevToken } from './playground.js';

/**
 * `npm run dev:token -- --workspace <uuid> --domain <host> [--roles owner,finance] [--expires 12h]`: prints a
 * gateway-style JWT signed with AUTH_JWT_SECRET (or the dev-only default the local service uses). Dev only.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      workspace: { type: 'string' },
      domain: { type: 'string' },
      roles: { type: 'string', default: 'owner' },
      expires: { type: 'string', default: '12h' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'usage: npm run dev:token -- [--workspace <uuid>] [--domain <host>] [--roles owner,admin,finance,viewer] [--expires 12h]',
    );
    return;
  }
  const workspaceId = values.workspace ?? randomUUID();
  const token = await signDevToken({
    secret: process.env.AUTH_JWT_SECRET || DEV_JWT_SECRET,
    workspaceId,
    workspaceDomain: values.domain ?? `ws-${workspaceId.slice(0, 8)}.localhost`,
    roles: values.roles.split(',').map((role) => role.trim()),
    expiresIn: values.expires,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(`dev:token: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
