import { readFileSync, realpathSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeSchema } from '../config/schema-fields.js';
import { errorMessage } from '../errors/opsmate-error.js';
import type { RuntimeDefinition } from '../runtime/contract.js';
import { validateDefinition, type RuntimeRegistry } from '../runtime/runtime-registry.js';
import { enableTypeScript, linkHost, registerHostResolveHook } from './host-resolution.js';
import {
  isTypeScriptModule,
  PLUGIN_KINDS,
  readPluginManifest,
  type PluginEntry,
  type PluginKind,
} from './plugin-manifest.js';
import {
  describeSpec,
  installedPackageFolder,
  readInstalledSpecs,
  type PluginSource,
} from './plugins-dir.js';

/** How long one plugin module may take to import before it is reported as broken. */
export const PLUGIN_IMPORT_TIMEOUT_MS = 10_000;

/** One extension a plugin provides, and why it does not work when it does not. */
export interface ProvidedExtension {
  kind: PluginKind;
  name: string;
  /** Module path as written in the plugin's package.json. */
  declared: string;
  /** Set when it could not be loaded or registered. */
  problem?: string;
}

/** An installed plugin as found at start-up. */
export interface InstalledPlugin {
  packageName: string;
  /** Version from the installed package.json, when it could be read. */
  version?: string;
  /** The npm spec it is installed from, as listed in the plugins folder's package.json. */
  spec: string;
  source: PluginSource;
  provides: ProvidedExtension[];
  /** Problems with the package as a whole (not installed, no `opsmate` field...). */
  problems: string[];
  /** Kinds it declares that this version of opsmate does not load. */
  unsupported: string[];
}

/** True when nothing about the plugin is broken. */
export function pluginWorks(plugin: InstalledPlugin): boolean {
  return plugin.problems.length === 0 && plugin.provides.every((extension) => !extension.problem);
}

/** Every problem of the plugins, one line each, starting with the package name. */
export function pluginProblemLines(plugins: readonly InstalledPlugin[]): string[] {
  return plugins.flatMap((plugin) => [
    ...plugin.problems.map((problem) => `${plugin.packageName}: ${problem}`),
    ...plugin.provides
      .filter((extension) => extension.problem)
      .map(
        (extension) =>
          `${plugin.packageName}: ${PLUGIN_KINDS[extension.kind].singular} "${extension.name}": ${extension.problem}`,
      ),
  ]);
}

export interface LoadPluginsOptions {
  pluginsDir: string;
  /** Receives the plugins' runtimes. It should already hold the built-ins, so a clash is caught. */
  registry: RuntimeRegistry;
  /**
   * Packages to register after all others, so that a name clash is blamed on them. `opsmate
   * install` passes the packages it just installed.
   */
  loadLast?: readonly string[];
  importTimeoutMs?: number;
}

interface PendingImport {
  plugin: InstalledPlugin;
  entry: PluginEntry;
  extension: ProvidedExtension;
}

/**
 * Loads the plugins listed in the plugins folder's package.json and registers their runtimes.
 * Never calls npm and never throws for a broken plugin: each problem is recorded on the plugin
 * (see {@link pluginProblemLines}) and the others load normally. Throws a ConfigError only when
 * the plugins folder's own package.json is unreadable.
 */
