/**
 * Quotes a value as one POSIX shell word. Single quotes keep every byte literal, so the result
 * is safe for any input; NUL cannot be passed to a shell at all and is rejected.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new TypeError('a shell word cannot contain a NUL byte');
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each word and joins them with spaces: a command line for `sh -c` or a remote shell. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** True for names a POSIX shell accepts as a variable name. */
export function isShellVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
