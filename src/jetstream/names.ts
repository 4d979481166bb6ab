import type { MsgHdrs } from '@nats-io/transport-node';

/** Stream, subject, consumer and advisory names, all derived from `NATS_SUBJECT_PREFIX` (tests isolate by it). */
export interface JetStreamNames {
  prefix: string;
  /** `<PREFIX>_EVENTS`: verified provider events, kept ≥ 30 days for replay. */
  eventsStream: string;
  /** `<PREFIX>_DLQ`: events the settlement consumer gave up on. */
  dlqStream: string;
  eventsSubjects: string;
  dlqSubjects: string;
  eventSubject(provider: string, workspaceId: string): string;
  dlqSubject(provider: string, workspaceId: string): string;
  /** Reads `<prefix>.events.<provider>.<workspaceId>` (or the dlq form) back; null for anything else. */
  parseSubject(subject: string): { kind: 'events' | 'dlq'; provider: string; workspaceId: string } | null;
  consumer: 'settlement';
  /** Core NATS subject of the server's MAX_DELIVERIES advisory for the settlement consumer. */
  maxDeliveriesAdvisory: string;
}

/** Header names this service adds; JetStream's own are `Nats-*`. */
export const WorkestraHeader = {
  OriginalSubject: 'Workestra-Original-Subject',
  OriginalSeq: 'Workestra-Original-Seq',
  OriginalMsgId: 'Workestra-Original-Msg-Id',
  Deliveries: 'Workestra-Deliveries',
  LastError: 'Workestra-Last-Error',
  DeadAt: 'Workestra-Dead-At',
  AutoRetries: 'Workestra-Auto-Retries',
  /** The provider event's type, for logs before the body is parsed. */
  EventType: 'Workestra-Event-Type',
} as const;

/** JetStream's deduplication header. */
export const NATS_MSG_ID = 'Nats-Msg-Id';

const TOKEN = /^[A-Za-z0-9_-]+$/;

function token(kind: string, value: string): string {
  // a '.', '*' or '>' here would silently route the event to another subject (or none)
  if (!TOKEN.test(value)) throw new Error(`invalid ${kind} for a NATS subject token: "${value}"`);
  return value;
}

/** All JetStream names for one subject prefix. */
export function jetStreamNames(prefix: string): JetStreamNames {
  token('subject prefix', prefix);
  const upper = prefix.toUpperCase().replace(/-/g, '_');
  const eventsStream = `${upper}_EVENTS`;
  const consumer = 'settlement' as const;
  return {
    prefix,
    eventsStream,
    dlqStream: `${upper}_DLQ`,
    eventsSubjects: `${prefix}.events.>`,
    dlqSubjects: `${prefix}.dlq.>`,
    eventSubject: (provider, workspaceId) =>
      `${prefix}.events.${token('provider', provider)}.${token('workspace id', workspaceId)}`,
    dlqSubject: (provider, workspaceId) =>
      `${prefix}.dlq.${token('provider', provider)}.${token('workspace id', workspaceId)}`,
    parseSubject(subject) {
      const parts = subject.split('.');
      if (parts.length !== 4 || parts[0] !== prefix || (parts[1] !== 'events' && parts[1] !== 'dlq')) return null;
      return { kind: parts[1], provider: parts[2], workspaceId: parts[3] };
    },
    consumer,
    maxDeliveriesAdvisory: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${eventsStream}.${consumer}`,
  };
}

/**
 * The `Nats-Msg-Id` of a provider event: `<provider>:<workspaceId>:<eventId>` (JetStream dedups on it for 2 minutes).
 * Per workspace: two workspaces connected to one provider account each receive, and keep, their own copy.
 */
export function eventMsgId(provider: string, workspaceId: string, eventId: string): string {
  if (!provider || !workspaceId || !eventId)
    throw new Error('eventMsgId needs a provider, a workspace and an event id');
  return `${provider}:${workspaceId}:${eventId}`;
}

/** A provider event's identity as a message id carries it; round-1 ids (`<provider>:<eventId>`) name no workspace. */
export interface EventIdentity {
  provider: string;
  workspaceId?: string;
  eventId: string;
}

const WORKSPACE_SEGMENT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:/i;

/**
 * Splits `<provider>:<workspaceId>:<eventId>`, or a round-1 `<provider>:<eventId>` (a replay suffix `#r…` added by DLQ
 * replays is dropped); null when malformed. The event id may itself contain ':'.
 */
export function parseEventMsgId(id: string): EventIdentity | null {
  const base = id.replace(/#r[^#]*$/, '');
  const colon = base.indexOf(':');
  if (colon <= 0 || colon === base.length - 1) return null;
  const provider = base.slice(0, colon);
  const rest = base.slice(colon + 1);
  const workspace = WORKSPACE_SEGMENT.exec(rest);
  if (!workspace || rest.length === workspace[0].length) return { provider, eventId: rest };
  return { provider, workspaceId: workspace[0].slice(0, -1).toLowerCase(), eventId: rest.slice(workspace[0].length) };
}

/**
 * The identity of the provider event a stream message carries: `Workestra-Original-Msg-Id` on DLQ replays
 * (whose own `Nats-Msg-Id` has a `#r…` suffix so JetStream does not swallow them), else `Nats-Msg-Id`.
 * Settlement must still dedup by the provider event id (body / inbox table), never by stream identity:
 * one event may legitimately be in the stream several times (replays, `payments-ops replay`).
 */
export function originalEventMsgId(headers: MsgHdrs | undefined): string | null {
  return headers?.get(WorkestraHeader.OriginalMsgId) || headers?.get(NATS_MSG_ID) || null;
}
