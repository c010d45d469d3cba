import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';
import { addInventoryOption, commandCatalog, discoveredCatalog } from '../target-options.js';

export function listTargetsCommand(context: CliContext): Command {
  const command = new Command('list-targets')
    .summary('list the named targets and groups -t can choose')
    .description(
      'List the targets of the config file (targets:) and of Ansible inventories (targets: entries with inventory:, and --inventory), and their groups. Reads, checks and connects nowhere: a bad entry is an error naming its line. Selector groups (docker labels, k8s label selectors, ~/.ssh/config Host patterns) are found when used; --discover looks them up now.',
    );
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel', 'config']);
  addInventoryOption(command);
  command.option(
    '--discover',
    'look up the selector groups now (docker ps, kubectl get pods, ~/.ssh/config)',
  );
  command.addOption(outputOption());
  command.action(async (_options, self: Command) => {
    const { output, discover } = self.opts<{ output?: string; discover?: boolean }>();
    const format = parseOutputFormat(output);
    const catalog = discover
      ? await discoveredCatalog(self, context, ['all'])
      : commandCatalog(self, context);
    const targets = [...catalog.targets.values()];
    const groups = [...catalog.groups].map(([name, members]) => ({
      name,
      members,
      from: catalog.groupSources.get(name) ?? '',
      ...(catalog.selectorGroups.has(name) ? { found: !catalog.unresolved.has(name) } : {}),
    }));
    if (format === 'json') {
      writeJson(context.stdout, {
        targets: targets.map((target) => ({
          name: target.name,
          runtime: target.runtime,
          fields: target.summary,
          from: target.from,
        })),
        groups,
      });
      return;
    }
    if (targets.length === 0 && groups.length === 0) {
      context.stdout.write(
        'No targets: add a targets: section to the config file (see docs/targets.md), or give --inventory FILE.\n',
      );
      return;
    }
    const isTerminal = Boolean(context.stdout.isTTY);
    context.stdout.write(
      await renderTable({
        title: 'Targets',
        head: ['Name', 'Runtime', 'Fields', 'From'],
        rows: targets.map((target) => [target.name, target.runtime, target.summary, target.from]),
        isTerminal,
      }),
    );
    if (groups.length > 0)
      context.stdout.write(
        `\n${await renderTable({
          title: 'Groups',
          head: ['Group', 'Targets', 'From'],
          rows: [{ name: 'all', members: targets.map((target) => target.name), from: '' }, ...groups].map(
            (group) => [
              group.name,
              'found' in group && !group.found
                ? 'found when used (--discover)'
                : `${group.members.length}: ${abbreviate(group.members)}`,
              group.from,
            ],
          ),
          isTerminal,
        })}`,
      );
  });
  return command;
}

function abbreviate(names: readonly string[]): string {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 5).join(', ')}, … ${names.at(-1)}`;
}
