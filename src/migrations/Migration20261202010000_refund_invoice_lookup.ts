import { Migration } from '@mikro-orm/migrations';

/**
 * Settlement recomputes an invoice from its refunds (Σ succeeded refunds of the invoice) on every payment event:
 * without this index that is a sequential scan of every refund ever recorded (bench/explain.txt, 1M ledger rows).
 */
export class Migration20261202010000_refund_invoice_lookup extends Migration {
  override async up(): Promise<void> {
    this.addSql('create index "payment_refunds_invoice_idx" on "payment_refunds" ("invoice_id");');
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "payment_refunds_invoice_idx";');
  }
}
