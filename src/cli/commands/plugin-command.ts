import { Command, Option } from 'commander';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors/opsmate-error.js';
import { co } from '../../process/child-process.js';
import { checkPluginFolder } from '../../plugins/plugin-kit/check-plugin.js';
import {
  initPlugin,
  PLUGIN_TEMPLATE_KINDS,
  type PluginTemplateKind,
} from '../../plugins/plugin-kit/init-plugin.js';
import type { CliContext } from '../cli-context.js';

/** Generous bound for a plugin's own test run. */
const PLUGIN_TEST_TIMEOUT_MS = 30 * 60_000;

export function pluginCommand(context: CliContext): Command {
  const plugin = new Command('plugin').summary('write, check and test plugins (the plugin author kit)');

  plugin.addCommand(
    new Command('init')
      .summary('write a working plugin package to start from')
      .description(
        'Write ./opsmate-<kind>-<name>: package.json with the "opsmate" field and the peer range of this ' +
          'opsmate, a define…() skeleton, a contract test and a README. `opsmate plugin test` runs the test.',
      )
      .argument('<name>', 'the name to register: gce (runtime), http-check (tool HttpCheck), ...')
      .addOption(
        new Option('--kind <KIND>', 'what the plugin adds')
          .choices([...PLUGIN_TEMPLATE_KINDS])
          .default('runtime'),
      )
      .option('--js', 'plain JavaScript instead of TypeScript')
      .option('--dir <PATH>', 'folder to create (default: ./opsmate-<kind>-<name>)')
      .action((name: string, options: { kind: PluginTemplateKind; js?: boolean; dir?: string }) => {
        const made = initPlugin({
          name,
          kind: options.kind,
          javascript: Boolean(options.js),
          ...(options.dir !== undefined ? { directory: options.dir } : {}),
          cwd: process.cwd(),
        });
        context.stdout.write(`Wrote ${made.folder}: ${made.files.join(', ')}\n`);
        context.stdout.write(
          `Next: cd ${relative(process.cwd(), made.folder) || '.'} && opsmate plugin check . && opsmate plugin test .\n`,
        );
      }),
  );

  plugin.addCommand(
    new Command('check')
      .summary('load and validate a plugin folder as `opsmate install` would, without installing it')
      .description(
        'Read the package.json, import every module it declares and check each definition exactly as ' +
          '`opsmate install` does (field-key rules, option clashes with opsmate and the built-ins, the ' +
          'opsmate version range), then lint: missing descriptions, peer range, install scripts, output ' +
          'at import. Exit 0 when it would install (lints are warnings), 1 when it would be refused.',
      )
      .argument('[dir]', 'the plugin folder', '.')
      .action(async (dir: string) => {
        const report = await checkPluginFolder(resolve(dir));
        const label = [report.plugin.packageName, report.plugin.version].filter(Boolean).join(' ');
        for (const loaded of report.loaded) context.stdout.write(`ok: ${loaded}\n`);
        for (const lint of report.lints) context.stdout.write(`lint: ${lint}\n`);
        for (const error of report.errors) context.stdout.write(`error: ${error}\n`);
        if (report.errors.length > 0) {
          context.stderr.write(`opsmate: error: ${label} would not install: ${report.errors[0]}\n`);
          context.stderr.write('opsmate: hint: fix the lines marked error: above and check again\n');
          process.exitCode = 1;
          return;
        }
        context.stdout.write(
          `${label}: would install${report.lints.length > 0 ? `, with ${report.lints.length} lint(s)` : ''}\n`,
        );
        process.exitCode = 0;
      }),
  );

  plugin.addCommand(
    new Command('test')
      .summary("run a plugin's tests with this opsmate, TypeScript included, no install or build needed")
      .description(
        'Run the *.test.ts / *.test.js files under DIR/test (or the files given) with node --test, ' +
          "where `opsmate` and `opsmate/testing` are this opsmate and .ts loads through opsmate's tsx. " +
          "Exits with the test run's status.",
      )
      .argument('[dir]', 'the plugin folder', '.')
      .argument('[files...]', 'test files, relative to DIR (default: every *.test.* under DIR/test)')
      .action(async (dir: string, files: string[]) => {
        const root = resolve(dir);
        const tests =
          files.length > 0 ? files.map((file) => resolve(root, file)) : findTests(join(root, 'test'));
        if (tests.length === 0) {
          throw new ConfigError(`no test files under ${join(root, 'test')}`, {
            hint: 'name them *.test.ts or *.test.js, or pass them after DIR',
          });
        }
        const hooks = fileURLToPath(new URL('../../plugins/plugin-kit/test-hooks.js', import.meta.url));
        // A test runner above this one (NODE_TEST_CONTEXT) would make node --test report to it, not here.
        const { NODE_TEST_CONTEXT: _parent, ...env } = context.env;
        const result = await co([process.execPath, '--import', hooks, '--test', ...tests], {
          cwd: root,
          env,
          timeoutMs: PLUGIN_TEST_TIMEOUT_MS,
          maxBufferBytes: 16 * 1024 * 1024,
        });
        context.stdout.write(result.stdout);
        context.stderr.write(result.stderr);
        process.exitCode = result.exitCode ?? 1;
      }),
  );
  return plugin;
}

function findTests(folder: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(folder, entry);
    if (entry === 'node_modules') return [];
    if (statSync(path).isDirectory()) return findTests(path);
    return /\.test\.(?:ts|mts|js|mjs)$/.test(entry) ? [path] : [];
  });
}
