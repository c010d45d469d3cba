import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addRuntimeOptions, addSettingOptions, readSettings } from '../field-options.js';
import { createRuntimeFromFlags } from '../open-runtime.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { addTargetOptions, chosenTargets } from '../target-options.js';

export function policyCommand(context: CliContext): Command {
  const policy = new Command('policy').summary('check commands against the command policy');
  const check = new Command('check')
    .summary('print whether a command would be allowed, asked about or denied, and by which rule')
    .description(
      'Print the decision for a command in the chosen runtime and target: allow, ask or deny on the ' +
        'first line, then the profile, the rule that decided, the part of the command it is about and ' +
        'why, then every part with its own decision. The profile is the one the agent would use ' +
        '(--policy-profile, else the policy file, else read-only). Nothing runs and nothing ' +
        'connects (a selector group given to -t is looked up). With -t GROUP, one decision per target, ' +
        'as each target can have its own rules. Exit 0 whatever the decision; 2 for a bad policy file or flags.',
    )
    .argument('<command...>', 'the command; several words are joined with spaces')
    .addOption(outputOption());
  addSettingOptions(check, [
    'shellCommandRuntime',
    'policyFile',
    'policyProfile',
    'home',
    'pluginsDir',
    'loglevel',
  ]);
  addRuntimeOptions(check, context.registry, undefined, context.helpRuntime);
  addTargetOptions(check);
  check.action(async (words: string[], options: { output?: string }, self: Command) => {
    const format = parseOutputFormat(options.output);
    const settings = readSettings(self, context);
    const command = words.join(' ');
    const { targets, fleet } = await chosenTargets(self, context);
    const decisions = [];
    for (const target of targets.length > 0 ? targets : [undefined]) {
      const runtime = createRuntimeFromFlags({
        command: self,
        settings,
        context,
        ...(target ? { target } : {}),
      });
      decisions.push({
        ...(target ? { target: target.name } : {}),
        runtime: runtime.name,
        ...(await runtime.check(command)),
      });
    }
    process.exitCode = 0;
    if (format === 'json') {
      writeJson(context.stdout, fleet ? { command, targets: decisions } : { command, ...decisions[0]! });
      return;
    }
    context.stdout.write(
      decisions
        .map((decision) => {
          if (!fleet) return decisionLines(decision);
          const { target, ...rest } = decision;
          const indented = decisionLines(rest)
            .trimEnd()
            .split('\n')
            .map((line) => `  ${line}`);
          return `target ${target}\n${indented.join('\n')}\n`;
        })
        .join('\n'),
    );
  });
  policy.addCommand(check);
  return policy;
}

function decisionLines(
  decision: { target?: string } & Awaited<ReturnType<ReturnType<typeof createRuntimeFromFlags>['check']>>,
): string {
  const lines = [decision.action, `profile: ${decision.profile}`];
  if (decision.target !== undefined) lines.push(`target: ${decision.target}`);
  if (decision.language !== 'shell') lines.push(`language: ${decision.language}`);
  lines.push(`rule: ${decision.rule}`);
  if (decision.segment !== undefined) lines.push(`segment: ${decision.segment}`);
  lines.push(`reason: ${decision.reason}`);
  if (decision.parts.length > 1) {
    lines.push('parts:');
    for (const part of decision.parts)
      lines.push(`  ${part.action.padEnd(5)} ${part.subject}  [${part.rule}]`);
  }
  return `${lines.join('\n')}\n`;
}
