import { accessSync, constants } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
import { RuntimeError } from '../../errors/opsmate-error.js';
import { withoutOwnSecrets } from '../../process/child-environment.js';
import { co, type CoResult } from '../../process/child-process.js';
import { defineRuntime, type RuntimeContext } from '../../runtime/contract.js';
import { ShellRuntime } from '../../runtime/shell-runtime.js';
import type { ShellTransport } from '../../runtime/shell-session/shell-session.js';
import { envVarMap } from '../../config/schema-fields.js';
import { decodePart } from '../../targets/uri-parts.js';

export const localConfigSchema = z.object({
  shell: z
    .string()
    .default('/bin/bash')
    .describe('Shell that runs the commands; /bin/sh is used when the default /bin/bash is missing'),
  env: envVarMap().describe('Extra environment variables for the commands, as k=v,k2=v2'),
  cwd: z
    .string()
    .optional()
    .describe('Working directory of the first command (default: where opsmate starts)'),
});

export type LocalConfig = z.output<typeof localConfigSchema>;

class LocalRuntime extends ShellRuntime {
  readonly #config: LocalConfig;
  #shell: string;
  #target: Record<string, string> | undefined;

  constructor(config: LocalConfig, context: RuntimeContext) {
    super({
      name: 'local',
      context,
      env: config.env,
      ...(config.cwd ? { cwd: config.cwd } : {}),
      // Its side channel is a process of this machine, started at the limit: no watcher needed.
      inBandDeadline: false,
    });
    this.#config = config;
    this.#shell = config.shell;
  }

  protected override async preflight(): Promise<void> {
    if (isExecutable(this.#shell)) return;
    if (this.#config.shell === '/bin/bash' && isExecutable('/bin/sh')) {
      this.#shell = '/bin/sh';
      return;
    }
    throw new RuntimeError(`local runtime: shell ${this.#shell} does not exist or is not executable`, {
      hint: 'set --runtime-local-shell (env RUNTIME_LOCAL_SHELL) to an installed shell, e.g. /bin/sh',
    });
  }

  protected transport(): ShellTransport {
    return { argv: [this.#shell], env: withoutOwnSecrets() };
  }

  protected override sideChannel(script: string, args: string[]): Promise<CoResult> {
    return co(['/bin/sh', '-c', script, 'sh', ...args], { timeoutMs: 10_000 });
  }

  async runtimeInfo(): Promise<string> {
    return [
      'Runtime: local. Commands run on the same machine as opsmate, in a persistent shell.',
      `Host: ${hostname()}`,
      `Shell: ${this.#shell}`,
      `Working directory: ${this.session.cwd ?? process.cwd()}`,
    ].join('\n');
  }

  target(): Record<string, string> {
    // Asked for every command (policy, audit): userInfo() reads the user database each time.
    this.#target ??= { host: hostname(), user: safeUser() };
    return { ...this.#target };
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

export const localRuntime = defineRuntime({
  name: 'local',
  description: 'Runs commands on this machine, in a persistent shell beside opsmate.',
  configSchema: localConfigSchema,
  uri: {
    schemes: ['local'],
    usage: ['local://', 'local:///working/directory'],
    fields: ({ body }): Record<string, string> => {
      if (body === '') return {};
      if (!body.startsWith('/'))
        throw new Error('after local:// comes nothing or an absolute path (local:///srv)');
      return { cwd: decodePart(body, 'path') };
    },
  },
  create: (config, context) => new LocalRuntime(config, context),
});
