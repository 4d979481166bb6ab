import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { isMissingMessage } from '../jetstream/dead-letters.js';
import { originalEventMsgId, WorkestraHeader, type JetStreamNames } from '../jetstream/names.js';
import type { Logger } from '../observability/logger.js';

export {
  dropDeadLetter,
  readDeadLetter,
  readDeadLetters,
  replayDeadLetter,
  type DeadLetter,
  type ReplayResult,
} from '../jetstream/dead-letters.js';

/** The server's `io.nats.jetstream.advisory.v1.max_deliver` advisory (the fields used here). */
interface MaxDeliverAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

export interface DeadLetterForwarderOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: JetStreamNames;
  logger: Logger;
  /**
   * The last handler error recorded for an event, by its original msg id (`<provider>:<eventId>`, what
   * `originalEventMsgId(msg.headers)` gives the handler); null when unknown.
   */
  lastError(msgId: string): Promise<string | null>;
  /** Called after a copy was stored (or found already stored by another worker). */
  onDeadLetter?(info: { originalSeq: number; msgId: string | null; duplicate: boolean }): void;
}

/** A running forwarder. */
export interface DeadLetterForwarder {
  /** Unsubscribes and waits for advisories being handled. */
  stop(): Promise<void>;
}

/** One line, at most 500 characters: header values cannot hold line breaks. */
export function headerSafe(text: string, max = 500): string {
  const line = text.replace(/\p{Cc}+/gu, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

const PUBLISH_ATTEMPTS = 3;
const STOP_WAIT_MS = 5000;

/** Copies one dead message, with why and when it died, into the DLQ (one copy whichever worker gets there). */
async function copyToDlq(
  options: DeadLetterForwarderOptions,
  advisory: MaxDeliverAdvisory,
  log: Logger,
  stopped: () => boolean,
): Promise<void> {
  const { js, jsm, names } = options;
  const seq = advisory.stream_seq;
  const stored = await jsm.streams.getMessage(names.eventsStream, { seq }).catch((error: unknown) => {
    if (isMissingMessage(error)) return null;
    throw error;
  });
  if (!stored) {
    log.warn({ seq }, 'dead message no longer in the events stream (expired or deleted); nothing to copy');
    return;
  }
  const msgId = originalEventMsgId(stored.header);
  const location = names.parseSubject(stored.subject);
  const provider = location?.kind === 'events' ? location.provider : 'unknown';
  const workspaceId = location?.kind === 'events' ? location.workspaceId : 'unknown';
  const lastError = msgId ? await options.lastError(msgId).catch(() => null) : null;
  const headers = deadLetterHeaders(stored, advisory, msgId, lastError);
  for (let attempt = 1; ; attempt++) {
    try {
      const ack = await js.publish(names.dlqSubject(provider, workspaceId), stored.data, {
        msgID: `dlq:${seq}`,
        headers,
        expect: { streamName: names.dlqStream },
        timeout: 5000,
      });
      log.warn(
        { seq, msgId, deliveries: advisory.deliveries, dlqSeq: ack.seq, duplicate: ack.duplicate, lastError },
        'event dead-lettered',
      );
      options.onDeadLetter?.({ originalSeq: seq, msgId, duplicate: ack.duplicate });
      return;
    } catch (error) {
      if (attempt >= PUBLISH_ATTEMPTS || stopped()) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

/** The dead letter's headers: the original's own (not JetStream's), where it came from, and why it died. */
function deadLetterHeaders(
  stored: StoredMsg,
  advisory: MaxDeliverAdvisory,
  msgId: string | null,
  lastError: string | null,
): MsgHdrs {
  const hdrs = natsHeaders();
  for (const [key, values] of stored.header ?? []) {
    if (key.toLowerCase().startsWith('nats-')) continue;
    for (const value of values) hdrs.append(key, value);
  }
  hdrs.set(WorkestraHeader.OriginalSubject, stored.subject);
  hdrs.set(WorkestraHeader.OriginalSeq, String(advisory.stream_seq));
  if (msgId) hdrs.set(WorkestraHeader.OriginalMsgId, msgId);
  hdrs.set(WorkestraHeader.Deliveries, String(advisory.deliveries));
  hdrs.set(WorkestraHeader.LastError, headerSafe(lastError ?? 'unknown (no error recorded)'));
  hdrs.set(WorkestraHeader.DeadAt, new Date().toISOString());
  hdrs.set(WorkestraHeader.AutoRetries, stored.header?.get(WorkestraHeader.AutoRetries) || '0');
  return hdrs;
}

/**
 * Copies every message the settlement consumer gives up on (the server's MAX_DELIVERIES advisory) into the
 * DLQ stream. Every worker subscribes (no queue group, so an advisory is not lost with one busy worker);
 * the DLQ `Nats-Msg-Id` `dlq:<events seq>` makes the copies collapse into one.
 * The advisory is core NATS: an advisory raised while no worker is connected is not seen by anyone.
 */
export function startDeadLetterForwarder(options: DeadLetterForwarderOptions): DeadLetterForwarder {
  const { nc, names, logger } = options;
  const log = logger.child({ component: 'dead-letter' });
  const pending = new Set<Promise<void>>();
  let stopped = false;
  const forward = (advisory: MaxDeliverAdvisory) => copyToDlq(options, advisory, log, () => stopped);

  const subscription: Subscription = nc.subscribe(names.maxDeliveriesAdvisory, {
    callback: (error, msg) => {
      if (error) {
        log.error({ err: error }, 'max-deliveries advisory subscription failed');
        return;
      }
      let advisory: MaxDeliverAdvisory;
      try {
        advisory = msg.json<MaxDeliverAdvisory>();
      } catch {
        log.warn('unreadable max-deliveries advisory ignored');
        return;
      }
      if (advisory.stream !== names.eventsStream || advisory.consumer !== names.consumer || !(advisory.stream_seq > 0))
        return;
      const task = forward(advisory).catch((err: unknown) =>
        log.error(
          { err, seq: advisory.stream_seq },
          'could not copy a dead message into the DLQ; it stays in the events stream',
        ),
      );
      pending.add(task);
      void task.finally(() => pending.delete(task));
    },
  });

  return {
    async stop() {
      stopped = true;
      subscription.unsubscribe();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)));
      await Promise.race([Promise.all([...pending]), timeout]);
      clearTimeout(timer);
    },
  };
}
