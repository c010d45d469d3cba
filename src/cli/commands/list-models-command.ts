import { Command } from 'commander';
import { nonEmpty, PROVIDERS, type ProviderInfo } from '../../agent/providers/model-catalog.js';
import { ollamaHostUrl } from '../../agent/providers/provider-urls.js';
import type { ProviderDefinition } from '../../agent/providers/provider-contract.js';
import { errorMessage } from '../../errors/opsmate-error.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions } from '../field-options.js';
import { renderTable } from '../render/table.js';
import { extensionSourceText, writeBrokenExtensions } from './list-extensions.js';

/** How long to wait for a local server's model list. */
const DISCOVERY_TIMEOUT_MS = 2_000;

export function listModelsCommand(context: CliContext): Command {
  const command = new Command('list-models')
    .summary('list the models and providers opsmate can use')
    .description(
      'List known models per provider (built-in and from plugins), whether the provider is configured and by which env vars, and the models a local server ' +
        'reports when OPENAI_BASE_URL or OLLAMA_HOST points at one. Use a listed name with -m, or any ' +
        'model as provider:model (e.g. -m ollama:llama3.2).',
    )
    .action(async () => {
      const rows: string[][] = [];
      for (const provider of PROVIDERS) {
        const status = providerStatus(provider, context.env);
        const envVars = [provider.apiKeyEnv, provider.baseUrlEnv].filter(Boolean).join(', ');
        const discovered = await discoverModels(provider, context.env);
        const names = discovered.models ?? [...provider.knownModels];
        for (const model of names) {
          const name = provider.matches(model) ? model : `${provider.name}:${model}`;
          rows.push([provider.name, name, status, envVars, 'built-in']);
        }
        if (discovered.problem) context.logger.warn(`${provider.name}: ${discovered.problem}`);
      }
      for (const { definition, source } of context.providers.list()) {
        const status = pluginProviderStatus(definition, context.env);
        const envVars = definition.env
          .map((variable) => `${variable.name}${variable.required ? ' (required)' : ''}`)
          .join(', ');
        const models = definition.models && definition.models.length > 0 ? definition.models : ['<model>'];
        for (const model of models) {
          rows.push([
            definition.name,
            `${definition.name}:${model}`,
            status,
            envVars,
            extensionSourceText(source),
          ]);
        }
      }
      context.stdout.write(
        await renderTable({
          title: 'Models',
          head: ['Provider', 'Model (-m)', 'Configured', 'Env vars', 'Source'],
          rows,
          isTerminal: Boolean(context.stdout.isTTY),
        }),
      );
      writeBrokenExtensions(context, 'providers');
    });
  // The plugins folder is read before parsing; the options are here so they are accepted and shown.
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel']);
  return command;
}

function providerStatus(provider: ProviderInfo, env: NodeJS.ProcessEnv): string {
  const baseUrl = nonEmpty(env[provider.baseUrlEnv])
    ? `${provider.baseUrlEnv}=${env[provider.baseUrlEnv]}`
    : '';
  if (!provider.apiKeyEnv) return baseUrl || `default ${provider.defaultBaseUrl}`;
  const key = nonEmpty(env[provider.apiKeyEnv]) ? `${provider.apiKeyEnv} set` : '';
  return [key, baseUrl].filter(Boolean).join(', ') || `no (set ${provider.apiKeyEnv})`;
}

/** `MYCLOUD_API_KEY set`, or `no (set MYCLOUD_API_KEY)`; secret values are never shown. */
function pluginProviderStatus(provider: ProviderDefinition, env: NodeJS.ProcessEnv): string {
  const missing = provider.env.filter((variable) => variable.required && !nonEmpty(env[variable.name]));
  if (missing.length > 0) return `no (set ${missing.map((variable) => variable.name).join(', ')})`;
  const set = provider.env.filter((variable) => nonEmpty(env[variable.name]));
  return set.map((variable) => `${variable.name} set`).join(', ') || 'yes';
}

/** Asks a self-hosted server which models it serves; hosted APIs are not queried. */
async function discoverModels(
  provider: ProviderInfo,
  env: NodeJS.ProcessEnv,
): Promise<{ models?: string[]; problem?: string }> {
  const configured = env[provider.baseUrlEnv];
  if (!nonEmpty(configured)) return {};
  let url: string;
  if (provider.name === 'ollama') url = `${ollamaHostUrl(configured)}/api/tags`;
  else if (provider.name === 'openai') url = `${configured.trim().replace(/\/+$/, '')}/models`;
  else return {};
  try {
    const headers: Record<string, string> = {};
    const key = provider.apiKeyEnv ? env[provider.apiKeyEnv] : undefined;
    if (nonEmpty(key)) headers.authorization = `Bearer ${key.trim()}`;
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
    if (!response.ok) return { problem: `${url} answered HTTP ${response.status}` };
    const body = (await response.json()) as {
      data?: Array<{ id?: string }>;
      models?: Array<{ name?: string }>;
    };
    const models = (body.data ?? [])
      .map((model) => model.id ?? '')
      .concat((body.models ?? []).map((model) => model.name ?? ''));
    return { models: models.filter((model) => model !== '') };
  } catch (error) {
    return { problem: `cannot list the models at ${url}: ${errorMessage(error)}` };
  }
}
