import { JetStreamApiError, type JetStreamClient, type JetStreamPublishOptions, type PubAck } from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  DrainingConnectionError,
  headers as natsHeaders,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import type { Context } from '@opentelemetry/api';
import { injectIntoNatsHeaders } from '../observability/tracing.js';

/** Why a publish failed, for logs and metrics (never shown to callers of the HTTP API). */
export type UnavailableReason = 'timeout' | 'no_responders' | 'closed' | 'rejected' | 'unknown';

/**
 * JetStream did not confirm the message (no PubAck). The message is safe to show to a webhook sender;
 * the detail is in `reason` and `cause`. The webhook route answers 503 so the provider retries later.
 */
export class JetStreamUnavailableError extends Error {
  constructor(
    readonly reason: UnavailableReason,
    options?: { cause?: unknown },
  ) {
    super('JetStream is unavailable, try again later', options);
    this.name = 'JetStreamUnavailableError';
  }
}

export interface PublishResult {
  /** Stream sequence; for a duplicate, the sequence of the message already stored. */
  seq: number;
  /** True when JetStream already held a message with this msgId inside its duplicate window. */
  duplicate: boolean;
}

export interface EventPublisherOptions {
  /** Upper bound for the whole publish, PubAck included. */
  timeoutMs?: number;
  /** When set, the server rejects the message unless this stream captures the subject. */
  expectStream?: string;
}

function classify(error: unknown): UnavailableReason {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  for (const candidate of [error, cause]) {
    if (candidate instanceof TimeoutError) return 'timeout';
    if (candidate instanceof RequestError && candidate.isNoResponders()) return 'no_responders';
    if (candidate instanceof ClosedConnectionError || candidate instanceof DrainingConnectionError) return 'closed';
    if (candidate instanceof JetStreamApiError) return 'rejected';
  }
  // nats.js reports "no stream listens on this subject" as JetStreamNotEnabled wrapping a no-responders RequestError
  if (error instanceof Error && /jetstream is not enabled/i.test(error.message)) return 'no_responders';
  return 'unknown';
}

/**
 * Publishes to JetStream and resolves only with a PubAck; every failure becomes JetStreamUnavailableError.
 *
 * Publishes asked for during one turn of the event loop go out together: nats.js writes its buffer to the socket once
 * per microtask checkpoint, i.e. once per webhook (each request is its own I/O callback), and on a busy process that
 * write (a syscall, with the loopback delivery to nats-server) was the largest single cost of a webhook. Deferred to
 * the loop's check phase (`setImmediate`), the publishes of all the requests read in one poll phase share one write.
 */
export class EventPublisher {
  private readonly timeoutMs: number;
  private readonly expectStream?: string;
  private queued: Array<() => void> = [];

  constructor(
    private readonly js: JetStreamClient,
    options: EventPublisherOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.expectStream = options.expectStream;
  }

  /** Publishes `data` with `Nats-Msg-Id` = `msgId` (JetStream dedups retries of the same event). */
  async publish(
    subject: string,
    data: Uint8Array,
    options: { msgId: string; headers?: Record<string, string>; trace?: Context },
  ): Promise<PublishResult> {
    const publishOptions: Partial<JetStreamPublishOptions> = { msgID: options.msgId, timeout: this.timeoutMs };
    const hdrs = natsHeaders();
    for (const [key, value] of Object.entries(options.headers ?? {})) hdrs.set(key, value);
    // W3C `traceparent` of the caller's span (given, else the active one): the worker continues the trace from it
    injectIntoNatsHeaders(hdrs, options.trace);
    if (hdrs.keys().length > 0) publishOptions.headers = hdrs;
    if (this.expectStream) publishOptions.expect = { streamName: this.expectStream };

    let timer: NodeJS.Timeout | undefined;
    // nats.js enforces the request timeout itself; this guard also covers anything awaited before the request
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JetStreamUnavailableError('timeout')), this.timeoutMs + 250);
    });
    try {
      const sent = new Promise<PubAck>((resolve, reject) =>
        // js.publish is async: a failure is its rejected promise, never a throw that would stop the loop turn's run
        this.whenLoopTurns(() => void this.js.publish(subject, data, publishOptions).then(resolve, reject)),
      );
      const ack = await Promise.race([sent, guard]);
      if (!ack || typeof ack.seq !== 'number' || ack.seq <= 0) throw new JetStreamUnavailableError('unknown');
      return { seq: ack.seq, duplicate: ack.duplicate === true };
    } catch (error) {
      if (error instanceof JetStreamUnavailableError) throw error;
      throw new JetStreamUnavailableError(classify(error), { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `start` with every other publish asked for in this turn of the loop, in one synchronous run. */
  private whenLoopTurns(start: () => void): void {
    this.queued.push(start);
    if (this.queued.length > 1) return;
    setImmediate(() => {
      const starts = this.queued;
      this.queued = [];
      for (const run of starts) run();
    });
  }
}
