import { Option, type Command } from 'commander';
import {
  discoverTargets,
  selectTargets,
  targetCatalog,
  type TargetCatalog,
  type TargetSpec,
} from '../targets/resolve-targets.js';
import type { CliContext } from './cli-context.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `-t/--target NAME` (repeatable) and `--inventory FILE` (repeatable), for commands that run commands. */
export function addTargetOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '-t, --target <NAME>',
        'where commands run: a target or group of `targets:` or an inventory, an Ansible pattern (web:&prod, all:!db-1), or a URI (ssh://user@host:port, docker://container, compose://file#service, k8s://namespace/pod, local://); repeatable. Without it, --shell-command-runtime and its --runtime-* options choose',
      ).argParser(collect),
    )
    .addOption(inventoryOption());
}

function inventoryOption(): Option {
  return new Option(
    '--inventory <FILE>',
    'an Ansible inventory (INI or YAML) whose hosts and groups -t can name; repeatable',
  ).argParser(collect);
}

/** `--inventory FILE` (repeatable) alone, for commands that list targets but run nothing. */
export function addInventoryOption(command: Command): Command {
  return command.addOption(inventoryOption());
}

/**
 * The catalog of targets this command sees: `targets:` and `--inventory` files. Selector groups
 * are looked up only when `values` (the `-t` values, or a `--fleet` group) reach them.
 */
export function commandCatalog(command: Command, context: CliContext): TargetCatalog {
  return targetCatalog(catalogOptions(command, context));
}

/** {@link commandCatalog} with the selector groups `values` reach looked up (`docker ps`, `kubectl get pods`). */
export async function discoveredCatalog(
  command: Command,
  context: CliContext,
  values: readonly string[],
): Promise<TargetCatalog> {
  return discoverTargets({ ...catalogOptions(command, context), values });
}

function catalogOptions(command: Command, context: CliContext): Parameters<typeof targetCatalog>[0] {
  const { inventory } = command.opts<{ inventory?: string[] }>();
  return {
    config: context.config,
    registry: context.registry,
    ...(inventory ? { inventories: inventory } : {}),
  };
}

/** What `-t` chose: the targets in order, and whether it named a group or pattern (a fleet). */
export interface TargetChoice {
  targets: TargetSpec[];
  /** A group, a pattern or several `-t`: results are per target even when one target matched. */
  fleet: boolean;
}

/**
 * The targets `-t` chose, in order; none when `-t` was not given (then `--shell-command-runtime`
 * chooses, as before). Throws a ConfigError for a name that is not known, before anything connects.
 */
export async function chosenTargets(command: Command, context: CliContext): Promise<TargetChoice> {
  const { target } = command.opts<{ target?: string[] }>();
  if (!target || target.length === 0) return { targets: [], fleet: false };
  const catalog = await discoveredCatalog(command, context, target);
  const targets = selectTargets(target, catalog, context.registry);
  const single =
    target.length === 1 &&
    (target[0]!.includes('://') || (catalog.targets.has(target[0]!) && !catalog.groups.has(target[0]!)));
  return { targets, fleet: !single };
}
