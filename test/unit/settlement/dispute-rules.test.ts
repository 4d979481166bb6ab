import { describe, expect, it } from 'vitest';
import { mergeDispute, withdrawnMinor } from '../../../src/settlement/dispute-rules.js';
import type { DisputeUpdate } from '../../../src/vocabulary/index.js';

const DUE = new Date('2026-12-20T23:59:59.000Z');
const update = (overrides: Partial<DisputeUpdate>): DisputeUpdate => ({
  kind: 'dispute',
  providerDisputeId: 'dp_1',
  providerPaymentId: 'pi_1',
  amountMinor: 4000,
  currency: 'EUR',
  status: 'needs_response',
  reason: 'fraudulent',
  evidenceDueBy: DUE,
  fundsWithdrawn: false,
  fundsReinstated: false,
  ...overrides,
});

/** Stripe's lifecycle, as the objects of its five events carry it. */
const created = update({});
const withdrawn = update({ fundsWithdrawn: true });
const reviewed = update({ status: 'under_review', fundsWithdrawn: true });
const won = update({ status: 'won', fundsWithdrawn: true, fundsReinstated: true });
const reinstated = update({ status: 'won', fundsWithdrawn: true, fundsReinstated: true });
const lost = update({ status: 'lost', fundsWithdrawn: true });

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}
const fold = (updates: DisputeUpdate[]) =>
  updates.reduce<ReturnType<typeof mergeDispute> | null>((facts, next) => mergeDispute(facts, next), null)!;

describe('mergeDispute', () => {
  it.each([
    ['won and reinstated', [created, withdrawn, reviewed, won, reinstated], 'won', 0],
    ['lost', [created, withdrawn, reviewed, lost], 'lost', 4000],
    ['withdrawn, still open', [created, withdrawn, reviewed], 'under_review', 4000],
  ] as const)('%s: every order and duplication ends in the same state', (_name, history, status, withdrawnAmount) => {
    const inOrder = fold([...history]);
    expect(inOrder).toMatchObject({ status, amountMinor: 4000, reason: 'fraudulent', evidenceDueBy: DUE });
    expect(withdrawnMinor(inOrder)).toBe(withdrawnAmount);
    for (const order of permutations([...history])) {
      expect(fold(order)).toEqual(inOrder);
      expect(fold([...order, ...order.slice(0, 2)])).toEqual(inOrder);
    }
  });

  it('a reversed chargeback (won) never goes back to lost; reinstated funds stay reinstated', () => {
    const chargeback = update({ status: 'lost', fundsWithdrawn: true, evidenceDueBy: null });
    const reversed = update({ status: 'won', fundsWithdrawn: true, fundsReinstated: true, evidenceDueBy: null });
    expect(fold([chargeback, reversed])).toEqual(fold([reversed, chargeback]));
    expect(fold([reversed, chargeback])).toMatchObject({ status: 'won', fundsReinstated: true });
  });

  it('reinstated implies withdrawn, even when the withdrawal itself never arrives', () => {
    expect(fold([created, reinstated])).toMatchObject({ fundsWithdrawn: true, fundsReinstated: true });
    expect(withdrawnMinor(fold([created, reinstated]))).toBe(0);
  });
});
