import { Migration20261127000000_initial } from './Migration20261127000000_initial.js';
import { Migration20261127010000_payment_lookups } from './Migration20261127010000_payment_lookups.js';
import { Migration20261129000000_round2_identity } from './Migration20261129000000_round2_identity.js';
import { Migration20261129010000_domain_per_provider } from './Migration20261129010000_domain_per_provider.js';
import { Migration20261201000000_payment_disputes } from './Migration20261201000000_payment_disputes.js';
import { Migration20261202000000_audit_runs } from './Migration20261202000000_audit_runs.js';
import { Migration20261202010000_refund_invoice_lookup } from './Migration20261202010000_refund_invoice_lookup.js';

/** Listed statically: the glob loader cannot read .ts migrations under vitest (STACK.md). */
export const migrationsList = [
  { name: 'Migration20261127000000_initial', class: Migration20261127000000_initial },
  { name: 'Migration20261127010000_payment_lookups', class: Migration20261127010000_payment_lookups },
  { name: 'Migration20261129000000_round2_identity', class: Migration20261129000000_round2_identity },
  { name: 'Migration20261129010000_domain_per_provider', class: Migration20261129010000_domain_per_provider },
  { name: 'Migration20261201000000_payment_disputes', class: Migration20261201000000_payment_disputes },
  { name: 'Migration20261202000000_audit_runs', class: Migration20261202000000_audit_runs },
  { name: 'Migration20261202010000_refund_invoice_lookup', class: Migration20261202010000_refund_invoice_lookup },
];
