import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditLog } from '../entities/index.js';

/** Audit actions (docs/contract.md "Audit"). */
export type AuditAction =
  | 'payments.provider.keys_saved'
  | 'payments.provider.keys_rotated'
  | 'payments.provider.activated'
  | 'payments.provider.deactivated'
  | 'payments.provider.disconnected'
  | 'payments.refund.requested';

/** Queues an audit row in the caller's unit of work. `details` must hold fingerprints and ids only, never a secret. */
export function audit(
  em: EntityManager,
  entry: {
    workspaceId: string;
    actorId: string;
    action: AuditAction;
    provider: string | null;
    details: Record<string, unknown>;
  },
): void {
  em.persist(em.create(AuditLog, { id: randomUUID(), createdAt: new Date(), ...entry }));
}
