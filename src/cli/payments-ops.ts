#!/usr/bin/env node
import 'reflect-metadata';
import { ConfigError } from '../config.js';
import { PROVIDERS } from '../vocabulary/index.js';
import { CliContext, UsageError } from './cli-context.js';
import { dlqCommand } from './dlq.command.js';
import { keysCommand } from './keys.command.js';
import { reconcileCommand } from './reconcile.command.js';
import { replayCommand } from './replay.command.js';
import { statusCommand } from './status.command.js';

const USAGE = `usage: payments-ops <command>
  status [--json]                         stream, consumer lag, DLQ depth
  dlq list [--json]                       dead letters with their last error
  dlq replay <seq…|--all>                 put dead letters back into the events stream
  dlq drop <seq…>                         delete dead letters
  replay --since <ISO> [--until <ISO>] [--provider ${PROVIDERS.join('|')}] [--workspace <uuid>] [--dry-run] [--json]
                                          re-apply stored events (idempotent)
  reconcile [--workspace <uuid>] [--dry-run] [--json]
                                          ask the provider about stale PENDING payments and settle what it says
  keys reencrypt [--workspace <uuid>] [--dry-run]
                                          re-seal stored secrets under the first key of PAYMENTS_ENCRYPTION_KEYS`;

const COMMANDS: Record<string, (ctx: CliContext, args: string[], out: (line: string) => void) => Promise<number>> = {
  status: statusCommand,
  dlq: dlqCommand,
  replay: replayCommand,
  keys: keysCommand,
  reconcile: reconcileCommand,
};

/** Runs one ops command with the service's environment; resolves with the exit code. */
export async function runOps(
  argv: string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || !COMMANDS[command]) {
    out(USAGE);
    return command && command !== 'help' && command !== '--help' ? 2 : 0;
  }
  let ctx: CliContext | undefined;
  try {
    ctx = new CliContext();
    return await COMMANDS[command](ctx, args, out);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`payments-ops: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`payments-ops: bad configuration: ${error.message}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stderr.write(`payments-ops: ${command} failed: ${message}\n`);
    return 1;
  } finally {
    await ctx?.close();
  }
}

if (require.main === module) {
  runOps(process.argv.slice(2)).then((code) => process.exit(code));
}
