import type { JetStreamClient } from '@nats-io/jetstream';
import type { AuditFixEvent, Provider } from '../vocabulary/index.js';
import { encodeEnvelope } from './envelope.js';
import { eventMsgId, WorkestraHeader, type JetStreamNames } from './names.js';
import { EventPublisher } from './publisher.js';

/** Publishes one audit fix into the events stream; resolves once JetStream stored it (or already had it). */
export type AuditFixPublisher = (provider: Provider, workspaceId: string, event: AuditFixEvent) => Promise<void>;

/**
 * Fixes travel like provider events: subject `<prefix>.events.<provider>.<workspaceId>`, msg id
 * `<provider>:<workspaceId>:audit:<reference>:<state>` (JetStream drops a repeat within its window, the inbox after).
 */
export function auditFixPublisher(js: JetStreamClient, names: JetStreamNames): AuditFixPublisher {
  const publisher = new EventPublisher(js, { expectStream: names.eventsStream, timeoutMs: 5000 });
  return async (provider, workspaceId, event) => {
    await publisher.publish(
      names.eventSubject(provider, workspaceId),
      encodeEnvelope(provider, workspaceId, Buffer.from(JSON.stringify(event))),
      { msgId: eventMsgId(provider, workspaceId, event.id), headers: { [WorkestraHeader.EventType]: event.type } },
    );
  };
}
