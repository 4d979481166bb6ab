import { parseArgs, UsageError, type CliContext, type CommandSpec } from './cli-context.js';
import { UUID } from '../uuid.js';

export const RECONCILE: CommandSpec = {
  name: 'reconcile',
  usage: `usage: payments-ops reconcile [--workspace <uuid>] [--dry-run] [--json] [--log-json]
  One reconciler pass now: asks the provider about stale PENDING payments and settles what it says.
  --workspace <uuid>   only this workspace
  --dry-run            report what would change, change nothing
  --json               {dryRun, checked, settled, cancelled, unchanged, failed}
  --log-json           also write the services' pino JSON log to stderr`,
  options: {
    workspace: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    'log-json': { type: 'boolean' },
  },
};

/** `reconcile [--workspace <uuid>] [--dry-run] [--json]`: one reconciler pass on demand. */
export async function reconcileCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const { flags } = parseArgs(args, RECONCILE);
  ctx.useJsonLogs(Boolean(flags['log-json']));
  const workspaceId = typeof flags.workspace === 'string' ? flags.workspace.toLowerCase() : undefined;
  if (flags.workspace !== undefined && (!workspaceId || !UUID.test(workspaceId)))
    throw new UsageError('--workspace must be a workspace uuid');
  const summary = await (await ctx.services()).reconciler.runOnce({ workspaceId, dryRun: Boolean(flags['dry-run']) });
  if (flags.json) out(JSON.stringify({ dryRun: Boolean(flags['dry-run']), ...summary }));
  else {
    const verb = flags['dry-run'] ? 'would settle' : 'settled';
    out(
      `checked ${summary.checked} pending payments: ${verb} ${summary.settled}, ${flags['dry-run'] ? 'would cancel' : 'cancelled'} ${summary.cancelled}, ${summary.unchanged} unchanged, ${summary.failed} failed`,
    );
  }
  return summary.failed ? 1 : 0;
}
