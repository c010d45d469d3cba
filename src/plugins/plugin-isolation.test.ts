// No plugin can break opsmate: each deliberately broken plugin below is installed, and every
// other command still works; the broken part is reported in one line naming the plugin.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  placeInstalledPlugin,
  shellRuntimeModule,
  writePluginPackage,
} from '../../test-support/plugin-fixtures.js';
import { runCli, type CliResult } from '../../test-support/run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'opsmate-isolation-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

function setup() {
  const root = join(scratch, `case-${++counter}`);
  const pluginsDir = join(root, 'plugins');
  return { root, pluginsDir, env: { OPSMATE_HOME: join(root, 'home'), OPSMATE_PLUGINS_DIR: pluginsDir } };
}

/** A runtime plugin module with this config schema body (inside z.object({ ... })). */
function runtimeWithFields(name: string, fields: string): string {
  return shellRuntimeModule({ name }).replace(
    "greeting: z.string().default('hello').describe('What to say'),",
    fields,
  );
}

function place(
  root: string,
  pluginsDir: string,
  fixture: Parameters<typeof writePluginPackage>[1],
  link = false,
) {
  placeInstalledPlugin(pluginsDir, writePluginPackage(join(root, fixture.name), fixture), { link });
}

/** The commands that must keep working whatever a plugin does. */
async function assertOpsmateWorks(env: Record<string, string>): Promise<void> {
  const version = await runCli(['--version'], { env });
  assert.equal(version.exitCode, 0, version.stderr);
  assert.equal(version.stdout, '0.1.0\n');
  const exec = await runCli(['exec', '--', 'echo works; exit 3'], { env });
  assert.equal(exec.exitCode, 3, exec.stderr);
  assert.equal(exec.stdout, 'works\n');
  const help = await runCli(['exec', '--help'], { env });
  assert.equal(help.exitCode, 0, help.stderr);
  assert.match(help.stdout, /--runtime-local-shell/);
  const runtimes = await runCli(['list-runtimes'], { env });
  assert.equal(runtimes.exitCode, 0, runtimes.stderr);
  assert.match(runtimes.stdout, /^local\s/m);
  for (const command of ['list-tools', 'list-contexts', 'list-plugins']) {
    const result = await runCli([command], { env });
    assert.equal(result.exitCode, 0, `${command}: ${result.stderr}`);
  }
}

