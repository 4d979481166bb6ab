import { parseArgs, type CliContext } from './cli-context.js';

/** `status [--json]`: events stream, settlement consumer lag and DLQ depth. */
export async function statusCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const { flags } = parseArgs(args, ['json']);
  const { jsm } = await ctx.nats();
  const [events, consumer, dlq] = await Promise.all([
    jsm.streams.info(ctx.names.eventsStream),
    jsm.consumers.info(ctx.names.eventsStream, ctx.names.consumer),
    jsm.streams.info(ctx.names.dlqStream),
  ]);
  const status = {
    stream: {
      name: ctx.names.eventsStream,
      messages: events.state.messages,
      firstSeq: events.state.first_seq,
      lastSeq: events.state.last_seq,
    },
    consumer: {
      name: ctx.names.consumer,
      pending: consumer.num_pending,
      ackPending: consumer.num_ack_pending,
      redelivered: consumer.num_redelivered,
    },
    dlq: { name: ctx.names.dlqStream, messages: dlq.state.messages },
  };
  if (flags.json) out(JSON.stringify(status, null, 2));
  else {
    out(
      `events stream  ${status.stream.name}: ${status.stream.messages} messages (seq ${status.stream.firstSeq}–${status.stream.lastSeq})`,
    );
    out(
      `consumer       ${status.consumer.name}: ${status.consumer.pending} pending, ${status.consumer.ackPending} awaiting ack, ${status.consumer.redelivered} redelivered`,
    );
    out(
      `dead letters   ${status.dlq.name}: ${status.dlq.messages}${status.dlq.messages ? ' (payments-ops dlq list)' : ''}`,
    );
  }
  return 0;
}
