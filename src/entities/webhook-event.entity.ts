import { Entity, OptionalProps, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { InboxStatus, Provider } from '../vocabulary/index.js';

/** The settlement inbox: one row per provider event; the unique key makes a second application a no-op. */
@Entity({ tableName: 'webhook_events' })
@Unique({ name: 'webhook_events_provider_workspace_event_unique', properties: ['provider', 'workspaceId', 'eventId'] })
@Index({ name: 'webhook_events_workspace_idx', properties: ['workspaceId', 'receivedAt'] })
export class WebhookEvent {
  [OptionalProps]?: 'attempts' | 'receivedAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Enum({ items: () => Provider, type: 'text' })
  provider!: Provider;

  @Property({ type: 'text' })
  eventId!: string;

  @Property({ type: 'uuid' })
  workspaceId!: string;

  @Property({ type: 'text' })
  type!: string;

  @Enum({ items: () => InboxStatus, type: 'text' })
  status!: InboxStatus;

  @Property({ type: 'int', default: 0 })
  attempts: number = 0;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  /** Why an `ignored` event was not settled (e.g. it names another workspace's invoice). */
  @Property({ type: 'text', nullable: true })
  ignoredReason?: string | null;

  @Property({ type: 'bigint', nullable: true })
  streamSequence?: string | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  receivedAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  processedAt?: Date | null;
}
