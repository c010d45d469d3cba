import { ConfigError } from '../errors/opsmate-error.js';

/** Parses a positive number of seconds from a flag into milliseconds, or throws a ConfigError. */
export function parseSeconds(text: string, flag: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(
      `${flag} ${JSON.stringify(text)} is not valid: expected a positive number of seconds`,
    );
  }
  return Math.round(seconds * 1000);
}
