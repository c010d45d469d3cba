import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addRuntimeOptions, addSettingOptions, readSettings } from '../field-options.js';
import { createRuntimeFromFlags } from '../open-runtime.js';

export function policyCommand(context: CliContext): Command {
  const policy = new Command('policy').summary('check commands against the command policy');
  const check = new Command('check')
    .summary('print whether a command would be allowed, asked about or denied, and by which rule')
    .description(
      'Print the decision for a command in the chosen runtime and target: allow, ask or deny on the ' +
        'first line, then the rule that decided, the command segment it matched and why. Nothing runs ' +
        'and nothing connects. Exit 0 whatever the decision; 2 for a bad policy file or flags.',
    )
    .argument('<command...>', 'the shell command; several words are joined with spaces');
  addSettingOptions(check, ['shellCommandRuntime', 'policyFile', 'home', 'pluginsDir', 'loglevel']);
  addRuntimeOptions(check, context.registry);
  check.action((words: string[], _options, self: Command) => {
    const settings = readSettings(self, context.env);
    const runtime = createRuntimeFromFlags({ command: self, settings, context });
    const decision = runtime.check(words.join(' '));
    const lines = [decision.action, `rule: ${decision.rule}`];
    if (decision.segment !== undefined) lines.push(`segment: ${decision.segment}`);
    lines.push(`reason: ${decision.reason}`);
    context.stdout.write(`${lines.join('\n')}\n`);
    process.exitCode = 0;
  });
  policy.addCommand(check);
  return policy;
}
