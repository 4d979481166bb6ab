import { parseArgs, UsageError, type CliContext } from './cli-context.js';
import { UUID } from '../uuid.js';

/** `reconcile [--workspace <uuid>] [--dry-run] [--json]`: one reconciler pass on demand. */
export async function reconcileCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const { flags } = parseArgs(args, ['dry-run', 'json']);
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
