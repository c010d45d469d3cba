import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors/opsmate-error.js';

/**
 * The plugins folder (setting `pluginsDir`, default `~/.opsmate/plugins`) is a small npm project:
 * its package.json lists the installed plugins under `dependencies`, npm installs them into its
 * `node_modules`, and packed copies of local plugins live in `packages/`. Only `opsmate install`
 * and `opsmate uninstall` change it.
 */
export const PLUGINS_PROJECT_NAME = 'opsmate-plugins';

/** Where `opsmate install` keeps a packed copy of a plugin installed from a folder or tarball. */
export const PACKED_PLUGINS_FOLDER = 'packages';

export function pluginsPackageJsonPath(pluginsDir: string): string {
  return join(pluginsDir, 'package.json');
}

/** Folder npm installs a package into, e.g. `<dir>/node_modules/@scope/name`. */
export function installedPackageFolder(pluginsDir: string, packageName: string): string {
  return join(pluginsDir, 'node_modules', ...packageName.split('/'));
}

/**
 * The installed plugins and their npm specs (`^1.2.0`, `file:packages/x-1.0.0.tgz`,
 * `file:../src/plugin`), in the order package.json lists them. Empty when the folder or its
 * package.json does not exist. Throws a ConfigError when package.json is not valid JSON.
 */
export function readInstalledSpecs(pluginsDir: string): Map<string, string> {
  recoverInterruptedInstall(pluginsDir);
  const path = pluginsPackageJsonPath(pluginsDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`, {
      hint: 'fix or remove it; it lists the installed plugins',
    });
  }
  const dependencies = (parsed as { dependencies?: unknown } | null)?.dependencies;
  const specs = new Map<string, string>();
  if (typeof dependencies === 'object' && dependencies !== null) {
    for (const [name, spec] of Object.entries(dependencies)) {
      if (typeof spec === 'string') specs.set(name, spec);
    }
  }
  return specs;
}

/** Creates the plugins folder and its package.json when missing. */
export function ensurePluginsDir(pluginsDir: string): void {
  mkdirSync(pluginsDir, { recursive: true });
  const path = pluginsPackageJsonPath(pluginsDir);
  if (existsSync(path)) return;
  const manifest = {
    name: PLUGINS_PROJECT_NAME,
    private: true,
    description: 'Plugins installed by `opsmate install`. Change with opsmate install/uninstall, not npm.',
    dependencies: {},
  };
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The files npm changes in the plugins folder, as they were at one moment, for a rollback. */
export interface PluginsDirSnapshot {
  packageJson: string | undefined;
  packageLock: string | undefined;
}

const SNAPSHOT_FILES = { packageJson: 'package.json', packageLock: 'package-lock.json' } as const;

export function takeSnapshot(pluginsDir: string): PluginsDirSnapshot {
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(join(pluginsDir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  return { packageJson: read(SNAPSHOT_FILES.packageJson), packageLock: read(SNAPSHOT_FILES.packageLock) };
}

export function restoreSnapshot(pluginsDir: string, snapshot: PluginsDirSnapshot): void {
  for (const key of Object.keys(SNAPSHOT_FILES) as Array<keyof PluginsDirSnapshot>) {
    const path = join(pluginsDir, SNAPSHOT_FILES[key]);
    const content = snapshot[key];
    if (content === undefined) rmSync(path, { force: true });
    else writeFileSync(path, content);
  }
}

/** Where an installed plugin came from, read from its npm spec. */
export interface PluginSource {
  kind: 'registry' | 'editable' | 'tarball' | 'other';
  /** Absolute path of the linked folder or the packed tarball. */
  path?: string;
}

export function describeSpec(pluginsDir: string, spec: string): PluginSource {
  if (spec.startsWith('file:')) {
    const raw = spec.slice('file:'.length);
    const path = isAbsolute(raw) ? raw : resolve(pluginsDir, raw);
    return /\.(?:tgz|tar\.gz|tar)$/.test(path) ? { kind: 'tarball', path } : { kind: 'editable', path };
  }
  if (/^(?:git\+|git:|https?:|github:|[\w.-]+\/[\w.-]+(?:#.*)?$)/.test(spec)) return { kind: 'other' };
  return { kind: 'registry' };
}

/**
 * Written before npm changes the plugins folder, removed once opsmate has checked (and kept or
 * rolled back) what npm did. Found with a dead pid, it means opsmate was killed mid-install (npm
 * dies with it, see `dieWithParent`): the snapshot is put back, so a plugin that install would
 * have refused is not left listed.
 */
export const INSTALL_JOURNAL_FILE = '.opsmate-install-journal.json';

/** Records that an install or uninstall by this process is changing the folder. */
export function writeInstallJournal(pluginsDir: string, snapshot: PluginsDirSnapshot): void {
  writeFileSync(join(pluginsDir, INSTALL_JOURNAL_FILE), JSON.stringify({ pid: process.pid, snapshot }));
}

/** The install is over (kept or rolled back). */
export function removeInstallJournal(pluginsDir: string): void {
  rmSync(join(pluginsDir, INSTALL_JOURNAL_FILE), { force: true });
}

/**
 * Puts back the folder's package.json and lockfile when an install was interrupted by the death
 * of its opsmate; returns whether it did. node_modules may keep files of the unlisted package;
 * the next install makes npm tidy them.
 */
export function recoverInterruptedInstall(pluginsDir: string): boolean {
  const path = join(pluginsDir, INSTALL_JOURNAL_FILE);
  let journal: { pid?: unknown; snapshot?: PluginsDirSnapshot };
  try {
    journal = JSON.parse(readFileSync(path, 'utf8')) as typeof journal;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    rmSync(path, { force: true });
    return false;
  }
  if (typeof journal.pid === 'number' && journal.pid !== process.pid && pidAlive(journal.pid)) return false;
  if (journal.pid === process.pid) return false;
  if (journal.snapshot) restoreSnapshot(pluginsDir, journal.snapshot);
  rmSync(path, { force: true });
  return true;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
