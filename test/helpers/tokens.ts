import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { TEST_JWT_SECRET } from './env.js';

export interface TestCaller {
  workspaceId: string;
  workspaceDomain: string;
  userId: string;
  roles: string[];
}

/** A caller of a new random workspace (every test gets its own workspace, so tests share one database safely). */
export function newCaller(roles: string[] = ['owner'], workspaceId: string = randomUUID()): TestCaller {
  return {
    workspaceId,
    workspaceDomain: `ws-${workspaceId.slice(0, 8)}.workestra.test`,
    userId: `user-${randomUUID()}`,
    roles,
  };
}

/** Signs a gateway-style HS256 token. */
export async function tokenFor(
  caller: TestCaller,
  options: { secret?: string; expiresIn?: string | number } = {},
): Promise<string> {
  let jwt = new SignJWT({
    workspace_id: caller.workspaceId,
    workspace_domain: caller.workspaceDomain,
    roles: caller.roles,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(caller.userId)
    .setIssuedAt();
  if (options.expiresIn !== undefined) jwt = jwt.setExpirationTime(options.expiresIn);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}
