import { Migration } from '@mikro-orm/migrations';

/**
 * Round 2: event identity is per workspace (two workspaces on one provider account each settle their own events),
 * foreign events are recorded as ignored with a reason, and a disconnected account keeps its secrets until a grace
 * deadline. Round-1 rows stay valid: each already names its workspace.
 */
export class Migration20261129000000_round2_identity extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'alter table "webhook_events" add constraint "webhook_events_provider_workspace_event_unique" unique ("provider", "workspace_id", "event_id");',
    );
    this.addSql('alter table "webhook_events" drop constraint "webhook_events_provider_event_unique";');
    this.addSql('alter table "webhook_events" add column "ignored_reason" text null;');
    this.addSql('alter table "payment_provider_accounts" add column "grace_until" timestamptz null;');
    // the reconciler checks a row it could not resolve again only after its interval (no head-of-line blocking)
    this.addSql('alter table "invoice_payments" add column "reconcile_after" timestamptz null;');
    // Σ dispute funds withdrawn and not reinstated, kept in step by settlement like refunded_minor
    this.addSql(
      'alter table "invoice_payments" add column "disputed_minor" bigint not null default 0 check ("disputed_minor" >= 0);',
    );
    this.addSql(
      'create index "invoice_payments_pending_keyset_idx" on "invoice_payments" ("created_at", "id") where "status" = \'pending\';',
    );
    this.addSql(
      'create index "payment_provider_accounts_grace_idx" on "payment_provider_accounts" ("grace_until") where "grace_until" is not null;',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "payment_provider_accounts_grace_idx";');
    this.addSql('drop index if exists "invoice_payments_pending_keyset_idx";');
    this.addSql('alter table "invoice_payments" drop column if exists "reconcile_after";');
    this.addSql('alter table "invoice_payments" drop column if exists "disputed_minor";');
    this.addSql('alter table "payment_provider_accounts" drop column if exists "grace_until";');
    this.addSql('alter table "webhook_events" drop column if exists "ignored_reason";');
    this.addSql(
      'alter table "webhook_events" add constraint "webhook_events_provider_event_unique" unique ("provider", "event_id");',
    );
    this.addSql('alter table "webhook_events" drop constraint "webhook_events_provider_workspace_event_unique";');
  }
}
