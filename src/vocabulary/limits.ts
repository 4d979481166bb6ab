/** Longest refund reason (it is also sent as provider metadata, which providers cap at 500 characters). */
export const MAX_REFUND_REASON = 500;

/** Longest client idempotency key of `refundPayment` (it is sent on to the provider inside our own key). */
export const MAX_IDEMPOTENCY_KEY = 200;

/** The rules `refundPayment` enforces on `idempotencyKey`, in words (the GraphQL description states them). */
export const IDEMPOTENCY_KEY_RULES = `1-${MAX_IDEMPOTENCY_KEY} printable ASCII characters (letters, digits and punctuation such as - _ : . /); no spaces, tabs or line breaks inside it and no non-ASCII characters. Leading and trailing whitespace is trimmed`;

/** Why a client idempotency key (already trimmed) is refused, or null. */
export function idempotencyKeyProblem(key: string): string | null {
  if (key.length === 0) return 'idempotencyKey must not be empty';
  if (key.length > MAX_IDEMPOTENCY_KEY)
    return `idempotencyKey must be at most ${MAX_IDEMPOTENCY_KEY} characters (it has ${key.length})`;
  const bad = [...key].findIndex((char) => !/^[\x21-\x7e]$/.test(char));
  if (bad < 0) return null;
  const char = [...key][bad];
  const what = /\s/.test(char)
    ? 'a space or other whitespace'
    : char > '\x7e'
      ? 'a non-ASCII character'
      : 'a control character';
  return `idempotencyKey must not contain spaces, control or non-ASCII characters; it has ${what} at position ${bad + 1}`;
}
