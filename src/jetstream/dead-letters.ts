import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  type StoredMsg,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { WorkestraHeader, type JetStreamNames } from './names.js';

/** One message of the DLQ stream, decoded from its `Workestra-*` headers. */
export interface DeadLetter {
  /** Sequence in the DLQ stream (what `dlq replay` / `dlq drop` take). */
  seq: number;
  /** The original events subject; replays publish there. */
  subject: string;
  dlqSubject: string;
  /** Sequence the message had in the events stream when it died. */
  originalSeq: number;
  /** The original `Nats-Msg-Id`, `<provider>:<workspaceId>:<eventId>` (round 1: `<provider>:<eventId>`). */
  msgId: string;
  provider: string;
  workspaceId: string;
  deliveries: number;
  lastError: string | null;
  deadAt: string;
  autoRetries: number;
  data: Uint8Array;
}

/** Result of republishing a dead letter into the events stream. */
export interface ReplayResult {
  eventSeq: number;
  duplicate: boolean;
  msgId: string;
}

/** True for "that message or sequence is not there (any more)": deleted, expired or past the end. */
export function isMissingMessage(error: unknown): boolean {
  // 10057 "stream store EOF" is what 2.9 answers for a sequence past the end
  return (
    error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.NoMessageFound || error.code === 10057)
  );
}

const intHeader = (hdrs: MsgHdrs, name: string) => {
  const value = Number.parseInt(hdrs.get(name) || '0', 10);
  return Number.isFinite(value) && value >= 0 ? value : 0;
};

/** Decodes a stored DLQ message. */
export function toDeadLetter(names: JetStreamNames, stored: StoredMsg): DeadLetter {
  const hdrs = stored.header ?? natsHeaders();
  const location = names.parseSubject(stored.subject);
  return {
    seq: stored.seq,
    subject: hdrs.get(WorkestraHeader.OriginalSubject) || '',
    dlqSubject: stored.subject,
    originalSeq: intHeader(hdrs, WorkestraHeader.OriginalSeq),
    msgId: hdrs.get(WorkestraHeader.OriginalMsgId) || '',
    provider: location?.provider ?? '',
    workspaceId: location?.workspaceId ?? '',
    deliveries: intHeader(hdrs, WorkestraHeader.Deliveries),
    lastError: hdrs.get(WorkestraHeader.LastError) || null,
    deadAt: hdrs.get(WorkestraHeader.DeadAt) || stored.timestamp,
    autoRetries: intHeader(hdrs, WorkestraHeader.AutoRetries),
    data: stored.data,
  };
}

/** One dead letter by DLQ sequence; null when there is none (never was, dropped or replayed). */
export async function readDeadLetter(
  jsm: JetStreamManager,
  names: JetStreamNames,
  seq: number,
): Promise<DeadLetter | null> {
  try {
    const stored = await jsm.streams.getMessage(names.dlqStream, { seq });
    return stored ? toDeadLetter(names, stored) : null;
  } catch (error) {
    if (isMissingMessage(error)) return null;
    throw error;
  }
}

/** Every dead letter in DLQ order (deleted sequences skipped), at most `limit`. */
export async function readDeadLetters(
  jsm: JetStreamManager,
  names: JetStreamNames,
  limit = 10_000,
): Promise<DeadLetter[]> {
  const { state } = await jsm.streams.info(names.dlqStream);
  const letters: DeadLetter[] = [];
  let next = state.first_seq;
  while (state.messages > 0 && next <= state.last_seq && letters.length < limit) {
    // "next message at or after seq": skips the gaps replays and drops leave in one request (works on 2.9)
    const query = { seq: next, next_by_subj: names.dlqSubjects } as unknown as MsgRequest;
    let stored: StoredMsg | null;
    try {
      stored = await jsm.streams.getMessage(names.dlqStream, query);
    } catch (error) {
      if (isMissingMessage(error)) break;
      throw error;
    }
    if (!stored || stored.seq > state.last_seq) break;
    letters.push(toDeadLetter(names, stored));
    next = stored.seq + 1;
  }
  return letters;
}

/**
 * Republishes a dead letter into the events stream on its original subject, then deletes it from the DLQ.
 * Its `Nats-Msg-Id` gets a `#r…` suffix (the original id would be swallowed by JetStream's dedup window),
 * `Workestra-Original-Msg-Id` keeps the event's identity, and `auto` replays count `Workestra-Auto-Retries`
 * up (two retriers replaying the same letter produce the same id, so JetStream keeps one copy).
 * Resolves null when the letter is gone already.
 */
export async function replayDeadLetter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  names: JetStreamNames,
  seq: number,
  options: { auto: boolean; timeoutMs?: number },
): Promise<ReplayResult | null> {
  const stored = await jsm.streams.getMessage(names.dlqStream, { seq }).catch((error: unknown) => {
    if (isMissingMessage(error)) return null;
    throw error;
  });
  if (!stored) return null;
  const letter = toDeadLetter(names, stored);
  const target = names.parseSubject(letter.subject);
  if (!target || target.kind !== 'events')
    throw new Error(`dead letter ${seq} has no valid original subject ("${letter.subject}")`);

  const autoRetries = options.auto ? letter.autoRetries + 1 : letter.autoRetries;
  const baseId = letter.msgId || `seq:${letter.originalSeq}`;
  const msgId = `${baseId}#r${options.auto ? autoRetries : Date.now()}`;
  const hdrs = natsHeaders();
  for (const [key, values] of stored.header ?? []) {
    if (key.toLowerCase().startsWith('nats-')) continue;
    for (const value of values) hdrs.append(key, value);
  }
  if (letter.msgId) hdrs.set(WorkestraHeader.OriginalMsgId, letter.msgId);
  hdrs.set(WorkestraHeader.AutoRetries, String(autoRetries));
  const ack = await js.publish(letter.subject, letter.data, {
    msgID: msgId,
    headers: hdrs,
    expect: { streamName: names.eventsStream },
    timeout: options.timeoutMs ?? 5000,
  });
  await dropDeadLetter(jsm, names, seq);
  return { eventSeq: ack.seq, duplicate: ack.duplicate, msgId };
}

/** Deletes a dead letter; false when it was not there. */
export async function dropDeadLetter(jsm: JetStreamManager, names: JetStreamNames, seq: number): Promise<boolean> {
  try {
    return await jsm.streams.deleteMessage(names.dlqStream, seq, false);
  } catch (error) {
    if (isMissingMessage(error)) return false;
    throw error;
  }
}
