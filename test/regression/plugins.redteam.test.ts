// Red-team regression tests for plugins (issue 11; /work/REDTEAM-FINDINGS.md section D, findings
// 29-34). Each plugin is a real package written to a temp folder and installed the way users do
// (`opsmate install -e`, or from a private npm registry where the install path matters); the
// built CLI runs against it. Each case failed before the fix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { FakeLlmServer, toolResultsOf } from '../../test-support/fake-llm/index.js';
import { integrationSkip } from '../../test-support/integration.js';
import {
  npmRegistryMissingReason,
  startNpmRegistry,
  type NpmRegistry,
} from '../../test-support/npm-registry.js';
import {
  placeInstalledPlugin,
  shellRuntimeModule,
  writePluginPackage,
} from '../../test-support/plugin-fixtures.js';
import { runCli, startCliIsolated, type CliResult } from '../../test-support/run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'wt-plugfix-redteam-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh opsmate home with its own plugins folder; `cli` runs the built CLI there. */
function makeHome(name: string): {
  home: string;
  cli: (args: string[], env?: Record<string, string>) => Promise<CliResult>;
  install: (folder: string) => Promise<void>;
  /** Puts the package into the plugins folder as npm would, without `opsmate install`'s checks. */
  place: (folder: string) => void;
} {
  const home = join(scratch, name);
  const env = { OPSMATE_HOME: home, OPSMATE_PLUGINS_DIR: join(home, 'plugins'), NO_COLOR: '1' };
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(args, { env: { ...env, ...extra } });
  return {
    home,
    cli,
    install: async (folder) => {
      const result = await cli(['install', '-e', folder]);
      assert.equal(result.exitCode, 0, `install ${folder}: ${result.stderr}`);
    },
    place: (folder) => placeInstalledPlugin(env.OPSMATE_PLUGINS_DIR, folder),
  };
}

/** A runtime plugin `demo` whose module is `prefix` + a working shell runtime, with `edit` applied. */
function runtimePlugin(
  folder: string,
  options: { name: string; prefix?: string; edit?: (source: string) => string },
): string {
  const source = shellRuntimeModule({ name: 'demo' });
  return writePluginPackage(join(scratch, 'packages', folder), {
    name: options.name,
    files: { 'index.js': (options.prefix ?? '') + (options.edit ?? ((text) => text))(source) },
  });
}

/** A tool plugin whose `execute` runs `body` before answering `tool-ok`. */
function toolPlugin(folder: string, options: { name: string; tool: string; body: string }): string {
  return writePluginPackage(join(scratch, 'packages', folder), {
    name: options.name,
    opsmate: { tools: { [options.tool]: './index.js' } },
    files: {
      'index.js': `import { defineTool, z } from 'opsmate';
export default defineTool({
  name: ${JSON.stringify(options.tool)}, summary: 'Checks a thing', description: 'Checks a thing.', readOnly: true,
  inputSchema: z.object({ what: z.string().describe('What to check') }),
  title: (input) => 'check ' + input.what,
  async execute() { ${options.body}; return { llmContent: 'tool-ok', display: { kind: 'text', text: 'tool-ok' } }; },
});
`,
    },
  });
}

const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((line) => line.startsWith('opsmate: error:'));

