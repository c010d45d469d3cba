import type { CoResult } from '../../process/child-process.js';
import { isShellVariableName } from '../../runtime/shell-session/shell-quote.js';

/** Runs one program from an argv array; `co()` in production, a fake in unit tests. */
export type CommandRunner = (argv: string[]) => Promise<CoResult>;

/** How compose is invoked: the v2 CLI plugin (`docker compose`) or the v1 program (`docker-compose`). */
export type ComposeVersion = 'v1' | 'v2';

/** The program and leading words for each compose version. */
export const COMPOSE_PROGRAM: Readonly<Record<ComposeVersion, readonly string[]>> = {
  v2: ['docker', 'compose'],
  v1: ['docker-compose'],
};

/** Docker's own rule for container names; ids (hex) match it too. */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Compose service names as compose accepts them. */
const SERVICE_NAME = /^[a-zA-Z0-9._-]+$/;

/** What is wrong with a container name or id, or undefined. Nothing else ever reaches docker. */
export function containerNameProblem(name: string): string | undefined {
  if (CONTAINER_NAME.test(name)) return undefined;
  return `${JSON.stringify(name)} is not a valid container name or id (letters, digits, _ . -; not starting with - . or _)`;
}

export function serviceNameProblem(name: string): string | undefined {
  if (SERVICE_NAME.test(name)) return undefined;
  return `${JSON.stringify(name)} is not a valid compose service name (letters, digits, _ . -)`;
}

/** What is wrong with the env map, or undefined. */
export function envProblem(env: Record<string, string>): string | undefined {
  const bad = Object.keys(env).filter((name) => !isShellVariableName(name));
  if (bad.length === 0) return undefined;
  return `environment variable names must be shell names ([A-Za-z_][A-Za-z0-9_]*): ${bad.map((name) => JSON.stringify(name)).join(', ')}`;
}

/** `-u USER` and `-e K=V` options shared by `docker exec` and `compose exec`. */
function execOptions(options: { env?: Record<string, string>; user?: string }): string[] {
  const argv: string[] = [];
  if (options.user) argv.push(`--user=${options.user}`);
  for (const [name, value] of Object.entries(options.env ?? {})) argv.push('-e', `${name}=${value}`);
  return argv;
}

/**
 * `docker exec -i [--user=U] [-e K=V]... -- CONTAINER SHELL`: stdin kept open, never a TTY, so the
 * session's framing sees the shell's raw bytes. `--` stops option parsing before the container.
 */
export function dockerExecArgv(options: {
  container: string;
  shell: string;
  env?: Record<string, string>;
  user?: string;
  /** Arguments after the shell (e.g. `-c SCRIPT`). */
  shellArgs?: readonly string[];
}): string[] {
  return [
    'docker',
    'exec',
    '-i',
    ...execOptions(options),
    '--',
    options.container,
    options.shell,
    ...(options.shellArgs ?? []),
  ];
}

/** `docker exec [--user=U] -- CONTAINER sh -c SCRIPT sh ARGS...`, the out-of-band side channel. */
export function dockerSideChannelArgv(options: {
  container: string;
  script: string;
  args: readonly string[];
  user?: string;
}): string[] {
  return [
    'docker',
    'exec',
    ...execOptions({ ...(options.user ? { user: options.user } : {}) }),
    '--',
    options.container,
    'sh',
    '-c',
    options.script,
    'sh',
    ...options.args,
  ];
}

/** `<compose> -f FILE` for either version. */
export function composeBaseArgv(version: ComposeVersion, composeFile: string): string[] {
  return [...COMPOSE_PROGRAM[version], '-f', composeFile];
}

/** `<compose> -f FILE exec -T [--user=U] [-e K=V]... SERVICE SHELL`: `-T` so no TTY is allocated. */
export function composeExecArgv(options: {
  version: ComposeVersion;
  composeFile: string;
  service: string;
  shell: string;
  env?: Record<string, string>;
  user?: string;
}): string[] {
  return [
    ...composeBaseArgv(options.version, options.composeFile),
    'exec',
    '-T',
    ...execOptions(options),
    options.service,
    options.shell,
  ];
}

