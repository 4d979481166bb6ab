/** The domain's vocabulary: providers, modes, statuses, the neutral settlement updates and the rules on inputs. */
export * from './provider.js';
export * from './statuses.js';
export * from './settlement-event.js';
export * from './limits.js';
export * from './audit-event.js';
