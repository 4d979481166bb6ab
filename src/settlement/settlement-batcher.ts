import type { PaymentItem, SettleOutcome } from './payment-item.js';

interface Waiting {
  item: PaymentItem;
  resolve(outcome: SettleOutcome | Error): void;
}

/**
 * Groups payment events that arrive together into one transaction each (a commit per batch instead of per event).
 * An event arriving while no batch is running goes alone at once, so batching adds no latency at low load; under load
 * the events queued behind the running batches go together.
 */
export class SettlementBatcher {
  private readonly queue: Waiting[] = [];
  private running = 0;

  constructor(
    private readonly applyBatch: (items: PaymentItem[]) => Promise<Array<SettleOutcome | Error>>,
    private readonly maxBatch = 32,
    private readonly parallel = 2,
  ) {}

  submit(item: PaymentItem): Promise<SettleOutcome | Error> {
    return new Promise((resolve) => {
      this.queue.push({ item, resolve });
      this.kick();
    });
  }

  private kick(): void {
    while (this.running < this.parallel && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running++;
      this.applyBatch(batch.map((waiting) => waiting.item))
        .then(
          (outcomes) => batch.forEach((waiting, index) => waiting.resolve(outcomes[index])),
          (error: unknown) =>
            batch.forEach((waiting) => waiting.resolve(error instanceof Error ? error : new Error(String(error)))),
        )
        .finally(() => {
          this.running--;
          this.kick();
        });
    }
  }
}
