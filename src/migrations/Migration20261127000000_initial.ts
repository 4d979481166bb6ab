import { Migration } from '@mikro-orm/migrations';

/**
 * The first schema. `invoices` belongs to the Invoices service: it is created only when absent and otherwise
 * adopted column by column (never dropped or rewritten), so this migration is safe on a shared database.
 */
export class Migration20261127000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table if not exists "invoices" (
      "id" uuid primary key,
      "workspace_id" uuid not null,
      "number" text not null,
      "status" text not null,
      "currency" char(3) not null,
      "total_minor" bigint not null,
      "paid_minor" bigint not null default 0,
      "due_date" date null,
      "customer_email" text null,
      "customer_name" text null,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now()
    );`);
    for (const column of [
      '"workspace_id" uuid',
      '"number" text',
      '"status" text',
      '"currency" char(3)',
      '"total_minor" bigint',
      '"paid_minor" bigint not null default 0',
      '"due_date" date',
      '"customer_email" text',
      '"customer_name" text',
      '"created_at" timestamptz not null default now()',
      '"updated_at" timestamptz not null default now()',
    ]) {
      this.addSql(`alter table "invoices" add column if not exists ${column};`);
    }
    this.addSql('create index if not exists "invoices_workspace_id_index" on "invoices" ("workspace_id");');

    this.addSql(`create table "invoice_payments" (
      "id" uuid primary key,
      "workspace_id" uuid not null,
      "invoice_id" uuid not null,
      "provider" text not null check ("provider" in ('stripe', 'mollie')),
      "provider_reference" text not null,
      "provider_payment_id" text null,
      "event_id" text null,
      "status" text not null check ("status" in ('pending', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'cancelled')),
      "amount_minor" bigint not null check ("amount_minor" >= 0),
      "refunded_minor" bigint not null default 0 check ("refunded_minor" >= 0),
      "currency" char(3) not null,
      "pay_link_id" uuid null,
      "checkout_url" text null,
      "expires_at" timestamptz null,
      "paid_at" timestamptz null,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now(),
      constraint "invoice_payments_provider_reference_unique" unique ("provider", "provider_reference")
    );`);
    this.addSql('create index "invoice_payments_invoice_idx" on "invoice_payments" ("invoice_id", "created_at");');
    this.addSql('create index "invoice_payments_workspace_idx" on "invoice_payments" ("workspace_id");');
    this.addSql(
      `create index "invoice_payments_pending_idx" on "invoice_payments" ("created_at") where "status" = 'pending';`,
    );

    this.addSql(`create table "payment_refunds" (
      "id" uuid primary key,
      "workspace_id" uuid not null,
      "payment_id" uuid not null references "invoice_payments" ("id"),
      "invoice_id" uuid not null,
      "provider" text not null check ("provider" in ('stripe', 'mollie')),
      "provider_refund_id" text null,
      "amount_minor" bigint not null check ("amount_minor" > 0),
      "currency" char(3) not null,
      "status" text not null check ("status" in ('pending', 'succeeded', 'failed', 'cancelled')),
      "reason" text null,
      "idempotency_key" text null,
      "requested_by" uuid null,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now(),
      constraint "payment_refunds_provider_refund_unique" unique ("provider", "provider_refund_id"),
      constraint "payment_refunds_idempotency_unique" unique ("workspace_id", "idempotency_key")
    );`);
    this.addSql('create index "payment_refunds_payment_idx" on "payment_refunds" ("payment_id");');

    this.addSql(`create table "payment_provider_accounts" (
      "id" uuid primary key,
      "workspace_id" uuid not null,
      "workspace_domain" text not null,
      "provider" text not null check ("provider" in ('stripe', 'mollie')),
      "mode" text not null check ("mode" in ('test', 'live')),
      "active" boolean not null default false,
      "offer_card_payments" boolean not null default false,
      "publishable_key" text null,
      "secret_key_sealed" text null,
      "secret_key_masked" text null,
      "secret_key_fingerprint" text null,
      "webhook_secret_sealed" text null,
      "webhook_secret_masked" text null,
      "webhook_secret_fingerprint" text null,
      "webhook_endpoint_id" text null,
      "disconnected_at" timestamptz null,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now(),
      constraint "payment_provider_accounts_workspace_provider_unique" unique ("workspace_id", "provider")
    );`);
    this.addSql(
      'create index "payment_provider_accounts_domain_idx" on "payment_provider_accounts" (lower("workspace_domain"));',
    );
    this.addSql(
      `create unique index "payment_provider_accounts_one_active" on "payment_provider_accounts" ("workspace_id") where "active";`,
    );

    this.addSql(`create table "webhook_events" (
      "id" uuid primary key,
      "provider" text not null check ("provider" in ('stripe', 'mollie')),
      "event_id" text not null,
      "workspace_id" uuid not null,
      "type" text not null,
      "status" text not null check ("status" in ('applied', 'ignored', 'failed')),
      "attempts" int not null default 0,
      "last_error" text null,
      "stream_sequence" bigint null,
      "received_at" timestamptz not null default now(),
      "processed_at" timestamptz null,
      constraint "webhook_events_provider_event_unique" unique ("provider", "event_id")
    );`);
    this.addSql('create index "webhook_events_workspace_idx" on "webhook_events" ("workspace_id", "received_at");');

    this.addSql(`create table "audit_log" (
      "id" uuid primary key,
      "workspace_id" uuid not null,
      "actor_id" text not null,
      "action" text not null,
      "provider" text null,
      "details" jsonb not null default '{}',
      "created_at" timestamptz not null default now()
    );`);
    this.addSql('create index "audit_log_workspace_idx" on "audit_log" ("workspace_id", "created_at");');

    this.addSql(`create table "pay_links" (
      "id" uuid primary key,
      "token" text not null,
      "workspace_id" uuid not null,
      "invoice_id" uuid not null,
      "amount_minor" bigint null check ("amount_minor" > 0),
      "session_generation" int not null default 0,
      "created_at" timestamptz not null default now(),
      constraint "pay_links_token_unique" unique ("token")
    );`);
    this.addSql('create index "pay_links_invoice_idx" on "pay_links" ("invoice_id");');
    this.addSql(
      'create unique index "pay_links_full_balance_unique" on "pay_links" ("invoice_id") where "amount_minor" is null;',
    );
    this.addSql(
      'create unique index "pay_links_partial_unique" on "pay_links" ("invoice_id", "amount_minor") where "amount_minor" is not null;',
    );
  }

  override async down(): Promise<void> {
    for (const table of [
      'pay_links',
      'audit_log',
      'webhook_events',
      'payment_provider_accounts',
      'payment_refunds',
      'invoice_payments',
    ]) {
      this.addSql(`drop table if exists "${table}";`);
    }
    // `invoices` is shared with the Invoices service and is never dropped here.
  }
}