describe('29: plugin output never reaches opsmate stdout', () => {
  const { cli, install } = makeHome('noisy');
  before(async () => {
    await install(
      runtimePlugin('noisy', {
        name: 'opsmate-runtime-noisy',
        prefix: `import { writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
console.log('IMPORT-LOG');
process.stdout.write('IMPORT-WRITE\\n');
writeSync(1, 'IMPORT-FD1\\n');
spawnSync('echo', ['IMPORT-CHILD'], { stdio: 'inherit' });
`,
        edit: (source) =>
          source
            .replace(
              'create: (config, context) =>',
              "create: (config, context) => (console.log('CREATE-LOG'), writeSync(1, 'CREATE-FD1\\n'), 0) ||",
            )
            .replace(
              'async runtimeInfo()',
              "async connect(options) { process.stdout.write('CONNECT-WRITE\\n'); setTimeout(() => writeSync(1, 'TIMER-FD1\\n'), 0); return super.connect(options); }\n  async runtimeInfo()",
            ),
      }),
    );
  });
  const markers = /IMPORT-|CREATE-|CONNECT-|TIMER-/;

  it('exec on the plugin runtime: stdout is exactly the command output; the plugin output is on stderr', async () => {
    const result = await cli(['exec', '--shell-command-runtime', 'demo', '--', 'sleep 0.2; echo real']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'real\n');
    for (const marker of [
      'IMPORT-LOG',
      'IMPORT-FD1',
      'IMPORT-CHILD',
      'CREATE-LOG',
      'CREATE-FD1',
      'CONNECT-WRITE',
    ])
      assert.match(result.stderr, new RegExp(marker));
  });

  it('a plugin runtime chosen by the config file or by a target is supervised too', async () => {
    const home = join(scratch, 'noisy');
    // Neither choice is in argv or the environment, where the early decision looks.
    writeFileSync(
      join(home, 'config.yaml'),
      'SHELL_COMMAND_RUNTIME: demo\ntargets:\n  box:\n    runtime: demo\n',
    );
    try {
      for (const args of [
        ['exec', '--', 'echo real'],
        ['exec', '-t', 'box', '--', 'echo real'],
      ]) {
        const result = await cli(args);
        assert.equal(result.exitCode, 0, `${args.join(' ')}: ${result.stderr}`);
        assert.equal(result.stdout, 'real\n', args.join(' '));
        assert.match(result.stderr, /IMPORT-FD1/, args.join(' '));
      }
    } finally {
      rmSync(join(home, 'config.yaml'), { force: true });
    }
  });

  it('list-runtimes, list-plugins and exec --help: nothing of the plugin on stdout', async () => {
    for (const args of [['list-runtimes'], ['list-plugins'], ['exec', '--help']]) {
      const result = await cli(args);
      assert.equal(result.exitCode, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.doesNotMatch(result.stdout, markers, args.join(' '));
      assert.match(result.stderr, /IMPORT-FD1/, args.join(' '));
    }
  });

  it("a command run by opsmate cannot write to opsmate's stdout through an inherited descriptor", async () => {
    const result = await cli([
      'exec',
      '--yes',
      '--shell-command-runtime',
      'demo',
      '--',
      'for fd in 3 4 5 6; do echo "LEAK$fd" >&$fd; done 2>/dev/null; echo done',
    ]);
    assert.equal(result.stdout, 'done\n', result.stderr);
  });
});

describe('29, tool plugins: a tool that prints in execute() does not corrupt the agent output', () => {
  const { cli, install } = makeHome('noisy-tool');
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start();
    await install(
      toolPlugin('noisy-tool', {
        name: 'opsmate-tool-noisy',
        tool: 'NoisyCheck',
        body: "console.log('TOOL-LOG'); (await import('node:fs')).writeSync(1, 'TOOL-FD1\\n')",
      }),
    );
  });
  after(async () => fake?.close());

  it('run: stdout has the answer only, the tool ran and its result reached the model', async () => {
    fake.enqueue({ toolCalls: [{ name: 'NoisyCheck', args: { what: 'disk' } }] }, { text: 'All good.' });
    const result = await cli(['run', '--tools', 'NoisyCheck', 'check the disk'], {
      OPENAI_API_KEY: 'test',
      OPENAI_BASE_URL: fake.openAiBaseUrl,
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /TOOL-/);
    assert.match(result.stdout, /All good\./);
    assert.match(result.stderr, /TOOL-LOG/);
    assert.match(toolResultsOf(fake.requests[1]!)[0] ?? '', /tool-ok/);
  });
});

