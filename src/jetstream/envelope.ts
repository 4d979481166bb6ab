import { UUID } from '../uuid.js';
import { isProvider, SettlementError, type Provider } from '../vocabulary/index.js';

/** What travels through JetStream: the verified provider event plus where it belongs. */
export interface EventEnvelope {
  provider: Provider;
  workspaceId: string;
  receivedAt: string;
  /** The provider's event exactly as verified (its JSON body, or what the adapter carries for it). */
  event: unknown;
}

/** The envelope's bytes around the verified body, embedded as it is: no re-serialisation on the webhook hot path. */
export function encodeEnvelope(provider: Provider, workspaceId: string, body: Buffer, receivedAt = new Date()): Buffer {
  return Buffer.concat([
    Buffer.from(
      `{"provider":"${provider}","workspaceId":"${workspaceId}","receivedAt":"${receivedAt.toISOString()}","event":`,
    ),
    body,
    Buffer.from('}'),
  ]);
}

/** Parses a message body; a malformed one is a SettlementError (it can never apply). */
export function parseEnvelope(data: Uint8Array): EventEnvelope {
  let parsed: unknown;
  try {
    // a view on the message's bytes, not a copy of them
    parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    throw new SettlementError('message body is not JSON');
  }
  const envelope = parsed as Partial<EventEnvelope> | null;
  if (
    !isProvider(envelope?.provider) ||
    typeof envelope.workspaceId !== 'string' ||
    !UUID.test(envelope.workspaceId) ||
    envelope.event === undefined
  ) {
    throw new SettlementError('message is not an event envelope');
  }
  return envelope as EventEnvelope;
}
