import { formatMinor } from '../money/money.js';
import type { Discrepancy } from '../services/audit.service.js';
import { auditFixPublisher } from '../jetstream/audit-fix.publisher.js';
import { PROVIDERS } from '../vocabulary/index.js';
import { parseArgs, progress, scopeFlags, table, type CliContext, type CommandSpec } from './cli-context.js';

export const AUDIT: CommandSpec = {
  name: 'audit',
  usage: `usage: payments-ops audit --since <ISO> [--until <ISO>] [--workspace <uuid>] [--provider ${PROVIDERS.join('|')}] [--fix] [--json] [--log-json]
  Compares the ledger with the providers: the checkouts/payments, refunds and disputes each connected (or in-grace)
  account created in the range, against the ledger's rows of the range. Kinds: missing (at the provider, not in the
  ledger), status, amount, unknown (a ledger row the provider does not know). Exit code 0 when nothing remains
  unexplained, 1 otherwise (an account that could not be reached counts).
  --since <ISO>        first creation time, e.g. 2026-11-27T00:00:00Z (required)
  --until <ISO>        last creation time (default now; not before --since)
  --workspace <uuid>   one workspace's accounts
  --provider <name>    ${PROVIDERS.join(' or ')}
  --fix                settle each missing/status discrepancy: one synthetic event per discrepancy into the events
                       stream (msg id <provider>:<workspaceId>:audit:<reference>:<state>), applied by the worker
  --json               {checked:{accounts, providerObjects, ledgerRows}, discrepancies:[{kind, workspaceId, invoiceId,
                       provider, reference, ledger, providerState}], fixed}
  --log-json           also write the services' pino JSON log to stderr`,
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    workspace: { type: 'string' },
    provider: { type: 'string' },
    fix: { type: 'boolean' },
    json: { type: 'boolean' },
    'log-json': { type: 'boolean' },
  },
};

const side = (state: Discrepancy['ledger']) =>
  state ? `${state.object} ${state.status} ${formatMinor(state.amountMinor, state.currency)} ${state.currency}` : '-';

/** `audit --since <ISO> [--until <ISO>] [--workspace id] [--provider p] [--fix] [--json]`: the ledger against the providers. */
export async function auditCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const { flags } = parseArgs(args, AUDIT);
  ctx.useJsonLogs(Boolean(flags['log-json']));
  const scope = scopeFlags(flags, 'audit');
  const until = scope.until ?? new Date();
  const fix = Boolean(flags.fix);
  const publish = fix ? auditFixPublisher((await ctx.nats()).js, ctx.names) : undefined;
  if (fix) await ctx.streamInfo(ctx.names.eventsStream); // a wrong NATS_SUBJECT_PREFIX fails before any provider call
  const bar = progress(Boolean(process.stderr.isTTY));
  const report = await (
    await ctx.services()
  ).audit.run({
    since: scope.since,
    until,
    workspaceId: scope.workspaceId,
    provider: scope.provider,
    fix,
    publish,
    onAccount(done) {
      const account = `${done.provider} account of workspace ${done.workspaceId}`;
      if (done.error) bar.line(`unreachable: ${account}: ${done.error}`);
      else if (!process.stderr.isTTY)
        bar.line(
          `audited ${done.index}/${done.total}: ${account}: ${done.providerObjects} provider objects, ${done.ledgerRows} ledger rows, ${done.discrepancies} discrepancies`,
        );
      bar.update(done.index, done.total);
    },
  });
  bar.end();

  const remaining = report.discrepancies.filter((d) => !(fix && d.fix)).length + report.unreachable.length;
  if (flags.json) {
    out(
      JSON.stringify({
        checked: report.checked,
        discrepancies: report.discrepancies.map(
          ({ kind, workspaceId, invoiceId, provider, reference, ledger, providerState }) => ({
            kind,
            workspaceId,
            invoiceId,
            provider,
            reference,
            ledger,
            providerState,
          }),
        ),
        fixed: report.fixed,
      }),
    );
    return remaining ? 1 : 0;
  }
  const { accounts, providerObjects, ledgerRows } = report.checked;
  out(
    `audited ${accounts} accounts from ${scope.since.toISOString()} to ${until.toISOString()}: ${providerObjects} provider objects, ${ledgerRows} ledger rows`,
  );
  if (report.discrepancies.length === 0) out('no discrepancies: the ledger matches the providers');
  else {
    out(
      table(
        ['kind', 'workspace', 'invoice', 'reference', 'ledger', 'provider'],
        report.discrepancies.map((d) => [
          d.kind,
          d.workspaceId,
          d.invoiceId ?? '-',
          d.reference,
          side(d.ledger),
          side(d.providerState),
        ]),
      ),
    );
    out(
      fix
        ? `fixed ${report.fixed} (published for settlement); ${remaining} left for a person (amount, unknown, unreachable)`
        : `${report.discrepancies.length} discrepancies; --fix settles the missing and status ones`,
    );
  }
  for (const account of report.unreachable)
    out(`not audited: ${account.provider} account of workspace ${account.workspaceId}: ${account.reason}`);
  return remaining ? 1 : 0;
}
