import { dropDeadLetter, readDeadLetters, replayDeadLetter, type DeadLetter } from '../jetstream/dead-letters.js';
import { parseEventMsgId } from '../jetstream/names.js';
import { age, parseArgs, table, UsageError, type CliContext } from './cli-context.js';

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
  lastError: letter.lastError,
  deadAt: letter.deadAt,
});

function sequences(values: string[]): number[] {
  return values.map((value) => {
    if (!/^\d+$/.test(value) || Number(value) === 0) throw new UsageError(`not a DLQ sequence: "${value}"`);
    return Number(value);
  });
}

/** `dlq list [--json]`, `dlq replay <seq…|--all>`, `dlq drop <seq…>`. */
export async function dlqCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const [verb, ...rest] = args;
  const { flags, positional } = parseArgs(rest, ['json', 'all']);
  const { js, jsm } = await ctx.nats();
  if (verb === 'list') {
    const letters = await readDeadLetters(jsm, ctx.names);
    if (flags.json) out(JSON.stringify(letters.map(toJson), null, 2));
    else if (letters.length === 0) out('The dead-letter queue is empty.');
    else {
      out(
        table(
          ['SEQ', 'PROVIDER', 'EVENT ID', 'TYPE', 'WORKSPACE', 'DELIVERIES', 'AGE', 'LAST ERROR'],
          letters.map((letter) => {
            const json = toJson(letter);
            return [
              String(json.seq),
              json.provider,
              json.eventId,
              json.type,
              json.workspaceId,
              String(json.deliveries),
              age(json.deadAt),
              (json.lastError ?? '').slice(0, 120),
            ];
          }),
        ),
      );
    }
    return 0;
  }
  if (verb === 'replay') {
    const seqs = flags.all
      ? (await readDeadLetters(jsm, ctx.names)).map((letter) => letter.seq)
      : sequences(positional);
    if (seqs.length === 0)
      throw new UsageError(flags.all ? 'the dead-letter queue is empty' : 'dlq replay needs sequences or --all');
    let missing = 0;
    for (const seq of seqs) {
      const result = await replayDeadLetter(js, jsm, ctx.names, seq, { auto: false });
      if (result) out(`replayed DLQ #${seq} as event #${result.eventSeq}`);
      else {
        missing++;
        out(`DLQ #${seq} not found`);
      }
    }
    return missing ? 1 : 0;
  }
  if (verb === 'drop') {
    const seqs = sequences(positional);
    if (seqs.length === 0) throw new UsageError('dlq drop needs sequences');
    let missing = 0;
    for (const seq of seqs) {
      if (await dropDeadLetter(jsm, ctx.names, seq)) out(`dropped DLQ #${seq}`);
      else {
        missing++;
        out(`DLQ #${seq} not found`);
      }
    }
    return missing ? 1 : 0;
  }
  throw new UsageError('usage: payments-ops dlq list [--json] | dlq replay <seq…|--all> | dlq drop <seq…>');
}
