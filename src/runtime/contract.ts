import type { z } from 'zod';

/** Version tag of the runtime contract below. Bumped only on a breaking change. */
export const RUNTIME_SPECIFICATION_VERSION = 'opsmate.runtime.v1';

/** Options for one {@link Runtime.run} call. */
export interface RunOptions {
  /**
   * Hard limit for the whole command, in milliseconds. When it passes, the command and all its
   * children are killed and the result has `timedOut: true, timeoutKind: 'total'`.
   * Defaults to the runtime's own default (120 000 ms for the built-in runtimes).
   */
  timeoutMs?: number;
  /**
   * Kill the command when it has printed nothing for this many milliseconds
   * (`timeoutKind: 'idle'`). Every byte on stdout or stderr resets the clock. Off when unset.
   */
  idleTimeoutMs?: number;
  /** Aborting cancels the command the same way a timeout does; the result has `cancelled: true`. */
  signal?: AbortSignal;
  /**
   * Called for every chunk of output as it arrives, for live display. Must not throw. Returning a
   * promise applies backpressure: the runtime stops reading the command's output until it settles
   * (e.g. until a slow stdout drains), so memory stays bounded.
   */
  onOutput?: (chunk: OutputChunk) => void | Promise<unknown>;
}

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  /** Raw bytes as the command wrote them; may split a multi-byte character. */
  data: Uint8Array;
}

/**
 * What one command did. A runtime never rejects because a command failed, timed out or lost its
 * shell: those are facts about the command, reported here for the model and the user.
 */
export interface RunResult {
  command: string;
  /**
   * The command's exit status; `null` when it has none that means anything: it timed out or was
   * cancelled (never 0 then), it lost its shell, or it never started.
   */
  exitCode: number | null;
  /** Decoded as UTF-8 (invalid bytes become U+FFFD). When truncated: head, a one-line notice, tail. */
  stdout: string;
  stderr: string;
  /** Bytes the command wrote to each stream, all of them, including what was cut. */
  stdoutBytes: number;
  stderrBytes: number;
  /** True when either stream was larger than the runtime's output limit and was cut in the middle. */
  truncated: boolean;
  /** Files on the opsmate machine holding a stream in full; set only for the streams that were cut. */
  spillFiles: { stdout?: string; stderr?: string };
  timedOut: boolean;
  /** Which limit fired, when `timedOut` is true. */
  timeoutKind?: 'total' | 'idle';
  cancelled: boolean;
  /**
   * The session's shell (or the connection carrying it) ended during this command: killed, crashed,
   * a lost connection, or opsmate had to replace it. (`exit` in a command ends only the command.)
   * The next command starts a new shell with the working directory and variables restored.
   */
  shellExited: boolean;
  /**
   * Why the shell ended, when `shellExited`: it or its transport ended without saying (killed, a
   * crash, a lost connection); or opsmate replaced it (it stopped answering). `exit` is kept for
   * runtimes whose shell ends on `exit`; the built-in engine never reports it.
   */
  shellExitReason?: 'exit' | 'ended' | 'killed';
  durationMs: number;
  /** Working directory after the command, when known. */
  cwd?: string;
  /**
   * Output that background processes of earlier commands printed after their command had returned
   * and before this one started. It is not this command's output and is never mixed into
   * `stdout`/`stderr`; the notice mentions it.
   */
  backgroundOutput?: BackgroundOutput;
  /** One line for the user and the model when something unusual happened (timeout, lost shell...). */
  notice?: string;
}

/** See {@link RunResult.backgroundOutput}. Each stream keeps its first 16 KiB. */
export interface BackgroundOutput {
  stdout: string;
  stderr: string;
  /** Bytes printed in all, including what was not kept. */
  bytes: number;
}

/**
 * The language a runtime's commands are written in. Shell runtimes need not say (`shell` is the
 * default); a SQL runtime says `sql`. The command policy picks its rules by `id`, and the tool
 * description and system prompt tell the model what to write.
 */
export interface CommandLanguage {
  /** `shell` (POSIX sh, bash, ash...), `sql`, or another language's lower-case name. */
  id: 'shell' | 'sql' | (string & {});
  /** One line for the model, e.g. `PostgreSQL 15 SQL, one statement or several separated by ;`. */
  description: string;
}

/** The language of runtimes that do not declare one. */
export const SHELL_LANGUAGE: CommandLanguage = {
  id: 'shell',
  description: 'POSIX shell commands (bash where the target has it)',
};

/**
 * A place where commands run. Implementations: the built-in `local`, `ssh`, `docker`, `k8s`, and
 * those that plugins bring. Most are built on {@link ShellRuntime}, which supplies everything
 * below but the transport.
 */
