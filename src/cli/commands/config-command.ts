import { Command } from 'commander';
import { chooseDefaultModel } from '../../agent/providers/default-model.js';
import { PROVIDERS } from '../../agent/providers/model-catalog.js';
import { isPlainObject } from '../../config/load-config.js';
import { describeSource, fieldNames, type ValueSource } from '../../config/resolve-config.js';
import { describeSchema } from '../../config/schema-fields.js';
import { SETTINGS_NAMING, settingsSchema, type SettingKey } from '../../config/settings.js';
import { runtimeNaming } from '../../config/option-names.js';
import { errorMessage } from '../../errors/opsmate-error.js';
import { MONITORING_SETTING_NAMES } from '../../monitoring/monitoring-settings.js';
import { isOwnSecretName } from '../../process/child-environment.js';
import type { CliContext } from '../cli-context.js';
import {
  addRuntimeOptions,
  addSettingOptions,
  readSettingsWithSources,
  resolveRuntimeConfig,
} from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';

/** One effective value and where it came from. */
interface ConfigRow {
  group: string;
  /** The env var name (also its key in the config file), or `section.name`. */
  name: string;
  /** As text; `(hidden)` for a secret. */
  value: string;
  source: ValueSource | { kind: 'note'; text: string };
  /** `flag --model`, `env OPSMATE_MODEL`, `FILE:LINE`, `default`. */
  from: string;
}

const SECRET_NAME = /(?:KEY|TOKEN|SECRET|PASSWORD|PASSPHRASE|AUTHORIZATION|CREDENTIALS?)$/i;
const HIDDEN = '(set, hidden)';

export function configCommand(context: CliContext): Command {
  const config = new Command('config').summary(
    'show the effective configuration and where each value comes from',
  );
  const show = new Command('show')
    .summary('print every effective setting with its source: flag, env var, config file line or default')
    .description(
      "Print each of opsmate's settings, the chosen runtime's fields (and other runtimes' when set), the model " +
        "provider and monitoring settings that are set, and the config file's sections, each with the value in effect and where it " +
        'came from: a flag, an env var, FILE:LINE of the config file, or the default. Precedence: flag > env > ' +
        'config file > default. Secrets are never shown. Give the same flags as another command to see what it would use.',
    )
    .addOption(outputOption());
  const keys = describeSchema(settingsSchema).map((spec) => spec.key as SettingKey);
  addSettingOptions(show, keys);
  addRuntimeOptions(show, context.registry, undefined, context.helpRuntime);
  show.action(async (options: { output?: string }, self: Command) => {
    const format = parseOutputFormat(options.output);
    const rows = await effectiveRows(self, context);
    if (format === 'json') {
      writeJson(context.stdout, {
        configFile: context.config.file ? context.config.path : null,
        values: rows.map(({ group, name, value, source, from }) => ({ group, name, value, source, from })),
      });
      return;
    }
    const file = context.config.file
      ? `${context.config.path}${context.config.explicit ? '' : ' (default location)'}`
      : `none (${context.config.path} does not exist)`;
    context.stdout.write(`Config file: ${file}\n`);
    context.stdout.write(
      await renderTable({
        head: ['Setting', 'Value', 'From'],
        rows: rows.map((row) => [row.name, row.value, row.from]),
        isTerminal: Boolean(context.stdout.isTTY),
      }),
    );
  });
  config.addCommand(show);
  return config;
}

