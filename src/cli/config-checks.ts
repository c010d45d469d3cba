import type { ConfigFile } from '../config/config-file.js';
import { didYouMean } from '../config/did-you-mean.js';
import { isPlainObject } from '../config/load-config.js';
import { ConfigError } from '../errors/opsmate-error.js';
import { opsmateEnvNames } from '../config/option-names.js';
import { PROVIDERS } from '../agent/providers/model-catalog.js';
import { MONITORING_SETTING_NAMES } from '../monitoring/monitoring-settings.js';
import { isOwnSecretName } from '../process/child-environment.js';
import type { CliContext } from './cli-context.js';

/** Python Opsmate settings opsmate has no use for; its users' files carry them. Ignored quietly. */
const PYTHON_OPSMATE_ONLY = new Set([
  'OPSMATE_CONTEXTS_DIR',
  'OPSMATE_EMBEDDINGS_DB_PATH',
  'OPSMATE_EMBEDDING_REGISTRY_NAME',
  'OPSMATE_EMBEDDING_MODEL_NAME',
  'OPSMATE_RERANKER_NAME',
  'OPSMATE_FS_EMBEDDINGS_CONFIG',
  'OPSMATE_GITHUB_EMBEDDINGS_CONFIG',
  'OPSMATE_CATEGORISE',
  'OPSMATE_SPLITTER_CONFIG',
  'OPSMATE_SESSION_NAME',
  'OPSMATE_TOKEN',
  'OPSMATE_PROJECT_NAME',
]);

/** Names that hold a credential, for the permission warning. */
const SECRET_NAME = /(?:KEY|TOKEN|SECRET|PASSWORD|PASSPHRASE|AUTHORIZATION|CREDENTIALS?)$/i;

/**
 * Checks the config file before anything connects. A key opsmate does not know is an error
 * naming the closest known one: a typo must not quietly leave a setting (a policy profile, a
 * host) at its default. Every registered section present is validated by its definition (a bad
 * value is an error naming its line). A file that others can read while it holds a secret is a
 * warning. Bad values of settings are errors too, raised where the value is resolved.
 */
export function checkConfigFile(context: CliContext): void {
  const file = context.config.file;
  if (!file) return;
  const known = knownConfigNames(context);
  const ownedByPlugin = pluginOwned(context);
  const sectionKeys = file.definitions.flatMap((definition) => [
    definition.name,
    ...(definition.aliases ?? []),
  ]);
  for (const { key, line } of file.keys) {
    const where = `${file.path}:${line}`;
    if (sectionKeys.includes(key)) continue;
    if (key === 'OPSMATE_CONFIG') {
      context.logger.warn(`${where}: OPSMATE_CONFIG has no effect inside the config file`);
      continue;
    }
    if (known.has(key)) continue;
    if (PYTHON_OPSMATE_ONLY.has(key)) {
      context.logger.info(`${where}: ${key} is a Python Opsmate setting opsmate does not use; ignored`);
      continue;
    }
    if (ownedByPlugin(key)) continue;
    const guess = didYouMean(key, [...known, ...sectionKeys]);
    throw new ConfigError(`${where}: unknown key ${key}`, {
      hint: guess
        ? `did you mean ${guess}? Fix line ${line} of ${file.path}`
        : `remove line ${line} of ${file.path}, or fix its name: keys are opsmate's env var names (see \`opsmate config show\`) and the sections ${file.definitions.map((definition) => definition.name).join(', ')}`,
    });
  }
  for (const definition of file.definitions) context.config.read(definition);
  const secrets = secretNames(file, context);
  if (secrets.length > 0 && (file.mode & 0o077) !== 0) {
    context.logger.warn(
      `the config file ${file.path} holds secrets (${secrets.slice(0, 3).join(', ')}${secrets.length > 3 ? ', ...' : ''}) and can be read by others (mode ${(file.mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 ${file.path}`,
    );
  }
}

/**
 * Every top-level key the config file may use: opsmate's settings, every runtime's fields (the
 * built-ins and the plugins this command loaded), and the env vars of the model providers.
 */
export function knownConfigNames(context: CliContext): Set<string> {
  const names = new Set<string>(opsmateEnvNames().keys());
  for (const runtime of context.registry.list()) for (const option of runtime.options) names.add(option.env);
  for (const provider of PROVIDERS) for (const variable of provider.env) names.add(variable.name);
  for (const name of MONITORING_SETTING_NAMES) names.add(name);
  for (const { definition } of context.providers.list()) {
    for (const variable of definition.env) names.add(variable.name);
  }
  return names;
}

/**
 * Whether a key may belong to an installed plugin this command did not load (its fields are not
 * known here): `RUNTIME_<NAME>_...` of a plugin runtime, `<NAME>_...` of a plugin provider. When
 * the command reads no plugins at all, any `RUNTIME_<X>_...` of a runtime that is not built in.
 */
function pluginOwned(context: CliContext): (key: string) => boolean {
  const builtin = context.registry.names().map((name) => `RUNTIME_${name.toUpperCase()}_`);
  if (!context.plugins) {
    return (key) => key.startsWith('RUNTIME_') && !builtin.some((prefix) => key.startsWith(prefix));
  }
  const prefixes = context.plugins.flatMap((plugin) =>
    plugin.provides
      .filter((extension) => !extension.loaded)
      .flatMap((extension) =>
        extension.kind === 'runtimes'
          ? [`RUNTIME_${extension.name.toUpperCase()}_`]
          : extension.kind === 'providers'
            ? [`${extension.name.toUpperCase().replaceAll('-', '_')}_`]
            : [],
      ),
  );
  return (key) => prefixes.some((prefix) => key.startsWith(prefix));
}

/** Names in the file that hold a credential (top-level keys and keys inside sections). */
function secretNames(file: ConfigFile, context: CliContext): string[] {
  const secretFields = new Set<string>();
  for (const runtime of context.registry.list()) {
    for (const option of runtime.options) if (isOwnSecretName(option.env)) secretFields.add(option.env);
  }
  const found: string[] = [];
  for (const { key, value } of file.values.values()) {
    if (value === null || value === '') continue;
    if (isOwnSecretName(key) || secretFields.has(key) || SECRET_NAME.test(key)) found.push(key);
  }
  for (const section of file.sections.values()) {
    walk(section.value, [section.name], (path, value) => {
      if (typeof value === 'string' && value !== '' && SECRET_NAME.test(path.at(-1) ?? '')) {
        found.push(path.join('.'));
      }
    });
  }
  return found;
}

function walk(value: unknown, path: string[], visit: (path: string[], value: unknown) => void): void {
  if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...path, String(index)], visit));
  else if (isPlainObject(value))
    for (const [key, item] of Object.entries(value)) walk(item, [...path, key], visit);
  else visit(path, value);
}
