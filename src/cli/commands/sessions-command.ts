import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context.js';
import { readSettings } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';

export function sessionsCommand(context: CliContext): Command {
  const sessions = new Command('sessions').summary('list and show the saved sessions of run, solve and chat');
  const list = new Command('list')
    .summary('list saved sessions, the last used first')
    .description(
      'List the sessions saved in <home>/sessions: id, when, which command, model and target, turns, tokens and the ' +
        'first instruction. `opsmate sessions show ID` prints one; `opsmate chat --resume ID` goes on with it.',
    )
    .addOption(new Option('-n, --limit <N>', 'show at most N sessions [default: 20]'))
    .addOption(outputOption());
  list.action(async (options: { limit?: string; output?: string }, self: Command) => {
    const format = parseOutputFormat(options.output);
    const limit = options.limit === undefined ? 20 : Number(options.limit);
    const { sessionStoreFor } = await import('../agent/session-recorder.js');
    const store = sessionStoreFor(readSettings(self, context));
    const found = store.list();
    const shown = Number.isInteger(limit) && limit > 0 ? found.slice(0, limit) : found;
    if (format === 'json') {
      writeJson(context.stdout, shown);
      return;
    }
    if (found.length === 0) {
      context.stderr.write(`opsmate: no sessions saved in ${store.dir} yet\n`);
      return;
    }
    context.stdout.write(
      await renderTable({
        title: 'Sessions',
        head: ['ID', 'Last turn', 'Command', 'Model', 'Target', 'Turns', 'Tokens', 'First instruction'],
        rows: shown.map((summary) => [
          summary.id,
          summary.updatedAt.replace('T', ' ').slice(0, 19),
          summary.kind,
          summary.model,
          [summary.runtime, ...Object.values(summary.target)].join(' '),
          String(summary.turns),
          String(summary.usage.totalTokens),
          summary.title.length > 60 ? `${summary.title.slice(0, 59)}…` : summary.title,
        ]),
        isTerminal: Boolean(context.stdout.isTTY),
      }),
    );
    if (shown.length < found.length) {
      context.stderr.write(`opsmate: ${found.length - shown.length} older sessions not shown (--limit)\n`);
    }
  });
  const show = new Command('show')
    .summary('print one session as a readable incident write-up')
    .description(
      'Print a saved session: target, model, and for every turn the instruction, the commands with their exit ' +
        'status and duration, the thoughts and the answer. --markdown writes it as Markdown for a ticket or a ' +
        'post-mortem; -o json prints the whole record (messages as the model saw them, masked).',
    )
    .argument('<id>', 'a session id, its start, or its last 4 letters; `last` for the latest')
    .addOption(new Option('--markdown', 'write Markdown'))
    .addOption(outputOption());
  show.action(async (id: string, options: { markdown?: boolean; output?: string }, self: Command) => {
    const format = parseOutputFormat(options.output);
    const { sessionStoreFor } = await import('../agent/session-recorder.js');
    const { sessionWriteUp } = await import('../../sessions/session-write-up.js');
    const store = sessionStoreFor(readSettings(self, context));
    const record = id === 'last' ? store.latest() : store.load(id);
    if (!record) {
      const { ConfigError } = await import('../../errors/opsmate-error.js');
      throw new ConfigError(`no sessions saved in ${store.dir} yet`);
    }
    if (format === 'json') writeJson(context.stdout, record);
    else context.stdout.write(sessionWriteUp(record, { markdown: Boolean(options.markdown) }));
  });
  sessions.addCommand(list);
  sessions.addCommand(show);
  return sessions;
}
