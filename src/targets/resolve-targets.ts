import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConfigFileEntry, ConfigFileLayer, LoadedConfig } from '../config/load-config.js';
import { runtimeNaming } from '../config/option-names.js';
import { fieldNames } from '../config/resolve-config.js';
import { describeSchema, type FieldSpec } from '../config/schema-fields.js';
import { didYouMean } from '../config/did-you-mean.js';
import { ConfigError, errorMessage } from '../errors/opsmate-error.js';
import type {
  DiscoveredTarget,
  RuntimeDefinition,
  Runtime,
  RunOptions,
  RunResult,
} from '../runtime/contract.js';
import type { RuntimeRegistry } from '../runtime/runtime-registry.js';
import { readInventory, type Inventory, type InventoryHost } from './ansible-inventory.js';
import { isHostPattern, matchesName, patternTerms, selectHosts } from './host-pattern.js';
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
  /** Selector groups (`runtime: docker, selector: app=web`), found only when used. */
  selectorGroups: ReadonlyMap<string, SelectorGroup>;
  /** Selector groups not looked up in this catalog: their members are not known (empty here). */
  unresolved: ReadonlySet<string>;
  /** What each `targets:` group lists, as written, so a lookup can follow it to selector groups. */
  groupTerms: ReadonlyMap<string, readonly string[]>;
}

/** A `targets:` group whose runtime finds its members by a selector when it is used. */
export interface SelectorGroup {
  name: string;
  runtime: string;
  selector: string;
  /** `config.yaml:12`. */
  from: string;
  /** What a selector of this runtime is, for errors. */
  usage: string;
  /** The group's own fields, which every member gets, by schema key as text. */
  fields: Record<string, string>;
}

export interface CatalogOptions {
  config: LoadedConfig;
  registry: RuntimeRegistry;
  /** `--inventory` files, besides the `inventory:` entries of `targets:`. */
  inventories?: readonly string[];
  /** What selector groups were found to hold, by group name (see {@link discoverTargets}). */
  found?: ReadonlyMap<string, readonly DiscoveredTarget[]>;
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
  const pendingSelectors: { entry: TargetEntry; source: FieldSource }[] = [];
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
    else if (entry.kind === 'selector')
      pendingSelectors.push({ entry, source: selectorFields(entry, options.registry) });
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
  const selectorGroups = new Map<string, SelectorGroup>();
  const unresolved = new Set<string>();
  const sameTarget = new Map<string, string>();
  for (const { entry, source } of pendingSelectors) {
    const where = `${entry.path}:${entry.lineOf('selector')}`;
    if (targets.has(entry.name) || groups.has(entry.name))
      throw new ConfigError(`${where}: targets.${entry.name}: the name is taken by an inventory`, {
        hint: `rename the group on line ${entry.line} of ${entry.path}`,
      });
    const definition = options.registry.get(source.runtime)!.definition;
    const group: SelectorGroup = {
      name: entry.name,
      runtime: source.runtime,
      selector: entry.selector!,
      from: `${entry.path}:${entry.line}`,
      usage: definition.discover!.usage,
      fields: Object.fromEntries(
        Object.entries(entry.fields).map(([key, value]) => [
          fieldFor(describeSchema(definition.configSchema), key)!.key,
          String(value),
        ]),
      ),
    };
    selectorGroups.set(entry.name, group);
    groupSources.set(entry.name, `${group.from} (${group.runtime} selector ${group.selector})`);
    const found = options.found?.get(entry.name);
    if (!found) {
      unresolved.add(entry.name);
      groups.set(entry.name, []);
      continue;
    }
    const members: string[] = [];
    for (const discovered of found) {
      const spec = discoveredTarget({ entry, source, discovered, definition, where });
      // The same container found by two selectors is one target, so `web:&front` intersects.
      const identity = `${spec.runtime}\0${spec.summary}`;
      const known = sameTarget.get(identity);
      if (known) {
        members.push(known);
        continue;
      }
      if (targets.has(spec.name)) spec.name = `${entry.name}/${spec.name}`;
      add(spec);
      sameTarget.set(identity, spec.name);
      members.push(spec.name);
    }
    groups.set(entry.name, members);
  }
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
  return {
    targets,
    groups,
    groupSources,
    selectorGroups,
    unresolved,
    groupTerms: new Map(pendingGroups.map((entry) => [entry.name, entry.members ?? []])),
  };
}

/** How long one selector group's lookup (`docker ps`, `kubectl get pods`) may take. */
const DISCOVERY_TIMEOUT_MS = 30_000;

/**
 * The catalog with the selector groups that `values` (the `-t` values) reach looked up, directly
 * or through `targets:` groups, `all` and globs: each runtime's `discover.find` runs now, all at
 * once. A lookup that fails throws a ConfigError naming the group: a fleet is never quietly
 * smaller than asked.
 */
export async function discoverTargets(
  options: CatalogOptions & { values: readonly string[]; signal?: AbortSignal },
): Promise<TargetCatalog> {
  const first = targetCatalog(options);
  const needed = selectorGroupsReached(options.values, first);
  if (needed.length === 0) return first;
  const signal = AbortSignal.any([
    AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
    ...(options.signal ? [options.signal] : []),
  ]);
  const found = new Map<string, readonly DiscoveredTarget[]>(options.found ?? []);
  await Promise.all(
    needed.map(async (group) => {
      const discover = options.registry.get(group.runtime)!.definition.discover!;
      try {
        found.set(
          group.name,
          await discover.find({ selector: group.selector, fields: group.fields, signal }),
        );
      } catch (error) {
        const reason =
          signal.aborted && !options.signal?.aborted
            ? `no answer in ${DISCOVERY_TIMEOUT_MS / 1000} s`
            : errorMessage(error);
        throw new ConfigError(
          `${group.from}: targets.${group.name}: cannot find the targets of ${group.runtime} selector ${JSON.stringify(group.selector)}: ${reason}`,
          {
            hint: `a ${group.runtime} selector is ${group.usage}; check that ${group.runtime} works from here`,
          },
        );
      }
    }),
  );
  return targetCatalog({ ...options, found });
}

