import { Migration20261127000000_initial } from './Migration20261127000000_initial.js';

/** Listed statically: the glob loader cannot read .ts migrations under vitest (STACK.md). */
export const migrationsList = [{ name: 'Migration20261127000000_initial', class: Migration20261127000000_initial }];
