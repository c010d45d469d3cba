import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  co,
  ConfigError,
  defineRuntime,
  RuntimeError,
  shellJoin,
  shellQuote,
  ShellRuntime,
  z,
  type CoResult,
  type RuntimeContext,
  type ShellExit,
  type ShellTransport,
} from 'opsmate';
import { splitWords } from './split-words.js';

/** gcloud rejects these values anyway; checking them here keeps a value from being read as a flag. */
const GCE_NAME = /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/;
const PROJECT_ID = /^[a-z][-a-z0-9.:]*[a-z0-9]$/;
const USER_NAME = /^[A-Za-z_][-A-Za-z0-9_.]*$/;

const emptyOr = (pattern: RegExp) => (value: string) => value === '' || pattern.test(value);

export const gceConfigSchema = z.object({
  instance: z
    .string()
    .regex(GCE_NAME, 'must be a GCE instance name: lower-case letters, digits and hyphens')
    .describe('Name of the GCE instance'),
  zone: z
    .string()
    .default('')
    .refine(emptyOr(GCE_NAME), 'must be a zone name such as europe-west1-c')
    .describe("Zone of the instance, e.g. europe-west1-c; empty uses gcloud's compute/zone"),
  project: z
    .string()
    .default('')
    .refine(emptyOr(PROJECT_ID), 'must be a Google Cloud project id')
    .describe("Project of the instance; empty uses gcloud's core/project"),
  username: z
    .string()
    .default('')
    .refine(emptyOr(USER_NAME), 'must be a user name')
    .describe('User to log in as; empty lets gcloud choose (your local user name)'),
  useIap: z
    .boolean()
    .default(true)
    .describe('Connect through an IAP TCP tunnel, for instances without an external address'),
  iapOptions: z
    .string()
    .default('')
    .describe('Extra gcloud options for the IAP tunnel, split like shell words (used only with IAP)'),
  shell: z.string().default('/bin/bash').describe('Shell on the instance that runs the commands'),
  timeout: z.int().min(1).default(120).describe('Default timeout of one command, in seconds'),
  connectRetries: z
    .int()
    .min(0)
    .default(3)
    .describe('How many more times to try when connecting fails (IAP tunnels can be slow to open)'),
  gcloudBinary: z.string().min(1).default('gcloud').describe('The gcloud program: a name on PATH or a path'),
  extraFlags: z
    .string()
    .default('')
    .describe('Extra options for `gcloud compute ssh`, split like shell words'),
});

export type GceConfig = z.output<typeof gceConfigSchema>;

/** Pause before connection attempt n+1: 1 s, 2 s, 4 s... capped at 10 s. */
const RETRY_BASE_DELAY_MS = 1_000;
const RETRY_MAX_DELAY_MS = 10_000;
/** gcloud's own errors (`ERROR: (gcloud.compute.ssh) ...`) are about configuration, not the network. */
const PERMANENT_FAILURE = /\(gcloud\.compute\.ssh\)/;
/** The side channel opens its own connection, which through IAP takes a few seconds. */
const SIDE_CHANNEL_TIMEOUT_MS = 30_000;

/**
 * The argv of `gcloud compute ssh` running `remoteCommand` on the instance:
 * `gcloud compute ssh [USER@]INSTANCE [--zone Z] [--project P] [--tunnel-through-iap ...] --quiet
 * [EXTRA...] --command CMD`. `--quiet` matters: a gcloud prompt would read the shell's input.
 */
export function gcloudSshArgv(config: GceConfig, remoteCommand: string): string[] {
  return [
    config.gcloudBinary,
    'compute',
    'ssh',
    config.username ? `${config.username}@${config.instance}` : config.instance,
    ...(config.zone ? ['--zone', config.zone] : []),
    ...(config.project ? ['--project', config.project] : []),
    ...(config.useIap ? ['--tunnel-through-iap', ...words(config.iapOptions, 'iap-options')] : []),
    '--quiet',
    ...words(config.extraFlags, 'extra-flags'),
    '--command',
    remoteCommand,
  ];
}

function words(text: string, field: string): string[] {
  try {
    return splitWords(text);
  } catch (error) {
    throw new ConfigError(`--runtime-gce-${field}: ${(error as Error).message}`, {
      hint: `fix the quoting in --runtime-gce-${field} (env RUNTIME_GCE_${field.replace('-', '_').toUpperCase()})`,
    });
  }
}

class GceRuntime extends ShellRuntime {
  readonly #config: GceConfig;
  #preflightPassed = false;

  constructor(config: GceConfig, context: RuntimeContext) {
    super({ name: 'gce', context, defaultTimeoutMs: config.timeout * 1000 });
    this.#config = config;
    gcloudSshArgv(config, ''); // reject bad quoting now, before anything connects
  }

  protected override async preflight(): Promise<void> {
    const binary = this.#config.gcloudBinary;
    if (!findExecutable(binary)) {
      throw new RuntimeError(
        binary.includes('/')
          ? `gce runtime: ${binary} does not exist or is not executable`
          : `gce runtime: ${binary} was not found on PATH`,
        {
          hint: 'install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), or set --runtime-gce-gcloud-binary (env RUNTIME_GCE_GCLOUD_BINARY)',
        },
      );
    }
    this.#preflightPassed = true;
  }

