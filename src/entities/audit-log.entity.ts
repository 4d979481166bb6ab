import { Entity, OptionalProps, Index, PrimaryKey, Property } from '@mikro-orm/core';

/** Append-only audit trail. `details` holds fingerprints and ids, never a secret. */
@Entity({ tableName: 'audit_log' })
@Index({ name: 'audit_log_workspace_idx', properties: ['workspaceId', 'createdAt'] })
export class AuditLog {
  [OptionalProps]?: 'details' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  workspaceId!: string;

  @Property({ type: 'text' })
  actorId!: string;

  @Property({ type: 'text' })
  action!: string;

  @Property({ type: 'text', nullable: true })
  provider?: string | null;

  @Property({ type: 'jsonb' })
  details: Record<string, unknown> = {};

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
