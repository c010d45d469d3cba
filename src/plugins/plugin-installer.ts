import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ConfigError, errorMessage, OpsmateError } from '../errors/opsmate-error.js';
import { acquireFileLock, type FileLockResult } from '../process/file-lock.js';
import type { RuntimeRegistry } from '../runtime/runtime-registry.js';
import { linkHost, unlinkHost } from './host-resolution.js';
import { npmFailure, runNpm } from './npm-client.js';
import {
  loadPlugins,
  pluginProblemLines,
  pluginWorks,
  type ExtensionRegistries,
  type InstalledPlugin,
} from './plugin-loader.js';
import {
  describeSpec,
  ensurePluginsDir,
  installedPackageFolder,
  PACKED_PLUGINS_FOLDER,
  readInstalledSpecs,
  removeInstallJournal,
  restoreSnapshot,
  writeInstallJournal,
  takeSnapshot,
  type PluginsDirSnapshot,
} from './plugins-dir.js';

export interface InstallRequest {
  pluginsDir: string;
  /** Registry specs (`name`, `name@^1.2`), tarball paths and folder paths; folders are copied. */
  packages: readonly string[];
  /** Folders to link instead of copy, so edits take effect without reinstalling. */
  editable?: readonly string[];
  /** Install the newest version of registry packages that are already installed. */
  upgrade?: boolean;
  /** Remove and install again even when already installed. */
  forceReinstall?: boolean;
  /** Use a throwaway npm cache instead of the user's. */
  noCacheDir?: boolean;
  /** Do not run the packages' install scripts (`npm install --ignore-scripts`). */
  ignoreScripts?: boolean;
  /** npm registry to install from, instead of the one npm's config names. */
  registry?: string;
  /** Receives one line per notable fact, e.g. which packages ran install scripts. */
  onNotice?: (text: string) => void;
  /** A registry with the built-in runtimes, to check the new plugins against (name clashes). */
  createRegistry: () => RuntimeRegistry;
  /** Registries with the built-in tools, contexts and providers; built-in ones when not given. */
  createExtensions?: () => Partial<Omit<ExtensionRegistries, 'runtimes'>>;
  /** Folder relative paths are resolved from. Defaults to the current directory. */
  cwd?: string;
  signal?: AbortSignal;
  /** Receives npm's output and other details, for `--loglevel debug`. */
  onDebug?: (text: string) => void;
}

export interface InstallOutcome {
  /** The plugins installed or reinstalled by this run, loaded and working. */
  installed: InstalledPlugin[];
  /** Registry packages left alone because they were already installed. */
  skipped: Array<{ packageName: string; version?: string }>;
}

type Target =
  | { kind: 'editable'; path: string; packageName: string }
  | { kind: 'folder'; path: string; packageName: string }
  | { kind: 'tarball'; path: string }
  | { kind: 'registry'; spec: string; packageName?: string; hasVersion: boolean };

/**
 * Installs plugins into the plugins folder with npm, then loads and checks each one. When npm
 * fails or a new plugin does not work, the folder's package.json and lockfile are put back and
 * npm brings node_modules back in line, so the previous state is restored; the error says why
 * in one line.
 */
