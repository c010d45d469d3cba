import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConfigFileEntry, ConfigFileLayer, LoadedConfig } from '../config/load-config.js';
import { runtimeNaming } from '../config/option-names.js';
import { fieldNames } from '../config/resolve-config.js';
import { describeSchema, type FieldSpec } from '../config/schema-fields.js';
import { didYouMean } from '../config/did-you-mean.js';
import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import type { RuntimeDefinition, Runtime, RunOptions, RunResult } from '../runtime/contract.js';
import type { RuntimeRegistry } from '../runtime/runtime-registry.js';
import { readInventory, type Inventory, type InventoryHost } from './ansible-inventory.js';
import { isHostPattern, selectHosts } from './host-pattern.js';
import { targetsConfigSection, type TargetEntry } from './targets-config-section.js';

/** A target ready to be built: its runtime and where each of its fields is written. */
export interface TargetSpec {
  /** The name it is known by (`web-1`, an inventory host), or the URI as written. */
  name: string;
  /** True for a `-t ssh://...` URI given on the command line, which names itself. */
  isUri: boolean;
  runtime: string;
  /** Where it is defined, for `list-targets`: `config.yaml:12`, `hosts.ini:4`, `-t`. */
  from: string;
  /** Its fields, by the env var name of each (`RUNTIME_SSH_HOST`), with where each is written. */
  fields: ConfigFileLayer;
  /** The fields as `key=value` text, secrets hidden, for `list-targets`. */
  summary: string;
  /** Its monitoring settings (`monitoring:`), over the environment's for its tools. */
  monitoring?: Readonly<Record<string, string>>;
}

/** Every target and group opsmate knows: `targets:` of the config file and inventories. */
export interface TargetCatalog {
  targets: ReadonlyMap<string, TargetSpec>;
  /** Group name → target names, in order. */
  groups: ReadonlyMap<string, readonly string[]>;
  /** Where each group comes from. */
  groupSources: ReadonlyMap<string, string>;
}

export interface CatalogOptions {
  config: LoadedConfig;
  registry: RuntimeRegistry;
  /** `--inventory` files, besides the `inventory:` entries of `targets:`. */
  inventories?: readonly string[];
}

/**
 * Reads `targets:` and the inventories into one catalog. A bad entry throws a ConfigError naming
 * its file and line; fields are checked against their runtime's schema here (names), and their
 * values when the target is built (`resolveTargetConfig`), exactly as flags are.
 */
export function targetCatalog(options: CatalogOptions): TargetCatalog {
  const table = options.config.read(targetsConfigSection) ?? new Map<string, TargetEntry>();
  const targets = new Map<string, TargetSpec>();
  const groups = new Map<string, string[]>();
  const groupSources = new Map<string, string>();
  const pendingGroups: TargetEntry[] = [];
  const add = (spec: TargetSpec): void => {
    const taken = targets.get(spec.name);
    if (taken) {
      throw new ConfigError(`target ${spec.name} is defined twice: ${taken.from} and ${spec.from}`, {
        hint: 'rename one of them (inventory host names and targets: names share one namespace)',
      });
    }
    targets.set(spec.name, spec);
  };
  const addInventory = (inventory: Inventory, defaults: FieldSource | undefined, asGroup?: string): void => {
    for (const host of inventory.hosts.values())
      add(inventoryTarget(host, inventory, defaults, options.registry));
    for (const [name, members] of inventory.groups) {
      if (name === 'all' || (name === 'ungrouped' && members.length === 0)) continue;
      groups.set(name, [...new Set([...(groups.get(name) ?? []), ...members])]);
      groupSources.set(
        name,
        groupSources.has(name) ? `${groupSources.get(name)}, ${inventory.path}` : inventory.path,
      );
    }
    if (asGroup) {
      groups.set(asGroup, [...inventory.hosts.keys()]);
      groupSources.set(asGroup, inventory.path);
    }
  };
  for (const entry of table.values()) {
    if (entry.kind === 'group') pendingGroups.push(entry);
    else if (entry.kind === 'inventory') {
      const where = entry.lineOf('inventory');
      const file = isAbsolute(entry.inventory!)
        ? entry.inventory!
        : resolve(dirname(entry.path), entry.inventory!);
      let inventory: Inventory;
      try {
        inventory = readInventory(file);
      } catch (error) {
        throw new ConfigError(
          `${entry.path}:${where}: targets.${entry.name}.inventory: ${errorMessage(error)}`,
          {
            hint: `fix line ${where} of ${entry.path}, or the inventory`,
          },
        );
      }
      const defaults =
        Object.keys(entry.fields).length > 0 ? entryFields(entry, 'ssh', options.registry) : undefined;
      addInventory(inventory, defaults, entry.name);
    } else add(configTarget(entry, options.registry));
  }
  for (const file of options.inventories ?? []) addInventory(readInventory(resolve(file)), undefined);
  const universe = (): { hosts: string[]; groups: Map<string, string[]> } => ({
    hosts: [...targets.keys()],
    groups,
  });
  for (const entry of pendingGroups) {
    if (targets.has(entry.name) || groups.has(entry.name))
      throw new ConfigError(
        `${entry.path}:${entry.line}: targets.${entry.name}: the name is taken by an inventory`,
        {
          hint: `rename the group on line ${entry.line} of ${entry.path}`,
        },
      );
    groups.set(entry.name, []);
    groupSources.set(entry.name, `${entry.path}:${entry.line}`);
  }
  // Groups may name groups defined after them: resolve once everything is known.
  for (const entry of pendingGroups) {
    const members: string[] = [];
    for (const member of entry.members ?? []) {
      try {
        if (member.includes('://')) {
          if (!targets.has(member)) targets.set(member, uriTarget(member, options.registry));
          members.push(member);
          continue;
        }
        members.push(...selectHosts(member, universe()));
      } catch (error) {
        throw new ConfigError(`${entry.path}:${entry.line}: targets.${entry.name}: ${errorMessage(error)}`, {
          hint: `fix line ${entry.line} of ${entry.path} (see opsmate list-targets)`,
        });
      }
    }
    groups.set(entry.name, [...new Set([...(groups.get(entry.name) ?? []), ...members])]);
  }
  return { targets, groups, groupSources };
}

