import type { EntityManager } from '@mikro-orm/postgresql';
import { OPEN_DISPUTE_STATES } from '../vocabulary/index.js';

/** The disputes' SQL outside the settlement unit of work: the open-disputes gauge and the refund rule. */

const OPEN_SQL = OPEN_DISPUTE_STATES.map((state) => `'${state}'`).join(', ');

/** Disputes still open (NEEDS_RESPONSE or UNDER_REVIEW), across workspaces: one index-only count (partial index). */
export async function countOpenDisputes(em: Pick<EntityManager, 'execute'>): Promise<number> {
  const [row] = await em.execute<Array<{ open: string }>>(
    `select count(*) as open from payment_disputes where status in (${OPEN_SQL})`,
  );
  return Number(row?.open ?? 0);
}

/** The open disputes of one payment (provider dispute id and status), oldest first. */
export async function openDisputesOf(
  em: Pick<EntityManager, 'execute'>,
  paymentId: string,
): Promise<Array<{ providerDisputeId: string; status: string }>> {
  const rows = await em.execute<Array<{ provider_dispute_id: string; status: string }>>(
    `select provider_dispute_id, status from payment_disputes where payment_id = ? and status in (${OPEN_SQL}) order by created_at`,
    [paymentId],
  );
  return rows.map((row) => ({ providerDisputeId: row.provider_dispute_id, status: row.status }));
}
