import type { PaymentItem, SettleOutcome } from './payment-item.js';

interface Waiting {
  item: PaymentItem;
  resolve(outcome: SettleOutcome | Error): void;
}

/**
 * Groups payment events that arrive together into one transaction each (a commit per batch instead of per event).
 * A batch starts once the events in hand are queued (`setImmediate`: the messages of one JetStream pull arrive in one
 * read and go together, instead of the first few alone), so batching adds no latency at low load; under load the
 * events queued behind the running batches go together. While batches run, a handful of new events waits for them to
 * finish (a batch's time at most) instead of opening a small parallel transaction of their own: fewer, fuller
 * commits cost less CPU per event, which is what keeps the latency down when the machine is busy.
 */
export class SettlementBatcher {
  private readonly queue: Waiting[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly applyBatch: (items: PaymentItem[]) => Promise<Array<SettleOutcome | Error>>,
    private readonly maxBatch = 64,
    private readonly parallel = 4,
    /** With a batch running, another starts only for at least this many events (group commit under load). */
    private readonly minExtraBatch = 16,
  ) {}

  submit(item: PaymentItem): Promise<SettleOutcome | Error> {
    return new Promise((resolve) => {
      this.queue.push({ item, resolve });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.kick();
      });
    });
  }

  private kick(): void {
    while (this.running < this.parallel && this.queue.length > 0) {
      // with a batch already running, a small handful waits for it (or for more company): fewer, fuller commits
      if (this.running > 0 && this.queue.length < this.minExtraBatch) return;
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
