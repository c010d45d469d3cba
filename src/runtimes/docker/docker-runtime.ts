import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { envVarMap } from '../../config/schema-fields.js';
import { ConfigError, RuntimeError } from '../../errors/opsmate-error.js';
import { co, type CoResult } from '../../process/child-process.js';
import {
  defineRuntime,
  type RunOptions,
  type RunResult,
  type RuntimeContext,
} from '../../runtime/contract.js';
import { lacksDevNull, ShellRuntime } from '../../runtime/shell-runtime.js';
import type { ShellExit, ShellTransport } from '../../runtime/shell-session/shell-session.js';
import {
  classifyDockerFailure,
  composeBaseArgv,
  composeExecArgv,
  COMPOSE_PROGRAM,
  containerNameProblem,
  detectComposeVersion,
  dockerExecArgv,
  dockerSideChannelArgv,
  envProblem,
  inspectArgv,
  parseInspect,
  serviceNameProblem,
  type CommandRunner,
  type ComposeVersion,
  type ContainerState,
} from './docker-cli.js';
import { decodePart } from '../../targets/uri-parts.js';
import { dockerDiscovery } from './docker-discovery.js';

const DEFAULT_SHELL = '/bin/bash';
const FALLBACK_SHELL = '/bin/sh';
/**
 * The first shell of a runtime with the default shell, started with no probe before it: the
 * image's /bin/sh runs bash where there is one, else itself. The ready frame says which one runs.
 */
const PICK_SHELL = `[ -x ${DEFAULT_SHELL} ] && exec ${DEFAULT_SHELL}; exec ${FALLBACK_SHELL}`;
const DEFAULT_COMPOSE_FILE = 'docker-compose.yml';
/** Other names compose itself looks for, tried when the default file is absent. */
const OTHER_COMPOSE_FILES = ['docker-compose.yaml', 'compose.yaml', 'compose.yml'];
/** docker and compose calls made by the runtime itself (inspect, ps, start...). */
const DOCKER_CALL_TIMEOUT_MS = 30_000;
/** `compose up -d` may have to create a container; give it longer. */
const COMPOSE_UP_TIMEOUT_MS = 120_000;
const SIDE_CHANNEL_TIMEOUT_MS = 10_000;

export const dockerConfigSchema = z.object({
  containerName: z
    .string()
    .default('')
    .describe(
      'Container (name or id) to run commands in. When set the runtime is in container mode; when empty it is in compose mode and uses composeFile and serviceName',
    ),
  composeFile: z
    .string()
    .default(DEFAULT_COMPOSE_FILE)
    .describe('Compose mode: the compose file, relative to where opsmate starts'),
  serviceName: z
    .string()
    .default('default')
    .describe('Compose mode: the service whose container runs the commands'),
  composeVersion: z
    .enum(['auto', 'v2', 'v1'])
    .default('auto')
    .describe('Compose mode: v2 runs `docker compose`, v1 runs `docker-compose`; auto prefers v2'),
  shell: z
    .string()
    .default(DEFAULT_SHELL)
    .describe(
      `Shell in the container; when the default ${DEFAULT_SHELL} is missing, ${FALLBACK_SHELL} is used`,
    ),
  env: envVarMap().describe('Environment variables for the commands (docker exec -e), as k=v,k2=v2'),
  user: z
    .string()
    .optional()
    .describe("User the commands run as (name or uid[:gid]); default: the container's user"),
  startStopped: z
    .boolean()
    .default(false)
    .describe('Start the container (compose: the service) when it is stopped, instead of failing'),
});

export type DockerConfig = z.output<typeof dockerConfigSchema>;

/** Where the commands run, as found by preflight. */
interface ResolvedTarget {
  container: ContainerState;
  /** Compose mode only. */
  compose?: { version: ComposeVersion; file: string };
}

const runDocker: CommandRunner = (argv) => co(argv, { timeoutMs: DOCKER_CALL_TIMEOUT_MS });

class DockerRuntime extends ShellRuntime {
  readonly #config: DockerConfig;
  readonly #composeMode: boolean;
  #shell: string;
  #target: ResolvedTarget | undefined;
  #shellStarts = 0;
  /** The shell to start is known (#shell); false until the first shell said which it is. */
  #shellKnown = false;

  constructor(config: DockerConfig, context: RuntimeContext) {
    super({ name: 'docker', context });
    this.#config = config;
    this.#composeMode = config.containerName === '';
    this.#shell = config.shell;
  }

  /** `container X` or `service S (compose file F)`, for messages. */
  get #what(): string {
    if (!this.#composeMode) return `container ${this.#config.containerName}`;
    return `compose service ${this.#config.serviceName}`;
  }

