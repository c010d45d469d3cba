import type { z } from 'zod';
import type { CommandReviewer } from '../../runtime/command-review.js';
import {
  SHELL_LANGUAGE,
  type CommandLanguage,
  type OutputChunk,
  type Runtime,
  type RunResult,
} from '../../runtime/contract.js';
import type { KnowledgeSearchResult } from '../../knowledge/search-knowledge.js';
import type { SpillFiles } from './spill-files.js';

/** Version tag of the tool contract below. Bumped only on a breaking change. */
export const TOOL_SPECIFICATION_VERSION = 'opsmate.tool.v1';

/** What a tool gets to do its work. One per agent session; shared by every call. */
export interface ToolContext {
  /** Where shell commands run, as chosen by `--shell-command-runtime`. */
  runtime: Runtime;
  /** Asks before a command runs (`--review`); undefined when commands run unasked. */
  reviewer?: CommandReviewer;
  /**
   * Masks secrets in text a tool reads outside the runtime (spill files) before the model sees
   * it, keeping the line count. Unset when masking is off (`--redact false`).
   */
  redactor?: {
    redact(text: string, options?: { keepLineCount?: boolean }): { text: string; count: number };
    /** The same for long texts: yields between passes and rejects once `signal` is aborted. */
    redactAsync(
      text: string,
      options?: { keepLineCount?: boolean; signal?: AbortSignal },
    ): Promise<{ text: string; count: number }>;
  };
  /** Spill files the model was told about in this session; the only files it may read back. */
  spillFiles: SpillFiles;
  /**
   * The fleet of the session (`--fleet GROUP`), for the FleetCommand tool: absent when none was
   * given. Each target's command is guarded (policy per target, one review, audit, masking).
   */
  fleet?: FleetAccess;
  /**
   * The team's knowledge base (runbooks ingested with `opsmate ingest`), for the
   * KnowledgeRetrieval tool: absent when there is none. Chunks come back masked (they were
   * masked at ingest); the session keeps what was retrieved, to print the answer's references.
   */
  knowledge?: KnowledgeAccess;
  /** Cap, in characters, on any text a tool returns to the model (`--max-output-length`). */
  maxOutputLength: number;
  /**
   * The session's guard for calls that act on the target without being shell commands the model
   * wrote (opsmate's FileEditor and FetchUrl): policy, review, audit and masking, one decision and
   * one audit record per call; once a call is allowed, its own commands run on the runtime
   * without the shell guard. opsmate sets it for its built-in tools (plugin tools do not get it:
   * their calls are guarded from outside). Tools that need it refuse to act when it is absent.
   */
  guardedCalls?: GuardedCalls;
  /**
   * opsmate's environment with the config file's `NAME: value` entries under it, for tools whose
   * settings are env names (PROMETHEUS_ENDPOINT...). Unset outside a CLI session.
   */
  env?: NodeJS.ProcessEnv;
  /** Where a tool may keep a full result for ReadSpilledOutput (mode 0600), on the opsmate machine. */
  spillDir?: string;
}

/** Searches the knowledge base: hybrid when an embedding model answers, else full-text. */
export interface KnowledgeAccess {
  search(options: {
    query: string;
    /** Chunks; with `perDocument`, documents. */
    limit: number;
    /** Group by document: up to `limit` documents, each with up to this many of its chunks. */
    perDocument?: number;
    source?: string;
    signal: AbortSignal;
  }): Promise<KnowledgeSearchResult>;
}

/** Where a guarded call's commands run, once the guard let the call through. */
/** What one target of a fleet run did, as the FleetCommand tool reports it (output masked). */
export interface FleetTargetOutcome {
  target: string;
  status: 'ok' | 'failed' | 'unreachable' | 'not-run';
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  notice?: string;
  /** Full streams on the opsmate machine when they were cut. */
  spillFiles?: { stdout?: string; stderr?: string };
}

/** A group of targets the model may run one command on, all at once. */
export interface FleetAccess {
  /** The group's name as given (`webservers`, `web:&prod`). */
  name: string;
  /** Its targets, in order. */
  targets: readonly string[];
  /** Where full per-target outputs may be written, on the opsmate machine. */
  spillDir: string;
  /**
   * Runs `command` on every target `pattern` selects within the group (all when absent), a
   * bounded number at a time; resolves with one outcome per target. Rejects with a ConfigError
   * for a pattern that selects nothing in the group.
   */
  run(options: {
    pattern?: string;
    command: string;
    timeoutMs?: number;
    signal: AbortSignal;
  }): Promise<FleetTargetOutcome[]>;
}

