import { randomBytes } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C trace context (`traceparent`), the OpenTelemetry wire format. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  traceparent: string;
}

/** Continues the caller's trace when a valid `traceparent` came in, else starts one; always a new span id. */
export function continueTrace(incoming: string | string[] | undefined): TraceContext {
  const match = typeof incoming === 'string' ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null;
  const traceId = match && !/^0+$/.test(match[1]) ? match[1] : randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${match?.[3] ?? '01'}` };
}

/** The trace id of a `traceparent` value, or null. */
export function traceIdOf(traceparent: string | undefined | null): string | null {
  return traceparent ? (TRACEPARENT.exec(traceparent.trim().toLowerCase())?.[1] ?? null) : null;
}