/** The selector groups `-t` values reach: by name, by glob or regex, through groups, or `all`. */
export function selectorGroupsReached(values: readonly string[], catalog: TargetCatalog): SelectorGroup[] {
  if (catalog.selectorGroups.size === 0) return [];
  const reached = new Set<string>();
  const seenGroups = new Set<string>();
  const pending = values.filter((value) => !value.includes('://'));
  while (pending.length > 0) {
    for (const raw of patternTerms(pending.pop()!)) {
      const term = raw.replace(/^[&!]/, '');
      if (term === 'all' || term === '*') return [...catalog.selectorGroups.values()];
      const names = [...catalog.groups.keys()].filter((name) => name === term || matchesName(term, name));
      for (const name of names) {
        if (catalog.selectorGroups.has(name)) reached.add(name);
        const terms = catalog.groupTerms.get(name);
        if (terms && !seenGroups.has(name)) {
          seenGroups.add(name);
          pending.push(...terms.filter((member) => !member.includes('://')));
        }
      }
    }
  }
  return [...reached].map((name) => catalog.selectorGroups.get(name)!);
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
  const notLookedUp = selectorGroupsReached(values, catalog).filter((group) =>
    catalog.unresolved.has(group.name),
  );
  if (notLookedUp.length > 0)
    throw new Error(
      `selector groups ${notLookedUp.map((group) => group.name).join(', ')} were not looked up: build the catalog with discoverTargets`,
    );
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
  // An empty selection must never fall back to the default runtime: nothing runs.
  if (chosen.size === 0 && values.length > 0) {
    const empty = values.filter((value) => catalog.selectorGroups.has(value));
    throw new ConfigError(
      `-t ${values.join(' -t ')} selects no target${empty.length > 0 ? ` (${empty.map((name) => `${name} found none`).join(', ')})` : ''}`,
      {
        hint:
          empty.length > 0
            ? 'check the selector, and that what it looks for is running (opsmate list-targets --discover)'
            : 'see opsmate list-targets for the names and groups',
      },
    );
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

/** A selector group's runtime (which must be able to find targets) and its shared fields. */
function selectorFields(entry: TargetEntry, registry: RuntimeRegistry): FieldSource {
  const source = entryFields(entry, entry.runtime!, registry);
  const definition = registry.get(source.runtime)!.definition;
  if (!definition.discover) {
    const able = registry
      .list()
      .filter((candidate) => candidate.definition.discover)
      .map((candidate) => candidate.definition.name);
    throw new ConfigError(
      `${entry.path}:${entry.lineOf('selector')}: targets.${entry.name}: runtime ${source.runtime} cannot find targets by a selector`,
      {
        hint: `selector groups take runtime: ${able.join(', ')}; list ${source.runtime} targets in a group (targets: [...]) instead`,
      },
    );
  }
  return source;
}

function discoveredTarget(options: {
  entry: TargetEntry;
  source: FieldSource;
  discovered: DiscoveredTarget;
  definition: RuntimeDefinition;
  where: string;
}): TargetSpec {
  const { entry, source, discovered, definition, where } = options;
  if (typeof discovered.name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(discovered.name))
    throw new ConfigError(
      `${where}: targets.${entry.name}: runtime ${definition.name} found a target named ${JSON.stringify(discovered.name)}, which cannot be a target name`,
      { hint: 'a target name is letters, digits, _, . and -' },
    );
  const specs = describeSchema(definition.configSchema);
  const naming = runtimeNaming(definition.name);
  const entries = new Map(source.entries);
  const summary: string[] = [];
  for (const [key, value] of Object.entries(discovered.fields)) {
    const spec = fieldFor(specs, key);
    if (!spec)
      throw new ConfigError(`runtime ${definition.name}: its discover.find set an unknown field ${key}`);
    const env = fieldNames(spec, naming).env;
    entries.set(env, {
      name: env,
      value,
      path: entry.path,
      line: entry.lineOf('selector'),
      writtenAs: `targets.${entry.name}.selector (found ${discovered.name}: ${key})`,
    });
    summary.push(`${spec.key}=${spec.secret ? '(hidden)' : value}`);
  }
  return {
    name: discovered.name,
    isUri: false,
    runtime: definition.name,
    from: `${entry.path}:${entry.line} (selector)`,
    fields: { lookup: (name) => entries.get(name) },
    summary: [...summary, ...source.summary].join(' '),
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
  'community.docker.docker_api': 'docker',
  kubectl: 'k8s',
  'kubernetes.core.kubectl': 'k8s',
  'community.kubernetes.kubectl': 'k8s',
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
  } else if (runtime === 'k8s') {
    // kubernetes.core.kubectl's variables; the pod defaults to the host's name, as there.
    const pod = host.vars.ansible_kubectl_pod ?? host.vars.ansible_host;
    set('pod', pod ?? host.name, pod !== undefined ? 'ansible_kubectl_pod' : 'host name');
    set('namespace', host.vars.ansible_kubectl_namespace, 'ansible_kubectl_namespace');
    set('container', host.vars.ansible_kubectl_container, 'ansible_kubectl_container');
    set('context', host.vars.ansible_kubectl_context, 'ansible_kubectl_context');
    set('kubeconfig', host.vars.ansible_kubectl_kubeconfig, 'ansible_kubectl_kubeconfig');
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
