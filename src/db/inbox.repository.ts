import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { InboxStatus, type Provider } from '../vocabulary/index.js';

/**
 * The settlement inbox (`webhook_events`): one row per provider event. Claiming an event inserts its row, or takes
 * over a row left `failed` by an earlier attempt; a row already `applied` or `ignored` is never claimed again, which
 * makes every later delivery of the event a no-op.
 */

/** Who claims: the event and where it belongs. */
export interface InboxClaim {
  provider: Provider;
  workspaceId: string;
  eventId: string;
  type: string;
  streamSequence: number | null;
}

const CLAIM_ON_CONFLICT = `on conflict (provider, workspace_id, event_id) do update
      set status = excluded.status, attempts = webhook_events.attempts + 1, last_error = null,
          ignored_reason = excluded.ignored_reason,
          stream_sequence = coalesce(excluded.stream_sequence, webhook_events.stream_sequence), processed_at = now()
      where webhook_events.status = '${InboxStatus.FAILED}'`;

const COLUMNS =
  '(id, provider, event_id, workspace_id, type, status, attempts, stream_sequence, processed_at, ignored_reason)';

/**
 * The claim as an `insert … select` from `source` when `condition` holds (parameters: inbox id, provider, event id,
 * workspace id, type, stream sequence, then the condition's own), for statements that claim and lock in one go.
 */
export const CLAIM_FROM_ROW = (source: string, condition: string) =>
  CLAIM_SELECT(`select ?, ?, ?, ?, ?, '${InboxStatus.APPLIED}', 1, ?, now(), null from ${source} where ${condition}`);

/** The claim as `insert … <select>`: the select yields the inbox columns (id … ignored_reason) of each event claimed. */
export const CLAIM_SELECT = (select: string) => `
    insert into webhook_events ${COLUMNS}
    ${select}
    ${CLAIM_ON_CONFLICT}`;

/**
 * Claims an event as `applied`, or as `ignored` with the reason it was not settled; false when it was claimed before
 * (a duplicate).
 */
export async function claimEvent(
  tx: Pick<EntityManager, 'execute'>,
  claim: InboxClaim,
  status: typeof InboxStatus.APPLIED | typeof InboxStatus.IGNORED,
  ignoredReason: string | null = null,
): Promise<boolean> {
  const rows = await tx.execute<Array<{ id: string }>>(
    `insert into webhook_events ${COLUMNS} values (?, ?, ?, ?, ?, ?, 1, ?, now(), ?) ${CLAIM_ON_CONFLICT} returning id`,
    [
      randomUUID(),
      claim.provider,
      claim.eventId,
      claim.workspaceId,
      claim.type,
      status,
      claim.streamSequence,
      status === InboxStatus.IGNORED ? ignoredReason : null,
    ],
  );
  return rows.length > 0;
}

/** Marks a claimed event failed inside the unit of work that claimed it (so it is retried, not lost). */
export async function failClaim(
  tx: Pick<EntityManager, 'execute'>,
  claim: Pick<InboxClaim, 'provider' | 'workspaceId' | 'eventId'>,
  error: string,
): Promise<void> {
  await tx.execute(
    `update webhook_events set status = '${InboxStatus.FAILED}', last_error = ?
     where provider = ? and workspace_id = ? and event_id = ?`,
    [error, claim.provider, claim.workspaceId, claim.eventId],
  );
}

/** Remembers why an event failed (its unit of work rolled back), for the DLQ and ops. Never overwrites a success. */
export async function recordFailure(
  em: Pick<EntityManager, 'execute'>,
  claim: Omit<InboxClaim, 'streamSequence'>,
  error: string,
): Promise<void> {
  await em.execute(
    `insert into webhook_events (id, provider, event_id, workspace_id, type, status, attempts, last_error)
     values (?, ?, ?, ?, ?, '${InboxStatus.FAILED}', 1, ?)
     on conflict (provider, workspace_id, event_id) do update
       set attempts = webhook_events.attempts + 1, last_error = excluded.last_error
       where webhook_events.status = '${InboxStatus.FAILED}'`,
    [randomUUID(), claim.provider, claim.eventId, claim.workspaceId, claim.type, error.slice(0, 2000)],
  );
}

/** The last recorded error of an event (of any workspace when the identity names none: a round-1 message id). */
export async function lastError(
  em: Pick<EntityManager, 'execute'>,
  identity: { provider: string; workspaceId?: string; eventId: string },
): Promise<string | null> {
  const rows = await em.execute<Array<{ last_error: string | null }>>(
    `select last_error from webhook_events where provider = ? and event_id = ?${identity.workspaceId ? ' and workspace_id = ?' : ''}
     order by received_at desc limit 1`,
    [identity.provider, identity.eventId, ...(identity.workspaceId ? [identity.workspaceId] : [])],
  );
  return rows[0]?.last_error ?? null;
}