/**
 * The targets `-t` values choose, in order, each once: a URI (`ssh://ops@db-1`), a target, a
 * group, or an Ansible-style pattern (`web:&prod`, `all:!db-*`). Throws a ConfigError for a name
 * that is none of these, with the closest name.
 */
export function selectTargets(
  values: readonly string[],
  catalog: TargetCatalog,
  registry: RuntimeRegistry,
): TargetSpec[] {
  const chosen = new Map<string, TargetSpec>();
  for (const value of values) {
    if (value.includes('://')) {
      const spec = uriTarget(value, registry);
      chosen.set(spec.name, spec);
      continue;
    }
    const direct = catalog.targets.get(value);
    if (direct && !isHostPattern(value)) {
      chosen.set(direct.name, direct);
      continue;
    }
    for (const name of selectHosts(value, { hosts: [...catalog.targets.keys()], groups: catalog.groups })) {
      chosen.set(name, catalog.targets.get(name)!);
    }
  }
  return [...chosen.values()];
}

/** A runtime and fields read for one target: a layer the config resolver reads between flags and env. */
interface FieldSource {
  runtime: string;
  entries: Map<string, ConfigFileEntry>;
  summary: string[];
}

function layerOf(source: FieldSource): ConfigFileLayer {
  return { lookup: (name) => source.entries.get(name) };
}

/** The field spec a key names: the schema key (`keyFile`) or its kebab form (`key-file`). */
function fieldFor(specs: readonly FieldSpec[], key: string): FieldSpec | undefined {
  return specs.find((spec) => spec.key === key || spec.kebab === key);
}

function definitionFor(
  runtime: string,
  registry: RuntimeRegistry,
  where: () => { message: string; hint: string },
): RuntimeDefinition {
  const found = registry.get(runtime);
  if (found) return found.definition;
  const { message, hint } = where();
  const guess = didYouMean(runtime, registry.names());
  throw new ConfigError(`${message}: unknown runtime "${runtime}"`, {
    hint: guess
      ? `did you mean ${guess}? ${hint.charAt(0).toUpperCase()}${hint.slice(1)}`
      : `${hint}; runtimes: ${registry.names().join(', ')}`,
  });
}