export async function installPlugins(request: InstallRequest): Promise<InstallOutcome> {
  const cwd = request.cwd ?? process.cwd();
  const targets = [
    ...(request.editable ?? []).map((path) => editableTarget(resolve(cwd, path))),
    ...request.packages.map((spec) => classify(spec, cwd)),
  ];
  if (targets.length === 0) {
    throw new ConfigError('nothing to install', {
      hint: 'name a package, a tarball or a folder, or use -e PATH for a folder you are editing',
    });
  }
  ensurePluginsDir(request.pluginsDir);
  return await withPluginsLock(request.pluginsDir, async () => {
    const before = readInstalledSpecs(request.pluginsDir);
    const skipped: InstallOutcome['skipped'] = [];
    const toInstall: Target[] = [];
    for (const target of targets) {
      if (
        target.kind === 'registry' &&
        target.packageName !== undefined &&
        !target.hasVersion &&
        !request.upgrade &&
        !request.forceReinstall &&
        before.has(target.packageName) &&
        existsSync(installedPackageFolder(request.pluginsDir, target.packageName))
      ) {
        const version = installedVersion(request.pluginsDir, target.packageName);
        skipped.push({ packageName: target.packageName, ...(version ? { version } : {}) });
      } else {
        toInstall.push(target);
      }
    }
    if (toInstall.length === 0) return { installed: [], skipped };

    const snapshot = takeSnapshot(request.pluginsDir);
    writeInstallJournal(request.pluginsDir, snapshot);
    const cache = request.noCacheDir ? mkdtempSync(join(tmpdir(), 'opsmate-npm-cache-')) : undefined;
    try {
      const npmSpecs: string[] = [];
      const expected: Array<{ packageName?: string; tarball?: string; label: string }> = [];
      for (const target of toInstall) {
        if (target.kind === 'editable') {
          npmSpecs.push(target.path);
          expected.push({ packageName: target.packageName, label: target.path });
        } else if (target.kind === 'registry') {
          const spec =
            request.upgrade && target.packageName && !target.hasVersion
              ? `${target.packageName}@latest`
              : target.spec;
          npmSpecs.push(spec);
          expected.push({ ...(target.packageName ? { packageName: target.packageName } : {}), label: spec });
        } else {
          const tarball = await packTarget(target, request, cache);
          npmSpecs.push(tarball);
          expected.push({
            ...(target.kind === 'folder' ? { packageName: target.packageName } : {}),
            tarball,
            label: target.path,
          });
        }
      }
      if (request.forceReinstall) {
        for (const item of expected) {
          const name =
            item.packageName ??
            (item.tarball ? nameForTarball(request.pluginsDir, before, item.tarball) : undefined);
          if (name) removeInstalledFolder(request.pluginsDir, name);
        }
      }

      const allLocal = toInstall.every((target) => target.kind !== 'registry');
      const args = [
        'install',
        '--save',
        ...(allLocal ? ['--prefer-offline'] : []),
        ...(cache ? ['--cache', cache] : []),
        ...npmConfigFlags(request),
        ...npmSpecs,
      ];
      unlinkHost(request.pluginsDir);
      request.onDebug?.(`npm ${args.join(' ')} (in ${request.pluginsDir})`);
      const result = await runNpm(args, npmOptions(request));
      request.onDebug?.(`${result.stdout}${result.stderr}`.trim());
      if (result.exitCode !== 0) {
        await rollBack(request, snapshot);
        throw new OpsmateError(`nothing was installed: ${npmFailure(result)}`, {
          hint: 'the plugins folder is as it was; run with --loglevel debug to see npm output',
        });
      }

      const after = readInstalledSpecs(request.pluginsDir);
      const names = new Set<string>();
      for (const item of expected) {
        const name =
          item.packageName ??
          (item.tarball ? nameForTarball(request.pluginsDir, after, item.tarball) : undefined);
        if (name) names.add(name);
      }
      for (const [name, spec] of after) if (before.get(name) !== spec) names.add(name);
      reportInstallScripts(request, snapshot.packageLock, names);

      const plugins = await loadPlugins({
        pluginsDir: request.pluginsDir,
        registry: request.createRegistry(),
        ...(request.createExtensions ? { extensions: request.createExtensions() } : {}),
        loadLast: [...names],
      });
      const installed = plugins.filter((plugin) => names.has(plugin.packageName));
      const failed = installed.find((plugin) => installProblems(plugin).length > 0);
      if (failed) {
        await rollBack(request, snapshot);
        const reasons = installed.flatMap((plugin) => installProblems(plugin));
        const more = reasons.length > 1 ? ` (and ${reasons.length - 1} more problems)` : '';
        throw new OpsmateError(
          `${failed.packageName} was not installed: ${installProblems(failed)[0]}${more}`,
          {
            hint: 'the plugins folder is as it was before; fix the plugin and install it again',
          },
        );
      }
      removeUnusedTarballs(request.pluginsDir);
      return { installed, skipped };
    } finally {
      removeInstallJournal(request.pluginsDir);
      linkHost(request.pluginsDir);
      if (cache) rmSync(cache, { recursive: true, force: true });
    }
  });
}

