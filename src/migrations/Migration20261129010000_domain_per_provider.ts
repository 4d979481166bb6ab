import { Migration } from '@mikro-orm/migrations';

/**
 * A workspace domain belongs to one connected workspace per provider: webhooks are routed by host, so a second
 * workspace on the same host would receive the first one's events. Saving keys checks it (CONFLICT); this index makes
 * it hold under concurrent saves. A database that already holds such a pair keeps working without the index (the
 * save-time check still refuses new pairs) until an operator resolves it.
 */
export class Migration20261129010000_domain_per_provider extends Migration {
  override async up(): Promise<void> {
    this.addSql(`do $$ begin
      if not exists (
        select 1 from payment_provider_accounts where secret_key_sealed is not null
        group by provider, lower(workspace_domain) having count(*) > 1
      ) then
        create unique index payment_provider_accounts_domain_unique
          on payment_provider_accounts (provider, lower(workspace_domain)) where secret_key_sealed is not null;
      else
        raise warning 'payment_provider_accounts: a workspace domain is connected to several workspaces; the unique index was not created';
      end if;
    end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "payment_provider_accounts_domain_unique";');
  }
}
