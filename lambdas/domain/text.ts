/** True when `value` holds a C0 control character (NUL, CR, LF, TAB, …) or DEL: never valid in a header or a name. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Longest prefix of a client-supplied string echoed back in a message, a response or a log line. */
export const ECHO_PREFIX = 64;

/**
 * A bounded, quoted echo of a client-supplied string for messages: the string itself when short, else its first
 * {@link ECHO_PREFIX} characters and its length. Constant size whatever the input, so an error about a 6 MB field
 * is as cheap to build, log and return as one about a short one.
 */
export function excerpt(value: string, max = ECHO_PREFIX): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}... (${value.length} characters)`;
}

/**
 * A bounded stand-in for any client-supplied value in `details.value`: small values as given (so a caller sees its
 * own input), anything larger or deeper as a JSON excerpt of at most `max` characters. The walk stops as soon as the
 * budget is spent, so its cost is bounded by `max`, not by the size or depth of the value.
 */
export function boundedValue(value: unknown, max = 200): unknown {
  if (value === undefined) return null;
  if (typeof value === 'string') return value.length <= max ? value : `${value.slice(0, max)}... (${value.length} characters)`;
  if (Array.isArray(value) && value.length > 10) return `[array of ${value.length} items]`;
  const out = { text: '', full: true };
  writeBounded(value, out, max);
  return out.full ? value : `${out.text}...`;
}

function writeBounded(value: unknown, out: { text: string; full: boolean }, max: number): void {
  const room = () => out.text.length < max;
  if (!room()) {
    out.full = false;
    return;
  }
  if (Array.isArray(value)) {
    out.text += '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.text += ',';
      writeBounded(value[i], out, max);
      if (!out.full) return;
    }
    out.text += ']';
  } else if (value !== null && typeof value === 'object') {
    out.text += '{';
    let first = true;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (!first) out.text += ',';
      first = false;
      out.text += `${excerpt(key, max)}:`;
      writeBounded((value as Record<string, unknown>)[key], out, max);
      if (!out.full) return;
    }
    out.text += '}';
  } else {
    out.text += typeof value === 'string' ? excerpt(value, max) : String(JSON.stringify(value) ?? null);
  }
  if (out.text.length > max) {
    out.text = out.text.slice(0, max);
    out.full = false;
  }
}

// A run of characters that may belong to an address: no whitespace, quotes, brackets or list separators.
const ADDRESS_RUN = /[^\s"'<>,;:()[\]]+/g;
const HAS_ADDRESS = /[^@]@[^@]/;

/**
 * Replaces every run of text that holds an address-like `x@y` with `<address>`, for text that goes to logs and
 * metrics. Linear in the length of `text`: each character is visited by one run match and one containment test.
 */
export function redactAddresses(text: string): string {
  return text.replace(ADDRESS_RUN, (run) => (HAS_ADDRESS.test(run) ? '<address>' : run));
}
