#!/usr/bin/env node
// Bundles the built CLI (dist/cli/main.js and the commands it imports lazily) into
// dist/cli-bundle/, the code `opsmate` runs when no plugin code will run in the process.
// Why: Node 20 has no compile cache, and loading ~250 small ES modules (zod 4 alone is 95, all
// of its locales included) was most of a cold start; a few chunks load in a fraction of that
// (docs/benchmarks.md, "Cold start").
//
// What keeps this safe:
// - Plugin code never runs with the bundle: cli-entry.ts sends every command that imports plugin
//   code to the plugin supervisor, whose child runs the plain tsc output (dist/cli/main.js), the
//   same modules a plugin's `import 'opsmate'` gets. The bundle is used only in a process that
//   imports no plugin, so it never needs to share its modules with one.
// - Only small pure-JS libraries are bundled (BUNDLED); every other package stays an ordinary
//   import from node_modules, so packages that find files next to themselves (tree-sitter's
//   WASM, re2js in a worker) or that are big and rarely used (the model SDKs) work unchanged.
// - `import.meta.url` in a bundled module of ours still names that module's file in dist/, so
//   the prompts and tool descriptions next to the code are found where copy-assets put them.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const outdir = join(dist, 'cli-bundle');

/** The packages bundled with the CLI; every other bare import stays external. */
// yaml is not here: src/config/yaml-module.ts loads it on first use, from node_modules.
const BUNDLED = new Set(['zod', 'commander', 'picocolors', 'semver', 'diff', 'ssh-config']);

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The modules bin/opsmate.js has already loaded through dist/cli/cli-entry.js before it picks the
 * bundle: imported from dist/ as they are, so each exists once in the process (the plugin guard
 * and the supervisor keep state, and replace `process.exit`).
 */
async function modulesOfTheEntry() {
  const result = await build({
    entryPoints: [join(dist, 'cli', 'cli-entry.js')],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
    // What cli-entry imports only later (the CLI itself) is not loaded before the bundle.
    plugins: [
      {
        name: 'static-imports-only',
        setup(builder) {
          builder.onResolve({ filter: /.*/ }, (args) =>
            args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
          );
        },
      },
    ],
  });
  return new Set(Object.keys(result.metafile.inputs).map((path) => join(root, path)));
}
const entryModules = await modulesOfTheEntry();

const shareTheEntrysModules = {
  name: 'share-the-entrys-modules',
  setup(builder) {
    builder.onResolve({ filter: /^\./ }, (args) => {
      const path = join(args.resolveDir, args.path);
      if (!entryModules.has(path)) return undefined;
      return { path: relative(outdir, path).split('\\').join('/'), external: true };
    });
  },
};

const keepOthersExternal = {
  name: 'keep-others-external',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      return BUNDLED.has(packageName(args.path)) ? undefined : { external: true };
    });
  },
};

/**
 * zod's `z.locales` namespace imports its ~50 translations of error messages (most of zod's size);
 * opsmate sets no locale (zod's default, English, is configured by zod itself from en.js), so in
 * the bundle `z.locales` holds English only. Plugins, which may set another, never use the bundle.
 */
const englishZodOnly = {
  name: 'english-zod-only',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
    }));
  },
};

const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (args) => {
      if (!args.path.startsWith(dist) || args.path.includes('node_modules')) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return { contents: source, loader: 'js' };
      const fromBundle = relative(outdir, args.path).split('\\').join('/');
      return {
        contents: source.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`,
        ),
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: join(dist, 'cli', 'main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // commander is CommonJS: its require() calls of Node's modules need a real `require`.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  plugins: [shareTheEntrysModules, keepOthersExternal, englishZodOnly, keepModuleUrls],
  logLevel: 'warning',
  legalComments: 'none',
});
