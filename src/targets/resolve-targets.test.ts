import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { ConfigError } from '../errors/opsmate-error.js';
import { builtinRegistry } from '../runtimes/builtin-runtimes.js';
import { addRuntimeOptions, resolveRuntimeConfig } from '../cli/field-options.js';
import { selectTargets, targetCatalog } from './resolve-targets.js';

const registry = builtinRegistry();

async function configOf(text: string): Promise<Awaited<ReturnType<typeof loadConfig>>> {
  const dir = mkdtempSync(join(tmpdir(), 'wt-targets-unit-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, text, { mode: 0o600 });
  return loadConfig({ flag: file, env: {} });
}

/** Resolves `-t value` as exec does: catalog, selection, then the runtime's own schema. */
async function resolve(
  value: string,
  options: { config?: string; flags?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ runtime: string; config: Record<string, unknown> }> {
  const config = await configOf(options.config ?? '');
  const command = addRuntimeOptions(new Command('exec').exitOverride(), registry);
  command.parse(options.flags ?? [], { from: 'user' });
  const [target] = selectTargets([value], targetCatalog({ config, registry }), registry);
  assert.ok(target);
  const resolved = resolveRuntimeConfig({
    command,
    registry,
    runtimeName: 'local',
    env: options.env ?? {},
    config,
    target,
  });
  return { runtime: resolved.definition.name, config: resolved.config as Record<string, unknown> };
}

describe('target URIs of the built-in runtimes', () => {
  it('ssh://user@host:port, ssh://host and an IPv6 address', async () => {
    const full = await resolve('ssh://ops@db-1.internal:2222');
    assert.equal(full.runtime, 'ssh');
    assert.equal(full.config.host, 'db-1.internal');
    assert.equal(full.config.username, 'ops');
    assert.equal(full.config.port, 2222);
    const bare = await resolve('ssh://[::1]');
    assert.equal(bare.config.host, '::1');
    assert.equal(bare.config.port, undefined);
  });

  it('docker://container and compose://file#service', async () => {
    const docker = await resolve('docker://web-1');
    assert.deepEqual([docker.runtime, docker.config.containerName], ['docker', 'web-1']);
    const compose = await resolve('compose://deploy/compose.yml#api');
    assert.equal(compose.runtime, 'docker');
    assert.equal(compose.config.containerName, '');
    assert.equal(compose.config.composeFile, 'deploy/compose.yml');
    assert.equal(compose.config.serviceName, 'api');
  });

  it('k8s://namespace/pod, namespace/pod/container and context/namespace/pod/[container]', async () => {
    const two = await resolve('k8s://prod/api-7d4f');
    assert.deepEqual(
      [two.config.namespace, two.config.pod, two.config.container],
      ['prod', 'api-7d4f', undefined],
    );
    const three = await resolve('k8s://prod/api-7d4f/sidecar');
    assert.equal(three.config.container, 'sidecar');
    assert.equal(three.config.context, undefined);
    const four = await resolve('k8s://eu-1/prod/api-7d4f/');
    assert.deepEqual(
      [four.config.context, four.config.pod, four.config.container],
      ['eu-1', 'api-7d4f', undefined],
    );
  });

  it('local:// and local:///cwd', async () => {
    assert.equal((await resolve('local://')).runtime, 'local');
    assert.equal((await resolve('local:///srv')).config.cwd, '/srv');
  });

  it("a bad URI says what is wrong and the runtime's forms; an unknown scheme the closest one", async () => {
    await assert.rejects(
      resolve('ssh://ops@db:http'),
      (error: unknown) =>
        ConfigError.isInstance(error) &&
        error.message === 'target ssh://ops@db:http: port "http" is not a number' &&
        error.hint === 'ssh:// URIs are ssh://[user@]host[:port]',
    );
    await assert.rejects(
      resolve('dokcer://web'),
      (error: unknown) => ConfigError.isInstance(error) && /did you mean docker:\/\//.test(error.hint ?? ''),
    );
    // A port out of range passes the URI form and is refused by the ssh schema, as the flag would be.
    await assert.rejects(
      resolve('ssh://db:70000'),
      (error: unknown) =>
        ConfigError.isInstance(error) && error.message.startsWith('target ssh://db:70000: port:'),
    );
  });
});

describe('named targets in targets:', () => {
  const config = [
    'targets:',
    '  web-1: { runtime: ssh, host: 10.0.0.5, username: ops, port: 2200 }',
    '  api: { runtime: k8s, namespace: prod, pod: api-7d4f }',
    '  box: { uri: "docker://box", user: nobody }',
    '  webs: { targets: [web-1, "ssh://10.0.0.6"] }',
  ].join('\n');

  it("a target's fields are its runtime's fields; flags override them, they override env vars", async () => {
    const web = await resolve('web-1', {
      config,
      env: { RUNTIME_SSH_PORT: '2201', RUNTIME_SSH_TIMEOUT: '33' },
    });
    assert.deepEqual(
      [web.runtime, web.config.host, web.config.username, web.config.port],
      ['ssh', '10.0.0.5', 'ops', 2200],
    );
    assert.equal(web.config.timeout, 33, 'a field the target does not set comes from the env as before');
    const flagged = await resolve('web-1', { config, flags: ['--runtime-ssh-port', '2300'] });
    assert.equal(flagged.config.port, 2300);
    const api = await resolve('api', { config });
    assert.deepEqual([api.runtime, api.config.namespace, api.config.pod], ['k8s', 'prod', 'api-7d4f']);
    const box = await resolve('box', { config });
    assert.deepEqual([box.runtime, box.config.containerName, box.config.user], ['docker', 'box', 'nobody']);
  });

  it('a group lists targets, URIs included, in order', async () => {
    const loaded = await configOf(config);
    const chosen = selectTargets(['webs'], targetCatalog({ config: loaded, registry }), registry);
    assert.deepEqual(
      chosen.map((target) => target.name),
      ['web-1', 'ssh://10.0.0.6'],
    );
  });

  it('a bad value is the same error as the flag gives, naming the file and line', async () => {
    const bad = 'targets:\n  web-1:\n    runtime: ssh\n    host: "-oProxyCommand=x"\n';
    await assert.rejects(
      resolve('web-1', { config: bad }),
      (error: unknown) =>
        ConfigError.isInstance(error) &&
        /config\.yaml:4: targets\.web-1\.host: must be a host name/.test(error.message),
    );
    const typo = 'targets:\n  web-1:\n    runtime: ssh\n    hots: db\n';
    await assert.rejects(
      resolve('web-1', { config: typo }),
      (error: unknown) =>
        ConfigError.isInstance(error) &&
        /config\.yaml:4: targets\.web-1: unknown field hots of runtime ssh/.test(error.message) &&
        /did you mean host/.test(error.hint ?? ''),
    );
    const twoKinds = 'targets:\n  web-1: { runtime: ssh, uri: "ssh://x" }\n';
    await assert.rejects(resolve('web-1', { config: twoKinds }), /has both runtime and uri/);
  });
});

describe('inventory hosts on kubectl (kubernetes.core.kubectl)', () => {
  it('ansible_connection=kubectl is a k8s target; the pod defaults to the host name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wt-fleet-kubectl-inv-'));
    writeFileSync(
      join(dir, 'pods.ini'),
      [
        '[api]',
        'api-7d4f ansible_kubectl_namespace=prod ansible_kubectl_container=app',
        'api-other ansible_kubectl_pod=api-9x2z ansible_kubectl_context=staging',
        '',
        '[api:vars]',
        'ansible_connection=kubernetes.core.kubectl',
        '',
      ].join('\n'),
    );
    const config = `targets:\n  pods: { inventory: ${join(dir, 'pods.ini')} }\n`;
    const first = await resolve('api-7d4f', { config });
    assert.deepEqual(
      [first.runtime, first.config.pod, first.config.namespace, first.config.container],
      ['k8s', 'api-7d4f', 'prod', 'app'],
    );
    const second = await resolve('api-other', { config });
    assert.deepEqual(
      [second.config.pod, second.config.namespace, second.config.context],
      ['api-9x2z', 'default', 'staging'],
    );
  });
});
