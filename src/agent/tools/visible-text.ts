/** A run of one control character: C0 but tab and line feed, DEL, and C1. */
// eslint-disable-next-line no-control-regex
const CONTROL_RUN = /([\x00-\x08\x0b-\x1f\x7f\x80-\x9f])\1*/g;

/**
 * Shows control bytes of a text so nothing hides in it: NUL and other C0 controls (but tab and
 * line feed, and CR before LF), DEL and C1 controls become `\xNN` escapes, runs of the same one
 * collapsed (`\x00 ×4096`). Returns the text and how many bytes were escaped.
 */
export function escapeControlCharacters(text: string): { text: string; escaped: number; nul: number } {
  let escaped = 0;
  let nul = 0;
  const shown = text.replace(CONTROL_RUN, (run: string, char: string, offset: number) => {
    const code = char.charCodeAt(0);
    if (code === 0x0d && run.length === 1 && text[offset + 1] === '\n') return run;
    escaped += run.length;
    if (code === 0) nul += run.length;
    const escape = `\\x${code.toString(16).padStart(2, '0')}`;
    return run.length > 3 ? `${escape} ×${run.length}` : escape.repeat(run.length);
  });
  return { text: shown, escaped, nul };
}
