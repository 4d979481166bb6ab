#!/usr/bin/env node
import 'reflect-metadata';
import { ConfigError } from '../config.js';
import { PROVIDERS } from '../vocabulary/index.js';
import { CliContext, HelpRequested, OpsError, UsageError } from './cli-context.js';
import { auditCommand } from './audit.command.js';
import { dlqCommand } from './dlq.command.js';
import { keysCommand } from './keys.command.js';
import { reconcileCommand } from './reconcile.command.js';
import { replayCommand } from './replay.command.js';
import { statusCommand } from './status.command.js';

const USAGE = `usage: payments-ops <command> [options]   (payments-ops <command> --help for its options)
  status [--json]                         stream, consumer lag, DLQ depth
  dlq list [--json]                       dead letters with their last error
  dlq replay <seq…|--all> [--json]        put dead letters back into the events stream
  dlq drop <seq…> [--yes]                 delete dead letters (asks first on a terminal)
  replay --since <ISO> [--until <ISO>] [--provider ${PROVIDERS.join('|')}] [--workspace <uuid>] [--dry-run] [--json] [--log-json]
                                          re-apply stored events (idempotent)
  reconcile [--workspace <uuid>] [--dry-run] [--json] [--log-json]
                                          ask the provider about stale PENDING payments and settle what it says
  audit --since <ISO> [--until <ISO>] [--workspace <uuid>] [--provider ${PROVIDERS.join('|')}] [--fix] [--json] [--log-json]
                                          compare the ledger with the providers' payments, refunds and disputes
  keys reencrypt [--workspace <uuid>] [--dry-run] [--log-json]
                                          re-seal stored secrets under the first key of PAYMENTS_ENCRYPTION_KEYS
Exit codes: 0 success, 1 failure, 2 usage error. Reads the service's environment (NATS_URL, NATS_SUBJECT_PREFIX, …).`;

type Command = (ctx: CliContext, args: string[], out: (line: string) => void) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  status: statusCommand,
  dlq: dlqCommand,
  replay: replayCommand,
  keys: keysCommand,
  reconcile: reconcileCommand,
  audit: auditCommand,
};

/** Runs one ops command with the service's environment; resolves with the exit code. */
export async function runOps(
  argv: string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  err: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out(USAGE);
    return command ? 0 : 2;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    err(`payments-ops: unknown command "${command}" (${Object.keys(COMMANDS).join(', ')}); see payments-ops --help`);
    return 2;
  }
  let ctx: CliContext | undefined;
  try {
    ctx = new CliContext();
    return await COMMANDS[command](ctx, args, out);
  } catch (error) {
    if (error instanceof HelpRequested) {
      out(error.usage);
      return 0;
    }
    if (error instanceof UsageError) {
      err(`payments-ops: ${error.message}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      err(`payments-ops: bad configuration: ${error.message}`);
      return 1;
    }
    if (error instanceof OpsError) {
      err(`payments-ops: ${command}: ${error.message}`);
      return 1;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    err(`payments-ops: ${command} failed: ${message}`);
    return 1;
  } finally {
    await ctx?.close();
  }
}

if (require.main === module) {
  runOps(process.argv.slice(2)).then((code) => process.exit(code));
}
