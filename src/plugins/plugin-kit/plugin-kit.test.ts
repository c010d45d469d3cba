// The plugin author's kit, as an author outside this repository uses it: `plugin init` for every
// kind, `plugin check` and `plugin test` with the built CLI, then opsmate packed with `npm pack`
// as a dev dependency, a plain `npm install`, a type check and `node --import tsx --test`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { runCli } from '../../../test-support/run-cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'opsmate-kit-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const env = { OPSMATE_HOME: join(scratch, 'home') };

describe('plugin author kit', () => {
  for (const [kind, name, registered, js] of [
    ['runtime', 'kitrt', 'kitrt', false],
    ['runtime', 'kitjs', 'kitjs', true],
    ['tool', 'kit-echo', 'KitEcho', false],
    ['context', 'kitctx', 'kitctx', false],
    ['provider', 'kitllm', 'kitllm', true],
  ] as const) {
    it(`writes a ${kind} plugin (${js ? 'JavaScript' : 'TypeScript'}) that passes check and its own test`, async () => {
      const init = await runCli(['plugin', 'init', name, '--kind', kind, ...(js ? ['--js'] : [])], {
        env,
        cwd: scratch,
      });
      assert.equal(init.exitCode, 0, init.stderr);
      const folder = join(scratch, `opsmate-${kind}-${name}`);
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Record<
        string,
        Record<string, unknown>
      >;
      assert.deepEqual(manifest.peerDependencies, { opsmate: '>=0.1.0' });
      assert.deepEqual(Object.keys(manifest.opsmate![`${kind}s`] as object), [registered]);
      const check = await runCli(['plugin', 'check', folder], { env });
      assert.equal(check.exitCode, 0, `${check.stdout}${check.stderr}`);
      assert.match(check.stdout, new RegExp(`^ok: ${kind} ${registered}$`, 'm'));
      assert.doesNotMatch(check.stdout, /^lint:/m);
      const test = await runCli(['plugin', 'test', folder], { env });
      assert.equal(test.exitCode, 0, `${test.stdout}${test.stderr}`);
      assert.match(test.stdout, /^# fail 0$/m);
      const again = await runCli(['plugin', 'init', name, '--kind', kind], { env, cwd: scratch });
      assert.equal(again.exitCode, 2);
      assert.match(again.stderr, /already exists/);
    });
  }

  it('reports what would stop an install', async () => {
    const broken = join(scratch, 'broken');
    assert.equal(
      (await runCli(['plugin', 'init', 'kitrt', '--dir', broken], { env, cwd: scratch })).exitCode,
      0,
    );
    const source = join(broken, 'src', 'kitrt.ts');
    execFileSync('sed', [
      '-i',
      "s/shell: z.string().default('\\/bin\\/sh').describe('Shell to start on the target')/a__b: z.string().default('x')/",
      source,
    ]);
    const check = await runCli(['plugin', 'check', broken], { env });
    assert.equal(check.exitCode, 1, check.stdout);
    assert.match(check.stdout, /^error: runtime "kitrt": config field key "a__b" cannot become an option/m);
    assert.match(check.stderr, /^opsmate: error: opsmate-runtime-kitrt 0\.1\.0 would not install: /m);
  });

  it('works outside this repository: opsmate packed as a dev dependency, plain npm install, tsc, node --import tsx --test', async () => {
    const packed = join(scratch, 'packed');
    mkdirSync(packed);
    // --ignore-scripts: dist/ is already built (npm test builds first); prepare would rebuild it
    // under the other tests' feet.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', packed], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    const tarball = join(
      packed,
      readdirSync(packed).find((file) => file.endsWith('.tgz'))!,
    );
    const author = join(scratch, 'author');
    const init = await runCli(['plugin', 'init', 'kitrt', '--dir', author], { env, cwd: scratch });
    assert.equal(init.exitCode, 0, init.stderr);
    const npm = (args: string[]) =>
      execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], {
        cwd: author,
        stdio: 'pipe',
      });
    npm(['install']);
    npm(['install', '-D', tarball, 'tsx@^4']);
    const installed = JSON.parse(
      readFileSync(join(author, 'node_modules', 'opsmate', 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(installed.version, '0.1.0');
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'tsc'),
      [
        '--noEmit',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2023',
        '--strict',
        '--skipLibCheck',
        '--typeRoots',
        join(ROOT, 'node_modules', '@types'),
        '--types',
        'node',
        'src/kitrt.ts',
        'test/kitrt.test.ts',
      ],
      { cwd: author, stdio: 'pipe' },
    );
    const { NODE_TEST_CONTEXT: _parent, ...childEnv } = process.env;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--test', 'test/kitrt.test.ts'], {
      cwd: author,
      encoding: 'utf8',
      env: childEnv,
    });
    assert.match(output, /^# pass 13$/m);
    assert.match(output, /^# fail 0$/m);
  });
});
