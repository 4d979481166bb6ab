import { DeliverPolicy } from '@nats-io/jetstream';
import { parseEnvelope } from '../jetstream/envelope.js';
import { parseArgs, progress, scopeFlags, type CliContext } from './cli-context.js';
import { originalEventMsgId, parseEventMsgId } from '../jetstream/names.js';

const REPLAY = {
  name: 'replay',
  usage: `usage: payments-ops replay --since <ISO> [--until <ISO>] [--provider stripe|mollie] [--workspace <uuid>] [--dry-run] [--json] [--log-json]
  Re-applies events stored in the events stream through settlement (idempotent: an event applied before changes
  nothing). A progress bar shows on a terminal; each failure is printed as one line.
  --since <ISO>        first storage time, e.g. 2026-11-27T00:00:00Z (required)
  --until <ISO>        last storage time (not before --since)
  --provider <name>    stripe or mollie
  --workspace <uuid>   one workspace's events
  --dry-run            count the matching events, apply nothing
  --json               {dryRun, matched, applied, unchanged, failed, failures:[{seq, eventId, reason}]}
  --log-json           also write the services' pino JSON log to stderr`,
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    provider: { type: 'string' },
    workspace: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    'log-json': { type: 'boolean' },
  },
} as const;

/**
 * `replay --since <ISO> [--until <ISO>] [--provider p] [--workspace id] [--dry-run] [--json]`: re-applies stored
 * events through the same idempotent settlement path (an event applied before changes nothing).
 */
export async function replayCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const { flags } = parseArgs(args, REPLAY);
  ctx.useJsonLogs(Boolean(flags['log-json']));
  const scope = scopeFlags(flags, 'replay');
  const { since, until } = scope;
  const provider = scope.provider ?? '*';
  const workspace = scope.workspaceId ?? '*';

  const { js } = await ctx.nats();
  const stream = await ctx.streamInfo(ctx.names.eventsStream);
  const lastSeq = stream.state.last_seq;
  const settlement = flags['dry-run'] ? null : (await ctx.services()).settlement;
  const counts = { matched: 0, applied: 0, unchanged: 0, failed: 0 };
  const failures: Array<{ seq: number; eventId: string | null; reason: string }> = [];
  const bar = progress(Boolean(process.stderr.isTTY) && !flags.json);

  if (stream.state.messages > 0) {
    const consumer = await js.consumers.get(ctx.names.eventsStream, {
      filter_subjects: `${ctx.names.prefix}.events.${provider}.${workspace}`,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: since.toISOString(),
    });
    let done = false;
    while (!done) {
      let received = 0;
      const batch = await consumer.fetch({ max_messages: 256, expires: 2000 });
      for await (const msg of batch) {
        received++;
        const storedAt = new Date(Math.floor(Number(msg.info.timestampNanos) / 1e6));
        if (msg.seq > lastSeq || (until && storedAt > until)) {
          done = true;
          break;
        }
        counts.matched++;
        if (settlement) {
          try {
            const outcome = await settlement.settle(parseEnvelope(msg.data), {
              streamSequence: msg.seq,
            });
            counts[outcome === 'applied' ? 'applied' : 'unchanged']++;
          } catch (error) {
            counts.failed++;
            const msgId = originalEventMsgId(msg.headers);
            const eventId = msgId ? (parseEventMsgId(msgId)?.eventId ?? msgId) : null;
            const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
            failures.push({ seq: msg.seq, eventId, reason });
            if (!flags.json) bar.line(`failed: event #${msg.seq} ${eventId ?? '(no event id)'}: ${reason}`);
            ctx.logger.warn({ seq: msg.seq, eventId, reason }, 'replay: event not applied');
          }
        }
        bar.update(counts.matched, counts.matched + msg.info.pending);
        if (msg.info.pending === 0 || msg.seq >= lastSeq) {
          done = true;
          break;
        }
      }
      if (received === 0) done = true;
    }
    await consumer.delete().catch(() => undefined);
  }
  bar.end();
  if (flags.json) out(JSON.stringify({ dryRun: Boolean(flags['dry-run']), ...counts, failures }));
  else if (flags['dry-run']) out(`dry run: ${counts.matched} stored events match; nothing was applied`);
  else
    out(
      `replayed ${counts.matched} events: ${counts.applied} applied, ${counts.unchanged} unchanged (already applied or ignored), ${counts.failed} failed`,
    );
  return counts.failed ? 1 : 0;
}
