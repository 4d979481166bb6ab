/** Roles a Workestra token may carry. */
export const ROLES = ['owner', 'admin', 'finance', 'viewer'] as const;
export type WorkspaceRole = (typeof ROLES)[number];

/** The verified caller, derived from the gateway-forwarded bearer token. */
export interface AuthContext {
  userId: string;
  workspaceId: string;
  workspaceDomain: string;
  roles: WorkspaceRole[];
}

/** What each operation needs (docs/contract.md "Auth"). */
export const PERMISSIONS = {
  read: ['owner', 'admin', 'finance', 'viewer'],
  manageProviders: ['owner', 'admin'],
  refund: ['owner', 'admin', 'finance'],
} as const satisfies Record<string, readonly WorkspaceRole[]>;

export type Permission = keyof typeof PERMISSIONS;