function brokenLine(result: CliResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

describe('a broken plugin cannot break opsmate', () => {
  it('refuses field keys that cannot become options, naming the plugin, at load', async () => {
    const { root, pluginsDir, env } = setup();
    const cases: Array<[string, string]> = [
      ['underscore', "_x: z.string().default('a'),"],
      ['doubled', "a__b: z.string().default('a'),"],
      ['trailing', "b_: z.string().default('a'),"],
      ['spaced', "'a b': z.string().default('a'),"],
      ['dotted', "'a.b': z.string().default('a'),"],
    ];
    for (const [name, field] of cases) {
      place(root, pluginsDir, {
        name: `opsmate-runtime-${name}`,
        runtime: name,
        files: { 'index.js': runtimeWithFields(name, field) },
      });
    }
    await assertOpsmateWorks(env);
    const plugins = await runCli(['list-plugins'], { env });
    for (const [name] of cases) {
      assert.match(
        plugins.stdout,
        new RegExp(
          `^broken: opsmate-runtime-${name}: runtime "${name}": config field key ".*" cannot become an option`,
          'm',
        ),
      );
    }
    const chosen = await runCli(['exec', '--shell-command-runtime', 'doubled', '--', 'true'], { env });
    assert.equal(chosen.exitCode, 2);
    assert.match(
      chosen.stderr,
      /^opsmate: error: runtime "doubled" comes from a broken plugin: opsmate-runtime-doubled: .*"a__b"/m,
    );
  });

  it('refuses two fields on one flag, and options that clash with opsmate or another runtime', async () => {
    const { root, pluginsDir, env } = setup();
    place(root, pluginsDir, {
      name: 'opsmate-runtime-twins',
      runtime: 'twins',
      files: {
        'index.js': runtimeWithFields(
          'twins',
          "rootDir: z.string().default('/'), root_dir: z.string().default('/'),",
        ),
      },
    });
    place(root, pluginsDir, {
      name: 'opsmate-runtime-thief',
      runtime: 'thief',
      files: {
        'index.js': runtimeWithFields(
          'thief',
          "home: z.string().default('x').meta({ env: 'OPSMATE_HOME' }),",
        ),
      },
    });
    place(root, pluginsDir, {
      name: 'opsmate-runtime-copycat',
      runtime: 'copycat',
      files: {
        'index.js': runtimeWithFields(
          'copycat',
          "host: z.string().default('x').meta({ env: 'RUNTIME_SSH_HOST' }),",
        ),
      },
    });
    place(root, pluginsDir, {
      name: 'opsmate-runtime-badenv',
      runtime: 'badenv',
      files: {
        'index.js': runtimeWithFields('badenv', "host: z.string().default('x').meta({ env: 'not a name' }),"),
      },
    });
    await assertOpsmateWorks(env);
    const text = brokenLine(await runCli(['list-plugins'], { env }));
    assert.match(
      text,
      /opsmate-runtime-twins: runtime "twins": config fields rootDir and root_dir both become --runtime-twins-root-dir/,
    );
    assert.match(
      text,
      /opsmate-runtime-thief: runtime "thief": config field home uses the env var OPSMATE_HOME, which is opsmate's own \(--home\)/,
    );
    assert.match(
      text,
      /opsmate-runtime-copycat: runtime "copycat": config field host would use the env var RUNTIME_SSH_HOST, which runtime "ssh" of a built-in runtime already uses/,
    );
    assert.match(
      text,
      /opsmate-runtime-badenv: runtime "badenv": config field host names the env var "not a name", which is not a valid env var name/,
    );
    const help = await runCli(['exec', '--shell-command-runtime', 'twins', '--help'], { env });
    assert.equal(help.exitCode, 0, help.stderr);
  });

  it('matches option owners exactly: dockerx options are not docker options', async () => {
    const { root, pluginsDir, env } = setup();
    place(root, pluginsDir, {
      name: 'opsmate-runtime-dockerx',
      runtime: 'dockerx',
      files: { 'index.js': shellRuntimeModule({ name: 'dockerx' }) },
    });
    const run = await runCli(
      ['exec', '--shell-command-runtime', 'dockerx', '--runtime-dockerx-greeting', 'hi', '--', 'echo ok'],
      { env },
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stderr, '', 'a dockerx option was taken for a docker one');
    const local = await runCli(['exec', '--runtime-dockerx-greeting', 'hi', '--', 'echo ok'], { env });
    assert.equal(local.exitCode, 0, local.stderr);
    assert.match(local.stderr, /ignoring --runtime-dockerx-\* options/);
    assert.doesNotMatch(local.stderr, /--runtime-docker-\*/);
  });

  it('keeps what a plugin prints at import off stdout, and imports no plugin for --version or exec on local', async () => {
    const { root, pluginsDir, env } = setup();
    const marker = join(root, 'imported');
    place(root, pluginsDir, {
      name: 'opsmate-runtime-noisy',
      runtime: 'noisy',
      files: {
        'index.js':
          `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'yes');\nconsole.log('NOISY BANNER');\nprocess.stdout.write('more noise\\n');\n` +
          shellRuntimeModule({ name: 'noisy' }),
      },
    });
    for (const args of [['--version'], ['exec', '--', 'true'], ['list-models'], ['audit', 'verify']]) {
      await runCli(args, { env });
      assert.throws(() => rmSync(marker), /ENOENT/, `${args.join(' ')} imported the plugin`);
    }
    const run = await runCli(['exec', '--shell-command-runtime', 'noisy', '--', 'echo clean'], { env });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, 'clean\n');
    assert.match(run.stderr, /NOISY BANNER\nmore noise/);
    const runtimes = await runCli(['list-runtimes'], { env });
    assert.doesNotMatch(runtimes.stdout, /NOISY/);
    const check = await runCli(['plugin', 'check', join(root, 'opsmate-runtime-noisy')], { env });
    assert.equal(check.exitCode, 0, check.stderr);
    assert.match(check.stdout, /^lint: it writes to stdout when imported/m);
  });

  it('creates the spill folder before create(), and names the plugin when its code throws', async () => {
    const { root, pluginsDir, env } = setup();
    const module = (name: string, body: string) => `import { defineRuntime, z } from 'opsmate';
import { existsSync } from 'node:fs';
export default defineRuntime({
  name: '${name}',
  description: 'broken on purpose',
  configSchema: z.object({}),
  create: (config, context) => {
    if (!existsSync(context.spillDir)) throw new Error('spillDir missing');
    ${body}
  },
});
`;
    place(root, pluginsDir, {
      name: 'opsmate-runtime-badcreate',
      runtime: 'badcreate',
      files: { 'index.js': module('badcreate', "throw new TypeError('oops in create');") },
    });
    place(root, pluginsDir, {
      name: 'opsmate-runtime-badconnect',
      runtime: 'badconnect',
      files: {
        'index.js': module(
          'badconnect',
          "return { name: 'badconnect', connect: async () => { null.boom; }, disconnect: async () => {}, run: async () => { throw new Error('never'); }, runtimeInfo: async () => 'x', target: () => ({}) };",
        ),
      },
    });
    const create = await runCli(['exec', '--shell-command-runtime', 'badcreate', '--', 'true'], { env });
    assert.equal(create.exitCode, 1);
    assert.match(
      create.stderr,
      /^opsmate: error: runtime "badcreate" create\(\) \(plugin opsmate-runtime-badcreate\) failed: oops in create$/m,
    );
    assert.match(create.stderr, /^opsmate: hint: this is a bug in opsmate-runtime-badcreate/m);
    assert.doesNotMatch(create.stderr, /spillDir missing/);
    const connect = await runCli(['exec', '--shell-command-runtime', 'badconnect', '--', 'true'], { env });
    assert.equal(connect.exitCode, 1);
    assert.match(
      connect.stderr,
      /^opsmate: error: runtime "badconnect" connect\(\) \(plugin opsmate-runtime-badconnect\) failed: Cannot read properties of null/m,
    );
    assert.doesNotMatch(connect.stderr, /^\s+at /m);
    await assertOpsmateWorks(env);
  });

  it('says zod 4 is required for a zod 3 schema, and shows the file and line of a syntax error', async () => {
    const { root, pluginsDir, env } = setup();
    // Shaped as zod 3 builds objects (_def, shape, safeParse; no _zod), which is what opsmate sees.
    place(root, pluginsDir, {
      name: 'opsmate-runtime-oldzod',
      runtime: 'oldzod',
      files: {
        'index.js': `export default { specificationVersion: 'opsmate.runtime.v1', name: 'oldzod', description: 'zod 3', create() {},
  configSchema: { _def: { typeName: 'ZodObject' }, shape: { host: { _def: { typeName: 'ZodString' } } }, safeParse() {} } };\n`,
      },
    });
    const typed = writePluginPackage(join(root, 'typed'), {
      name: 'opsmate-runtime-typed',
      runtime: 'typed',
      opsmate: { runtimes: { typed: './src/typed.ts' } },
      files: { 'src/typed.ts': "import { z } from 'opsmate';\n\nexport const port: number = ;\n" },
    });
    placeInstalledPlugin(pluginsDir, typed, { link: true });
    place(root, pluginsDir, {
      name: 'opsmate-runtime-plainjs',
      runtime: 'plainjs',
      files: { 'index.js': 'export const x = 1;\nexport const y = (;\n' },
    });
    await assertOpsmateWorks(env);
    const text = brokenLine(await runCli(['list-plugins'], { env }));
    assert.match(text, /opsmate-runtime-oldzod: runtime "oldzod": .*zod 3, and zod 4 is required/);
    assert.match(
      text,
      /opsmate-runtime-typed: runtime "typed": cannot import \.\/src\/typed\.ts: .*\/typed\/src\/typed\.ts:3:\d+: /,
    );
    assert.match(
      text,
      /opsmate-runtime-plainjs: runtime "plainjs": cannot import \.\/index\.js: .*opsmate-runtime-plainjs\/index\.js:2: SyntaxError/,
    );
  });

  it('shows a plugin whose opsmate range excludes this version as a mismatch', async () => {
    const { root, pluginsDir, env } = setup();
    const folder = writePluginPackage(join(root, 'future'), {
      name: 'opsmate-runtime-future',
      runtime: 'future',
      files: { 'index.js': shellRuntimeModule({ name: 'future' }) },
    });
    const manifestPath = join(folder, 'package.json');
    const manifest = JSON.parse((await import('node:fs')).readFileSync(manifestPath, 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, peerDependencies: { opsmate: '^2.0.0' } }));
    placeInstalledPlugin(pluginsDir, folder);
    const plugins = await runCli(['list-plugins'], { env });
    assert.match(
      plugins.stdout,
      /^opsmate-runtime-future\s+1\.0\.0\s+runtime future\s+wrong opsmate version/m,
    );
    assert.match(
      plugins.stdout,
      /^version: opsmate-runtime-future: it needs opsmate \^2\.0\.0 \(peerDependencies\), and this is opsmate 0\.1\.0$/m,
    );
    const check = await runCli(['plugin', 'check', folder], { env });
    assert.equal(check.exitCode, 1);
    assert.match(
      check.stderr,
      /^opsmate: error: opsmate-runtime-future 1\.0\.0 would not install: it needs opsmate \^2\.0\.0/m,
    );
    await assertOpsmateWorks(env);
  });

  it('says what a target lacks: failed probes in exec --info, no /dev/null', async () => {
    const { root, pluginsDir, env } = setup();
    const rootfs = join(root, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    for (const tool of ['sh', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', tool));
    const transport = (name: string, argv: string[]) =>
      shellRuntimeModule({ name }).replace(
        "return { argv: ['/bin/sh'] };",
        `return { argv: ${JSON.stringify(argv)} };`,
      );
    // A chroot with busybox sh and echo only: no /dev/null, no uname, no id.
    place(root, pluginsDir, {
      name: 'opsmate-runtime-bare',
      runtime: 'bare',
      files: { 'index.js': transport('bare', ['chroot', rootfs, '/bin/sh']) },
    });
    const run = await runCli(['exec', '--shell-command-runtime', 'bare', '--', 'echo hi'], { env });
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /^opsmate: error: .*the target has no \/dev\/null, which opsmate needs/m);
    assert.match(run.stderr, /^opsmate: hint: create it on the target .*can't (?:open|create) \/dev\/null/m);

    // A shell with no PATH: uname and id are not found, so two probes fail.
    place(root, pluginsDir, {
      name: 'opsmate-runtime-nopath',
      runtime: 'nopath',
      files: { 'index.js': transport('nopath', ['/usr/bin/env', '-i', 'PATH=/nonexistent', '/bin/sh']) },
    });
    const info = await runCli(['exec', '--shell-command-runtime', 'nopath', '--info'], { env });
    assert.equal(info.exitCode, 1, info.stderr);
    // What the model is told: the reason quotes the target's stderr, so it is wrapped as untrusted.
    assert.match(
      info.stdout,
      /^User: unknown \(the probe failed, see below\)\n<untrusted-data [^>]*>\n.*exit 127: .*id: not found\n/m,
    );
    assert.match(info.stdout, /^Systemd: no$/m);
    assert.match(
      info.stderr,
      /^opsmate: error: probing the target failed: OS info: .*exit 127.*; user: .*exit 127/m,
    );
    assert.match(info.stderr, /^opsmate: hint: /m);
    await assertOpsmateWorks(env);
  });

  it("puts commander's own errors in opsmate's error and hint form", async () => {
    const { env } = setup();
    const unknown = await runCli(['exec', '--no-such-flag', '--', 'true'], { env });
    assert.equal(unknown.exitCode, 2);
    assert.equal(
      unknown.stderr,
      "opsmate: error: unknown option '--no-such-flag'\nopsmate: hint: see `opsmate exec --help`\n",
    );
    const typo = await runCli(['exec', '--timout', '3', '--', 'true'], { env });
    assert.match(
      typo.stderr,
      /^opsmate: error: unknown option '--timout'\nopsmate: hint: did you mean --timeout\? See `opsmate exec --help`\.\n$/,
    );
    const missing = await runCli(['run'], { env });
    assert.equal(missing.exitCode, 2);
    assert.match(
      missing.stderr,
      /^opsmate: error: missing required argument 'instruction'\nopsmate: hint: see `opsmate run --help`\n$/,
    );
  });

  it("keeps help readable: a long enum or option name does not widen every option; authors' list defaults show", async () => {
    const { root, pluginsDir, env } = setup();
    const before = await runCli(['exec', '--help'], { env });
    const column = (help: string) => /^ {2}--runtime-local-shell <TEXT>\s+/m.exec(help)?.[0].length;
    place(root, pluginsDir, {
      name: 'opsmate-runtime-wide',
      runtime: 'wide',
      files: {
        'index.js': runtimeWithFields(
          'wide',
          "mode: z.enum(['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf']).default('alpha').describe('Mode'),\n" +
            "tags: stringList().default(['x', 'y']).describe('Tags'),\n" +
            "aVeryLongFieldNameThatWouldWidenTheHelpColumnOfEveryOption: z.string().default('').describe('Long'),",
        ).replace(
          "import { defineRuntime, ShellRuntime, z } from 'opsmate';",
          "import { defineRuntime, ShellRuntime, stringList, z } from 'opsmate';",
        ),
      },
    });
    const after = await runCli(['exec', '--help'], { env });
    assert.equal(after.exitCode, 0, after.stderr);
    assert.equal(column(after.stdout), column(before.stdout), 'the help column moved');
    assert.match(
      after.stdout,
      /--runtime-wide-mode <CHOICE>\s+Mode \(one of: alpha, bravo, charlie, delta, echo, foxtrot, golf\) \(env: RUNTIME_WIDE_MODE\)/,
    );
    assert.match(
      after.stdout,
      /--runtime-wide-tags <LIST>\s+Tags \(env: RUNTIME_WIDE_TAGS\) \[default: x,y\]/,
    );
    assert.match(
      after.stdout,
      /^ {2}--runtime-wide-a-very-long-field-name-that-would-widen-the-help-column-of-every-option <TEXT>\n {20,}Long/m,
    );
  });

  it('makes a bad env var name a configuration error (exit 2), from a flag or from a plugin', async () => {
    const { root, pluginsDir, env } = setup();
    const flag = await runCli(['exec', '--runtime-local-env', 'A-B=1', '--', 'true'], { env });
    assert.equal(flag.exitCode, 2);
    assert.equal(
      flag.stderr,
      'opsmate: error: --runtime-local-env: "A-B" is not an environment variable name (letters, digits and _, not starting with a digit)\nopsmate: hint: set --runtime-local-env or the env var RUNTIME_LOCAL_ENV\n',
    );
    place(root, pluginsDir, {
      name: 'opsmate-runtime-envy',
      runtime: 'envy',
      files: {
        'index.js': shellRuntimeModule({ name: 'envy' }).replace(
          'new DemoRuntime({ name: "envy", context })',
          "new DemoRuntime({ name: \"envy\", context, env: { 'NOT OK': '1' } })",
        ),
      },
    });
    const plugin = await runCli(['exec', '--shell-command-runtime', 'envy', '--', 'true'], { env });
    assert.equal(plugin.exitCode, 2, plugin.stderr);
    assert.match(
      plugin.stderr,
      /^opsmate: error: runtime "envy" create\(\) \(plugin opsmate-runtime-envy\): envy runtime: "NOT OK" is not an environment variable name$/m,
    );
    await assertOpsmateWorks(env);
  });
});