async function effectiveRows(command: Command, context: CliContext): Promise<ConfigRow[]> {
  const rows: ConfigRow[] = [];
  const { config: settings, sources } = readSettingsWithSources(command, context);
  for (const spec of describeSchema(settingsSchema)) {
    const names = fieldNames(spec, SETTINGS_NAMING);
    const source = sources[spec.key] ?? { kind: 'default' };
    let value = valueText(
      (settings as Record<string, unknown>)[spec.key],
      spec.secret || isOwnSecretName(names.env),
    );
    let from = describeSource(source);
    if (spec.key === 'config') {
      value = context.config.file ? context.config.path : `(none: ${context.config.path} does not exist)`;
      if (source.kind === 'default') from = 'default (<home>/config.yaml)';
    }
    if (spec.key === 'model' && source.kind === 'default') {
      try {
        const chosen = await chooseDefaultModel(context.config.env);
        value = chosen.name;
        from = `default (${chosen.reason})`;
      } catch (error) {
        value = '(none)';
        from = `default: ${errorMessage(error)}`;
      }
    }
    rows.push({ group: 'settings', name: names.env, value, source, from });
  }
  for (const { definition } of context.registry.list()) {
    const chosen = definition.name === settings.shellCommandRuntime;
    let resolved: { config: unknown; sources: Record<string, ValueSource> };
    try {
      resolved = resolveRuntimeConfig({
        command,
        registry: context.registry,
        runtimeName: definition.name,
        env: context.env,
        config: context.config,
      });
    } catch (error) {
      if (!chosen) continue;
      rows.push({
        group: `runtime ${definition.name}`,
        name: `RUNTIME_${definition.name.toUpperCase()}_*`,
        value: '(invalid)',
        source: { kind: 'note', text: errorMessage(error) },
        from: errorMessage(error),
      });
      continue;
    }
    for (const spec of describeSchema(definition.configSchema)) {
      const source = resolved.sources[spec.key] ?? { kind: 'default' };
      if (!chosen && source.kind === 'default') continue;
      const names = fieldNames(spec, runtimeNaming(definition.name));
      rows.push({
        group: `runtime ${definition.name}`,
        name: names.env,
        value: valueText(
          (resolved.config as Record<string, unknown>)[spec.key],
          spec.secret || isOwnSecretName(names.env),
        ),
        source,
        from: describeSource(source),
      });
    }
  }
  const seen = new Set<string>();
  const providerVariables = [
    ...PROVIDERS.flatMap((provider) =>
      provider.env.map((variable) => ({ ...variable, provider: provider.name })),
    ),
    ...context.providers
      .list()
      .flatMap(({ definition }) =>
        definition.env.map((variable) => ({ ...variable, provider: definition.name })),
      ),
  ];
  for (const variable of providerVariables) {
    if (seen.has(variable.name)) continue;
    seen.add(variable.name);
    const source = envSource(variable.name, context);
    if (!source) continue;
    const secret =
      variable.secret === true || isOwnSecretName(variable.name) || SECRET_NAME.test(variable.name);
    rows.push({
      group: `provider ${variable.provider}`,
      name: variable.name,
      value: secret ? HIDDEN : (context.config.env[variable.name] ?? ''),
      source,
      from: describeSource(source),
    });
  }
  for (const name of MONITORING_SETTING_NAMES) {
    const source = envSource(name, context);
    if (!source) continue;
    // _HEADERS often carries a token (Authorization, X-Api-Key): hidden like a key.
    const secret = /_(API_KEY|HEADERS)$/.test(name);
    rows.push({
      group: 'monitoring',
      name,
      value: secret ? HIDDEN : (context.config.env[name] ?? ''),
      source,
      from: describeSource(source),
    });
  }
  rows.push(...sectionRows(context));
  return rows;
}

/** Where a plain env var (a provider's) is set: the environment, else the config file. */
function envSource(name: string, context: CliContext): ValueSource | undefined {
  const fromEnv = context.env[name];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { kind: 'env', name };
  const entry = context.config.layer.lookup(name);
  if (entry && entry.value !== null && entry.value !== '')
    return { kind: 'file', path: entry.path, line: entry.line };
  return undefined;
}

/** The config file's sections: one row per entry, as each section's definition lists them. */
function sectionRows(context: CliContext): ConfigRow[] {
  const rows: ConfigRow[] = [];
  const file = context.config.file;
  for (const definition of file?.definitions ?? []) {
    const section = file?.sections.get(definition.name);
    if (!section) continue;
    const value = context.config.read(definition);
    const entries = definition.rows
      ? definition.rows(value, section)
      : isPlainObject(section.value)
        ? Object.entries(section.value).map(([name, item]) => ({
            name,
            value: summary(item),
            keyPath: [name],
          }))
        : [{ name: '', value: summary(section.value), keyPath: [] }];
    for (const entry of entries) {
      const line = section.lineOf(entry.keyPath);
      rows.push({
        group: definition.name,
        name: entry.name ? `${definition.name}.${entry.name}` : definition.name,
        value: entry.value,
        source: { kind: 'file', path: section.path, line },
        from: `${section.path}:${line}`,
      });
    }
  }
  return rows;
}

/** A short, secret-free description of a section entry: its plain fields, with secret-looking ones hidden. */
function summary(value: unknown): string {
  if (!isPlainObject(value)) return valueText(value, false);
  return Object.entries(value)
    .map(([key, item]) => {
      if (SECRET_NAME.test(key)) return `${key}=${HIDDEN}`;
      if (isPlainObject(item)) return `${key}={${Object.keys(item).join(',')}}`;
      if (Array.isArray(item)) return `${key}=[${item.length} item${item.length === 1 ? '' : 's'}]`;
      return `${key}=${String(item)}`;
    })
    .join(', ');
}

function valueText(value: unknown, secret: boolean): string {
  if (value === undefined) return '';
  if (secret) return HIDDEN;
  if (Array.isArray(value)) return value.join(',');
  if (isPlainObject(value)) {
    return Object.entries(value)
      .map(([key, item]) => `${key}=${SECRET_NAME.test(key) ? '(hidden)' : String(item)}`)
      .join(',');
  }
  return String(value);
}