function entryFields(entry: TargetEntry, runtime: string, registry: RuntimeRegistry): FieldSource {
  const definition = definitionFor(runtime, registry, () => ({
    message: `${entry.path}:${entry.lineOf(entry.runtime ? 'runtime' : 'uri')}: targets.${entry.name}`,
    hint: `fix line ${entry.lineOf('runtime')} of ${entry.path}`,
  }));
  const specs = describeSchema(definition.configSchema);
  const naming = runtimeNaming(definition.name);
  const entries = new Map<string, ConfigFileEntry>();
  const summary: string[] = [];
  for (const [key, value] of Object.entries(entry.fields)) {
    const spec = fieldFor(specs, key);
    const line = entry.lineOf(key);
    if (!spec) {
      const guess = didYouMean(
        key,
        specs.map((candidate) => candidate.key),
      );
      throw new ConfigError(
        `${entry.path}:${line}: targets.${entry.name}: unknown field ${key} of runtime ${definition.name}`,
        {
          hint: guess
            ? `did you mean ${guess}? Fix line ${line} of ${entry.path}`
            : `fix line ${line} of ${entry.path}: runtime ${definition.name} takes ${specs.map((candidate) => candidate.key).join(', ')}`,
        },
      );
    }
    const env = fieldNames(spec, naming).env;
    entries.set(env, { name: env, value, path: entry.path, line, writtenAs: `targets.${entry.name}.${key}` });
    summary.push(`${spec.key}=${spec.secret ? '(hidden)' : String(value)}`);
  }
  return { runtime: definition.name, entries, summary };
}

function configTarget(entry: TargetEntry, registry: RuntimeRegistry): TargetSpec {
  const from = `${entry.path}:${entry.line}`;
  if (entry.uri !== undefined) {
    const uri = uriFields(entry.uri, registry, {
      path: entry.path,
      line: entry.lineOf('uri'),
      writtenAs: `targets.${entry.name}.uri`,
    });
    const extra = entryFields(entry, uri.runtime, registry);
    for (const [name, value] of extra.entries) uri.entries.set(name, value);
    return {
      name: entry.name,
      isUri: false,
      runtime: uri.runtime,
      from,
      fields: layerOf(uri),
      summary: [entry.uri, ...extra.summary].join(' '),
      ...(entry.monitoring ? { monitoring: entry.monitoring } : {}),
    };
  }
  const source = entryFields(entry, entry.runtime!, registry);
  return {
    name: entry.name,
    isUri: false,
    runtime: source.runtime,
    from,
    fields: layerOf(source),
    summary: source.summary.join(' '),
    ...(entry.monitoring ? { monitoring: entry.monitoring } : {}),
  };
}

/** `ansible_connection`s opsmate maps onto a runtime; anything else is refused, not guessed. */
const ANSIBLE_CONNECTIONS: Record<string, string> = {
  ssh: 'ssh',
  smart: 'ssh',
  paramiko: 'ssh',
  local: 'local',
  docker: 'docker',
  'community.docker.docker': 'docker',
};

function inventoryTarget(
  host: InventoryHost,
  inventory: Inventory,
  defaults: FieldSource | undefined,
  registry: RuntimeRegistry,
): TargetSpec {
  const line = host.line;
  const from = line > 0 ? `${inventory.path}:${line}` : inventory.path;
  const connection = host.vars.ansible_connection ?? 'ssh';
  const runtime = ANSIBLE_CONNECTIONS[connection];
  if (!runtime || !registry.get(runtime))
    throw new ConfigError(
      `inventory ${from}: host ${host.name}: ansible_connection=${connection} is not supported`,
      {
        hint: `opsmate takes ${Object.keys(ANSIBLE_CONNECTIONS).join(', ')}`,
      },
    );
  const naming = runtimeNaming(runtime);
  const specs = describeSchema(registry.get(runtime)!.definition.configSchema);
  const entries = new Map<string, ConfigFileEntry>(runtime === 'ssh' && defaults ? defaults.entries : []);
  const summary: string[] = [];
  const set = (key: string, value: string | undefined, variable: string): void => {
    if (value === undefined) return;
    const spec = specs.find((candidate) => candidate.key === key)!;
    const env = fieldNames(spec, naming).env;
    entries.set(env, { name: env, value, path: inventory.path, line, writtenAs: `${host.name} ${variable}` });
    summary.push(`${key}=${value}`);
  };
  const address = host.vars.ansible_host ?? host.name;
  if (runtime === 'ssh') {
    set('host', address, host.vars.ansible_host ? 'ansible_host' : 'host name');
    set('port', host.vars.ansible_port ?? host.vars.ansible_ssh_port, 'ansible_port');
    set('username', host.vars.ansible_user ?? host.vars.ansible_ssh_user, 'ansible_user');
    set(
      'keyFile',
      host.vars.ansible_ssh_private_key_file ?? host.vars.ansible_private_key_file,
      'ansible_ssh_private_key_file',
    );
  } else if (runtime === 'docker') {
    set('containerName', address, host.vars.ansible_host ? 'ansible_host' : 'host name');
    set('user', host.vars.ansible_user, 'ansible_user');
  }
  return {
    name: host.name,
    isUri: false,
    runtime,
    from,
    fields: { lookup: (name) => entries.get(name) },
    summary: [...(defaults && runtime === 'ssh' ? defaults.summary : []), ...summary].join(' '),
  };
}

