/**
 * Plugin packages for tests: a folder with a package.json and modules, placed in a plugins folder
 * the way npm would (copied or linked), or packed into a tarball with `npm pack`.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
  existsSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PluginFixture {
  name: string;
  version?: string;
  /** The `opsmate` field; default `{ runtimes: { <runtime>: './index.js' } }`; null leaves it out. */
  opsmate?: unknown;
  /** Runtime name used by the default `opsmate` field. */
  runtime?: string;
  /** Files by path relative to the package root. */
  files: Record<string, string>;
}

/** Writes the package into `folder` and returns `folder`. */
export function writePluginPackage(folder: string, fixture: PluginFixture): string {
  mkdirSync(folder, { recursive: true });
  const manifest = {
    name: fixture.name,
    version: fixture.version ?? '1.0.0',
    type: 'module',
    peerDependencies: { opsmate: '>=0.1.0' },
    ...(fixture.opsmate === null
      ? {}
      : { opsmate: fixture.opsmate ?? { runtimes: { [fixture.runtime ?? 'demo']: './index.js' } } }),
  };
  writeFileSync(join(folder, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [path, content] of Object.entries(fixture.files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  return folder;
}

/**
 * Lists a package in the plugins folder's package.json and puts it into node_modules, as npm
 * would: a copy, or with `link` a symlink to the folder (what `opsmate install -e` makes).
 */
export function placeInstalledPlugin(
  pluginsDir: string,
  folder: string,
  options: { link?: boolean } = {},
): void {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name: string };
  const packageJsonPath = join(pluginsDir, 'package.json');
  const plugins: { dependencies: Record<string, string> } = existsSync(packageJsonPath)
    ? (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { dependencies: Record<string, string> })
    : { dependencies: {} };
  plugins.dependencies[manifest.name] = `file:${folder}`;
  mkdirSync(pluginsDir, { recursive: true });
  writeFileSync(packageJsonPath, `${JSON.stringify(plugins, null, 2)}\n`);
  const target = join(pluginsDir, 'node_modules', ...manifest.name.split('/'));
  mkdirSync(dirname(target), { recursive: true });
  if (options.link) symlinkSync(folder, target, 'dir');
  else cpSync(folder, target, { recursive: true });
}

/** Packs a plugin folder with `npm pack` into `destination`; returns the tarball's path. */
export function packPlugin(folder: string, destination: string): string {
  mkdirSync(destination, { recursive: true });
  const before = new Set(readdirSync(destination));
  execFileSync('npm', ['pack', '--pack-destination', destination], { cwd: folder, stdio: 'ignore' });
  const made = readdirSync(destination).find((file) => !before.has(file) && file.endsWith('.tgz'));
  if (!made) throw new Error(`npm pack made no tarball for ${folder}`);
  return join(destination, made);
}

/** Copies this repository's zod into `folder/node_modules/zod`: a second, separate copy of zod. */
export function copyZodInto(folder: string): void {
  const zodRoot = fileURLToPath(new URL('../node_modules/zod', import.meta.url));
  cpSync(zodRoot, join(folder, 'node_modules', 'zod'), { recursive: true });
}

/**
 * Source of a plugin module: a runtime named `name` that runs commands in a local `/bin/sh`,
 * built with the opsmate the plugin imports. Enough to check a plugin runtime works end to end.
 */
export function shellRuntimeModule(options: { name: string; description?: string }): string {
  return `import { defineRuntime, ShellRuntime, z } from 'opsmate';

class DemoRuntime extends ShellRuntime {
  transport() {
    return { argv: ['/bin/sh'] };
  }
  async runtimeInfo() {
    return 'demo runtime';
  }
  target() {
    return { host: 'here' };
  }
}

export default defineRuntime({
  name: ${JSON.stringify(options.name)},
  description: ${JSON.stringify(options.description ?? `The ${options.name} test runtime.`)},
  configSchema: z.object({
    greeting: z.string().default('hello').describe('What to say'),
  }),
  create: (config, context) => new DemoRuntime({ name: ${JSON.stringify(options.name)}, context }),
});
`;
}
