import { lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How a plugin's `import ... from 'opsmate'` reaches the opsmate that is running, not a copy.
 *
 * Plugins declare opsmate as a peer dependency, and npm runs with `--legacy-peer-deps`, so npm
 * never fetches opsmate for them. Instead:
 * - `<plugins dir>/node_modules/opsmate` is a symlink to the running package. Plugins installed
 *   there (from the registry, a tarball or a folder) find it by Node's ordinary lookup. npm prunes
 *   it as extraneous, so it is removed before npm runs and made again after, and checked at start.
 * - A plugin linked from elsewhere (`opsmate install -e`) resolves imports from its own folder,
 *   where that symlink is out of reach; for those a module resolve hook maps `opsmate` and
 *   `opsmate/testing` to the running package. The hook runs on Node's loader thread, which costs
 *   about 100 ms to start, so it is registered only when such a plugin is installed.
 * A plugin that brings its own copy of opsmate still works: the contract is checked by shape.
 */

/** Folder of the running opsmate package (holding its package.json). */
export const HOST_PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Version of the running opsmate, from its package.json. */
export const HOST_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The public entry points of opsmate, as in package.json `exports`, mapped to this build's files. */
export const HOST_ENTRY_POINTS: Readonly<Record<string, string>> = {
  opsmate: new URL('../index.js', import.meta.url).href,
  'opsmate/testing': new URL('../testing/index.js', import.meta.url).href,
  'opsmate/package.json': new URL('../../package.json', import.meta.url).href,
};

/** Path of the symlink that makes `opsmate` resolvable for plugins installed in `pluginsDir`. */
export function hostLinkPath(pluginsDir: string): string {
  return join(pluginsDir, 'node_modules', 'opsmate');
}

/**
 * Makes `<pluginsDir>/node_modules/opsmate` a symlink to the running package. Leaves a real folder
 * there alone (npm put a copy there for some plugin; that copy works too). Returns false when the
 * link could not be made, e.g. the folder is read-only.
 */
export function linkHost(pluginsDir: string): boolean {
  const link = hostLinkPath(pluginsDir);
  const target = realpathSync(HOST_PACKAGE_ROOT);
  try {
    const stat = lstatSync(link);
    if (!stat.isSymbolicLink()) return true;
    if (resolve(dirname(link), readlinkSync(link)) === target) return true;
    rmSync(link, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
  }
  try {
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link, 'dir');
    return true;
  } catch {
    return false;
  }
}

/** Removes the symlink (not a real folder) before npm runs, so npm neither prunes nor inspects it. */
export function unlinkHost(pluginsDir: string): void {
  const link = hostLinkPath(pluginsDir);
  try {
    if (lstatSync(link).isSymbolicLink()) rmSync(link, { force: true });
  } catch {
    // not there
  }
}

// Runs on Node's loader thread. Kept as text so it needs no file of its own in src/ or dist/.
const RESOLVE_HOOK_SOURCE = `
let targets = {};
export function initialize(data) { targets = data.targets; }
export async function resolve(specifier, context, nextResolve) {
  const target = Object.hasOwn(targets, specifier) ? targets[specifier] : undefined;
  return nextResolve(target === undefined ? specifier : target, context);
}
`;

let hookRegistered = false;

/** Registers the resolve hook described above, once per process. */
export function registerHostResolveHook(): void {
  if (hookRegistered) return;
  hookRegistered = true;
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK_SOURCE)}`, {
    data: { targets: HOST_ENTRY_POINTS },
  });
}

let typeScriptReady: Promise<void> | undefined;

/**
 * Lets `import()` load `.ts` modules, through tsx's loader, once per process. tsx ignores any
 * tsconfig.json in the user's working folder: a plugin compiles the same wherever opsmate runs.
 */
export function enableTypeScript(): Promise<void> {
  typeScriptReady ??= import('tsx/esm/api').then(({ register: registerTsx }) => {
    registerTsx({ tsconfig: false });
  });
  return typeScriptReady;
}
