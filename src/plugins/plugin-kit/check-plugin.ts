import * as builtinTools from '../../agent/tools/builtin-tools.js';
import { describeSchema } from '../../config/schema-fields.js';
import { builtinRegistry } from '../../runtimes/builtin-runtimes.js';
import {
  builtinRegistries,
  importExtensions,
  readPluginFolder,
  type InstalledPlugin,
} from '../plugin-loader.js';
import { PLUGIN_KINDS } from '../plugin-manifest.js';

/** What `opsmate plugin check` found. Errors would stop `opsmate install`; lints would not. */
export interface PluginCheckReport {
  plugin: InstalledPlugin;
  errors: string[];
  lints: string[];
  /** `runtime gce`, one per extension that loaded. */
  loaded: string[];
}

/**
 * Loads and validates a plugin folder the way `opsmate install` does after npm ran (the same
 * manifest rules, definition checks, option-name and clash checks against the built-ins, the
 * opsmate version range), without installing anything, and adds lints for what would annoy users.
 */
export async function checkPluginFolder(folder: string): Promise<PluginCheckReport> {
  const plugin = readPluginFolder(folder);
  const registries = builtinRegistries(builtinRegistry(), builtinTools);
  let stdout = '';
  await importExtensions({
    plugins: [plugin],
    registries,
    include: () => true,
    onStdout: (_name, text) => (stdout += text),
  });
  const errors = [
    ...plugin.problems,
    ...plugin.provides
      .filter((extension) => extension.problem)
      .map(
        (extension) => `${PLUGIN_KINDS[extension.kind].singular} "${extension.name}": ${extension.problem}`,
      ),
    ...(plugin.versionMismatch ? [plugin.versionMismatch] : []),
  ];
  const lints: string[] = [];
  if (plugin.opsmateRange === undefined) {
    lints.push(
      'package.json has no peerDependencies.opsmate: declare the opsmate versions it works with, e.g. ">=0.1.0"',
    );
  }
  if (plugin.installScripts.length > 0) {
    lints.push(
      `it has install scripts (${plugin.installScripts.join('; ')}): they run with the user's rights at install, and --ignore-scripts skips them`,
    );
  }
  if (stdout !== '') {
    lints.push(
      `it writes to stdout when imported (${JSON.stringify(stdout.slice(0, 60))}): opsmate sends that to stderr; print nothing at import`,
    );
  }
  for (const { definition, source } of registries.runtimes.list()) {
    if (source.kind !== 'plugin') continue;
    for (const spec of describeSchema(definition.configSchema)) {
      if (!spec.description) {
        lints.push(
          `runtime "${definition.name}": config field ${spec.key} has no .describe(): its --help line says only "Set ${spec.kebab}"`,
        );
      }
    }
  }
  for (const { definition, source } of registries.tools.list()) {
    if (source.kind !== 'plugin') continue;
    for (const spec of safeFields(definition.inputSchema)) {
      if (!spec.description)
        lints.push(
          `tool "${definition.name}": argument ${spec.key} has no .describe(): the model gets no hint for it`,
        );
    }
  }
  const loaded = plugin.provides
    .filter((extension) => extension.loaded)
    .map((extension) => `${PLUGIN_KINDS[extension.kind].singular} ${extension.name}`);
  return { plugin, errors, lints, loaded };
}

function safeFields(schema: unknown): Array<{ key: string; description?: string }> {
  const shape = (schema as { shape?: Record<string, { description?: string }> }).shape ?? {};
  return Object.entries(shape).map(([key, field]) => ({
    key,
    ...(field?.description ? { description: field.description } : {}),
  }));
}
