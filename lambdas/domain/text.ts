/** True when `value` holds a C0 control character (NUL, CR, LF, TAB, …) or DEL: never valid in a header or a name. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
