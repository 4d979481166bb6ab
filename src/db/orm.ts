import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Client } from 'pg';
import { entities } from '../entities/index.js';
import { migrationsList } from '../migrations/index.js';
import { SESSION_OPTIONS } from './session.js';

/** Query observer, used by tests and the benchmark to count SQL statements. */
export type QueryListener = (sql: string) => void;

/** Builds the ORM options for a connection string. Entities and migrations are listed, never discovered by glob. */
export function ormOptions(databaseUrl: string, onQuery?: QueryListener): Options {
  return {
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: true },
    migrations: {
      migrationsList,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'payments_migrations',
    },
    pool: { min: 0, max: 20 },
    driverOptions: { connection: { options: SESSION_OPTIONS } },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: onQuery ? ['query'] : false,
    logger: onQuery
      ? (message: string) => {
          // eslint-disable-next-line no-control-regex -- strips ANSI colours some loggers add
          const sql = message.replace(/\u001b\[[0-9;]*m/g, '').replace(/^\[query\]\s*/, '');
          onQuery(sql);
        }
      : () => undefined,
    colors: false,
  };
}

/** Creates the database named in the URL when it does not exist (dev convenience; production has it already). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL: names no database');
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      await client.query(`create database "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** Arbitrary constant key of the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 727_274_001;

/** Applies pending migrations; several instances starting at once take turns on an advisory lock. */
export async function migrate(orm: MikroORM, databaseUrl: string): Promise<void> {
  const lock = new Client({ connectionString: databaseUrl });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await orm.getMigrator().up();
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}

/** Connects (creating the database if needed) and applies pending migrations. */
export async function openOrm(databaseUrl: string, onQuery?: QueryListener): Promise<MikroORM> {
  await ensureDatabase(databaseUrl);
  const orm = await MikroORM.init(ormOptions(databaseUrl, onQuery));
  try {
    await migrate(orm, databaseUrl);
  } catch (error) {
    await orm.close();
    throw error;
  }
  return orm;
}