/** npm flags every run of an install takes: the registry, and whether scripts run. */
function npmConfigFlags(request: Pick<InstallRequest, 'registry' | 'ignoreScripts'>): string[] {
  return [
    ...(request.registry ? ['--registry', request.registry] : []),
    ...(request.ignoreScripts ? ['--ignore-scripts'] : []),
  ];
}

/**
 * One line per package this install added that has install scripts (npm's lockfile marks them),
 * saying whether they ran: scripts run with the user's rights, so the user should know.
 */
function reportInstallScripts(
  request: InstallRequest,
  lockBefore: string | undefined,
  installed: ReadonlySet<string>,
): void {
  const marked = (text: string | undefined): Map<string, string> => {
    const found = new Map<string, string>();
    try {
      const lock = JSON.parse(text ?? '{}') as {
        packages?: Record<string, { hasInstallScript?: boolean; version?: string; name?: string }>;
      };
      for (const [path, entry] of Object.entries(lock.packages ?? {})) {
        if (!entry.hasInstallScript || path === '') continue;
        const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
        found.set(path, `${[name, entry.version].filter(Boolean).join('@')}\u0000${JSON.stringify(entry)}`);
      }
    } catch {
      // no lockfile: nothing to report
    }
    return found;
  };
  const before = marked(lockBefore);
  const after = marked(takeSnapshot(request.pluginsDir).packageLock);
  // New or changed entries, and the packages this run (re)installed, such as --force-reinstall.
  const added = [...after]
    .filter(
      ([path, value]) =>
        before.get(path) !== value || installed.has(path.slice(path.lastIndexOf('node_modules/') + 13)),
    )
    .map(([, value]) => value.slice(0, value.indexOf('\u0000')));
  if (added.length === 0) return;
  request.onNotice?.(
    request.ignoreScripts
      ? `did not run the install scripts of ${added.join(', ')} (--ignore-scripts); a plugin that needs them may not work`
      : `ran the install scripts of ${added.join(', ')}, with your rights (--ignore-scripts skips them)`,
  );
}

/** Why a just-installed plugin cannot stay, one line each; empty when it works. */
function installProblems(plugin: InstalledPlugin): string[] {
  const prefix = `${plugin.packageName}: `;
  if (plugin.versionMismatch) return [plugin.versionMismatch];
  if (!pluginWorks(plugin)) {
    return pluginProblemLines([plugin]).map((line) =>
      line.startsWith(prefix) ? line.slice(prefix.length) : line,
    );
  }
  if (plugin.provides.length === 0) {
    return [`it provides nothing this version of opsmate can load (${plugin.unsupported.join(', ')})`];
  }
  return [];
}

export interface UninstallRequest {
  pluginsDir: string;
  /** Package names, as `opsmate list-plugins` shows them. */
  packages: readonly string[];
  signal?: AbortSignal;
  onDebug?: (text: string) => void;
}

/**
 * Removes installed plugins with npm. A folder installed with `-e` is only unlinked, never
 * deleted. Names that are not installed are returned in `notInstalled` and otherwise ignored.
 */
export async function uninstallPlugins(
  request: UninstallRequest,
): Promise<{ removed: string[]; notInstalled: string[] }> {
  const installed = readInstalledSpecs(request.pluginsDir);
  const removed = request.packages.filter((name) => installed.has(name));
  const notInstalled = request.packages.filter((name) => !installed.has(name));
  if (removed.length === 0) return { removed, notInstalled };
  await withPluginsLock(request.pluginsDir, async () => {
    const snapshot = takeSnapshot(request.pluginsDir);
    writeInstallJournal(request.pluginsDir, snapshot);
    try {
      unlinkHost(request.pluginsDir);
      const args = ['uninstall', '--save', '--prefer-offline', ...removed];
      request.onDebug?.(`npm ${args.join(' ')} (in ${request.pluginsDir})`);
      const result = await runNpm(args, npmOptions(request));
      request.onDebug?.(`${result.stdout}${result.stderr}`.trim());
      if (result.exitCode !== 0) {
        restoreSnapshot(request.pluginsDir, snapshot);
        throw new OpsmateError(`nothing was uninstalled: ${npmFailure(result)}`, {
          hint: 'run with --loglevel debug to see npm output',
        });
      }
      removeUnusedTarballs(request.pluginsDir);
    } finally {
      removeInstallJournal(request.pluginsDir);
      linkHost(request.pluginsDir);
    }
  });
  return { removed, notInstalled };
}

