import { Migration } from '@mikro-orm/migrations';

/** Refund events find their payment by the provider's payment id (Stripe payment intent). */
export class Migration20261127010000_payment_lookups extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create index "invoice_payments_provider_payment_idx" on "invoice_payments" ("provider", "provider_payment_id") where "provider_payment_id" is not null;',
    );
    this.addSql(
      'create index "pay_links_payment_pending_idx" on "invoice_payments" ("pay_link_id") where "status" = \'pending\';',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "invoice_payments_provider_payment_idx";');
    this.addSql('drop index if exists "pay_links_payment_pending_idx";');
  }
}
