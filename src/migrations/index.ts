import { Migration20261127000000_initial } from './Migration20261127000000_initial.js';
import { Migration20261127010000_payment_lookups } from './Migration20261127010000_payment_lookups.js';

/** Listed statically: the glob loader cannot read .ts migrations under vitest (STACK.md). */
export const migrationsList = [
  { name: 'Migration20261127000000_initial', class: Migration20261127000000_initial },
  { name: 'Migration20261127010000_payment_lookups', class: Migration20261127010000_payment_lookups },
];
