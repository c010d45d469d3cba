import { Option, type Command } from 'commander';
import { optionAttribute, runtimeNaming } from '../config/option-names.js';
import type { LoadedConfig } from '../config/load-config.js';
import {
  fieldNames,
  resolveConfigSources,
  type FieldNaming,
  type ValueSource,
} from '../config/resolve-config.js';
import { describeSchema, formatDefault, type FieldSpec } from '../config/schema-fields.js';
import { SETTINGS_NAMING, settingsSchema, type SettingKey, type Settings } from '../config/settings.js';
import type { RuntimeDefinition } from '../runtime/contract.js';
import type { RuntimeRegistry } from '../runtime/runtime-registry.js';
import { ConfigError } from '../errors/opsmate-error.js';
import type { TargetSpec } from '../targets/resolve-targets.js';

/** Longest `a|b|c` shown as an enum's placeholder; longer lists go into the description. */
const MAX_CHOICES_PLACEHOLDER = 24;

const PLACEHOLDER: Record<FieldSpec['kind'], string> = {
  string: 'TEXT',
  integer: 'INTEGER',
  number: 'NUMBER',
  boolean: 'BOOLEAN',
  list: 'LIST',
  map: 'K=V,...',
  enum: 'CHOICE',
};

/**
 * A commander option for one config field. Values stay text: env and config file fallbacks and
 * defaults are applied by `resolveConfig`, so flag > env > config file > default holds for every type.
 */
