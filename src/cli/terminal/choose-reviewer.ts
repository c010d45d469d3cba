import type { CommandReviewer } from '../../runtime/command-review.js';
import { ApprovingReviewer, NoTerminalReviewer } from '../../safety/reviewers.js';
import type { CliContext } from '../cli-context.js';
import { TerminalReviewer } from './terminal-reviewer.js';
import { colorsFor } from './terminal-style.js';

/**
 * The reviewer for a command without a model (`exec`): `--yes` approves what the policy asks
 * about, a terminal prompts on stderr (stdout stays the command's), and without a terminal
 * everything that needs approval is refused at once.
 */
export function chooseReviewer(options: { yes: boolean; context: CliContext }): CommandReviewer {
  if (options.yes) return new ApprovingReviewer();
  const { context } = options;
  if (process.stdin.isTTY && context.stderr.isTTY) {
    return new TerminalReviewer({
      input: process.stdin,
      output: context.stderr,
      colors: colorsFor(context.stderr, context.env),
    });
  }
  return new NoTerminalReviewer();
}
