/**
 * A private npm registry on loopback for install tests: verdaccio 6.8.0, installed in
 * test-support/npm-registry by .ci/run (`npm ci --prefix test-support/npm-registry`), started by
 * the test with its own storage, one user, and no uplink (nothing is fetched from elsewhere).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onFreePort } from './free-port.js';

const VERDACCIO = fileURLToPath(
  new URL('./npm-registry/node_modules/verdaccio/bin/verdaccio', import.meta.url),
);
const START_LIMIT_MS = 60_000;

export function npmRegistryMissingReason(): string | undefined {
  return existsSync(VERDACCIO)
    ? undefined
    : 'verdaccio is not installed (npm ci --prefix test-support/npm-registry)';
}

export interface NpmRegistry {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** An npm user config holding the publish token, for `--userconfig`. */
  userconfig: string;
  /** Publishes the package in `folder`. */
  publish(folder: string): void;
  stop(): Promise<void>;
}

export async function startNpmRegistry(folder: string): Promise<NpmRegistry> {
  mkdirSync(folder, { recursive: true });
  const config = join(folder, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(folder, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(folder, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'log: { type: stdout, format: pretty, level: error }',
      '',
    ].join('\n'),
  );
  // Another test can take the port between finding it free and verdaccio binding it; then try another.
  const { port, url, child } = await onFreePort((port) => startVerdaccio(config, port));
  const response = await fetch(`${url}-/user/org.couchdb.user:opsmate`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'opsmate', password: 'opsmate-test-password' }),
  });
  const { token } = (await response.json()) as { token?: string };
  if (!token) throw new Error(`verdaccio gave no token (HTTP ${response.status})`);
  const userconfig = join(folder, 'npmrc');
  writeFileSync(userconfig, `//127.0.0.1:${port}/:_authToken=${token}\n`);
  return {
    url,
    userconfig,
    publish: (packageFolder) => {
      execFileSync('npm', ['publish', '--registry', url, '--userconfig', userconfig, '--no-git-checks'], {
        cwd: packageFolder,
        stdio: 'pipe',
      });
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

async function startVerdaccio(
  config: string,
  port: number,
): Promise<{ port: number; url: string; child: ChildProcess }> {
  const url = `http://127.0.0.1:${port}/`;
  const child: ChildProcess = spawn(
    process.execPath,
    [VERDACCIO, '--config', config, '--listen', `127.0.0.1:${port}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + START_LIMIT_MS;
  for (;;) {
    try {
      const ping = await fetch(`${url}-/ping`);
      if (ping.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`verdaccio did not start: ${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { port, url, child };
}