function uriFields(
  uri: string,
  registry: RuntimeRegistry,
  where: { path: string; line: number; writtenAs?: string },
): FieldSource {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/s.exec(uri);
  const forms = registry
    .list()
    .flatMap((entry) => entry.definition.uri?.usage ?? [])
    .join(', ');
  const at = where.line > 0 ? `${where.path}:${where.line}: ${where.writtenAs}` : `target ${uri}`;
  if (!match) throw new ConfigError(`${at}: not a URI`, { hint: `use one of: ${forms}` });
  const scheme = match[1]!.toLowerCase();
  const owner = registry.byScheme(scheme);
  if (!owner) {
    const guess = didYouMean(
      scheme,
      registry.list().flatMap((entry) => entry.definition.uri?.schemes ?? []),
    );
    throw new ConfigError(`${at}: no runtime takes ${scheme}:// URIs`, {
      hint: guess
        ? `did you mean ${guess}://? The forms: ${forms}`
        : `the forms: ${forms} (plugins may add more)`,
    });
  }
  const definition = owner.definition;
  let fields: Record<string, string>;
  try {
    fields = definition.uri!.fields({ scheme, body: match[2]! });
  } catch (error) {
    throw new ConfigError(`${at}: ${errorMessage(error)}`, {
      hint: `${scheme}:// URIs are ${definition.uri!.usage.filter((form) => form.startsWith(`${scheme}://`)).join(' or ')}`,
    });
  }
  const specs = describeSchema(definition.configSchema);
  const naming = runtimeNaming(definition.name);
  const entries = new Map<string, ConfigFileEntry>();
  for (const [key, value] of Object.entries(fields)) {
    const spec = fieldFor(specs, key);
    if (!spec) throw new ConfigError(`runtime ${definition.name}: its uri form set an unknown field ${key}`);
    const env = fieldNames(spec, naming).env;
    entries.set(env, {
      name: env,
      value,
      path: where.line > 0 ? where.path : `target ${uri}`,
      line: where.line,
      writtenAs: where.line > 0 ? `${where.writtenAs} (${key})` : key,
    });
  }
  return { runtime: definition.name, entries, summary: [uri] };
}

function uriTarget(uri: string, registry: RuntimeRegistry): TargetSpec {
  const source = uriFields(uri, registry, { path: '-t', line: 0 });
  return {
    name: uri,
    isUri: true,
    runtime: source.runtime,
    from: '-t',
    fields: layerOf(source),
    summary: uri,
  };
}

/**
 * A runtime whose `target()` facts begin with the target's name (`{ target: 'web-1', host: ... }`),
 * so the policy's target rules, the review, the audit log, the header and sessions name it.
 */
export function namedTargetRuntime(runtime: Runtime, name: string): Runtime {
  const wrapped: Runtime = {
    get name() {
      return runtime.name;
    },
    get language() {
      return runtime.language;
    },
    connect: (options) => runtime.connect(options),
    disconnect: () => runtime.disconnect(),
    run: (command: string, options?: RunOptions): Promise<RunResult> => runtime.run(command, options),
    runtimeInfo: () => runtime.runtimeInfo(),
    target: () => ({ target: name, ...runtime.target() }),
  };
  if (runtime.osInfo) wrapped.osInfo = () => runtime.osInfo!();
  if (runtime.whoami) wrapped.whoami = () => runtime.whoami!();
  if (runtime.hasSystemd) wrapped.hasSystemd = () => runtime.hasSystemd!();
  if (runtime.services) wrapped.services = () => runtime.services!();
  return wrapped;
}