export interface TargetAccess {
  /** The session's runtime WITHOUT the shell guard: only for the tool's own fixed scripts. */
  runtime: Runtime;
  signal: AbortSignal;
}

/** What a call's read-only first phase found; see {@link GuardedCallRequest.prepare}. */
export type PreparedCall<Plan> =
  | {
      ok: true;
      plan: Plan;
      /** Shown to the reviewer before the question (a unified diff). */
      preview?: string;
      /** A more exact policy subject than the request's (a symlink's real path). */
      asShellCommand?: string;
      /** Files the call will change: SHA-256 before and after (null: absent), for the audit log. */
      files?: Array<{ path: string; before: string | null; after: string | null }>;
    }
  | { ok: false; reason: string };

/** One call a built-in tool hands to {@link GuardedCalls.run}. */
export interface GuardedCallRequest<Value, Plan> {
  tool: string;
  /** The validated arguments; what the reviewer sees (and may edit) as `Tool {json}`. */
  arguments: unknown;
  /** This call only reads (a view, a search, a fetch). */
  readOnly: boolean;
  /** The shell command the call stands for, judged by the command policy in its place. */
  asShellCommand?: string;
  signal: AbortSignal;
  /** Checks arguments a reviewer edited. */
  validate(raw: unknown): { ok: true; value: unknown } | { ok: false; message: string };
  /**
   * Reads what the call needs before anyone is asked (the file, to make the diff). Must change
   * nothing. Runs after the policy, before the review, and again for edited arguments.
   */
  prepare?(args: unknown, access: TargetAccess): Promise<PreparedCall<Plan>>;
  /** Acts. `plan` is what `prepare` returned for these arguments. */
  execute(args: unknown, plan: Plan | undefined, access: TargetAccess): Promise<Value>;
  /** Masks secrets in the value (what the model and the user see) and sizes it for the audit line. */
  mask(
    value: Value,
    redact: (text: string, options?: { keepLineCount?: boolean }) => { text: string; count: number },
  ): {
    value: Value;
    outputBytes: number;
    failed: boolean;
    redactions: number;
    /** Files as found after the call, for the finished record. */
    files?: Array<{ path: string; before: string | null; after: string | null }>;
  };
}

export type GuardedCallOutcome<Value> =
  { ran: true; value: Value; arguments: unknown; edited: boolean } | { ran: false; reason: string };

/** See {@link ToolContext.guardedCalls}. */
export interface GuardedCalls {
  run<Value, Plan = undefined>(request: GuardedCallRequest<Value, Plan>): Promise<GuardedCallOutcome<Value>>;
}

/** What a tool's description may depend on. */
export interface ToolDescriptionOptions {
  /** The language of the runtime's commands (SHELL_LANGUAGE for shells). */
  language: CommandLanguage;
  /** Characters of each output stream the model is shown before the middle is cut. */
  maxOutputLength?: number;
}

/** The description the model reads for `tool` with this runtime. */
export function toolDescription(
  tool: ToolDefinition,
  runtime: Pick<Runtime, 'language'>,
  options: { maxOutputLength?: number } = {},
): string {
  return typeof tool.description === 'function'
    ? tool.description({
        language: runtime.language ?? SHELL_LANGUAGE,
        ...(options.maxOutputLength !== undefined ? { maxOutputLength: options.maxOutputLength } : {}),
      })
    : tool.description;
}

/** Per-call extras: cancellation and live output for the user. */
export interface ToolCallOptions {
  /** Aborted when the user cancels (Ctrl-C): stop and return what happened. */
  signal: AbortSignal;
  /** Live output of a running command, for display only. Must not throw. */
  onOutput?: (chunk: OutputChunk) => void;
}

/** What the user is shown about a finished call; the model never sees this. */
export type ToolDisplay =
  | {
      kind: 'command';
      result: RunResult;
      /** Set when the user edited the command in review. */ editedFrom?: string;
    }
  | {
      kind: 'text';
      text: string;
      /** A chart of the result, drawn under the text on a terminal and left out when piped. */
      chart?: ToolChart;
    };

