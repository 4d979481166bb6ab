/**
 * Request plumbing both fake providers share: raw-body capture, header recording and the injected
 * faults (latency, failures, outage, reset sockets). Each fake answers failures in its own wire format.
 */
import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';

export type FailureKind = number | 'reset';

/** Test-controlled misbehaviour of a fake's API. */
export class FaultControl {
  outage = false;
  readonly failures: FailureKind[] = [];
  latencyMs = 0;
  readonly rejectedKeys = new Set<string>();
}

const rawBodies = new WeakMap<IncomingMessage, string>();

/** `verify` hook for the body parsers: keeps the raw body for recording. */
export function keepRawBody(req: IncomingMessage, _res: unknown, buf: Buffer): void {
  rawBodies.set(req, buf.toString('utf8'));
}

/** The raw body `keepRawBody` kept ('' when there was none). */
export const rawBodyOf = (req: IncomingMessage): string => rawBodies.get(req) ?? '';

/** Path without query, independent of where a router is mounted. */
export const fullPath = (req: Request): string => req.originalUrl.split('?')[0];

/** The request headers with lower-case names, repeated ones joined with ", ". */
export function recordedHeaders(req: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * Waits out the injected latency, then takes the next injected failure: a queued one, else
 * `outageStatus` while the outage is on, else undefined (answer normally).
 */
export async function nextFailure(control: FaultControl, outageStatus: number): Promise<FailureKind | undefined> {
  if (control.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, control.latencyMs));
  return control.failures.shift() ?? (control.outage ? outageStatus : undefined);
}

/** Drops the connection without an answer, recorded with status -1. */
export function resetConnection(req: Request, record: { status: number } | undefined): void {
  if (record) record.status = -1;
  req.socket.destroy();
}
