import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { OpsError, parseArgs, type CliContext, type CommandSpec } from './cli-context.js';

export const STATUS: CommandSpec = {
  name: 'status',
  usage: `usage: payments-ops status [--json]
  The events stream, the settlement consumer's lag and the DLQ depth.
  --json   {stream:{messages,…}, consumer:{pending, ackPending, redelivered}, dlq:{messages}}`,
  options: { json: { type: 'boolean' } },
};

/** `status [--json]`: events stream, settlement consumer lag and DLQ depth. */
export async function statusCommand(ctx: CliContext, args: string[], out: (line: string) => void): Promise<number> {
  const { flags } = parseArgs(args, STATUS);
  const { jsm } = await ctx.nats();
  const [events, dlq] = await Promise.all([
    ctx.streamInfo(ctx.names.eventsStream),
    ctx.streamInfo(ctx.names.dlqStream),
  ]);
  const consumer = await jsm.consumers.info(ctx.names.eventsStream, ctx.names.consumer).catch((error: unknown) => {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)
      throw new OpsError(
        `consumer ${ctx.names.consumer} does not exist on stream ${ctx.names.eventsStream} (NATS_SUBJECT_PREFIX "${ctx.config.natsSubjectPrefix}"): start a worker once to create it`,
      );
    throw error;
  });
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
