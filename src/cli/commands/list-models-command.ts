import { Command, Option } from 'commander';
import { chooseDefaultModel, type DefaultModel } from '../../agent/providers/default-model.js';
import { modelDisplayName, PROVIDERS, type ProviderInfo } from '../../agent/providers/model-catalog.js';
import type { ProviderDefinition } from '../../agent/providers/provider-contract.js';
import { envValue } from '../../agent/providers/builtin/builtin-provider.js';
import { listServedModels } from '../../agent/providers/served-models.js';
import { ConfigError, errorMessage } from '../../errors/opsmate-error.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettingsWithSources } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';
import { renderTable } from '../render/table.js';
import { extensionSourceText, writeBrokenExtensions } from './list-extensions.js';

/** One row of `list-models`. */
interface ModelRow {
  provider: string;
  /** What to give `-m`. */
  model: string;
  /** The model opsmate uses without `-m`. */
  default: boolean;
  configured: boolean;
  /** `ANTHROPIC_API_KEY set`, `no (set X)`; never a secret's value. */
  status: string;
  env: string[];
  /** The models a self-hosted server reported, rather than the known list. */
  servedByServer: boolean;
  source: string;
}

export function listModelsCommand(context: CliContext): Command {
  const command = new Command('list-models')
    .summary('list the models and providers opsmate can use')
    .description(
      'List known models per provider (built-in and from plugins), whether the provider is configured and by which env vars ' +
        '(or config file keys), the models a self-hosted server reports when OPENAI_BASE_URL or OLLAMA_HOST points at one, ' +
        'and which model is the default (*). Use a listed name with -m, or any model as provider:model (e.g. -m ollama:llama3.2).',
    )
    .addOption(new Option('--provider <NAME>', 'list only this provider'))
    .addOption(outputOption())
    .action(async (options: { provider?: string; output?: string }) => {
      const format = parseOutputFormat(options.output);
      const env = context.config.env;
      const wanted = options.provider?.toLowerCase();
      const known = [...PROVIDERS.map((provider) => provider.name), ...context.providers.names()];
      if (wanted !== undefined && !known.includes(wanted)) {
        throw new ConfigError(`unknown provider "${options.provider}"`, {
          hint: `choose one of: ${known.join(', ')}`,
        });
      }
      const chosen = await currentModel(command, context);
      const rows: ModelRow[] = [];
      for (const provider of PROVIDERS) {
        if (wanted !== undefined && provider.name !== wanted) continue;
        const served = await listServedModels(provider, env);
        if (served?.problem) context.logger.warn(`${provider.name}: ${served.problem}`);
        const names = served?.models ?? [...provider.knownModels];
        const display = names.map((model) => modelDisplayName(provider.name, model));
        if (names.length === 0)
          display.push(`${provider.name}:<${provider.name === 'azure' ? 'deployment' : 'model'}>`);
        for (const model of display) {
          rows.push({
            provider: provider.name,
            model,
            default: model === chosen.name || `${provider.name}:${model}` === chosen.name,
            configured: provider.configured(env),
            status: providerStatus(provider, env),
            env: provider.env.map((variable) => variable.name),
            servedByServer: served?.models !== undefined,
            source: 'built-in',
          });
        }
      }
      for (const { definition, source } of context.providers.list()) {
        if (wanted !== undefined && definition.name !== wanted) continue;
        const models = definition.models && definition.models.length > 0 ? definition.models : ['<model>'];
        for (const model of models) {
          const name = `${definition.name}:${model}`;
          rows.push({
            provider: definition.name,
            model: name,
            default: name === chosen.name,
            configured: !definition.env.some(
              (variable) => variable.required && envValue(env, variable.name) === undefined,
            ),
            status: pluginProviderStatus(definition, env),
            env: definition.env.map(
              (variable) => `${variable.name}${variable.required ? ' (required)' : ''}`,
            ),
            servedByServer: false,
            source: extensionSourceText(source),
          });
        }
      }
      if (format === 'json') {
        writeJson(context.stdout, { default: chosen, models: rows });
      } else {
        context.stdout.write(
          await renderTable({
            title: 'Models',
            head: ['Provider', 'Model (-m)', 'Configured', 'Env vars', 'Source'],
            rows: rows.map((row) => [
              row.provider,
              `${row.model}${row.default ? ' *' : ''}`,
              row.status,
              row.env.join(', '),
              row.source,
            ]),
            isTerminal: Boolean(context.stdout.isTTY),
          }),
        );
        context.stdout.write(`* default (without -m): ${chosen.name} (${chosen.reason})\n`);
      }
      writeBrokenExtensions(context, 'providers');
    });
  // The plugins folder is read before parsing; the options are here so they are accepted and shown.
  addSettingOptions(command, ['model', 'home', 'pluginsDir', 'loglevel']);
  return command;
}

/** The model `run` would use: the setting when given, else the default that follows the configuration. */
async function currentModel(command: Command, context: CliContext): Promise<DefaultModel> {
  const { config, sources } = readSettingsWithSources(command, context);
  const source = sources.model;
  if (source && source.kind !== 'default') {
    return {
      name: config.model,
      reason:
        source.kind === 'flag'
          ? '-m'
          : source.kind === 'env'
            ? `env ${source.name}`
            : `${source.path}:${source.line}`,
    };
  }
  try {
    return await chooseDefaultModel(context.config.env);
  } catch (error) {
    context.logger.warn(errorMessage(error));
    return { name: '(none)', reason: errorMessage(error) };
  }
}

function providerStatus(provider: ProviderInfo, env: NodeJS.ProcessEnv): string {
  const set = provider.env.filter((variable) => envValue(env, variable.name) !== undefined);
  const shown = set.map((variable) =>
    variable.secret || provider.baseUrlEnv !== variable.name
      ? `${variable.name} set`
      : `${variable.name}=${envValue(env, variable.name)}`,
  );
  if (provider.configured(env)) return shown.join(', ') || 'yes';
  if (provider.name === 'ollama') return `default ${provider.defaultBaseUrl}`;
  const missing = provider.missing(env, '<model>');
  const needs = provider.apiKeyEnv ?? provider.env[0]?.name ?? '';
  return missing ? `no (set ${needs})` : shown.join(', ') || 'yes';
}

/** `MYCLOUD_API_KEY set`, or `no (set MYCLOUD_API_KEY)`; secret values are never shown. */
function pluginProviderStatus(provider: ProviderDefinition, env: NodeJS.ProcessEnv): string {
  const missing = provider.env.filter(
    (variable) => variable.required && envValue(env, variable.name) === undefined,
  );
  if (missing.length > 0) return `no (set ${missing.map((variable) => variable.name).join(', ')})`;
  const set = provider.env.filter((variable) => envValue(env, variable.name) !== undefined);
  return set.map((variable) => `${variable.name} set`).join(', ') || 'yes';
}