// Plugins that break at import are placed in the plugins folder as npm would leave them (a plugin
// can break after its install, e.g. on another machine): `opsmate install` refuses them, see below.
describe('30: process.exit in plugin code cannot end opsmate', () => {
  const { cli, install, place } = makeHome('exit');
  const exitsAtImport = runtimePlugin('exit-import', {
    name: 'opsmate-runtime-exits',
    prefix: 'process.exit(0);\n',
  });
  before(async () => {
    place(exitsAtImport);
    await install(
      toolPlugin('exit-tool', { name: 'opsmate-tool-exits', tool: 'ExitCheck', body: 'process.exit(0)' }),
    );
  });

  it('opsmate install refuses it, naming process.exit, and leaves the folder as it was', async () => {
    const other = makeHome('exit-install');
    const result = await other.cli(['install', '-e', exitsAtImport]);
    assert.equal(result.exitCode, 1);
    assert.match(
      result.stderr,
      /^opsmate: error: opsmate-runtime-exits was not installed: .*process\.exit\(0\)/m,
    );
    const list = await other.cli(['list-plugins']);
    assert.doesNotMatch(list.stdout, /opsmate-runtime-exits/);
  });

  it('at import: list-runtimes lists the others and says why the plugin is broken', async () => {
    const result = await cli(['list-runtimes']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^local\s/m);
    assert.match(result.stdout, /^demo\s+BROKEN: .*process\.exit\(0\).*plugin opsmate-runtime-exits$/m);
  });

  it('at import: exec on the plugin runtime fails with one error line, exec on local works', async () => {
    const broken = await cli(['exec', '--shell-command-runtime', 'demo', '--', 'echo hi']);
    assert.notEqual(broken.exitCode, 0);
    assert.equal(broken.stdout, '');
    assert.equal(errorLines(broken.stderr).length, 1, broken.stderr);
    assert.match(broken.stderr, /opsmate-runtime-exits.*process\.exit\(0\)/);
    assert.equal((broken.stderr.match(/process\.exit/g) ?? []).length, 1, `reported once: ${broken.stderr}`);
    const local = await cli(['exec', '--', 'echo hi']);
    assert.equal(local.stdout, 'hi\n', local.stderr);
  });

  it('in a tool call: the call fails, the model is told, the run goes on', async () => {
    const fake = await FakeLlmServer.start();
    try {
      fake.enqueue({ toolCalls: [{ name: 'ExitCheck', args: { what: 'x' } }] }, { text: 'Could not check.' });
      const result = await cli(['run', '--tools', 'ExitCheck', 'check it'], {
        OPENAI_API_KEY: 'test',
        OPENAI_BASE_URL: fake.openAiBaseUrl,
      });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.match(result.stdout, /Could not check\./);
      assert.match(toolResultsOf(fake.requests[1]!)[0] ?? '', /process\.exit/);
    } finally {
      await fake.close();
    }
  });
});

