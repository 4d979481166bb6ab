import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './process.js';

const run = promisify(execFile);
const BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
/** PostgreSQL refuses to run as root: as root, its binaries run as this user. */
const PG_USER = process.env.PG_TEST_OS_USER ?? 'postgres';

/** A PostgreSQL 15 of a test's own (initdb in a temp dir, a spare port): a fault test may stop and start it. */
export interface PrivatePostgres {
  port: number;
  /** Superuser `postgres` over TCP (trust auth on loopback), database `db`. */
  url(db?: string): string;
  /** `pg_ctl stop -m fast` (connections get 57P01 admin_shutdown). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it (immediate) and deletes the data directory. */
  dispose(): Promise<void>;
}

const asPgUser = (bin: string, args: string[]): [string, string[]] =>
  userInfo().uid === 0 ? ['runuser', ['-u', PG_USER, '--', join(BIN, bin), ...args]] : [join(BIN, bin), args];

const started = new Set<string>();
process.once('exit', () => {
  for (const dir of started) {
    try {
      execFileSync(...asPgUser('pg_ctl', ['-D', dir, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  }
});

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'wp-pg-'));
  const dataDir = join(root, 'data');
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', PG_USER]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', PG_USER]).toString().trim());
    chownSync(root, uid, gid);
  }
  await run(...asPgUser('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']));
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${root} -c fsync=off -c max_connections=200`;
  const start = async () => {
    await run(...asPgUser('pg_ctl', ['-D', dataDir, '-o', options, '-l', join(root, 'log'), '-w', 'start']));
    started.add(dataDir);
  };
  const stop = async (mode = 'fast') => {
    await run(...asPgUser('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']));
    started.delete(dataDir);
  };
  await start();
  return {
    port,
    url: (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`,
    stop: () => stop(),
    start,
    async dispose() {
      await stop('immediate').catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
