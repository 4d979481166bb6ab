import { errors, jwtVerify } from 'jose';
import { UnauthenticatedError } from '../errors.js';
import { ROLES, type AuthContext, type WorkspaceRole } from './auth-context.js';
import { UUID } from '../uuid.js';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i;

/** Verifies HS256 bearer tokens signed by the gateway with AUTH_JWT_SECRET. */
export class JwtVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Returns the caller, or null when no Authorization header was sent. Throws UnauthenticatedError on a bad token. */
  async fromHeader(header: string | undefined): Promise<AuthContext | null> {
    if (header === undefined || header === '') return null;
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match) throw new UnauthenticatedError('Authorization must be "Bearer <token>"');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<AuthContext> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], clockTolerance: 30 }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new UnauthenticatedError('The token has expired');
      throw new UnauthenticatedError('The token is invalid');
    }
    const { sub, workspace_id: workspaceId, workspace_domain: workspaceDomain, roles } = payload;
    if (typeof sub !== 'string' || sub === '') throw new UnauthenticatedError('The token has no subject (sub)');
    if (typeof workspaceId !== 'string' || !UUID.test(workspaceId)) {
      throw new UnauthenticatedError('The token has no valid workspace_id');
    }
    if (typeof workspaceDomain !== 'string' || !DOMAIN.test(workspaceDomain)) {
      throw new UnauthenticatedError('The token has no valid workspace_domain');
    }
    if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
      throw new UnauthenticatedError('The token has no roles array');
    }
    return {
      userId: sub,
      workspaceId: workspaceId.toLowerCase(),
      workspaceDomain: workspaceDomain.toLowerCase(),
      // Unknown roles are dropped; an empty result is FORBIDDEN everywhere (checked per operation).
      roles: roles.filter((role): role is WorkspaceRole => (ROLES as readonly string[]).includes(role)),
    };
  }
}