describe('31: an exception from a plugin timer stops the command cleanly', () => {
  const { home, cli, place } = makeHome('timer');
  const timerHome = makeHome('rejection');
  const backgroundHome = makeHome('background');
  before(() => {
    place(
      runtimePlugin('timer', {
        name: 'opsmate-runtime-timer',
        prefix: "setTimeout(() => { throw new Error('boom from plugin timer'); }, 1500);\n",
      }),
    );
    timerHome.place(
      runtimePlugin('rejection', {
        name: 'opsmate-runtime-rejects',
        prefix: "setTimeout(() => { Promise.reject(new Error('boom rejection')); }, 1500);\n",
      }),
    );
    backgroundHome.place(
      runtimePlugin('background', {
        name: 'opsmate-runtime-background',
        prefix: "setImmediate(() => { throw new Error('boom in the background'); });\n",
      }),
    );
  });

  for (const [label, target, pkg, message] of [
    ['a throw', { home, cli }, 'opsmate-runtime-timer', 'boom from plugin timer'],
    ['an unhandled rejection', timerHome, 'opsmate-runtime-rejects', 'boom rejection'],
  ] as const) {
    it(`${label}: one error line naming the plugin, the command stopped, its audit record finished`, async () => {
      const marker = join(target.home, `${pkg}.written`);
      const result = await target.cli([
        'exec',
        '--shell-command-runtime',
        'demo',
        '--',
        `sleep 3; echo hi > ${marker}`,
      ]);
      assert.equal(result.exitCode, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /at Timeout\._onTimeout|node:internal/, 'no stack trace');
      const errors = errorLines(result.stderr);
      assert.equal(errors.length, 1, result.stderr);
      assert.match(errors[0]!, new RegExp(`plugin ${pkg} .*${message}.*the running command was stopped`));
      await sleep(3_500);
      assert.equal(existsSync(marker), false, 'the command ran on after opsmate stopped');
      const records = readFileSync(join(target.home, 'audit.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; seq?: number; of?: number });
      const started = records.filter((record) => record.type === 'started');
      const finished = records.filter((record) => record.type === 'finished');
      assert.equal(started.length, 1);
      assert.equal(finished.length, 1, 'no finished record for the stopped command');
    });
  }

  it('a throw while no command runs is a warning naming the plugin; the listing is whole', async () => {
    const result = await backgroundHome.cli(['list-runtimes']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^demo\s+The demo test runtime\./m);
    assert.match(
      result.stderr,
      /^opsmate: warn: plugin opsmate-runtime-background .*boom in the background/m,
    );
  });
});

describe('32: a synchronous loop at import is bounded', () => {
  const { cli, place } = makeHome('busy');
  const busy = runtimePlugin('busy', { name: 'opsmate-runtime-busy', prefix: 'while (true) {}\n' });
  before(() => place(busy));

  it('list-runtimes and exec --help finish, say the plugin was skipped and why; exec on local pays nothing; install and plugin check refuse it', async () => {
    const other = makeHome('busy-install');
    const [list, help, local, installed, checked] = await Promise.all([
      cli(['list-runtimes']),
      cli(['exec', '--help']),
      cli(['exec', '--', 'echo hi']),
      other.cli(['install', '-e', busy]),
      other.cli(['plugin', 'check', busy]),
    ]);
    assert.equal(installed.exitCode, 1, installed.stderr);
    assert.match(
      installed.stderr,
      /^opsmate: error: opsmate-runtime-busy was not installed: .*synchronous loop/m,
    );
    assert.doesNotMatch((await other.cli(['list-plugins'])).stdout, /opsmate-runtime-busy/);
    assert.notEqual(checked.exitCode, 0, checked.stdout);
    assert.match(`${checked.stdout}${checked.stderr}`, /synchronous loop/);
    assert.equal(list.exitCode, 0, list.stderr);
    assert.match(list.stdout, /^local\s/m);
    assert.match(list.stdout, /^demo\s+BROKEN: skipped: .*synchronous loop.*plugin opsmate-runtime-busy$/m);
    assert.equal(help.exitCode, 0, help.stderr);
    assert.match(help.stdout, /^Usage: opsmate exec/m);
    assert.match(help.stderr, /opsmate-runtime-busy.*synchronous loop/);
    assert.equal(local.stdout, 'hi\n', local.stderr);
  });
});

describe('33: arguments spelled like Object.prototype members', () => {
  const { cli } = makeHome('proto');
  const names = [
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
    '__defineGetter__',
  ];
  const forms = (name: string): string[][] => [
    ['exec', '--audit-sync', name, '--', 'true'],
    ['exec', '--shell-command-runtime', name, '--', 'true'],
    ['exec', '--policy-profile', name, '--', 'true'],
    ['run', '-c', name, 'hi'],
    ['run', '--tools', name, 'hi'],
    ['run', '-m', `${name}:x`, 'hi'],
    ['solve', name],
    [name],
    ['list-runtimes', name],
  ];

  it('each is bad input with one error and one hint line, never "unexpected error"', async () => {
    const cases = names.flatMap((name) => forms(name));
    for (let index = 0; index < cases.length; index += 6) {
      const results = await Promise.all(cases.slice(index, index + 6).map((args) => cli(args)));
      results.forEach((result, offset) => {
        const args = cases[index + offset]!.join(' ');
        assert.doesNotMatch(result.stderr, /unexpected error/, `${args}: ${result.stderr}`);
        assert.notEqual(result.exitCode, 0, args);
        assert.match(result.stderr, /^opsmate: error: .+\nopsmate: hint: .+$/m, `${args}: ${result.stderr}`);
      });
    }
  });
});

const registrySkip = integrationSkip('private npm registry', npmRegistryMissingReason());

describe('34: opsmate install killed with SIGKILL leaves nothing installed', { skip: registrySkip }, () => {
  let registry: NpmRegistry;
  before(async () => {
    registry = await startNpmRegistry(join(scratch, 'registry'));
  });
  after(async () => registry?.stop());

  for (const target of ['the opsmate process that runs npm', 'the opsmate the user started'] as const) {
    it(`SIGKILL to ${target}: npm dies too, and list-plugins then shows no half-installed plugin`, async () => {
      const id = target.includes('npm') ? 'one' : 'two';
      const home = join(scratch, `killed-install-${id}`);
      const started = join(home, 'postinstall-started');
      const finished = join(home, 'postinstall-finished');
      // A plugin install would refuse (its runtime is not the one it declares), with an install
      // script slow enough for opsmate to be killed while npm runs.
      const folder = writePluginPackage(join(scratch, 'packages', `slow-bad-${id}`), {
        name: `opsmate-runtime-slowbad${id}`,
        runtime: `slowbad${id}`,
        files: {
          'index.js': shellRuntimeModule({ name: 'other' }),
          'setup.cjs': `const fs = require('node:fs');
fs.writeFileSync(${JSON.stringify(started)}, String(process.pid));
setTimeout(() => fs.writeFileSync(${JSON.stringify(finished)}, 'done'), 4000);
`,
        },
      });
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      writeFileSync(
        join(folder, 'package.json'),
        JSON.stringify({ ...manifest, scripts: { postinstall: 'node setup.cjs' } }),
      );
      registry.publish(folder);
      mkdirSync(home, { recursive: true });
      const pluginsDir = join(home, 'plugins');
      const env = { OPSMATE_PLUGINS_DIR: pluginsDir, npm_config_cache: join(scratch, 'npm-cache') };
      const running = startCliIsolated({
        args: ['install', '--registry', registry.url, `opsmate-runtime-slowbad${id}`],
        env,
        home,
      });
      for (let waited = 0; !existsSync(started); waited += 100) {
        if (waited > 60_000) assert.fail('the install script never started');
        await sleep(100);
      }
      if (id === 'one') {
        // The lock file holds the pid of the opsmate that runs npm (the supervisor's child).
        const holder = Number(readFileSync(join(pluginsDir, '.opsmate-install.lock'), 'utf8').trim());
        assert.notEqual(holder, running.pid, 'install runs under the supervisor');
        process.kill(holder, 'SIGKILL');
      } else {
        running.kill('SIGKILL');
      }
      await running.done;
      const scriptPid = Number(readFileSync(started, 'utf8'));
      await sleep(5_000);
      assert.equal(existsSync(finished), false, 'npm finished the install after opsmate was killed');
      assert.equal(spawnSync('kill', ['-0', String(scriptPid)]).status, 1, 'the install script still runs');
      const after = { env: { ...env, OPSMATE_HOME: join(home, '.opsmate') } };
      const list = await runCli(['list-plugins'], after);
      assert.equal(list.exitCode, 0, list.stderr);
      assert.doesNotMatch(list.stdout, /slowbad/);
      const local = await runCli(['exec', '--', 'echo hi'], after);
      assert.equal(local.stdout, 'hi\n', local.stderr);
    });
  }
});
