import { Command } from 'commander';
import { nonEmpty, PROVIDERS, type ProviderInfo } from '../../agent/providers/model-catalog.js';
import { ollamaHostUrl } from '../../agent/providers/provider-urls.js';
import { errorMessage } from '../../errors/opsmate-error.js';
import type { CliContext } from '../cli-context.js';
import { renderTable } from '../render/table.js';

/** How long to wait for a local server's model list. */
const DISCOVERY_TIMEOUT_MS = 2_000;

export function listModelsCommand(context: CliContext): Command {
  return new Command('list-models')
    .summary('list the models and providers opsmate can use')
    .description(
      'List known models per provider, whether the provider is configured, and the models a local server ' +
        'reports when OPENAI_BASE_URL or OLLAMA_HOST points at one. Use a listed name with -m, or any ' +
        'model as provider:model (e.g. -m ollama:llama3.2).',
    )
    .action(async () => {
      const rows: string[][] = [];
      for (const provider of PROVIDERS) {
        const status = providerStatus(provider, context.env);
        const discovered = await discoverModels(provider, context.env);
        const names = discovered.models ?? [...provider.knownModels];
        for (const model of names) {
          const name = provider.matches(model) ? model : `${provider.name}:${model}`;
          rows.push([provider.name, name, status]);
        }
        if (discovered.problem) context.logger.warn(`${provider.name}: ${discovered.problem}`);
      }
      context.stdout.write(
        renderTable({
          title: 'Models',
          head: ['Provider', 'Model (-m)', 'Configured'],
          rows,
          isTerminal: Boolean(context.stdout.isTTY),
        }),
      );
    });
}

function providerStatus(provider: ProviderInfo, env: NodeJS.ProcessEnv): string {
  const baseUrl = nonEmpty(env[provider.baseUrlEnv])
    ? `${provider.baseUrlEnv}=${env[provider.baseUrlEnv]}`
    : '';
  if (!provider.apiKeyEnv) return baseUrl || `default ${provider.defaultBaseUrl}`;
  const key = nonEmpty(env[provider.apiKeyEnv]) ? `${provider.apiKeyEnv} set` : '';
  return [key, baseUrl].filter(Boolean).join(', ') || `no (set ${provider.apiKeyEnv})`;
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
