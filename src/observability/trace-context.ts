import { randomUUID } from 'node:crypto';

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
  // randomUUID draws from a buffered pool: far cheaper per request than randomBytes on the webhook hot path.
  const fresh = randomUUID().replace(/-/g, '');
  const traceId = match && !/^0+$/.test(match[1]) ? match[1] : fresh;
  const spanId = (traceId === fresh ? randomUUID().replace(/-/g, '') : fresh).slice(0, 16);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${match?.[3] ?? '01'}` };
}

/** The trace id of a `traceparent` value, or null. */
export function traceIdOf(traceparent: string | undefined | null): string | null {
  return traceparent ? (TRACEPARENT.exec(traceparent.trim().toLowerCase())?.[1] ?? null) : null;
}
