import { isAbsolute, relative, resolve } from 'node:path';

/**
 * Version tag of the plugin package contract below. Bumped only on a breaking change.
 *
 * A plugin is an npm package (by convention `opsmate-runtime-<name>`) whose package.json says what
 * it provides under the `opsmate` field, one object per kind of extension:
 *
 * ```json
 * "opsmate": { "runtimes": { "gce": "./dist/gce.js" } }
 * ```
 *
 * Kinds: `runtimes` (built with `defineRuntime()`), `tools` (`defineTool()`), `contexts`
 * (`defineContext()`) and `providers` (`defineProvider()`). Each key is the name the extension is
 * registered under; each value is a module path relative to the package root, optionally followed
 * by `#exportName`. Without `#`, the module's default export is used, or else its only export
 * built with the kind's `define…()` (or the one whose `name` matches the key). `.ts` modules load
 * through tsx, so a TypeScript plugin needs no build step. A kind this version does not know is
 * listed as unsupported and does not break the plugin.
 *
 * `peerDependencies.opsmate` is the range of opsmate versions the plugin works with; opsmate
 * refuses to install a plugin whose range excludes the running version.
 */
export const PLUGIN_SPECIFICATION_VERSION = 'opsmate.plugin.v1';

/** Kinds of extension a plugin may declare, and whether this version of opsmate loads them. */
export const PLUGIN_KINDS = {
  runtimes: { loaded: true, singular: 'runtime' },
  tools: { loaded: true, singular: 'tool' },
  contexts: { loaded: true, singular: 'context' },
  providers: { loaded: true, singular: 'provider' },
} as const;

export type PluginKind = keyof typeof PLUGIN_KINDS;

/** One extension a plugin declares. */
export interface PluginEntry {
  kind: PluginKind;
  /** Name it registers under, e.g. `gce`. */
  name: string;
  /** Module path as written in package.json, e.g. `./dist/gce.js#gceRuntime`. */
  declared: string;
  /** Absolute path of the module file. */
  modulePath: string;
  /** Export to use, when the declaration names one after `#`. */
  exportName?: string;
}

/** What a plugin's package.json says about it. */
export interface PluginManifest {
  name: string;
  version?: string;
  description?: string;
  entries: PluginEntry[];
  /** Declarations that cannot be used, one line each (bad path, unknown kind...). */
  problems: string[];
  /** Kinds this opsmate does not load yet; the rest of the plugin still works. */
  unsupported: string[];
  /** `peerDependencies.opsmate`, when the package declares it. */
  opsmateRange?: string;
  /** Lifecycle scripts npm runs when it installs the package (`postinstall: node setup.js`). */
  installScripts: string[];
}

/** The scripts npm runs when it installs a package from the registry or a tarball. */
export const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;

/** File extensions that go through tsx. */
const TYPESCRIPT_MODULE = /\.(?:ts|mts|cts|tsx)$/;

export function isTypeScriptModule(path: string): boolean {
  return TYPESCRIPT_MODULE.test(path);
}

/**
 * Reads the `opsmate` field of a plugin's package.json (already parsed). Never throws: whatever is
 * wrong becomes a line in `problems`. `packageRoot` is the folder holding the package.json.
 */
export function readPluginManifest(packageJson: unknown, packageRoot: string): PluginManifest {
  const manifest = (typeof packageJson === 'object' && packageJson !== null ? packageJson : {}) as Record<
    string,
    unknown
  >;
  const result: PluginManifest = {
    name: typeof manifest.name === 'string' ? manifest.name : '(unnamed package)',
    ...(typeof manifest.version === 'string' ? { version: manifest.version } : {}),
    ...(typeof manifest.description === 'string' ? { description: manifest.description } : {}),
    entries: [],
    problems: [],
    unsupported: [],
    installScripts: installScriptsOf(manifest),
  };
  const peers = manifest.peerDependencies as Record<string, unknown> | undefined;
  if (typeof peers?.opsmate === 'string') result.opsmateRange = peers.opsmate;
  const field = manifest.opsmate;
  if (typeof field !== 'object' || field === null || Array.isArray(field)) {
    result.problems.push(
      'not an opsmate plugin: its package.json has no "opsmate" field (e.g. "opsmate": { "runtimes": { "name": "./dist/name.js" } })',
    );
    return result;
  }
  for (const [kind, declarations] of Object.entries(field as Record<string, unknown>)) {
    if (!(kind in PLUGIN_KINDS)) {
      // Perhaps a kind from a newer opsmate: the rest of the plugin may still work here.
      result.unsupported.push(`${kind} (unknown to this version of opsmate)`);
      continue;
    }
    const known = PLUGIN_KINDS[kind as PluginKind];
    if (!known.loaded) {
      result.unsupported.push(`${kind} (not loaded by this version of opsmate)`);
      continue;
    }
    if (typeof declarations !== 'object' || declarations === null || Array.isArray(declarations)) {
      result.problems.push(`"opsmate.${kind}" must map names to module paths`);
      continue;
    }
    for (const [name, declared] of Object.entries(declarations as Record<string, unknown>)) {
      const entry = readEntry(kind as PluginKind, name, declared, packageRoot);
      if (typeof entry === 'string') result.problems.push(entry);
      else result.entries.push(entry);
    }
  }
  if (result.entries.length === 0 && result.problems.length === 0 && result.unsupported.length === 0) {
    result.problems.push(
      'declares nothing under "opsmate" (add e.g. "runtimes": { "name": "./dist/name.js" })',
    );
  }
  return result;
}

/** `name: command` for each install-time script in a package.json (already parsed). */
export function installScriptsOf(packageJson: unknown): string[] {
  const scripts = (packageJson as { scripts?: unknown } | null)?.scripts;
  if (typeof scripts !== 'object' || scripts === null) return [];
  return INSTALL_SCRIPTS.filter((name) => typeof (scripts as Record<string, unknown>)[name] === 'string').map(
    (name) => `${name}: ${String((scripts as Record<string, unknown>)[name])}`,
  );
}

function readEntry(kind: PluginKind, name: string, declared: unknown, root: string): PluginEntry | string {
  const what = `${PLUGIN_KINDS[kind].singular} "${name}"`;
  if (typeof declared !== 'string' || declared.trim() === '') {
    return `${what} must point to a module path, like "./dist/${name}.js"`;
  }
  const hash = declared.lastIndexOf('#');
  const path = hash >= 0 ? declared.slice(0, hash) : declared;
  const exportName = hash >= 0 ? declared.slice(hash + 1) : undefined;
  if (isAbsolute(path)) return `${what}: module path ${JSON.stringify(path)} must be relative to the package`;
  const modulePath = resolve(root, path);
  const inside = relative(root, modulePath);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    return `${what}: module path ${JSON.stringify(path)} points outside the package`;
  }
  if (exportName !== undefined && !/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    return `${what}: ${JSON.stringify(exportName)} after # is not an export name`;
  }
  return { kind, name, declared, modulePath, ...(exportName ? { exportName } : {}) };
}
