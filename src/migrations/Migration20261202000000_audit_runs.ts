import { Migration } from '@mikro-orm/migrations';

/** Scheduled ledger audits: one row per run, so workers agree that this interval's run has happened. */
export class Migration20261202000000_audit_runs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "audit_runs" (
      "id" bigserial primary key,
      "started_at" timestamptz not null default now(),
      "finished_at" timestamptz null,
      "summary" jsonb null
    );`);
    this.addSql('create index "audit_runs_started_idx" on "audit_runs" ("started_at");');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "audit_runs";');
  }
}