/**
 * Which compose to use. `auto` prefers v2 (`docker compose version` succeeds) and falls back to
 * v1 (`docker-compose version`). Resolves undefined when the requested one is not installed.
 */
export async function detectComposeVersion(
  preference: ComposeVersion | 'auto',
  run: CommandRunner,
): Promise<ComposeVersion | undefined> {
  const candidates: ComposeVersion[] = preference === 'auto' ? ['v2', 'v1'] : [preference];
  for (const version of candidates) {
    const result = await run([...COMPOSE_PROGRAM[version], 'version']);
    if (result.exitCode === 0 && !result.spawnError) return version;
  }
  return undefined;
}

/** What docker's stderr says went wrong, in categories a runtime can explain. */
export type DockerFailure =
  | 'binary-missing'
  | 'daemon-unreachable'
  | 'permission-denied'
  | 'no-such-container'
  | 'not-running'
  | 'paused'
  | 'shell-missing'
  | 'other';

/**
 * Classifies a failed docker invocation from its spawn error, exit code and output. Both streams
 * are read: docker 20.10 prints OCI exec errors ("executable file not found") on stdout.
 */
export function classifyDockerFailure(result: {
  exitCode: number | null;
  stderr: string;
  stdout?: string;
  spawnError?: NodeJS.ErrnoException;
}): DockerFailure {
  if (result.spawnError?.code === 'ENOENT') return 'binary-missing';
  const text = `${result.stderr}\n${result.stdout ?? ''}`;
  if (
    /Cannot connect to the Docker daemon|error during connect|connect: no such file or directory/i.test(text)
  )
    return 'daemon-unreachable';
  if (/permission denied while trying to connect/i.test(text)) return 'permission-denied';
  if (/No such container/i.test(text)) return 'no-such-container';
  if (/is paused/i.test(text)) return 'paused';
  if (/is not running|is restarting/i.test(text)) return 'not-running';
  if (
    /executable file not found|no such file or directory/i.test(text) &&
    /exec/i.test(text) &&
    (result.exitCode === 126 || result.exitCode === 127)
  )
    return 'shell-missing';
  return 'other';
}

/** The state of a container as `docker inspect` reports it. */
export interface ContainerState {
  id: string;
  name: string;
  image: string;
  status: string;
  running: boolean;
  paused: boolean;
  exitCode: number;
  /** `com.docker.compose.container-number`, for picking the container `compose exec` uses. */
  composeNumber?: string;
}

/** `docker inspect --type container --format ... -- IDS...`, one JSON object per line. */
export function inspectArgv(containers: readonly string[]): string[] {
  return [
    'docker',
    'inspect',
    '--type',
    'container',
    '--format',
    '[{{json .Id}},{{json .Name}},{{json .Config.Image}},{{json .State}},{{json (index .Config.Labels "com.docker.compose.container-number")}}]',
    '--',
    ...containers,
  ];
}

/** Parses {@link inspectArgv}'s output; skips lines it cannot read. */
export function parseInspect(stdout: string): ContainerState[] {
  const states: ContainerState[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const values = JSON.parse(line) as [
        string,
        string,
        string,
        { Status?: string; Running?: boolean; Paused?: boolean; ExitCode?: number },
        string | null,
      ];
      const [id, name, image, state, composeNumber] = values;
      states.push({
        id,
        name: name.replace(/^\//, ''),
        image,
        status: state.Status ?? 'unknown',
        running: state.Running === true,
        paused: state.Paused === true,
        exitCode: state.ExitCode ?? 0,
        ...(composeNumber ? { composeNumber } : {}),
      });
    } catch {
      // not a line we asked for
    }
  }
  return states;
}