/** Series over time, for a terminal chart: a range query's result. */
export interface ToolChart {
  /** The line above the chart: the query and its range. */
  title: string;
  /** Unix seconds. */
  start: number;
  end: number;
  series: ReadonlyArray<{ name: string; points: ReadonlyArray<readonly [number, number]> }>;
}

/** A finished call: what the model reads kept apart from what the user sees. */
export interface ToolResult {
  /** Text sent back to the model. Outside data in it must already be wrapped as untrusted. */
  llmContent: string;
  display: ToolDisplay;
  /** The call failed in a way the model should fix (bad arguments, unknown file). */
  isError?: boolean;
}

/**
 * A tool the model may call. `inputSchema` is a zod object: its field descriptions are what the
 * model reads about each argument. Arguments are validated before `execute` runs; a bad call
 * becomes a message the model can read and fix, never an exception.
 */
export interface ToolDefinition<Schema extends z.ZodObject = z.ZodObject> {
  specificationVersion: typeof TOOL_SPECIFICATION_VERSION;
  /** Name the model calls, PascalCase as in Opsmate: `ShellCommand`. */
  name: string;
  /** One line for `opsmate list-tools`. */
  summary: string;
  /**
   * What the model reads about the tool: when to use it and how. A function gets the language of
   * the runtime's commands, for a tool whose wording depends on it (ShellCommand on a SQL runtime).
   */
  description: string | ((options: ToolDescriptionOptions) => string);
  inputSchema: Schema;
  /**
   * Languages of runtime commands the tool works with (`['shell']` for tools that run shell
   * scripts on the target). Absent: any. A context's default tools that do not fit the runtime
   * are left out of the session; naming one with `--tools` is an error.
   */
  languages?: readonly string[];
  /**
   * True when a call only reads and changes nothing anywhere. The command policy lets read-only
   * calls of a plugin's tool run unasked and asks (or, without a terminal, refuses) the others.
   */
  readOnly: boolean;
  /**
   * False for a tool that never touches the target (it reads opsmate's own spill files). In a
   * session with several targets every other tool gets a `target` argument naming where it acts.
   * Absent: true.
   */
  usesTarget?: boolean;
  /**
   * Why the tool cannot be offered with these settings (`PROMETHEUS_ENDPOINT is not set`), or
   * undefined when it can. A context's default tools that are unavailable are left out of the
   * session, naming one with `--tools` is an error, and `list-tools` shows the reason. Absent:
   * always available. `env` is opsmate's environment with the config file's entries under it.
   */
  unavailable?(env: NodeJS.ProcessEnv): string | undefined;
  /** A short line naming a call for the user, e.g. the command it runs. */
  title(input: z.output<Schema>): string;
  /**
   * Does the work. Resolves with a ToolResult whatever happened to the command; rejecting is
   * reserved for bugs, and even then the agent reports the error to the model.
   */
  execute(input: z.output<Schema>, context: ToolContext, options: ToolCallOptions): Promise<ToolResult>;
}

/** Declares a tool. An identity function that exists for type inference. */
export function defineTool<Schema extends z.ZodObject>(
  definition: Omit<ToolDefinition<Schema>, 'specificationVersion'>,
): ToolDefinition<Schema> {
  return { ...definition, specificationVersion: TOOL_SPECIFICATION_VERSION };
}

/** A tool call whose arguments were checked against the tool's schema. */
export type BuiltToolCall = { ok: true; input: unknown; title: string } | { ok: false; message: string };

/**
 * Checks the model's raw arguments against the tool's schema. A failure comes back as a message
 * for the model naming each bad field, so it can correct the call.
 */
export function buildToolCall(tool: ToolDefinition, rawInput: unknown): BuiltToolCall {
  const parsed = tool.inputSchema.safeParse(rawInput ?? {});
  if (parsed.success) return { ok: true, input: parsed.data, title: tool.title(parsed.data) };
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(arguments)';
    return `- ${field}: ${issue.message}`;
  });
  return {
    ok: false,
    message: [
      `Invalid arguments for ${tool.name}; nothing was run. Fix these and call it again:`,
      ...problems,
      `You sent: ${truncateText(JSON.stringify(rawInput) ?? 'nothing', 500)}`,
    ].join('\n'),
  };
}

/** Cuts text to at most `limit` characters, keeping both ends and saying what was cut. */
export function truncateText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const half = Math.floor(limit / 2);
  return `${text.slice(0, half)}\n[... ${text.length - 2 * half} characters omitted ...]\n${text.slice(text.length - half)}`;
}