export function fieldOption(spec: FieldSpec, naming: FieldNaming, group: string): Option {
  const names = fieldNames(spec, naming);
  const choices = (spec.choices ?? []).join('|');
  // A long list of choices would widen the help column of every option: list it in the text.
  const longChoices = spec.kind === 'enum' && choices.length > MAX_CHOICES_PLACEHOLDER;
  const placeholder = spec.kind === 'enum' && !longChoices ? choices : PLACEHOLDER[spec.kind];
  const flags = `${spec.short ? `-${spec.short}, ` : ''}--${names.flag} <${placeholder}>`;
  const defaultText = formatDefault(spec);
  const description = [
    spec.description ?? `Set ${spec.kebab}`,
    longChoices ? `(one of: ${(spec.choices ?? []).join(', ')})` : '',
    `(env: ${names.env})`,
    defaultText !== undefined ? `[default: ${defaultText}]` : spec.required ? '[required]' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return new Option(flags, description).helpGroup(group);
}

/**
 * The settings every command that runs shell commands through a runtime takes: which runtime,
 * where plugins and the audit log live, the command policy and secret masking.
 */
export const RUNTIME_COMMAND_SETTINGS = [
  'shellCommandRuntime',
  'home',
  'pluginsDir',
  'loglevel',
  'auditLog',
  'auditSync',
  'connectTimeout',
  'policyFile',
  'policyProfile',
  'redact',
  'spillLimit',
] as const satisfies readonly SettingKey[];

/** Adds the chosen settings as options of `command`. */
export function addSettingOptions(command: Command, keys: readonly SettingKey[]): Command {
  const specs = describeSchema(settingsSchema);
  for (const key of keys) {
    const spec = specs.find((candidate) => candidate.key === key);
    if (!spec) throw new TypeError(`no setting ${key}`);
    command.addOption(fieldOption(spec, SETTINGS_NAMING, 'Options:'));
  }
  return command;
}

/** Where settings are read from besides the flags: the environment, and the config file under it. */
export interface SettingsInput {
  env: NodeJS.ProcessEnv;
  /** The config file (see `loadConfig`); none when absent. */
  config?: LoadedConfig | undefined;
}

/** Resolves the settings from the command's flags, the environment and the config file. */
export function readSettings(command: Command, input: SettingsInput): Settings {
  return readSettingsWithSources(command, input).config;
}

/** {@link readSettings}, and where each setting's value came from. */
export function readSettingsWithSources(
  command: Command,
  input: SettingsInput,
): { config: Settings; sources: Record<string, ValueSource> } {
  const values = command.opts<Record<string, string | undefined>>();
  return resolveConfigSources<Settings>({
    schema: settingsSchema,
    naming: SETTINGS_NAMING,
    flags: values,
    env: input.env,
    file: input.config?.layer,
  });
}

export { runtimeNaming };

/**
 * Adds `--runtime-<name>-<field>` options for every registered runtime, one help group per
 * runtime. A runtime whose schema cannot become flags is skipped and reported through `onError`.
 */
export function addRuntimeOptions(
  command: Command,
  registry: RuntimeRegistry,
  onError: (runtimeName: string, message: string) => void = () => {},
  /**
   * The runtime whose options help shows: the other built-in runtimes' are hidden (still
   * accepted); an installed plugin's are always shown. All by default.
   */
  helpRuntime?: string,
): Command {
  for (const { definition, source } of registry.list()) {
    const hidden = helpRuntime !== undefined && helpRuntime !== definition.name && source.kind === 'builtin';
    let specs: FieldSpec[];
    try {
      specs = describeSchema(definition.configSchema);
    } catch (error) {
      onError(definition.name, (error as Error).message);
      continue;
    }
    const naming = runtimeNaming(definition.name);
    for (const spec of specs) {
      const option = fieldOption(spec, naming, `Runtime options: ${definition.name}`);
      if (hidden) option.hideHelp();
      command.addOption(option);
    }
  }
  return command;
}

/** Flag values of one runtime, by schema key; and the flags given for other runtimes. */
function runtimeFlagValues(
  command: Command,
  definition: RuntimeDefinition,
): Record<string, string | undefined> {
  const values = command.opts<Record<string, string | undefined>>();
  const naming = runtimeNaming(definition.name);
  const flags: Record<string, string | undefined> = {};
  for (const spec of describeSchema(definition.configSchema)) {
    flags[spec.key] = values[attributeName(fieldNames(spec, naming).flag)];
  }
  return flags;
}

/**
 * The selected runtime and its validated config. Fails before anything connects, naming the flag
 * and env var of a bad value. Flags given for another runtime produce a warning through `warn`.
 */
export function resolveRuntimeConfig(options: {
  command: Command;
  registry: RuntimeRegistry;
  runtimeName: string;
  env?: NodeJS.ProcessEnv;
  /** The config file, whose `RUNTIME_<NAME>_<FIELD>` values come below the env vars. */
  config?: LoadedConfig | undefined;
  warn?: (message: string) => void;
  /** A named target (`-t web-1`): its runtime, and its fields between the flags and the env. */
  target?: TargetSpec | undefined;
}): { definition: RuntimeDefinition; config: unknown; sources: Record<string, ValueSource> } {
  const { definition } = options.registry.require(options.target?.runtime ?? options.runtimeName);
  const env = options.env ?? process.env;
  const given = options.command.opts<Record<string, string | undefined>>();
  for (const other of options.registry.list()) {
    if (other.definition.name === definition.name) continue;
    // Exact attribute names: `dockerx`'s options are not `docker`'s.
    const stray = other.options.filter((option) => given[attributeName(option.flag)] !== undefined);
    if (stray.length > 0 && options.target === undefined) {
      options.warn?.(
        `ignoring --runtime-${other.definition.name}-* options: the runtime is ${definition.name} (choose it with --shell-command-runtime ${other.definition.name})`,
      );
    }
  }
  try {
    const { config, sources } = resolveConfigSources({
      schema: definition.configSchema,
      naming: runtimeNaming(definition.name),
      flags: runtimeFlagValues(options.command, definition),
      env,
      file: options.config?.layer,
      target: options.target?.fields,
    });
    return { definition, config, sources };
  } catch (error) {
    if (ConfigError.isInstance(error)) throw error;
    throw new ConfigError(`runtime ${definition.name}: ${(error as Error).message}`);
  }
}

const attributeName = optionAttribute;