export async function loadPlugins(options: LoadPluginsOptions): Promise<InstalledPlugin[]> {
  const specs = readInstalledSpecs(options.pluginsDir);
  if (specs.size === 0) return [];
  const last = new Set(options.loadLast ?? []);
  const names = [...specs.keys()];
  const ordered = [...names.filter((name) => !last.has(name)), ...names.filter((name) => last.has(name))];

  const plugins = new Map<string, InstalledPlugin>();
  const pending: PendingImport[] = [];
  const installRoot = realpathOrSelf(join(options.pluginsDir, 'node_modules'));
  let linkedFromElsewhere = false;
  for (const name of ordered) {
    const spec = specs.get(name)!;
    const plugin: InstalledPlugin = {
      packageName: name,
      spec,
      source: describeSpec(options.pluginsDir, spec),
      provides: [],
      problems: [],
      unsupported: [],
    };
    plugins.set(name, plugin);
    const folder = installedPackageFolder(options.pluginsDir, name);
    let packageJson: unknown;
    let root: string;
    try {
      root = realpathSync(folder);
      packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    } catch (error) {
      plugin.problems.push(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? `listed in the plugins folder but missing from ${folder} (run: opsmate install --force-reinstall ${name})`
          : `cannot read its package.json: ${firstLine(errorMessage(error))}`,
      );
      continue;
    }
    if (!isInside(installRoot, root)) linkedFromElsewhere = true;
    const manifest = readPluginManifest(packageJson, root);
    if (manifest.version !== undefined) plugin.version = manifest.version;
    plugin.problems.push(...manifest.problems);
    plugin.unsupported.push(...manifest.unsupported);
    for (const entry of manifest.entries) {
      const extension: ProvidedExtension = { kind: entry.kind, name: entry.name, declared: entry.declared };
      plugin.provides.push(extension);
      pending.push({ plugin, entry, extension });
    }
  }

  if (pending.length > 0) {
    if (pending.some(({ entry }) => isTypeScriptModule(entry.modulePath))) await enableTypeScript();
    const linked = linkHost(options.pluginsDir);
    if (linkedFromElsewhere || !linked) registerHostResolveHook();
  }

  const timeoutMs = options.importTimeoutMs ?? PLUGIN_IMPORT_TIMEOUT_MS;
  const modules = await Promise.allSettled(
    pending.map(({ entry }) => importWithTimeout(entry.modulePath, timeoutMs)),
  );
  pending.forEach(({ plugin, entry, extension }, index) => {
    const outcome = modules[index]!;
    if (outcome.status === 'rejected') {
      extension.problem = `cannot import ${entry.declared}: ${firstLine(errorMessage(outcome.reason))}`;
      return;
    }
    const problem = registerRuntime({
      registry: options.registry,
      module: outcome.value,
      entry,
      packageName: plugin.packageName,
    });
    if (problem) extension.problem = problem;
  });
  // Back to the order package.json lists them in.
  return names.map((name) => plugins.get(name)!);
}

function registerRuntime(options: {
  registry: RuntimeRegistry;
  module: Record<string, unknown>;
  entry: PluginEntry;
  packageName: string;
}): string | undefined {
  const { entry } = options;
  const picked = pickDefinition(options.module, entry);
  if (typeof picked === 'string') return picked;
  const invalid = validateDefinition(picked);
  if (invalid) return invalid;
  const definition = picked as RuntimeDefinition;
  if (definition.name !== entry.name) {
    return `package.json declares runtime "${entry.name}" but ${entry.declared} defines runtime "${definition.name}"`;
  }
  try {
    describeSchema(definition.configSchema);
  } catch (error) {
    return `its configSchema cannot become command-line options: ${errorMessage(error)}`;
  }
  try {
    options.registry.register(definition, { kind: 'plugin', packageName: options.packageName });
  } catch (error) {
    return errorMessage(error);
  }
  return undefined;
}

/** Whether a value looks like something `defineRuntime()` returned (checked properly later). */
function looksLikeDefinition(value: unknown): value is { name?: unknown } {
  return typeof value === 'object' && value !== null && 'specificationVersion' in value && 'create' in value;
}

/** The definition a module provides for `entry`, or a problem. See `PLUGIN_SPECIFICATION_VERSION`. */
function pickDefinition(module: Record<string, unknown>, entry: PluginEntry): unknown {
  if (entry.exportName !== undefined) {
    if (!(entry.exportName in module))
      return `${entry.declared}: the module has no export "${entry.exportName}"`;
    return module[entry.exportName];
  }
  if (looksLikeDefinition(module.default)) return module.default;
  const named = Object.entries(module).filter(
    ([key, value]) => key !== 'default' && looksLikeDefinition(value),
  );
  const sameName = named.find(([, value]) => (value as { name?: unknown }).name === entry.name);
  if (sameName) return sameName[1];
  if (named.length === 1) return named[0]![1];
  if (named.length > 1) {
    return `${entry.declared} exports several runtime definitions and none is named "${entry.name}" (pick one with ${entry.declared}#exportName)`;
  }
  if (module.default !== undefined) return module.default;
  return `${entry.declared} exports no runtime definition (export default defineRuntime({ ... }))`;
}

async function importWithTimeout(path: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    // Not unref'd: a module stuck in top-level await leaves nothing else to keep the process alive.
    timer = setTimeout(
      () => reject(new Error(`it did not finish loading within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  try {
    return (await Promise.race([import(pathToFileURL(path).href), timedOut])) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
  }
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function isInside(parent: string, child: string): boolean {
  const path = relative(parent, child);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '') ?? text;
}
