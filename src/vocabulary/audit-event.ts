import { SettlementError, type InterpretedEvent, type SettlementUpdate } from './settlement-event.js';

/**
 * The synthetic event an audit fix publishes into the events stream: the neutral update that brings the ledger to what
 * the provider shows, settled by the normal consumer like any provider event (inbox dedup by its id). It can only come
 * from the audit: webhook bodies are provider events (Stripe's are signed, Mollie's are built by the route).
 */
export interface AuditFixEvent {
  object: typeof AUDIT_FIX_OBJECT;
  /** `audit:<reference>:<state>`: one fix per provider object and state. */
  id: string;
  type: AuditFixType;
  update: SettlementUpdate;
}

export const AUDIT_FIX_OBJECT = 'workestra.audit_fix';
export type AuditFixType = 'audit.missing' | 'audit.status';

/** The event id of a fix (the msg id is `<provider>:<workspaceId>:` + this). */
export const auditEventId = (reference: string, state: string) => `audit:${reference}:${state}`;

export function auditFixEvent(type: AuditFixType, reference: string, state: string, update: SettlementUpdate) {
  const event: AuditFixEvent = { object: AUDIT_FIX_OBJECT, id: auditEventId(reference, state), type, update };
  return event;
}

export const isAuditFixEvent = (event: unknown): event is AuditFixEvent =>
  typeof event === 'object' && event !== null && (event as { object?: unknown }).object === AUDIT_FIX_OBJECT;

const KINDS = new Set(['payment', 'refund', 'charge_refunded', 'dispute']);
const DATES = ['occurredAt', 'evidenceDueBy'] as const;

/** The fix as an interpreted event (dates revived from JSON); a SettlementError when it is malformed. */
export function readAuditFixEvent(event: AuditFixEvent): InterpretedEvent {
  const update = event.update as unknown as Record<string, unknown> | null;
  if (typeof event.id !== 'string' || !event.id.startsWith('audit:') || !update || !KINDS.has(String(update.kind)))
    throw new SettlementError('malformed audit fix event');
  const revived: Record<string, unknown> = { ...update };
  for (const key of DATES) {
    if (typeof revived[key] === 'string') revived[key] = new Date(revived[key] as string);
  }
  return { eventId: event.id, type: String(event.type), updates: [revived as unknown as SettlementUpdate] };
}
