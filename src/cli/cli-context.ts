import { parseArgs as nodeParseArgs } from 'node:util';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig, type Config } from '../config.js';
import { openOrm } from '../db/orm.js';
import { jetStreamNames, type JetStreamNames } from '../jetstream/names.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { connectNats } from '../jetstream/connect.js';
import { buildServices } from '../services/build-services.js';
import type { Services } from '../services/services.js';
import { UUID } from '../uuid.js';
import { isProvider, type Provider } from '../vocabulary/index.js';

/** What ops commands work with; parts are opened lazily so `status` needs no database. */
export class CliContext {
  readonly config: Config = loadConfig(process.env, []);
  readonly names: JetStreamNames = jetStreamNames(this.config.natsSubjectPrefix);
  private nc?: NatsConnection;
  private ormInstance?: MikroORM;
  private servicesInstance?: Services;
  private loggerInstance?: Logger;
  private logJson = false;

  /**
   * The library log (pino JSON on stderr) only with `--log-json`: otherwise commands print their own readable lines
   * and the services' logs stay silent (LOG_LEVEL still applies with `--log-json`). Call before `logger`/`services`.
   */
  useJsonLogs(enabled: boolean): void {
    this.logJson = enabled;
  }

  get logger(): Logger {
    this.loggerInstance ??= createLogger(
      this.logJson ? process.env.LOG_LEVEL || 'warn' : 'silent',
      process.stderr as never,
    );
    return this.loggerInstance;
  }

  async nats(): Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> {
    this.nc ??= await connectNats(this.config.natsUrl, 'payments-ops');
    return { nc: this.nc, js: jetstream(this.nc), jsm: await jetstreamManager(this.nc) };
  }

  /** A stream's info; a missing stream is an OpsError naming it and NATS_SUBJECT_PREFIX (the usual cause). */
  async streamInfo(name: string): Promise<StreamInfo> {
    const { jsm } = await this.nats();
    try {
      return await jsm.streams.info(name);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
        throw new OpsError(
          `JetStream stream ${name} does not exist on ${this.config.natsUrl}: NATS_SUBJECT_PREFIX is "${this.config.natsSubjectPrefix}" ` +
            `(streams ${this.names.eventsStream} and ${this.names.dlqStream}); use the service's prefix, or start the service once to create them`,
        );
      }
      throw error;
    }
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

/** An operational failure worth one clear line (not a stack): exit code 1. */
export class OpsError extends Error {}

/** `--help` (or `-h`) was given: print `usage` and exit 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help requested');
  }
}

/** A command's (or verb's) usage text and its options; `--help`/`-h` is added to every one. */
export interface CommandSpec {
  /** e.g. "replay": named in error messages. */
  name: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  positionals?: boolean;
}

/** The option of `known` closest to a mistyped one (edit distance ≤ 2), for "did you mean". */
function closest(option: string, known: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, index) => index);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length];
  };
  return known
    .map((name) => ({ name, score: distance(option, name) }))
    .filter((candidate) => candidate.score <= 2)
    .sort((a, b) => a.score - b.score)[0]?.name;
}

/**
 * Parses a command's arguments with Node's `util.parseArgs` in strict mode: an unknown option, a value given to a
 * switch (`--dry-run=no`), a missing value or an unexpected positional is a UsageError naming it (exit 2).
 */
export function parseArgs(
  args: string[],
  spec: CommandSpec,
): { flags: Record<string, string | boolean | undefined>; positional: string[] } {
  let parsed;
  try {
    parsed = nodeParseArgs({
      args,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: spec.positionals ?? false,
      strict: true,
    });
  } catch (error) {
    if (args.includes('--help') || args.includes('-h')) throw new HelpRequested(spec.usage);
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const option = /'(-[^' ]+)/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
      const suggestion = closest(option.replace(/^-+/, ''), Object.keys(spec.options));
      throw new UsageError(
        `${spec.name}: unknown option ${option}${suggestion ? ` (did you mean --${suggestion}?)` : ''}; see payments-ops ${spec.name} --help`,
      );
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option && spec.options[option.slice(2)]?.type === 'boolean')
      throw new UsageError(`${spec.name}: ${option} is a switch and takes no value (leave it out for "no")`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option)
      throw new UsageError(`${spec.name}: ${option} needs a value`);
    throw new UsageError(`${spec.name}: ${message.replace(/\.$/, '')}`);
  }
  if (parsed.values.help) throw new HelpRequested(spec.usage);
  const { help: _help, ...flags } = parsed.values as Record<string, string | boolean | undefined>;
  return { flags, positional: parsed.positionals };
}

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
export async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
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

/** A `--<name> <ISO time>` flag as a Date (null when absent); a UsageError when it is not a time. */
export function isoFlag(value: string | boolean | undefined, name: string): Date | null {
  if (value === undefined) return null;
  const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an ISO time, e.g. 2026-11-27T00:00:00Z`);
  return date;
}

/** A one-line progress bar on a terminal; nothing when stderr is not one (CI logs stay clean). */
export function progress(enabled: boolean) {
  let last = 0;
  return {
    update(done: number, total: number) {
      if (!enabled || Date.now() - last < 100) return;
      last = Date.now();
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : 0;
      process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`);
    },
    /** Prints a line on stderr without mixing it into the bar. */
    line(text: string) {
      process.stderr.write(`${enabled ? '\r\x1b[K' : ''}${text}\n`);
      last = 0;
    },
    end() {
      if (enabled) process.stderr.write('\r\x1b[K');
    },
  };
}

/** The time range and scope flags `replay` and `audit` share: `--since` (required), `--until`, `--provider`, `--workspace`. */
export function scopeFlags(
  flags: Record<string, string | boolean | undefined>,
  command: string,
): { since: Date; until: Date | null; provider?: Provider; workspaceId?: string } {
  const since = isoFlag(flags.since, 'since');
  if (!since) throw new UsageError(`${command} needs --since <ISO time>`);
  const until = isoFlag(flags.until, 'until');
  if (until && until < since)
    throw new UsageError(`--until ${until.toISOString()} is before --since ${since.toISOString()}`);
  const provider = typeof flags.provider === 'string' ? flags.provider.toLowerCase() : undefined;
  if (provider !== undefined && !isProvider(provider)) throw new UsageError(`unknown --provider "${flags.provider}"`);
  const workspaceId = typeof flags.workspace === 'string' ? flags.workspace.toLowerCase() : undefined;
  if (workspaceId !== undefined && !UUID.test(workspaceId))
    throw new UsageError('--workspace must be a workspace uuid');
  return { since, until, provider, workspaceId };
}
