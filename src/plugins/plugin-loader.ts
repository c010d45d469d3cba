import { readFileSync, realpathSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import {
  builtinContextRegistry,
  validateContextDefinition,
  type ContextRegistry,
} from '../agent/contexts/builtin-contexts.js';
import type { ContextDefinition } from '../agent/contexts/context-contract.js';
import type { ProviderDefinition } from '../agent/providers/provider-contract.js';
import {
  createProviderRegistry,
  validateProviderDefinition,
  type ProviderRegistry,
} from '../agent/providers/provider-registry.js';
import { validateToolDefinition, type ToolRegistry } from '../agent/tools/tool-registry.js';
import type { ToolDefinition } from '../agent/tools/tool-contract.js';
import { errorMessage } from '../errors/opsmate-error.js';
import { co } from '../process/child-process.js';
import type { RuntimeDefinition } from '../runtime/contract.js';
import { validateDefinition, type RuntimeRegistry } from '../runtime/runtime-registry.js';
import { enableTypeScript, HOST_VERSION, linkHost, registerHostResolveHook } from './host-resolution.js';
import { registerPluginRoot } from './plugin-guard.js';
import { supervisedChild } from './plugin-supervisor.js';
import {
  isTypeScriptModule,
  PLUGIN_KINDS,
  readPluginManifest,
  type PluginEntry,
  type PluginKind,
  type PluginManifest,
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
  /** True once imported and registered; false until a command needs it. */
  loaded: boolean;
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
  /** `peerDependencies.opsmate`, when declared. */
  opsmateRange?: string;
  /** Set when that range excludes the running opsmate: `needs opsmate ^2.0.0, this is 0.1.0`. */
  versionMismatch?: string;
  /** Lifecycle scripts npm runs at install (`postinstall: node setup.js`). */
  installScripts: string[];
  /** What its modules wrote to stdout while they were imported (sent to stderr instead). */
  stdoutAtImport?: string;
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

/** Where each kind of extension is registered. */
export interface ExtensionRegistries {
  runtimes: RuntimeRegistry;
  tools: ToolRegistry;
  contexts: ContextRegistry;
  providers: ProviderRegistry;
}

/**
 * Registries holding the built-ins only, to check plugins against. The built-in tools come as an
 * argument (`await import('../agent/tools/builtin-tools.js')`), so that importing this module does
 * not load every tool.
 */
export function builtinRegistries(
  runtimes: RuntimeRegistry,
  tools: { builtinToolRegistry(): ToolRegistry },
): ExtensionRegistries {
  return {
    runtimes,
    tools: tools.builtinToolRegistry(),
    contexts: builtinContextRegistry(),
    providers: createProviderRegistry(),
  };
}

export interface LoadPluginsOptions {
  pluginsDir: string;
  /** Receives the plugins' runtimes. It should already hold the built-ins, so a clash is caught. */
  registry: RuntimeRegistry;
  /** Receive the plugins' tools, contexts and providers; built-in registries when not given. */
  extensions?: Partial<Omit<ExtensionRegistries, 'runtimes'>>;
  /**
   * Packages to register after all others, so that a name clash is blamed on them. `opsmate
   * install` passes the packages it just installed.
   */
  loadLast?: readonly string[];
  importTimeoutMs?: number;
}

/**
 * Loads the plugins listed in the plugins folder's package.json and registers all their
 * extensions. Never calls npm and never throws for a broken plugin: each problem is recorded on
 * the plugin (see {@link pluginProblemLines}) and the others load normally. Throws a ConfigError
 * only when the plugins folder's own package.json is unreadable.
 */
export async function loadPlugins(options: LoadPluginsOptions): Promise<InstalledPlugin[]> {
  const plugins = readPlugins(options.pluginsDir);
  const given = options.extensions ?? {};
  // The built-in tools load only when a registry was not given (not on `exec`'s path).
  const registries: ExtensionRegistries = {
    ...(given.tools && given.contexts && given.providers
      ? { tools: given.tools, contexts: given.contexts, providers: given.providers }
      : builtinRegistries(options.registry, await import('../agent/tools/builtin-tools.js'))),
    ...given,
    runtimes: options.registry,
  };
  await importExtensions({
    pluginsDir: options.pluginsDir,
    plugins,
    registries,
    include: () => true,
    ...(options.loadLast ? { loadLast: options.loadLast } : {}),
    ...(options.importTimeoutMs !== undefined ? { importTimeoutMs: options.importTimeoutMs } : {}),
  });
  return plugins;
}

/**
 * Reads what the installed plugins declare, from their package.json files, without importing any
 * module: cheap enough for every command. Throws a ConfigError only when the plugins folder's own
 * package.json is unreadable.
 */
export function readPlugins(pluginsDir: string): InstalledPlugin[] {
  const specs = readInstalledSpecs(pluginsDir);
  const plugins: InstalledPlugin[] = [];
  for (const [name, spec] of specs) {
    const plugin: InstalledPlugin = {
      packageName: name,
      spec,
      source: describeSpec(pluginsDir, spec),
      provides: [],
      problems: [],
      unsupported: [],
      installScripts: [],
    };
    plugins.push(plugin);
    const folder = installedPackageFolder(pluginsDir, name);
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
    const manifest = readPluginManifest(packageJson, root);
    applyManifest(plugin, manifest);
    entriesByPlugin.set(plugin, { root, entries: manifest.entries });
  }
  return plugins;
}

/** Copies what a manifest says onto a plugin record, including the version check. */
function applyManifest(plugin: InstalledPlugin, manifest: PluginManifest): void {
  if (manifest.version !== undefined) plugin.version = manifest.version;
  plugin.problems.push(...manifest.problems);
  plugin.unsupported.push(...manifest.unsupported);
  plugin.installScripts = manifest.installScripts;
  if (manifest.opsmateRange !== undefined) {
    plugin.opsmateRange = manifest.opsmateRange;
    const mismatch = opsmateVersionMismatch(manifest.opsmateRange);
    if (mismatch) plugin.versionMismatch = mismatch;
  }
  for (const entry of manifest.entries) {
    plugin.provides.push({ kind: entry.kind, name: entry.name, declared: entry.declared, loaded: false });
  }
}

/** The module entries of each plugin read by {@link readPlugins}, kept off the public record. */
const entriesByPlugin = new WeakMap<InstalledPlugin, { root: string; entries: PluginEntry[] }>();

/**
 * Says why `range` (a plugin's `peerDependencies.opsmate`) excludes the running opsmate, or
 * undefined when it includes it. A range semver cannot read is reported too.
 */
export function opsmateVersionMismatch(range: string, version = HOST_VERSION): string | undefined {
  if (semver.validRange(range) === null)
    return `its peerDependencies.opsmate ${JSON.stringify(range)} is not a version range`;
  if (semver.satisfies(version, range, { includePrerelease: true })) return undefined;
  return `it needs opsmate ${range} (peerDependencies), and this is opsmate ${version}`;
}

/**
 * Reads a plugin package in a folder, as `opsmate plugin check` does before anything is
 * installed: the same record {@link readPlugins} makes for an installed one.
 */
export function readPluginFolder(folder: string): InstalledPlugin {
  const root = realpathOrSelf(folder);
  const plugin: InstalledPlugin = {
    packageName: '(unnamed package)',
    spec: `file:${root}`,
    source: { kind: 'editable', path: root },
    provides: [],
    problems: [],
    unsupported: [],
    installScripts: [],
  };
  let packageJson: unknown;
  try {
    packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  } catch (error) {
    plugin.problems.push(`cannot read ${join(root, 'package.json')}: ${firstLine(errorMessage(error))}`);
    return plugin;
  }
  const manifest = readPluginManifest(packageJson, root);
  plugin.packageName = manifest.name;
  applyManifest(plugin, manifest);
  entriesByPlugin.set(plugin, { root, entries: manifest.entries });
  return plugin;
}

export interface ImportExtensionsOptions {
  /** The plugins folder; absent for a plugin checked in its own folder (nothing is written). */
  pluginsDir?: string;
  /** From {@link readPlugins}; their `provides` are updated. */
  plugins: readonly InstalledPlugin[];
  registries: ExtensionRegistries;
  /** Which extensions to import now; the others stay unloaded. */
  include: (kind: PluginKind, name: string) => boolean;
  loadLast?: readonly string[];
  importTimeoutMs?: number;
  /** Receives what a plugin module writes to stdout at import; default: written to stderr. */
  onStdout?: (packageName: string, text: string) => void;
}

/**
 * Imports the chosen extensions of the plugins, one module at a time, and registers them. Each
 * failure (import error, wrong shape, name clash) becomes `problem` on that extension, naming the
 * file and line of a syntax error. While a module is imported, whatever it writes to stdout goes
 * to stderr, so a plugin can never corrupt the output of a command.
 */
export async function importExtensions(options: ImportExtensionsOptions): Promise<void> {
  const last = new Set(options.loadLast ?? []);
  const ordered = [
    ...options.plugins.filter((plugin) => !last.has(plugin.packageName)),
    ...options.plugins.filter((plugin) => last.has(plugin.packageName)),
  ];
  const pending: Array<{
    plugin: InstalledPlugin;
    entry: PluginEntry;
    extension: ProvidedExtension;
    root: string;
  }> = [];
  let linkedFromElsewhere = false;
  const installRoot = options.pluginsDir
    ? realpathOrSelf(join(options.pluginsDir, 'node_modules'))
    : undefined;
  for (const plugin of ordered) {
    const read = entriesByPlugin.get(plugin);
    if (!read) continue;
    for (const entry of read.entries) {
      const extension = plugin.provides.find(
        (candidate) => candidate.kind === entry.kind && candidate.name === entry.name,
      );
      if (!extension || extension.loaded || extension.problem || !options.include(entry.kind, entry.name))
        continue;
      pending.push({ plugin, entry, extension, root: read.root });
      if (!installRoot || !isInside(installRoot, read.root)) linkedFromElsewhere = true;
    }
  }
  if (pending.length === 0) return;
  if (pending.some(({ entry }) => isTypeScriptModule(entry.modulePath))) await enableTypeScript();
  const linked = options.pluginsDir ? linkHost(options.pluginsDir) : false;
  if (linkedFromElsewhere || !linked) registerHostResolveHook();

  const timeoutMs = options.importTimeoutMs ?? PLUGIN_IMPORT_TIMEOUT_MS;
  const supervisor = supervisedChild();
  for (const { plugin, entry, extension, root } of pending) {
    registerPluginRoot(root, plugin.packageName);
    const hung = supervisor?.skipped.find((skipped) => skipped.modulePath === entry.modulePath);
    if (hung) {
      extension.problem = `skipped: importing ${entry.declared} kept opsmate busy for ${hung.timeoutMs / 1000} s (a synchronous loop at import?); fix or uninstall the plugin`;
      continue;
    }
    supervisor?.importing({ packageName: plugin.packageName, modulePath: entry.modulePath, timeoutMs });
    const imported = await withStdoutRedirected(() => importWithTimeout(entry.modulePath, timeoutMs));
    supervisor?.imported();
    if (imported.stdout !== '') {
      plugin.stdoutAtImport = (plugin.stdoutAtImport ?? '') + imported.stdout;
      if (options.onStdout) options.onStdout(plugin.packageName, imported.stdout);
      else process.stderr.write(imported.stdout);
    }
    if (!('value' in imported)) {
      extension.problem = `cannot import ${entry.declared}: ${await describeImportError(imported.error, entry.modulePath)}`;
      continue;
    }
    const module = imported.value;
    const problem = registerExtension({
      registries: options.registries,
      module,
      entry,
      packageName: plugin.packageName,
    });
    if (problem) extension.problem = problem;
    else extension.loaded = true;
  }
}

/** Checks a module's definition for `entry` and registers it; returns the problem, if any. */
function registerExtension(options: {
  registries: ExtensionRegistries;
  module: Record<string, unknown>;
  entry: PluginEntry;
  packageName: string;
}): string | undefined {
  const { entry } = options;
  const kind = KIND_SPECS[entry.kind];
  const picked = pickDefinition(options.module, entry);
  if (typeof picked === 'string') return picked;
  const invalid = kind.validate(picked);
  if (invalid) return invalid;
  const definition = picked as { name: string };
  const sameName =
    entry.kind === 'tools'
      ? definition.name.toLowerCase() === entry.name.toLowerCase()
      : definition.name === entry.name;
  if (!sameName) {
    return `package.json declares ${kind.singular} "${entry.name}" but ${entry.declared} defines ${kind.singular} "${definition.name}"`;
  }
  try {
    const source = { kind: 'plugin' as const, packageName: options.packageName };
    if (entry.kind === 'runtimes')
      options.registries.runtimes.register(definition as RuntimeDefinition, source);
    else if (entry.kind === 'tools') options.registries.tools.register(definition as ToolDefinition, source);
    else if (entry.kind === 'contexts')
      options.registries.contexts.register(definition as ContextDefinition, source);
    else options.registries.providers.register(definition as ProviderDefinition, source);
  } catch (error) {
    return errorMessage(error);
  }
  return undefined;
}

/** Per kind: what its definitions are checked with, and how messages name it. */
const KIND_SPECS: Record<
  PluginKind,
  { singular: string; define: string; validate: (value: unknown) => string | undefined }
> = {
  runtimes: { singular: 'runtime', define: 'defineRuntime', validate: validateDefinition },
  tools: { singular: 'tool', define: 'defineTool', validate: validateToolDefinition },
  contexts: { singular: 'context', define: 'defineContext', validate: validateContextDefinition },
  providers: { singular: 'provider', define: 'defineProvider', validate: validateProviderDefinition },
};

/** Whether a value looks like something a `define…()` returned (checked properly later). */
function looksLikeDefinition(value: unknown): value is { name?: unknown } {
  return typeof value === 'object' && value !== null && 'specificationVersion' in value;
}

/** The definition a module provides for `entry`, or a problem. See `PLUGIN_SPECIFICATION_VERSION`. */
function pickDefinition(module: Record<string, unknown>, entry: PluginEntry): unknown {
  const kind = KIND_SPECS[entry.kind];
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
    return `${entry.declared} exports several ${kind.singular} definitions and none is named "${entry.name}" (pick one with ${entry.declared}#exportName)`;
  }
  if (module.default !== undefined) return module.default;
  return `${entry.declared} exports no ${kind.singular} definition (export default ${kind.define}({ ... }))`;
}

/**
 * Runs `work` with what code outside Node writes to `process.stdout.write` sent to a buffer, and
 * returns it: a plugin's `console.log` at import ends up there. Node's own writes (a test runner's
 * report, a stream piped to stdout) go on as they were: the import awaits, and other work of the
 * process runs meanwhile, whose output is not the plugin's to take.
 */
async function withStdoutRedirected<T>(
  work: () => Promise<T>,
): Promise<({ value: T } | { error: unknown }) & { stdout: string }> {
  const stdout = process.stdout;
  const original = stdout.write;
  let captured = '';
  stdout.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
    if (writtenByNodeItself())
      return (original as (...args: unknown[]) => boolean).call(stdout, chunk, encoding, callback);
    captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof stdout.write;
  try {
    return { value: await work(), stdout: captured };
  } catch (error) {
    return { error, stdout: captured };
  } finally {
    stdout.write = original;
  }
}

/** Whether the running write comes from Node's internals alone, with no frame of a file of ours or a plugin's. */
function writtenByNodeItself(): boolean {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  Error.captureStackTrace(holder, writtenByNodeItself);
  Error.stackTraceLimit = limit;
  const frames = (holder.stack ?? '').split('\n').slice(2);
  // The first frame is the patched write itself (this file); every other must be node:internal.
  return (
    frames.length > 0 &&
    frames.every((frame) => /\(node:|at node:|\(<anonymous>\)|at <anonymous>/.test(frame))
  );
}

/**
 * One line for an import failure, with the file and line of a syntax error: tsx reports
 * `file:line:col: ERROR: ...`; Node's own SyntaxError names no file, so `node --check` finds it.
 */
async function describeImportError(error: unknown, modulePath: string): Promise<string> {
  const message = errorMessage(error);
  const located = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m.exec(message);
  if (located) return `${located[1]}:${located[2]}:${located[3]}: ${located[4]}`;
  if (error instanceof SyntaxError && !isTypeScriptModule(modulePath)) {
    const check = await co([process.execPath, '--check', modulePath], { timeoutMs: 10_000 });
    const where = /^(\/[^\n]+?):(\d+)$/m.exec(check.stderr);
    if (check.exitCode !== 0 && where) return `${where[1]}:${where[2]}: SyntaxError: ${message}`;
  }
  return firstLine(message);
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
