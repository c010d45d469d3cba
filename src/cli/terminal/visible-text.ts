/**
 * Characters that can change what a terminal shows, or hide text, when printed as they are:
 * C0 controls (CR, ESC, backspace...), DEL, C1 controls, bidirectional overrides and isolates,
 * and zero-width characters. Tab and line feed are left to the caller.
 */
const HIDING =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** True when `text` holds a character {@link visibleText} would escape. */
export function hasHidingCharacters(text: string): boolean {
  HIDING.lastIndex = 0;
  return HIDING.test(text);
}

/**
 * Text from the model or the target, made safe to print on a terminal: every character that could
 * move the cursor, erase, recolour or reorder what is shown becomes a visible escape (`\r`, `\x1b`,
 * `\u202e`), so what a reviewer reads is what would run. Line feeds and tabs stay.
 */
export function visibleText(text: string): string {
  return text.replace(HIDING, (character) => {
    const code = character.codePointAt(0)!;
    if (character === '\r') return '\\r';
    if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
