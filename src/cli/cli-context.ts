import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig, type Config } from '../config.js';
import { openOrm } from '../db/orm.js';
import { jetStreamNames, type JetStreamNames } from '../jetstream/names.js';
import { createLogger } from '../observability/logger.js';
import { connectNats } from '../jetstream/connect.js';
import { buildServices } from '../services/build-services.js';
import type { Services } from '../services/services.js';

/** What ops commands work with; parts are opened lazily so `status` needs no database. */
export class CliContext {
  readonly config: Config = loadConfig(process.env, []);
  readonly names: JetStreamNames = jetStreamNames(this.config.natsSubjectPrefix);
  readonly logger = createLogger(process.env.LOG_LEVEL || 'warn', process.stderr as never);
  private nc?: NatsConnection;
  private ormInstance?: MikroORM;
  private servicesInstance?: Services;

  async nats(): Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> {
    this.nc ??= await connectNats(this.config.natsUrl, 'payments-ops');
    return { nc: this.nc, js: jetstream(this.nc), jsm: await jetstreamManager(this.nc) };
  }

  async orm(): Promise<MikroORM> {
    this.ormInstance ??= await openOrm(this.config.databaseUrl);
    return this.ormInstance;
  }

  async services(): Promise<Services> {
    this.servicesInstance ??= buildServices(this.config, await this.orm(), this.logger);
    return this.servicesInstance;
  }

  async close(): Promise<void> {
    await this.nc?.drain().catch(() => this.nc?.close());
    await this.ormInstance?.close();
  }
}

/** A user error: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Minimal flag parser: `--name value`, `--name=value`, boolean `--flag`, and positionals. */
export function parseArgs(
  args: string[],
  booleans: string[] = [],
): { flags: Record<string, string | true>; positional: string[] } {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (inline !== undefined) flags[name] = inline;
    else if (booleans.includes(name)) flags[name] = true;
    else {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
      i++;
    }
  }
  return { flags, positional };
}

/** A fixed-width text table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** "3m", "2h", "5d" ago. */
export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}
