import type { ExtensionSource } from '../../agent/extension-registry.js';
import { PLUGIN_KINDS, type PluginKind } from '../../plugins/plugin-manifest.js';
import type { CliContext } from '../cli-context.js';

/** `built-in` or `plugin <package>`, the Source column of the list commands. */
export function extensionSourceText(source: ExtensionSource): string {
  return source.kind === 'plugin' ? `plugin ${source.packageName ?? ''}`.trim() : 'built-in';
}

/** One stderr line per broken extension of `kind` (and per broken plugin package). */
export function writeBrokenExtensions(context: CliContext, kind: PluginKind): void {
  for (const plugin of context.plugins ?? []) {
    for (const problem of plugin.problems) {
      context.stderr.write(`opsmate: broken plugin: ${plugin.packageName}: ${problem}\n`);
    }
    for (const extension of plugin.provides) {
      if (extension.kind !== kind || !extension.problem) continue;
      context.stderr.write(
        `opsmate: broken plugin: ${plugin.packageName}: ${PLUGIN_KINDS[kind].singular} "${extension.name}": ${extension.problem}\n`,
      );
    }
  }
}
