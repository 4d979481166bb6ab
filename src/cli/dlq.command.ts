import { dropDeadLetter, readDeadLetters, replayDeadLetter, type DeadLetter } from '../jetstream/dead-letters.js';
import { parseEventMsgId } from '../jetstream/names.js';
import { age, confirm, parseArgs, table, UsageError, type CliContext, type CommandSpec } from './cli-context.js';
import { deadLetterReason } from './dead-letter-reason.js';

const DLQ_USAGE = `usage: payments-ops dlq <list|replay|drop> [options]   (payments-ops dlq <verb> --help)
  dlq list [--json]                 dead letters: seq, provider, event id, type, workspace, deliveries, age, last error
  dlq replay <seq…|--all> [--json]  put dead letters back into the events stream
  dlq drop <seq…> [--yes]           delete dead letters for good (asks first on a terminal)`;

const VERBS: Record<'list' | 'replay' | 'drop', CommandSpec> = {
  list: {
    name: 'dlq list',
    usage: `usage: payments-ops dlq list [--json]
  Dead letters in DLQ order with their last error.
  --json   [{seq, provider, eventId, type, workspaceId, deliveries, lastError, deadAt}]`,
    options: { json: { type: 'boolean' } },
  },
  replay: {
    name: 'dlq replay',
    usage: `usage: payments-ops dlq replay <seq…|--all> [--json]
  Republishes dead letters into the events stream (settlement is idempotent) and removes them from the DLQ.
  --all    every dead letter (an empty DLQ is not an error)
  --json   {replayed:[{seq, eventSeq}], missing:[seq]}`,
    options: { all: { type: 'boolean' }, json: { type: 'boolean' } },
    positionals: true,
  },
  drop: {
    name: 'dlq drop',
    usage: `usage: payments-ops dlq drop <seq…> [--yes]
  Deletes dead letters for good. On a terminal it asks first; --yes skips the question (required without a terminal).`,
    options: { yes: { type: 'boolean' } },
    positionals: true,
  },
};

/** The event type recorded in a dead letter's envelope (the provider event's own type when it has one). */
function eventType(letter: DeadLetter): string {
  try {
    const envelope = JSON.parse(Buffer.from(letter.data).toString('utf8')) as { event?: { type?: unknown } };
    return typeof envelope.event?.type === 'string' ? envelope.event.type : 'payment';
  } catch {
    return 'unparseable';
  }
}

const toJson = (letter: DeadLetter) => ({
  seq: letter.seq,
  provider: letter.provider,
  eventId: parseEventMsgId(letter.msgId)?.eventId ?? letter.msgId,
  type: eventType(letter),
  workspaceId: letter.workspaceId,
  deliveries: letter.deliveries,
  lastError: deadLetterReason(letter.lastError, letter.data),
  deadAt: letter.deadAt,
});

function sequences(values: string[]): number[] {
  return values.map((value) => {
    if (!/^\d+$/.test(value) || Number(value) === 0) throw new UsageError(`not a DLQ sequence: "${value}"`);
    return Number(value);
  });
}

/** `dlq list [--json]`, `dlq replay <seq…|--all>`, `dlq drop <seq…> [--yes]`. */
export async function dlqCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === undefined || verb === '--help' || verb === '-h') {
    out(DLQ_USAGE);
    return verb ? 0 : 2;
  }
  if (!Object.hasOwn(VERBS, verb))
    throw new UsageError(`dlq: unknown verb "${verb}" (list, replay, drop); see payments-ops dlq --help`);
  const { flags, positional } = parseArgs(rest, VERBS[verb as keyof typeof VERBS]);
  const { js, jsm } = await ctx.nats();
  await ctx.streamInfo(ctx.names.dlqStream);
  if (verb === 'list') {
    const letters = (await readDeadLetters(jsm, ctx.names)).map(toJson);
    if (flags.json) out(JSON.stringify(letters, null, 2));
    else if (letters.length === 0) out('The dead-letter queue is empty.');
    else {
      out(
        table(
          ['SEQ', 'PROVIDER', 'EVENT ID', 'TYPE', 'WORKSPACE', 'DELIVERIES', 'AGE', 'LAST ERROR'],
          letters.map((json) => [
            String(json.seq),
            json.provider,
            json.eventId,
            json.type,
            json.workspaceId,
            String(json.deliveries),
            age(json.deadAt),
            json.lastError.slice(0, 120),
          ]),
        ),
      );
    }
    return 0;
  }
  if (verb === 'replay') {
    if (flags.all && positional.length) throw new UsageError('dlq replay: give sequences or --all, not both');
    const seqs = flags.all
      ? (await readDeadLetters(jsm, ctx.names)).map((letter) => letter.seq)
      : sequences(positional);
    if (seqs.length === 0) {
      if (!flags.all) throw new UsageError('dlq replay needs sequences or --all');
      if (flags.json) out(JSON.stringify({ replayed: [], missing: [] }));
      else out('The dead-letter queue is empty: nothing to replay.');
      return 0;
    }
    const replayed: Array<{ seq: number; eventSeq: number }> = [];
    const missing: number[] = [];
    for (const seq of seqs) {
      const result = await replayDeadLetter(js, jsm, ctx.names, seq, { auto: false });
      if (result) replayed.push({ seq, eventSeq: result.eventSeq });
      else missing.push(seq);
      if (!flags.json) out(result ? `replayed DLQ #${seq} as event #${result.eventSeq}` : `DLQ #${seq} not found`);
    }
    if (flags.json) out(JSON.stringify({ replayed, missing }));
    return missing.length ? 1 : 0;
  }
  // drop
  const seqs = sequences(positional);
  if (seqs.length === 0) throw new UsageError('dlq drop needs sequences');
  if (!flags.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError(
        'dlq drop deletes dead letters for good: confirm with --yes (there is no terminal to ask on)',
      );
    const list = seqs.map((seq) => `#${seq}`).join(', ');
    if (!(await confirm(`Delete ${seqs.length} dead letter${seqs.length > 1 ? 's' : ''} (${list}) for good?`))) {
      out('Nothing dropped.');
      return 1;
    }
  }
  let notFound = 0;
  for (const seq of seqs) {
    if (await dropDeadLetter(jsm, ctx.names, seq)) out(`dropped DLQ #${seq}`);
    else {
      notFound++;
      out(`DLQ #${seq} not found`);
    }
  }
  return notFound ? 1 : 0;
}
