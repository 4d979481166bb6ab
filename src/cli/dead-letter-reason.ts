import { isProvider, PROVIDERS } from '../vocabulary/index.js';
import { UUID } from '../uuid.js';

/** What the dead-letter forwarder records when settlement left no error for the message (it never got that far). */
export const NO_ERROR_RECORDED = 'unknown (no error recorded)';

/**
 * Why a stored message cannot be an event envelope (the checks settlement's envelope parser makes, spelled out), or
 * null when it is one.
 */
export function envelopeProblem(data: Uint8Array): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (error) {
    return `the body is not JSON (${error instanceof Error ? error.message : 'parse error'})`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the body is not a JSON object';
  const envelope = parsed as { provider?: unknown; workspaceId?: unknown; event?: unknown };
  if (!isProvider(envelope.provider))
    return `"provider" is ${JSON.stringify(envelope.provider) ?? 'missing'}, not one of ${PROVIDERS.join(', ')}`;
  if (typeof envelope.workspaceId !== 'string' || !UUID.test(envelope.workspaceId))
    return `"workspaceId" is ${JSON.stringify(envelope.workspaceId) ?? 'missing'}, not a uuid`;
  if (envelope.event === undefined) return 'it carries no "event"';
  return null;
}

/**
 * The reason a dead letter shows: its recorded last error, or — when none was recorded — what can be told from the
 * message itself (a malformed body never reaches settlement's inbox, so no error is recorded for it).
 */
export function deadLetterReason(lastError: string | null, data: Uint8Array): string {
  if (lastError && lastError !== NO_ERROR_RECORDED) return lastError;
  const problem = envelopeProblem(data);
  if (problem) return `malformed message: ${problem}; it can never settle (payments-ops dlq drop)`;
  return lastError ?? NO_ERROR_RECORDED;
}
