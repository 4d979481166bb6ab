import type { EntityManager } from '@mikro-orm/postgresql';
import { PERMISSIONS, type AuthContext, type Permission } from '../auth/auth-context.js';
import { ForbiddenError, UnauthenticatedError, type DomainError } from '../errors.js';
import type { Loaders } from './loaders.js';
import type { Services } from '../services/services.js';

/** Per-request GraphQL context: a forked EntityManager, the verified caller and request-scoped DataLoaders. */
export interface GraphQLContext {
  em: EntityManager;
  auth: AuthContext | null;
  /** A bad token is remembered, not thrown, so `_service` (gateway introspection) works without one. */
  authError: DomainError | null;
  services: Services;
  loaders(): Loaders;
}

/** The caller, if allowed `permission`; UNAUTHENTICATED without a valid token, FORBIDDEN without a fitting role. */
export function requireAuth(context: GraphQLContext, permission: Permission): AuthContext {
  if (context.authError) throw context.authError;
  if (!context.auth) throw new UnauthenticatedError();
  const allowed: readonly string[] = PERMISSIONS[permission];
  if (!context.auth.roles.some((role) => allowed.includes(role))) {
    throw new ForbiddenError(
      permission === 'read'
        ? 'Your token carries no Workestra role'
        : `This needs one of the roles: ${allowed.join(', ')}`,
    );
  }
  return context.auth;
}
