/** What a provider's key of one kind looks like: checked without a network call, described precisely when it is off. */
export interface KeyShape {
  /** How the message names the field, e.g. "The secret key". */
  label: string;
  /** Accepted prefixes for the chosen mode, the first one named first (e.g. `sk_test_`, `rk_test_`). */
  prefixes: readonly string[];
  /** Prefixes of the other mode, to say "this is a LIVE key" rather than just "wrong prefix". */
  otherModePrefixes: readonly string[];
  mode: 'test' | 'live';
  /** Characters allowed after the prefix, and how to name them. */
  body: RegExp;
  bodyChars: string;
  /** Minimum length of the whole key (prefix included), and where the user finds a full one. */
  minLength: number;
  where: string;
}

function describeChar(char: string): string {
  if (char === ' ') return 'a space';
  if (/\s/.test(char)) return 'a line break or tab';
  const code = char.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f)
    return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return code > 0x7e ? `a non-ASCII character (“${char}”)` : `“${char}”`;
}

/**
 * The one problem of a key value, or null: the prefix (naming the mode it belongs to), then the characters
 * (which one, where), then the length. Never repeats the value, only its length and the offending character.
 */
export function keyProblem(value: string, shape: KeyShape): string | null {
  const { label, prefixes, mode, minLength, where } = shape;
  const modeName = mode.toUpperCase();
  const expected = prefixes.length > 1 ? `${prefixes[0]} (or ${prefixes.slice(1).join(', ')})` : prefixes[0];
  const prefix = prefixes.find((candidate) => value.startsWith(candidate));
  if (!prefix) {
    const otherMode = shape.otherModePrefixes.some((candidate) => value.startsWith(candidate));
    if (otherMode) {
      const other = mode === 'test' ? 'LIVE' : 'TEST';
      return `${label} is a ${other} mode key but mode is ${modeName}: use a key starting with ${expected}, or set mode: ${other}`;
    }
    const inMode = shape.otherModePrefixes.length ? ` in ${modeName} mode` : '';
    return `${label} must start with ${expected}${inMode} (${where})`;
  }
  const rest = value.slice(prefix.length);
  const bad = [...rest].findIndex((char) => !shape.body.test(char));
  if (bad >= 0) {
    const char = [...rest][bad];
    const position = [...prefix].length + bad + 1;
    return `${label} contains ${describeChar(char)} at position ${position}: after ${prefix} it may contain only ${shape.bodyChars} (copy it again from ${where})`;
  }
  if (value.length < minLength) {
    return `${label} is too short: ${value.length} characters, where a full key has at least ${minLength} — it looks cut off (copy it again from ${where})`;
  }
  return null;
}
