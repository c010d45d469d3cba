import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoResult } from '../../process/child-process.js';
import {
  classifyDockerFailure,
  composeExecArgv,
  containerNameProblem,
  detectComposeVersion,
  dockerExecArgv,
  dockerSideChannelArgv,
  envProblem,
  parseInspect,
  serviceNameProblem,
  type CommandRunner,
} from './docker-cli.js';

/** A fake runner that answers from a table keyed by the joined argv, and records every call. */
function fakeRunner(answers: Record<string, Partial<CoResult>>): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  const run = async (argv: string[]): Promise<CoResult> => {
    const key = argv.join(' ');
    calls.push(key);
    const answer = answers[key];
    if (!answer) {
      const spawnError = Object.assign(new Error(`spawn ${argv[0]} ENOENT`), { code: 'ENOENT' });
      return {
        exitCode: null,
        signal: null,
        stdout: '',
        stderr: '',
        timedOut: false,
        cancelled: false,
        spawnError,
      };
    }
    return {
      exitCode: 0,
      signal: null,
      stdout: '',
      stderr: '',
      timedOut: false,
      cancelled: false,
      ...answer,
    };
  };
  return Object.assign(run, { calls });
}

describe('compose version detection', () => {
  it('auto prefers v2 when `docker compose version` works', async () => {
    const run = fakeRunner({
      'docker compose version': { stdout: 'Docker Compose version v2.29.7\n' },
      'docker-compose version': { stdout: 'docker-compose version 1.29.2\n' },
    });
    assert.equal(await detectComposeVersion('auto', run), 'v2');
    assert.deepEqual(run.calls, ['docker compose version']);
  });

  it('auto falls back to docker-compose when the plugin is missing', async () => {
    const run = fakeRunner({
      'docker compose version': { exitCode: 1, stderr: 'docker: unknown command: docker compose\n' },
      'docker-compose version': { stdout: 'docker-compose version 1.29.2\n' },
    });
    assert.equal(await detectComposeVersion('auto', run), 'v1');
    assert.deepEqual(run.calls, ['docker compose version', 'docker-compose version']);
  });

  it('auto finds nothing when neither is installed', async () => {
    const run = fakeRunner({ 'docker compose version': { exitCode: 1 } });
    assert.equal(await detectComposeVersion('auto', run), undefined);
  });

  it('an explicit choice checks only that one', async () => {
    const run = fakeRunner({ 'docker compose version': { stdout: 'v2' } });
    assert.equal(await detectComposeVersion('v1', run), undefined);
    assert.deepEqual(run.calls, ['docker-compose version']);
    assert.equal(await detectComposeVersion('v2', run), 'v2');
  });
});

describe('docker argv', () => {
  it('docker exec keeps stdin, never asks for a TTY, and ends options before the container', () => {
    assert.deepEqual(
      dockerExecArgv({ container: 'web', shell: '/bin/bash', env: { A: '1', B: 'x y;$(z)' }, user: 'app' }),
      ['docker', 'exec', '-i', '--user=app', '-e', 'A=1', '-e', 'B=x y;$(z)', '--', 'web', '/bin/bash'],
    );
    const argv = dockerExecArgv({ container: 'c', shell: '/bin/sh' });
    assert.deepEqual(argv, ['docker', 'exec', '-i', '--', 'c', '/bin/sh']);
    assert.ok(!argv.includes('-t') && !argv.includes('-it'));
  });

  it('compose exec uses -T, for v1 and v2', () => {
    assert.deepEqual(
      composeExecArgv({
        version: 'v2',
        composeFile: '/srv/app/docker-compose.yml',
        service: 'api',
        shell: '/bin/sh',
        env: { K: 'v' },
      }),
      ['docker', 'compose', '-f', '/srv/app/docker-compose.yml', 'exec', '-T', '-e', 'K=v', 'api', '/bin/sh'],
    );
    assert.deepEqual(
      composeExecArgv({
        version: 'v1',
        composeFile: 'c.yml',
        service: 'api',
        shell: '/bin/bash',
        user: '1000',
      }),
      ['docker-compose', '-f', 'c.yml', 'exec', '-T', '--user=1000', 'api', '/bin/bash'],
    );
  });

  it('the side channel passes the script and its arguments as separate words', () => {
    assert.deepEqual(dockerSideChannelArgv({ container: 'abc', script: 'kill "$1"', args: ['12', 'TERM'] }), [
      'docker',
      'exec',
      '--',
      'abc',
      'sh',
      '-c',
      'kill "$1"',
      'sh',
      '12',
      'TERM',
    ]);
  });
});

describe('config values that would be dangerous as words', () => {
  it('rejects container and service names docker would not accept', () => {
    assert.equal(containerNameProblem('web-1'), undefined);
    assert.equal(containerNameProblem('0123abcdef'), undefined);
    for (const bad of ['box; touch /tmp/x', '--privileged', '', '$(id)', 'a b', '-e']) {
      assert.match(containerNameProblem(bad) ?? '', /not a valid container name/, bad);
    }
    assert.equal(serviceNameProblem('my_service.1'), undefined);
    assert.match(serviceNameProblem('svc`id`') ?? '', /not a valid compose service name/);
  });

  it('rejects env names that are not shell names', () => {
    assert.equal(envProblem({ FOO: 'any value; $(even this)' }), undefined);
    assert.match(envProblem({ 'A B': '1', ok: '2', '1X': '3' }) ?? '', /"A B", "1X"/);
  });
});

describe('docker failures', () => {
  it('are classified from what docker prints', () => {
    const failed = (stderr: string, exitCode = 1, stdout = '') =>
      classifyDockerFailure({ exitCode, stderr, stdout });
    assert.equal(
      failed('Cannot connect to the Docker daemon at unix:///tmp/dead.sock. Is the docker daemon running?'),
      'daemon-unreachable',
    );
    assert.equal(failed('Error response from daemon: No such container: web'), 'no-such-container');
    assert.equal(failed('Error response from daemon: Container 0123 is not running'), 'not-running');
    assert.equal(
      failed('Error response from daemon: Container 0123 is paused, unpause the container before exec'),
      'paused',
    );
    assert.equal(
      failed(
        '',
        126,
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/bash": stat /bin/bash: no such file or directory: unknown',
      ),
      'shell-missing',
    );
    const enoent = Object.assign(new Error('spawn docker ENOENT'), { code: 'ENOENT' });
    assert.equal(classifyDockerFailure({ exitCode: null, stderr: '', spawnError: enoent }), 'binary-missing');
    assert.equal(failed('something else'), 'other');
  });

  it('reads docker inspect output, including compose replica numbers', () => {
    const states = parseInspect(
      [
        '["abc","/web-1","img:1",{"Status":"running","Running":true,"Paused":false,"ExitCode":0},"1"]',
        'not json',
        '["def","/web-2","img:1",{"Status":"exited","Running":false,"Paused":false,"ExitCode":137},null]',
      ].join('\n'),
    );
    assert.deepEqual(states, [
      {
        id: 'abc',
        name: 'web-1',
        image: 'img:1',
        status: 'running',
        running: true,
        paused: false,
        exitCode: 0,
        composeNumber: '1',
      },
      {
        id: 'def',
        name: 'web-2',
        image: 'img:1',
        status: 'exited',
        running: false,
        paused: false,
        exitCode: 137,
      },
    ]);
  });
});