function npmOptions(request: { pluginsDir: string; signal?: AbortSignal }) {
  return { pluginsDir: request.pluginsDir, ...(request.signal ? { signal: request.signal } : {}) };
}

/** Puts package.json and the lockfile back, and has npm make node_modules match them again. */
async function rollBack(request: InstallRequest, snapshot: PluginsDirSnapshot): Promise<void> {
  restoreSnapshot(request.pluginsDir, snapshot);
  unlinkHost(request.pluginsDir);
  // Not cancellable: an interrupted install must still be undone.
  const result = await runNpm(['install', '--prefer-offline', ...npmConfigFlags(request)], {
    pluginsDir: request.pluginsDir,
  });
  request.onDebug?.(`rollback: ${`${result.stdout}${result.stderr}`.trim()}`);
  removeUnusedTarballs(request.pluginsDir);
  if (result.exitCode !== 0) {
    throw new OpsmateError(`install failed and the rollback did too: ${npmFailure(result)}`, {
      hint: `package.json in ${request.pluginsDir} is restored; run \`npm install\` there once the problem is fixed`,
    });
  }
}

const TARBALL = /\.(?:tgz|tar\.gz|tar)$/;

function classify(spec: string, cwd: string): Target {
  const local =
    spec.startsWith('.') ||
    spec.startsWith('/') ||
    spec.startsWith('~/') ||
    spec.startsWith('file:') ||
    TARBALL.test(spec) ||
    (spec.includes('/') && !spec.startsWith('@') && existsSync(resolve(cwd, spec)));
  if (!local) {
    const match = /^((?:@[^/@\s]+\/)?[^/@\s:]+)(?:@(.+))?$/.exec(spec);
    return match
      ? { kind: 'registry', spec, packageName: match[1]!, hasVersion: match[2] !== undefined }
      : { kind: 'registry', spec, hasVersion: true };
  }
  const raw = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
  const path = resolve(cwd, raw.startsWith('~/') ? join(process.env.HOME ?? '', raw.slice(2)) : raw);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw new ConfigError(`no such file or folder: ${path}`, {
      hint: 'give a plugin folder, a tarball made by `npm pack`, or a package name',
    });
  }
  if (!isDirectory) return { kind: 'tarball', path };
  return { kind: 'folder', path, packageName: folderPackageName(path) };
}

function editableTarget(path: string): Target {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) {
    throw new ConfigError(`-e needs a plugin folder, and ${path} is not one`, {
      hint: 'point -e at the folder holding the plugin package.json, e.g. opsmate install -e .',
    });
  }
  return { kind: 'editable', path, packageName: folderPackageName(path) };
}

