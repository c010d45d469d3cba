import { hasHidingCharacters, visibleText } from './visible-text.js';
import type { CommandReviewer, ReviewDecision, ReviewRequest } from '../../runtime/command-review.js';
import { askLine } from './ask-line.js';
import type { Colors } from './terminal-style.js';
import type { Spinner } from './spinner.js';

/**
 * `--review` on a terminal: shows each command with its target and asks to run it as is, edit
 * it, or cancel it (with a reason the model is told). Ctrl-C or Ctrl-D at the question cancels.
 */
export class TerminalReviewer implements CommandReviewer {
  readonly #input: NodeJS.ReadStream;
  readonly #output: NodeJS.WriteStream;
  readonly #colors: Colors;
  readonly #spinner: Spinner | undefined;
  readonly #showCommand: boolean;
  readonly #onQuitTurn: (() => void) | undefined;

  constructor(options: {
    input: NodeJS.ReadStream;
    output: NodeJS.WriteStream;
    colors: Colors;
    spinner?: Spinner;
    /** Print the command in the review; false where it was just shown (the agent prints `$ cmd`). */
    showCommand?: boolean;
    /**
     * Offers `[q]uit turn`: the command is not run and this is called, for the caller to end the
     * model's turn. Without it, `q` is not offered.
     */
    onQuitTurn?: () => void;
  }) {
    this.#input = options.input;
    this.#output = options.output;
    this.#colors = options.colors;
    this.#spinner = options.spinner;
    this.#showCommand = options.showCommand ?? true;
    this.#onQuitTurn = options.onQuitTurn;
  }

  async review(request: ReviewRequest, options: { signal?: AbortSignal } = {}): Promise<ReviewDecision> {
    const decision = await this.#review(request, options);
    // An approved command runs now, and may print nothing for a while: never a blank screen.
    if (decision.action === 'approve' || decision.action === 'edit') this.#spinner?.resume?.();
    return decision;
  }

  async #review(request: ReviewRequest, options: { signal?: AbortSignal }): Promise<ReviewDecision> {
    this.#spinner?.stop();
    const c = this.#colors;
    const where = Object.entries(request.target)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ');
    this.#output.write(
      `\n${c.bold(c.yellow('Review'))} ${c.dim(`(${request.runtime}${where ? ` ${where}` : ''})`)}\n`,
    );
    // What the reviewer reads must be what would run: control characters are shown, not obeyed.
    if (request.reason) this.#output.write(`${c.dim(visibleText(request.reason))}\n`);
    if (this.#showCommand) this.#output.write(`  ${c.bold(visibleText(request.command))}\n`);
    const hidden = hasHidingCharacters(request.command);
    if (hidden) {
      this.#output.write(
        `${c.yellow('The command holds control characters (shown as \\x.. above); it cannot be edited here.')}\n`,
      );
    }
    if (request.preview !== undefined) this.#output.write(previewText(request.preview, c));
    const toolCall = request.kind === 'tool-call';
    for (;;) {
      // A command the policy flagged needs an explicit yes: Enter alone must not run `rm -rf`.
      const flagged = request.reason !== undefined;
      // A tool call has no command prefix to allow from now on.
      const remembers = flagged && !toolCall;
      const always = remembers ? ` / ${c.bold('a')}lways` : '';
      const quit = this.#onQuitTurn ? ` / ${c.bold('q')}uit turn` : '';
      const answer = await this.#ask(
        flagged
          ? `Run it? ${c.bold('y')}es / ${c.bold('e')}dit${always} / ${c.bold('n')}o${quit}: `
          : `Run it? ${c.bold('[Y]')}es / ${c.bold('e')}dit / ${c.bold('n')}o${quit}: `,
        options.signal,
      );
      if (answer === undefined) return { action: 'cancel', reason: 'the user cancelled the review' };
      const word = answer.trim().toLowerCase();
      if (this.#onQuitTurn && (word === 'q' || word === 'quit')) {
        this.#onQuitTurn();
        return { action: 'cancel', reason: 'the user ended the turn in review' };
      }
      if ((word === '' && !flagged) || word === 'y' || word === 'yes') return { action: 'approve' };
      if (remembers && (word === 'a' || word === 'always')) {
        if (hidden) {
          this.#output.write('A command with control characters cannot be allowed for later.\n');
          continue;
        }
        // The command as suggested is allowed exactly; shortened, as a prefix of later commands.
        const suggested = request.suggestedPrefix ?? request.command;
        const prefix = await this.#ask(
          'Allow this command (shorten it to allow every command starting with it): ',
          options.signal,
          suggested,
        );
        if (prefix === undefined || prefix.trim() === '') continue;
        const words = (text: string): string => text.trim().split(/\s+/).join(' ');
        const exact = words(prefix) === words(suggested);
        const scope = await this.#ask(
          `Remember it for this ${c.bold('s')}ession or save it to the policy ${c.bold('f')}ile? `,
          options.signal,
        );
        if (scope === undefined) return { action: 'cancel', reason: 'the user cancelled the review' };
        return {
          action: 'approve',
          remember: {
            prefix: prefix.trim(),
            match: exact ? 'exact' : 'prefix',
            command: suggested,
            scope: /^f/i.test(scope.trim()) ? 'policy-file' : 'session',
          },
        };
      }
      if (word === 'e' || word === 'edit') {
        if (hidden) {
          this.#output.write('Decline it (n) and tell the model why, or approve it as shown (y).\n');
          continue;
        }
        const edited = await this.#ask(toolCall ? 'Call: ' : 'Command: ', options.signal, request.command);
        if (edited === undefined || edited.trim() === '') {
          return { action: 'cancel', reason: 'the user cleared the command while editing it' };
        }
        return edited.trim() === request.command.trim()
          ? { action: 'approve' }
          : { action: 'edit', command: edited };
      }
      if (word === 'n' || word === 'no') {
        const reason = await this.#ask('Why not? (told to the model, Enter to skip): ', options.signal);
        const text = reason?.trim();
        return {
          action: 'cancel',
          reason: text ? `the user declined: ${text}` : 'the user declined to run it',
        };
      }
      const letters = [remembers ? 'y, e, a' : 'y, e', 'n', ...(this.#onQuitTurn ? ['q'] : [])];
      this.#output.write(`Answer ${letters.slice(0, -1).join(', ')} or ${letters.at(-1)}.\n`);
    }
  }

  async #ask(prompt: string, signal: AbortSignal | undefined, prefill?: string): Promise<string | undefined> {
    const result = await askLine({
      input: this.#input,
      output: this.#output,
      prompt,
      ...(prefill !== undefined ? { prefill } : {}),
      ...(signal ? { signal } : {}),
    });
    return result.kind === 'line' ? result.text : undefined;
  }
}

/** Lines of a preview shown at most before the question; the rest is counted. */
const PREVIEW_LINES = 200;

/** A unified diff (or any preview) for the terminal: additions green, removals red, hunks cyan. */
function previewText(preview: string, c: Colors): string {
  const lines = preview.split('\n');
  // File content can hold terminal control sequences too: shown, not obeyed.
  const shown = lines.slice(0, PREVIEW_LINES).map((raw) => {
    const line = visibleText(raw);
    if (line.startsWith('+++') || line.startsWith('---')) return c.bold(line);
    if (line.startsWith('+')) return c.green(line);
    if (line.startsWith('-')) return c.red(line);
    if (line.startsWith('@@')) return c.cyan(line);
    return line;
  });
  if (lines.length > PREVIEW_LINES) shown.push(c.dim(`[... ${lines.length - PREVIEW_LINES} more lines]`));
  return `${shown.join('\n')}\n`;
}