  protected override async preflight(signal?: AbortSignal): Promise<void> {
    const problem =
      envProblem(this.#config.env) ??
      (this.#composeMode
        ? serviceNameProblem(this.#config.serviceName)
        : containerNameProblem(this.#config.containerName));
    if (problem) {
      throw new ConfigError(`docker runtime: ${problem}`, {
        hint: this.#composeMode
          ? 'fix --runtime-docker-service-name (RUNTIME_DOCKER_SERVICE_NAME) or --runtime-docker-env (RUNTIME_DOCKER_ENV)'
          : 'fix --runtime-docker-container-name (RUNTIME_DOCKER_CONTAINER_NAME) or --runtime-docker-env (RUNTIME_DOCKER_ENV)',
      });
    }
    if (!this.#composeMode) {
      await this.#startBesideInspect(signal);
      return;
    }
    // No `docker version` first: every docker call's failure is classified (daemon unreachable,
    // permission, no CLI) by #fail. The shell probe of a named container runs beside its inspect;
    // only its success is taken, anything else is probed again once the container is known.
    const early = this.#composeMode
      ? undefined
      : this.#probeShell(this.#config.containerName, this.#candidates[0]!);
    this.#target = this.#composeMode ? await this.#resolveCompose() : await this.#resolveContainer();
    const earlyResult = await early;
    this.#shell =
      earlyResult?.exitCode === 0
        ? this.#candidates[0]!
        : await this.#resolveShell(this.#target.container, earlyResult);
    this.#shellKnown = true;
  }

  /**
   * A named container: its first shell starts at once, by name, beside the `docker inspect` that
   * checks the container (and starts it if allowed), with no probe of the shell first. When that
   * start fails (no /bin/sh, a stopped container, no /dev/null...), the shell is probed as before
   * once the container is known, so every failure gets the message it always had.
   */
  async #startBesideInspect(signal?: AbortSignal): Promise<void> {
    const starting = this.session.start(signal).then(
      () => undefined,
      (error: unknown) => error ?? new Error('shell start failed'),
    );
    try {
      this.#target = await this.#resolveContainer();
    } catch (error) {
      await starting;
      await this.session.close();
      throw error;
    }
    const failed = await starting;
    if (failed === undefined) {
      if (!this.#shellKnown) {
        this.#shell = this.session.shellFlavor === 'bash' ? DEFAULT_SHELL : FALLBACK_SHELL;
      }
    } else {
      await this.session.close();
      if (signal?.aborted) throw failed;
      this.#shell = await this.#resolveShell(this.#target.container);
    }
    this.#shellKnown = true;
  }

  protected override async transport(): Promise<ShellTransport> {
    // The first shell starts during preflight (a named container: beside its inspect, so by name);
    // later ones replace a dead shell, and the container may have stopped, been recreated or
    // (compose) moved in the meantime.
    const first = this.#shellStarts++ === 0;
    if (!first || (!this.#target && this.#composeMode)) {
      this.#target = this.#composeMode ? await this.#recheckCompose() : await this.#resolveContainer();
    }
    const target = this.#target;
    const pick = !this.#shellKnown && this.#config.shell === DEFAULT_SHELL;
    const common = {
      shell: pick ? FALLBACK_SHELL : this.#shell,
      ...(pick ? { shellArgs: ['-c', PICK_SHELL] } : {}),
      env: this.#config.env,
      ...(this.#config.user ? { user: this.#config.user } : {}),
    };
    if (!target) return { argv: dockerExecArgv({ ...common, container: this.#config.containerName }) };
    const argv = target.compose
      ? composeExecArgv({
          ...common,
          version: target.compose.version,
          composeFile: target.compose.file,
          service: this.#config.serviceName,
        })
      : dockerExecArgv({ ...common, container: target.container.id });
    return { argv, ...(target.compose ? { cwd: dirname(target.compose.file) } : {}) };
  }

  protected override sideChannel(script: string, args: string[]): Promise<CoResult> {
    const container = this.#target?.container.id;
    if (!container) return Promise.reject(new Error('docker runtime: no container yet'));
    return co(
      dockerSideChannelArgv({
        container,
        script,
        args,
        ...(this.#config.user ? { user: this.#config.user } : {}),
      }),
      { timeoutMs: SIDE_CHANNEL_TIMEOUT_MS },
    );
  }

  protected override describeExit(exit: ShellExit): string | undefined {
    const failure = classifyDockerFailure({ exitCode: exit.exitCode, stderr: exit.stderr });
    switch (failure) {
      case 'daemon-unreachable':
        return 'lost the connection to the Docker daemon';
      case 'no-such-container':
        return `${this.#what} no longer exists`;
      case 'not-running':
        return `${this.#what} is not running`;
      case 'paused':
        return `${this.#what} is paused`;
      case 'shell-missing':
        return `the shell ${this.#shell} does not exist in ${this.#what}`;
      default:
        if (exit.exitCode === 137 && exit.stderr.trim() === '') {
          return `the shell in ${this.#what} was killed (docker exec status 137; the container may have stopped)`;
        }
        return undefined;
    }
  }

  /**
   * A shell that ended on its own tells nothing about why: docker exec just exits 137 when its
   * container stops. Ask docker, and say so in the result.
   */
  override async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const result = await super.run(command, options);
    if (!result.shellExited || !this.#target) return result;
    const id = this.#target.container.id;
    const inspected = await runDocker(inspectArgv([id]));
    const state = parseInspect(inspected.stdout)[0];
    const next = this.#config.startStopped
      ? 'the next command starts it again'
      : `start it again (${this.#startCommand()}) before the next command`;
    let notice: string | undefined;
    if (!state && classifyDockerFailure(inspected) === 'no-such-container') {
      notice = `${this.#what} was removed during the command`;
    } else if (state && !state.running) {
      notice = `${this.#what} stopped during the command (${state.status}, exit code ${state.exitCode}); ${next}`;
    }
    if (!notice) return result;
    // Keep the session's word on a timeout or a cancel; its guess about the shell is replaced.
    const interrupted = (result.timedOut || result.cancelled) && result.notice;
    return { ...result, notice: interrupted ? `${notice}; ${result.notice}` : notice };
  }

  async runtimeInfo(): Promise<string> {
    const target = this.#target;
    const lines = [
      'Runtime: docker. Commands run inside a Docker container through `docker exec`, in a persistent shell.',
    ];
    if (target) {
      lines.push(`Container: ${target.container.name} (id ${target.container.id.slice(0, 12)})`);
      lines.push(`Image: ${target.container.image}`);
    } else if (!this.#composeMode) {
      lines.push(`Container: ${this.#config.containerName}`);
    }
    if (this.#composeMode) {
      const version = target?.compose?.version;
      lines.push(
        `Compose service: ${this.#config.serviceName} of ${target?.compose?.file ?? this.#config.composeFile}` +
          (version ? ` (${COMPOSE_PROGRAM[version].join(' ')})` : ''),
      );
    }
    lines.push(`Shell: ${this.#shell}`);
    if (this.#config.user) lines.push(`User: ${this.#config.user}`);
    if (this.session.cwd) lines.push(`Working directory: ${this.session.cwd}`);
    return lines.join('\n');
  }

  target(): Record<string, string> {
    const facts: Record<string, string> = this.#composeMode
      ? {
          composeFile: this.#target?.compose?.file ?? this.#config.composeFile,
          service: this.#config.serviceName,
        }
      : { container: this.#config.containerName };
    if (this.#target) facts.containerId = this.#target.container.id.slice(0, 12);
    return facts;
  }

  async #resolveContainer(): Promise<ResolvedTarget> {
    const name = this.#config.containerName;
    let state = await this.#inspect(name);
    if (!state.running || state.paused) {
      if (!this.#config.startStopped || state.paused) {
        throw new RuntimeError(
          `docker runtime: container ${name} is ${state.paused ? 'paused' : `not running (${state.status}, exit code ${state.exitCode})`}`,
          {
            hint: state.paused
              ? `unpause it with \`docker unpause ${name}\``
              : `start it with \`docker start ${name}\`, or pass --runtime-docker-start-stopped true to let opsmate start it`,
          },
        );
      }
      const started = await runDocker(['docker', 'start', '--', state.id]);
      if (started.exitCode !== 0) this.#fail(started, `cannot start container ${name}`);
      state = await this.#inspect(state.id);
    }
    return { container: state };
  }

  async #inspect(container: string): Promise<ContainerState> {
    const result = await runDocker(inspectArgv([container]));
    const state = parseInspect(result.stdout)[0];
    if (result.exitCode === 0 && state) return state;
    if (classifyDockerFailure(result) === 'no-such-container') {
      throw new RuntimeError(`docker runtime: container ${container} not found`, {
        hint: 'list containers with `docker ps -a`, then set --runtime-docker-container-name (env RUNTIME_DOCKER_CONTAINER_NAME)',
      });
    }
    this.#fail(result, `cannot inspect container ${container}`);
  }

  async #resolveCompose(): Promise<ResolvedTarget> {
    const file = this.#composeFile();
    const version = await this.#composeVersion();
    const base = composeBaseArgv(version, file);
    const options = { timeoutMs: DOCKER_CALL_TIMEOUT_MS, cwd: dirname(file) };
    const config = await co([...base, 'config', '--services'], options);
    if (config.exitCode !== 0) {
      throw new RuntimeError(`docker runtime: compose cannot read ${file}: ${lastLine(config.stderr)}`, {
        hint: `check it with \`${[...COMPOSE_PROGRAM[version], '-f', file, 'config'].join(' ')}\``,
      });
    }
    const services = config.stdout.split('\n').filter((line) => line.trim() !== '');
    const service = this.#config.serviceName;
    if (!services.includes(service)) {
      throw new RuntimeError(
        `docker runtime: service ${service} is not in ${file}; it has: ${services.join(', ') || '(no services)'}`,
        { hint: 'set --runtime-docker-service-name (env RUNTIME_DOCKER_SERVICE_NAME) to one of them' },
      );
    }
    let container = await this.#serviceContainer(base, options);
    if (!container?.running || container.paused) {
      const upCommand = [...COMPOSE_PROGRAM[version], '-f', file, 'up', '-d', service].join(' ');
      if (!this.#config.startStopped || container?.paused) {
        throw new RuntimeError(
          `docker runtime: service ${service} has no running container${container ? ` (${container.name} is ${container.status})` : ''}`,
          {
            hint: `start it with \`${upCommand}\`, or pass --runtime-docker-start-stopped true to let opsmate start it`,
          },
        );
      }
      const up = await co([...base, 'up', '-d', service], { ...options, timeoutMs: COMPOSE_UP_TIMEOUT_MS });
      if (up.exitCode !== 0) this.#fail(up, `\`${upCommand}\` failed`);
      container = await this.#serviceContainer(base, options);
      if (!container?.running) {
        throw new RuntimeError(
          `docker runtime: service ${service} did not stay running after \`${upCommand}\``,
          {
            hint: `look at \`${[...COMPOSE_PROGRAM[version], '-f', file, 'logs', service].join(' ')}\``,
          },
        );
      }
    }
    return { container, compose: { version, file } };
  }

  /**
   * Before a replacement shell: one `docker inspect` when the known container still runs, since
   * each compose v1 call costs half a second of Python start-up; the full resolve otherwise.
   */
  async #recheckCompose(): Promise<ResolvedTarget> {
    const known = this.#target;
    if (known?.compose) {
      const state = parseInspect((await runDocker(inspectArgv([known.container.id]))).stdout)[0];
      if (state?.running && !state.paused) return { container: state, compose: known.compose };
    }
    return await this.#resolveCompose();
  }

  /** The container `compose exec` picks: replica number 1, else the first running one. */
  async #serviceContainer(
    base: string[],
    options: { timeoutMs: number; cwd: string },
  ): Promise<ContainerState | undefined> {
    const ps = await co([...base, 'ps', '-q', this.#config.serviceName], options);
    if (ps.exitCode !== 0)
      this.#fail(ps, `cannot list the containers of service ${this.#config.serviceName}`);
    const ids = ps.stdout.split('\n').filter((line) => /^[0-9a-f]+$/.test(line.trim()));
    if (ids.length === 0) return undefined;
    const inspected = await runDocker(inspectArgv(ids));
    const states = parseInspect(inspected.stdout);
    return (
      states.find((state) => state.composeNumber === '1' && state.running) ??
      states.find((state) => state.running) ??
      states[0]
    );
  }

  #composeFile(): string {
    const given = resolve(this.#config.composeFile);
    if (existsSync(given)) return given;
    if (this.#config.composeFile === DEFAULT_COMPOSE_FILE) {
      const other = OTHER_COMPOSE_FILES.map((name) => resolve(name)).find((path) => existsSync(path));
      if (other) return other;
    }
    throw new RuntimeError(`docker runtime: compose file ${given} not found`, {
      hint: 'set --runtime-docker-compose-file (env RUNTIME_DOCKER_COMPOSE_FILE), or --runtime-docker-container-name for a plain container',
    });
  }

  async #composeVersion(): Promise<ComposeVersion> {
    const preference = this.#config.composeVersion;
    const version = await detectComposeVersion(preference, runDocker);
    if (version) return version;
    const wanted =
      preference === 'auto'
        ? 'neither `docker compose` (v2) nor `docker-compose` (v1) is installed'
        : `\`${COMPOSE_PROGRAM[preference].join(' ')}\` is not installed`;
    throw new RuntimeError(`docker runtime: ${wanted}`, {
      hint: 'install the Docker Compose plugin (or docker-compose), or choose another with --runtime-docker-compose-version',
    });
  }

  /** The configured shell, or /bin/sh when the default bash is missing from the image. */
  /** The shells to try, in order. */
  get #candidates(): string[] {
    return this.#config.shell === DEFAULT_SHELL ? [DEFAULT_SHELL, FALLBACK_SHELL] : [this.#config.shell];
  }

  #probeShell(container: string, shell: string): Promise<CoResult> {
    return runDocker([
      'docker',
      'exec',
      ...(this.#config.user ? [`--user=${this.#config.user}`] : []),
      '--',
      container,
      shell,
      '-c',
      'exit 0',
    ]);
  }

  /** `first`: the first candidate's probe, when it already ran (by name, beside the inspect). */
  async #resolveShell(container: ContainerState, first?: CoResult): Promise<string> {
    const candidates = this.#candidates;
    let last: CoResult | undefined;
    for (const [index, shell] of candidates.entries()) {
      // A shell the image lacks stays missing; any other failure of the early probe is tried again.
      const known =
        index === 0 && first && classifyDockerFailure(first) === 'shell-missing' ? first : undefined;
      const probe = known ?? (await this.#probeShell(container.id, shell));
      if (probe.exitCode === 0) return shell;
      if (lacksDevNull(probe.stderr)) {
        throw new RuntimeError(
          `docker runtime: ${this.#what} has no /dev/null, so docker cannot start a process there`,
          {
            hint: 'create it in the container (mknod -m 666 /dev/null c 1 3) or fix the image',
          },
        );
      }
      last = probe;
      if (classifyDockerFailure(probe) !== 'shell-missing') break;
    }
    if (last && classifyDockerFailure(last) === 'shell-missing') {
      throw new RuntimeError(`docker runtime: ${candidates.join(' and ')} not found in ${this.#what}`, {
        hint: 'set --runtime-docker-shell (env RUNTIME_DOCKER_SHELL) to a shell the image has',
      });
    }
    this.#fail(last ?? probeless(), `cannot start ${candidates.join(' or ')} in ${this.#what}`);
  }

  #startCommand(): string {
    if (!this.#composeMode || !this.#target?.compose) return `docker start ${this.#config.containerName}`;
    const { version, file } = this.#target.compose;
    return [...COMPOSE_PROGRAM[version], '-f', file, 'up', '-d', this.#config.serviceName].join(' ');
  }

  /** Throws a RuntimeError explaining a failed docker call. */
  #fail(result: CoResult, what: string): never {
    switch (classifyDockerFailure(result)) {
      case 'binary-missing':
        throw new RuntimeError(
          `docker runtime: ${result.spawnError?.path ?? 'docker'} is not installed (not found on PATH)`,
          { hint: 'install the Docker CLI (e.g. apt-get install docker.io) or add it to PATH' },
        );
      case 'daemon-unreachable':
        throw new RuntimeError(`docker runtime: cannot reach the Docker daemon: ${lastLine(result.stderr)}`, {
          hint: 'start dockerd (or Docker Desktop), or point DOCKER_HOST / the docker context at a running one',
        });
      case 'permission-denied':
        throw new RuntimeError(`docker runtime: permission denied talking to the Docker daemon`, {
          hint: 'add your user to the docker group, or run opsmate as a user that may use docker',
        });
      default:
        throw new RuntimeError(
          `docker runtime: ${what}: ${lastLine(result.stderr) || lastLine(result.stdout) || `exit status ${result.exitCode ?? result.signal}`}`,
        );
    }
  }
}

function probeless(): CoResult {
  return { exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, cancelled: false };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

export const dockerRuntime = defineRuntime({
  name: 'docker',
  description:
    'Runs commands inside a Docker container (docker exec), or a Docker Compose service when no container name is set.',
  configSchema: dockerConfigSchema,
  uri: {
    schemes: ['docker', 'compose'],
    usage: ['docker://container', 'compose://path/to/compose.yml#service'],
    fields: ({ scheme, body }) => {
      if (scheme === 'docker') {
        const container = decodePart(body.replace(/\/$/, ''), 'container');
        if (container === '') throw new Error('it names no container');
        return { containerName: container };
      }
      const hash = body.lastIndexOf('#');
      const file = decodePart(hash >= 0 ? body.slice(0, hash) : body, 'compose file');
      const service = hash >= 0 ? decodePart(body.slice(hash + 1), 'service') : '';
      if (service === '') throw new Error('it names no service: add #service');
      return { containerName: '', serviceName: service, ...(file !== '' ? { composeFile: file } : {}) };
    },
  },
  discover: dockerDiscovery,
  create: (config, context) => new DockerRuntime(config, context),
});