  /**
   * Retries a connection that failed on the way (IAP tunnel, ssh), not one gcloud refused: a missing
   * gcloud, an unknown instance or a missing login stay that way.
   */
  override async connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await super.connect(options);
        return;
      } catch (error) {
        const refused = !this.#preflightPassed || PERMANENT_FAILURE.test((error as Error).message);
        if (refused || attempt >= this.#config.connectRetries || options.signal?.aborted) throw error;
        const delayMs = Math.min(RETRY_BASE_DELAY_MS * 2 ** attempt, RETRY_MAX_DELAY_MS);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  protected transport(): ShellTransport {
    return { argv: gcloudSshArgv(this.#config, `exec ${shellQuote(this.#config.shell)}`) };
  }

  protected override sideChannel(script: string, args: string[]): Promise<CoResult> {
    return co(gcloudSshArgv(this.#config, shellJoin(['sh', '-c', script, 'sh', ...args])), {
      timeoutMs: SIDE_CHANNEL_TIMEOUT_MS,
    });
  }

  protected override describeExit(exit: ShellExit): string | undefined {
    const lines = exit.stderr.split('\n').map((line) => line.trim());
    const gcloudError = lines.filter((line) => line.startsWith('ERROR:')).pop();
    if (gcloudError) return `gcloud compute ssh failed: ${gcloudError}`;
    if (exit.exitCode === 255) {
      const detail = lines.filter(Boolean).pop();
      return `the ssh connection to ${this.#config.instance} failed or dropped${detail ? `: ${detail}` : ''}`;
    }
    return undefined;
  }

  async runtimeInfo(): Promise<string> {
    const { instance, zone, project, useIap } = this.#config;
    const where = [zone && `zone ${zone}`, project && `project ${project}`].filter(Boolean).join(', ');
    return [
      `Runtime: gce. Commands run on the Google Compute Engine instance ${instance}${where ? ` (${where})` : ''}, ` +
        `reached with \`gcloud compute ssh\`${useIap ? ' through an IAP tunnel' : ''}, in a persistent shell.`,
      `Shell: ${this.#config.shell}`,
      `Working directory: ${this.session.cwd ?? 'the login directory'}`,
    ].join('\n');
  }

  target(): Record<string, string> {
    const { instance, zone, project, username } = this.#config;
    return {
      instance,
      ...(zone ? { zone } : {}),
      ...(project ? { project } : {}),
      ...(username ? { user: username } : {}),
    };
  }
}

/** Whether `binary` (a name looked up on PATH, or a path) is an executable file. */
function findExecutable(binary: string): boolean {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, binary));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export default defineRuntime({
  name: 'gce',
  description:
    'Runs commands on a Google Compute Engine instance through gcloud compute ssh (IAP by default).',
  configSchema: gceConfigSchema,
  // `-t gce://europe-west1-c/web-1`, or with a project first; the fields are checked by the schema.
  uri: {
    schemes: ['gce'],
    usage: ['gce://zone/instance', 'gce://project/zone/instance'],
    fields: ({ body }): Record<string, string> => {
      const parts = body.replace(/\/$/, '').split('/').map(decodeURIComponent);
      if (parts.length === 2) return { zone: parts[0]!, instance: parts[1]! };
      if (parts.length === 3) return { project: parts[0]!, zone: parts[1]!, instance: parts[2]! };
      throw new Error('expected zone/instance or project/zone/instance');
    },
  },
  // A group `{ runtime: gce, selector: "labels.role=web", zone: europe-west1-c }`: the running
  // instances gcloud's filter picks, each a target with its own zone.
  discover: {
    usage: "a gcloud filter over instances (labels.role=web AND name~'^web-'); the running ones that match",
    find: async ({ selector, fields, signal }) => {
      const result = await co(gcloudListArgv({ selector, fields }), { signal });
      if (result.spawnError) throw new Error(`${fields.gcloudBinary ?? 'gcloud'} was not found`);
      if (result.exitCode !== 0)
        throw new Error(
          result.stderr
            .split('\n')
            .filter((line) => line.startsWith('ERROR:'))
            .pop() ?? `gcloud compute instances list ended with ${result.exitCode ?? result.signal}`,
        );
      return result.stdout
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter(([name, zone]) => name && zone)
        .map(([name, zone]) => ({ name: name!, fields: { instance: name!, zone: zone! } }));
    },
  },
  create: (config, context) => new GceRuntime(config, context),
});

/**
 * `gcloud compute instances list --filter="(SELECTOR) AND status=RUNNING" --format=value(name,zone.basename())`
 * with the group's zone and project, one `NAME ZONE` a line. Each value is attached to its flag.
 */
export function gcloudListArgv(options: {
  selector: string;
  fields: Readonly<Record<string, string>>;
}): string[] {
  const { fields } = options;
  if (fields.zone && !GCE_NAME.test(fields.zone))
    throw new Error(`zone ${JSON.stringify(fields.zone)} is not a zone name`);
  if (fields.project && !PROJECT_ID.test(fields.project))
    throw new Error(`project ${JSON.stringify(fields.project)} is not a project id`);
  return [
    fields.gcloudBinary ?? 'gcloud',
    'compute',
    'instances',
    'list',
    `--filter=(${options.selector}) AND status=RUNNING`,
    '--format=value(name,zone.basename())',
    ...(fields.zone ? [`--zones=${fields.zone}`] : []),
    ...(fields.project ? [`--project=${fields.project}`] : []),
    '--quiet',
  ];
}
