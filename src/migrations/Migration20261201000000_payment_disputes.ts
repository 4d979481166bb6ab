import { Migration } from '@mikro-orm/migrations';

/**
 * Disputes and chargebacks: one row per provider dispute/chargeback id. Settlement subtracts the amounts whose funds
 * were withdrawn and not reinstated from the invoice's paid amount (and keeps `invoice_payments.disputed_minor` in step).
 */
export class Migration20261201000000_payment_disputes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "payment_disputes" (
      "id" uuid primary key,
      "workspace_id" uuid not null,
      "payment_id" uuid not null references "invoice_payments" ("id"),
      "invoice_id" uuid not null,
      "provider" text not null check ("provider" in ('stripe', 'mollie')),
      "provider_dispute_id" text not null,
      "amount_minor" bigint not null check ("amount_minor" >= 0),
      "currency" char(3) not null,
      "status" text not null check ("status" in ('needs_response', 'under_review', 'won', 'lost')),
      "reason" text null,
      "evidence_due_by" timestamptz null,
      "funds_withdrawn" boolean not null default false,
      "funds_reinstated" boolean not null default false,
      "event_id" text null,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now(),
      constraint "payment_disputes_provider_dispute_unique" unique ("provider", "provider_dispute_id")
    );`);
    this.addSql('create index "payment_disputes_payment_idx" on "payment_disputes" ("payment_id");');
    this.addSql('create index "payment_disputes_invoice_idx" on "payment_disputes" ("invoice_id");');
    // the open-disputes gauge counts these on every scrape
    this.addSql(
      'create index "payment_disputes_open_idx" on "payment_disputes" ("status") where "status" in (\'needs_response\', \'under_review\');',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "payment_disputes";');
  }
}