export interface Runtime {
  /** The registered name, e.g. `local`. */
  readonly name: string;
  /** The language of the commands; absent means {@link SHELL_LANGUAGE}. */
  readonly language?: CommandLanguage;
  /**
   * Open the transport and check the target is usable. Rejects with a `RuntimeError` whose message
   * says what to fix (bad host, container not running...). Safe to call twice.
   */
  connect(options?: { signal?: AbortSignal }): Promise<void>;
  /** Close everything `connect` opened. Never rejects; safe to call when not connected. */
  disconnect(): Promise<void>;
  /**
   * Run one command, written in {@link language}. Connects first when needed. Calls on one runtime are serialised.
   * Resolves with a {@link RunResult} whatever the command did; rejects only when the runtime
   * cannot run anything at all (for instance it cannot reconnect), with a `RuntimeError`.
   */
  run(command: string, options?: RunOptions): Promise<RunResult>;
  /**
   * OS description of the target (e.g. the contents of /etc/os-release and `uname -a`). Optional:
   * a runtime whose target has no OS to speak of (a database) leaves it out. Rejects with a
   * `RuntimeError` saying why when the probe fails; `exec --info` and the model are told.
   */
  osInfo?(): Promise<string>;
  /** The user commands run as on the target (a database role...). Optional; rejects like `osInfo`. */
  whoami?(): Promise<string>;
  /** Whether the target runs systemd. Optional, for machines only; rejects like `osInfo`. */
  hasSystemd?(): Promise<boolean>;
  /**
   * A short overview of the target's services, a few dozen lines at most: what listens on which
   * address with the process that holds it, and how services are started (PID 1, systemd's running
   * services, init scripts, supervisor or s6 folders). Optional, for machines only; added in this
   * version of the contract without breaking it (a runtime without it is still valid). Rejects like
   * `osInfo`. The model is told it as untrusted data.
   */
  services?(): Promise<string>;
  /** A short paragraph about the runtime itself for the model: kind, target, shell. */
  runtimeInfo(): Promise<string>;
  /** Key facts naming the target, for logs and the audit trail, e.g. `{ host: 'db-1' }`. */
  target(): Record<string, string>;
}

/** What a runtime gets from opsmate when it is created. */
export interface RuntimeContext {
  /** Folder on the opsmate machine where cut output is spilled in full. */
  spillDir: string;
  /** Bytes of each stream kept in memory for the result: half from the start, half from the end. */
  outputLimitBytes: number;
  /**
   * Most bytes of one stream written to its spill file; writing stops there and the result says
   * so. 0: no spill files (the caller shows the output live and keeps nothing). Default 1 GiB.
   */
  spillLimitBytes?: number;
}

/**
 * A runtime kind, as registered under its name. `configSchema` is a zod object; every field
 * becomes a `--runtime-<name>-<field>` option with a `RUNTIME_<NAME>_<FIELD>` env fallback.
 * Field descriptions (`.describe()`) become the help text and defaults show in help.
 */
export interface RuntimeDefinition<Schema extends z.ZodObject = z.ZodObject> {
  specificationVersion: typeof RUNTIME_SPECIFICATION_VERSION;
  /** Lower-case name used in `--shell-command-runtime` and flag names: `[a-z][a-z0-9]*`. */
  name: string;
  /** One line shown by `opsmate list-runtimes`. */
  description: string;
  configSchema: Schema;
  /**
   * Optional: the short form of a target of this runtime, `ssh://user@host:port`, usable wherever
   * a target name is (`-t ssh://ops@db-1`). Added in this version of the contract without breaking
   * it: a runtime without one is still valid, and is named in `targets:` or by its flags.
   */
  uri?: RuntimeUriForm;
  /**
   * Optional: how a group of this runtime's targets is found by a selector when it is used
   * (`targets: { web: { runtime: docker, selector: app=web } }`): running containers by label,
   * pods by label selector, `~/.ssh/config` Host aliases by pattern. Added without breaking the
   * contract: a runtime without one has no selector groups.
   */
  discover?: RuntimeDiscovery;
  /** Build a runtime. Must not connect or do I/O: opsmate calls `connect` when needed. */
  create(config: z.output<Schema>, context: RuntimeContext): Runtime;
}

/**
 * How a URI names a target of a runtime. The fields it returns are the runtime's own, validated by
 * its `configSchema` exactly as flags are: the URI only says which fields it sets.
 */
export interface RuntimeUriForm {
  /** Lower-case schemes this runtime answers to: `['ssh']`; docker has `['docker', 'compose']`. */
  schemes: readonly string[];
  /** The form for help and errors, one per scheme: `ssh://[user@]host[:port]`. */
  usage: readonly string[];
  /**
   * The fields one URI sets, by schema key, as text (read as an env var's value is, then validated
   * by `configSchema`). `body` is what follows `scheme://`, as written. Throw an `Error` whose
   * message says what is wrong with the URI; opsmate names the URI and the forms in the error.
   */
  fields(uri: { scheme: string; body: string }): Record<string, string>;
}

/** How a runtime finds the targets a selector picks; see {@link RuntimeDefinition.discover}. */
export interface RuntimeDiscovery {
  /** What a selector is, for help and errors: `docker labels: key or key=value, comma-separated`. */
  usage: string;
  /**
   * The targets the selector picks now, in a stable order, each with a name (a container, pod or
   * host alias: letters, digits, `_`, `.`, `-`) and the fields it sets, by schema key, as text.
   * `fields` are the group's own fields as written (`namespace: prod`), which every found target
   * also gets. Throw an `Error` whose message says what failed; opsmate names the group. Finding
   * none is not an error here: opsmate refuses to run a command on an empty selection.
   */
  find(options: {
    selector: string;
    fields: Readonly<Record<string, string>>;
    signal: AbortSignal;
  }): Promise<DiscoveredTarget[]>;
}

/** One target a {@link RuntimeDiscovery} found. */
export interface DiscoveredTarget {
  name: string;
  fields: Record<string, string>;
}

/**
 * Declares a runtime kind. An identity function that exists for type inference, so `create`
 * receives the parsed config type of `configSchema`.
 */
export function defineRuntime<Schema extends z.ZodObject>(
  definition: Omit<RuntimeDefinition<Schema>, 'specificationVersion'> & {
    specificationVersion?: typeof RUNTIME_SPECIFICATION_VERSION;
  },
): RuntimeDefinition<Schema> {
  return { ...definition, specificationVersion: RUNTIME_SPECIFICATION_VERSION };
}
