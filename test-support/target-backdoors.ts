/**
 * Ways for a test to reach a target's files without opsmate (see `TargetBackdoor`): the local
 * file system, `docker exec`, or a plain `ssh` command.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { SshdServer } from './sshd-server.js';
import type { TargetBackdoor } from './file-editor-suite.js';

const LIMIT_MS = 60_000;
const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

export function localBackdoor(): TargetBackdoor {
  const shSync = (script: string): string =>
    execFileSync('sh', ['-c', script], { encoding: 'utf8', timeout: LIMIT_MS });
  return {
    shSync,
    sh: (script) => Promise.resolve(shSync(script)),
    write: (path, data) => Promise.resolve(writeFileSync(path, data)),
    read: (path) => Promise.resolve(readFileSync(path)),
  };
}

/** Through a command that runs its last argument as a shell script on the target. */
function scriptBackdoor(run: (script: string, input?: Buffer) => Buffer): TargetBackdoor {
  const shSync = (script: string): string => run(script).toString('utf8');
  return {
    shSync,
    sh: (script) => Promise.resolve(shSync(script)),
    write: (path, data) => Promise.resolve(void run(`cat > ${quote(path)}`, data)),
    read: (path) => Promise.resolve(run(`cat ${quote(path)}`)),
  };
}

const options = (input?: Buffer) => ({
  input: input ?? Buffer.alloc(0),
  timeout: LIMIT_MS,
  maxBuffer: 64 * 1024 * 1024,
});

/** `docker exec -i CONTAINER sh -c SCRIPT`. */
export function dockerBackdoor(container: string): TargetBackdoor {
  return scriptBackdoor((script, input) =>
    execFileSync('docker', ['exec', '-i', container, 'sh', '-c', script], options(input)),
  );
}

/** `ssh ... -- 'sh -c SCRIPT'` as `user` (the remote side parses the words again: quoted once more). */
export function sshBackdoor(server: SshdServer, user = server.user): TargetBackdoor {
  return scriptBackdoor((script, input) =>
    execFileSync(
      'ssh',
      [
        '-p',
        String(server.port),
        '-i',
        server.keyFile,
        '-o',
        `UserKnownHostsFile=${server.knownHostsFile}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-l',
        user,
        server.host,
        '--',
        `sh -c ${quote(script)}`,
      ],
      options(input),
    ),
  );
}