function folderPackageName(folder: string): string {
  const path = join(folder, 'package.json');
  let name: unknown;
  try {
    name = (JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown }).name;
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${errorMessage(error)}`, {
      hint: 'a plugin folder needs a package.json with a name, a version and an "opsmate" field',
    });
  }
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError(`${path} has no "name"`, { hint: 'name the package, e.g. opsmate-runtime-<name>' });
  }
  return name;
}

/**
 * A tarball in `<plugins dir>/packages/`, named after its content, for a folder (packed with
 * `npm pack`, which runs its prepack script) or a tarball (copied). Keeping a copy lets npm
 * rebuild the folder later; naming it by content means an older copy is never overwritten, which
 * a rollback may need.
 */
async function packTarget(
  target: Extract<Target, { kind: 'folder' | 'tarball' }>,
  request: InstallRequest,
  cache: string | undefined,
): Promise<string> {
  const packed = join(request.pluginsDir, PACKED_PLUGINS_FOLDER);
  mkdirSync(packed, { recursive: true });
  let source = target.path;
  let temporary: string | undefined;
  if (target.kind === 'folder') {
    temporary = mkdtempSync(join(tmpdir(), 'opsmate-pack-'));
    const result = await runNpm(
      [
        'pack',
        target.path,
        '--pack-destination',
        temporary,
        '--json',
        ...(cache ? ['--cache', cache] : []),
        ...npmConfigFlags(request),
      ],
      npmOptions(request),
    );
    if (result.exitCode !== 0) {
      rmSync(temporary, { recursive: true, force: true });
      throw new OpsmateError(`cannot pack ${target.path}: ${npmFailure(result)}`, {
        hint: 'nothing was installed; `npm pack` must work in the plugin folder',
      });
    }
    const file = readdirSync(temporary).find((entry) => TARBALL.test(entry));
    if (!file) throw new OpsmateError(`npm pack ${target.path} made no tarball`);
    source = join(temporary, file);
  }
  try {
    const content = readFileSync(source);
    const digest = createHash('sha256').update(content).digest('hex').slice(0, 12);
    const stem = basename(source).replace(TARBALL, '');
    const destination = join(packed, `${stem}-${digest}.tgz`);
    if (!existsSync(destination)) {
      copyFileSync(source, `${destination}.partial`);
      renameSync(`${destination}.partial`, destination);
    }
    return destination;
  } finally {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  }
}

/** The installed package whose spec points at `tarball`. */
function nameForTarball(pluginsDir: string, specs: Map<string, string>, tarball: string): string | undefined {
  for (const [name, spec] of specs) {
    if (describeSpec(pluginsDir, spec).path === tarball) return name;
  }
  return undefined;
}

function removeInstalledFolder(pluginsDir: string, packageName: string): void {
  const folder = installedPackageFolder(pluginsDir, packageName);
  try {
    // A linked (-e) plugin: remove the link, never the folder it points to.
    if (lstatSync(folder).isSymbolicLink()) unlinkSync(folder);
    else rmSync(folder, { recursive: true, force: true });
  } catch {
    // not installed
  }
}

function removeUnusedTarballs(pluginsDir: string): void {
  const packed = join(pluginsDir, PACKED_PLUGINS_FOLDER);
  let files: string[];
  try {
    files = readdirSync(packed);
  } catch {
    return;
  }
  const used = new Set(
    [...readInstalledSpecs(pluginsDir).values()].map((spec) => describeSpec(pluginsDir, spec).path),
  );
  for (const file of files) {
    const path = join(packed, file);
    if (!used.has(path)) rmSync(path, { force: true });
  }
}

function installedVersion(pluginsDir: string, packageName: string): string | undefined {
  try {
    const manifest = JSON.parse(
      readFileSync(join(installedPackageFolder(pluginsDir, packageName), 'package.json'), 'utf8'),
    ) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

const LOCK_FILE = '.opsmate-install.lock';

/** Runs `work` while holding a lock file, so two installs never run npm in one folder at once. */
async function withPluginsLock<T>(pluginsDir: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(pluginsDir, { recursive: true });
  const path = join(pluginsDir, LOCK_FILE);
  let lock: FileLockResult;
  try {
    lock = await acquireFileLock(path, { waitMs: 0 });
  } catch (error) {
    throw lockError(path, error);
  }
  if (!lock.acquired) {
    const holder = lock.holderPid === undefined ? '' : ` (pid ${lock.holderPid})`;
    throw new OpsmateError(`another opsmate install or uninstall is running${holder}`, {
      hint: `wait for it to finish; if it is gone, remove ${path}`,
    });
  }
  try {
    return await work();
  } finally {
    lock.release();
  }
}

function lockError(path: string, error: unknown): OpsmateError {
  return new OpsmateError(`cannot lock the plugins folder (${path}): ${errorMessage(error)}`);
}
