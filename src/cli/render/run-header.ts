import type { Colors } from '../terminal/terminal-style.js';

/** What the one-line header of a run says. */
export interface RunHeader {
  /** `run`, `solve`, `exec`, `chat`. */
  command: string;
  /** `provider:model`; absent for `exec`, which uses no model. */
  model?: string;
  /** The runtime's name and its target facts (`docker`, `{ container: 'web' }`). */
  runtime: string;
  target: Record<string, string>;
  /** The policy profile commands are judged with. */
  profile: string;
  /** `on` with -r/--review, `--yes` when exec approves what the policy asks, else `off`. */
  review: 'on' | 'off' | '--yes';
}

/**
 * `opsmate solve · openai:gpt-4o · ssh (host db-1) · policy read-only · review off`: where the
 * commands will run and how they are guarded, printed before the first one (issue 12, section 5).
 * Target values are shown as given (host and container names); control characters are escaped so
 * a name cannot forge more lines.
 */
export function formatRunHeader(header: RunHeader, colors: Colors): string {
  const parts = [
    ...(header.model ? [header.model] : []),
    formatWhere(header.runtime, header.target),
    `policy ${header.profile}`,
    `review ${header.review}`,
  ];
  return `${colors.bold(`opsmate ${header.command}`)} ${colors.dim(`· ${parts.join(' · ')}`)}`;
}

/** `ssh (host db-1, user ops)`: a runtime and its target facts, control characters escaped. */
export function formatWhere(runtime: string, target: Record<string, string>): string {
  const facts = Object.entries(target)
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${key} ${printable(value)}`)
    .join(', ');
  return facts ? `${runtime} (${facts})` : runtime;
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
