import { SHELL_LANGUAGE, type CommandLanguage } from '../runtime/contract.js';

/** What the model is told about its own session, from the settings it actually runs with. */
export interface SessionFacts {
  /** When the session starts. */
  now: Date;
  /** The opsmate machine's time zone name (`Intl`), e.g. `Europe/Berlin`. */
  timeZone?: string;
  /**
   * Rounds of tool calls the model may make for one request before it must answer: `run` has one,
   * `solve` and `chat` have `--max-iter`.
   */
  toolRounds: number;
  /** The command policy's profile: `read-only`, `ask-destructive` or `allow-all`. */
  profile: string;
  /** Someone can be asked: a terminal reviewer. Without one, whatever needs approval is refused. */
  canAsk: boolean;
  /** `-r/--review`: every command and change is reviewed. */
  reviewAll: boolean;
  language: CommandLanguage;
}

/** The session facts as a few lines of the system prompt. */
export function describeSession(facts: SessionFacts): string {
  const shell = facts.language.id === SHELL_LANGUAGE.id;
  const lines = [
    'This session:',
    `- Current time: ${formatTime(facts.now, facts.timeZone)}. The target's clock may differ; run \`date\` there when exact times matter.`,
  ];
  lines.push(
    facts.toolRounds <= 1
      ? '- Budget: ONE round of tool calls for this request (several calls in that round are fine); after it you must answer from what you got, without calling tools.'
      : `- Budget: up to ${facts.toolRounds} rounds of tool calls for this request; after the last one you must answer from what you have. Plan for it: a few well-chosen calls, several independent ones in the same round.`,
  );
  lines.push(`- Changes: ${changes(facts, shell)}`);
  lines.push('- Every command and tool call is recorded in an audit log.');
  return lines.join('\n');
}

function changes(facts: SessionFacts, shell: boolean): string {
  const what = shell ? 'commands' : 'statements';
  const refused =
    'refused, because there is no operator to ask: do not try to work around a refusal; say in your answer what should be changed and why';
  const asked =
    'shown to the operator first, who approves, edits or declines them; a declined call comes back saying so';
  if (facts.reviewAll) {
    return facts.canAsk
      ? `the operator reviews every one of your ${what} and file changes before it runs (approve, edit or decline).`
      : `every ${shell ? 'command' : 'statement'} would be reviewed, but there is no terminal to ask, so nothing runs.`;
  }
  const how = facts.canAsk ? asked : refused;
  switch (facts.profile) {
    case 'read-only':
      return `only ${what} the policy recognises as read-only run by themselves. Anything else (writes, restarts, installs, file changes, ${what} it cannot fully read) is ${how}.`;
    case 'ask-destructive':
      return `${what} run by themselves unless the policy sees them as destructive (deletes, overwrites, writes into system paths, stopping critical services, drops...); those are ${how}.`;
    case 'allow-all':
      return `${what} and file changes run without asking (the operator's deny rules still apply). Make only the changes the request needs, and say what you changed.`;
    default:
      return `the ${facts.profile} policy decides; what needs approval is ${how}.`;
  }
}

function formatTime(now: Date, timeZone: string | undefined): string {
  const utc = `${now
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} UTC`;
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return utc;
  const offsetMinutes = -now.getTimezoneOffset();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
  return `${utc} (the opsmate machine's time zone is ${timeZone}, UTC${sign}${hours}:${minutes})`;
}
