/**
 * Session settings of every PostgreSQL connection of the service (the `options` startup parameter); the bench's
 * plain-pg baselines use them too. No JIT: every statement here is short, and once invoice_payments holds some
 * 100,000 rows the settle statement's estimated cost passes jit_above_cost: compiling it (~100 functions) took
 * 150-270 ms of a ~5 ms statement.
 */
export const SESSION_OPTIONS = '-c jit=off';
