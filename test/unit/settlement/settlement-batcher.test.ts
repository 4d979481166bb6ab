import { describe, expect, it } from 'vitest';
import { SettlementBatcher } from '../../../src/settlement/settlement-batcher.js';
import type { PaymentItem, SettleOutcome } from '../../../src/settlement/payment-item.js';

/** Batches as the worker's transactions see them: which events went together, and when each batch finishes. */
function harness() {
  const batches: Array<{ size: number; finish(): void }> = [];
  const batcher = new SettlementBatcher(
    (items) =>
      new Promise<Array<SettleOutcome | Error>>((resolve) => {
        batches.push({ size: items.length, finish: () => resolve(items.map(() => 'applied')) });
      }),
  );
  const item = (n: number) => ({ eventId: `evt_${n}` }) as unknown as PaymentItem;
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { batches, batcher, item, tick };
}

describe('SettlementBatcher (one transaction per batch of payment events)', () => {
  it('starts a batch at once when idle, with every event in hand', async () => {
    const { batches, batcher, item, tick } = harness();
    const outcomes = [1, 2, 3].map((n) => batcher.submit(item(n)));
    await tick();
    expect(batches.map((batch) => batch.size)).toEqual([3]);
    batches[0].finish();
    expect(await Promise.all(outcomes)).toEqual(['applied', 'applied', 'applied']);
  });

  it('while a batch runs, a few new events wait for it and then go together; a full handful starts in parallel', async () => {
    const { batches, batcher, item, tick } = harness();
    const first = batcher.submit(item(0));
    await tick();
    const few = [1, 2, 3].map((n) => batcher.submit(item(n)));
    await tick();
    expect(batches.map((batch) => batch.size)).toEqual([1]); // no small parallel transaction
    const many = Array.from({ length: 16 }, (_, n) => batcher.submit(item(100 + n)));
    await tick();
    expect(batches.map((batch) => batch.size)).toEqual([1, 19]); // 3 waiting + 16 new: worth a second transaction
    const later = [4, 5].map((n) => batcher.submit(item(n)));
    await tick();
    expect(batches).toHaveLength(2);
    batches[0].finish();
    await first;
    await tick();
    expect(batches).toHaveLength(2); // one batch still running: the two keep waiting
    batches[1].finish();
    await Promise.all([...few, ...many]);
    await tick();
    expect(batches.map((batch) => batch.size)).toEqual([1, 19, 2]); // none running: they start at once
    batches[2].finish();
    expect(await Promise.all([...few, ...many, ...later])).toHaveLength(21);
  });

  it('caps a batch at 64 events and runs at most four at once', async () => {
    const { batches, batcher, item, tick } = harness();
    const all = Array.from({ length: 300 }, (_, n) => batcher.submit(item(n)));
    await tick();
    expect(batches.map((batch) => batch.size)).toEqual([64, 64, 64, 64]);
    for (const batch of [...batches]) batch.finish();
    await tick();
    await tick();
    expect(batches.slice(4).map((batch) => batch.size)).toEqual([44]);
    batches[4].finish();
    expect(await Promise.all(all)).toHaveLength(300);
  });
});
