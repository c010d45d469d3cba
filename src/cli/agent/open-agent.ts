import type { ModelMessage } from 'ai';
import type { Command } from 'commander';
import { AgentSession } from '../../agent/agent-loop.js';
import { chooseDefaultModel } from '../../agent/providers/default-model.js';
import { priceOf, type ModelPrice } from '../../agent/providers/model-prices.js';
import { callSettings, settingsForModel } from '../../agent/providers/model-settings.js';
import { modelsConfigSection } from '../../agent/providers/models-config-section.js';
import { describeSession } from '../../agent/session-facts.js';
import { SHELL_LANGUAGE } from '../../runtime/contract.js';
import { resolveModel, type ResolvedModel } from '../../agent/providers/resolve-model.js';
import type { ModelFetchEvents } from '../../agent/providers/model-fetch.js';
import type { ToolDefinition } from '../../agent/tools/tool-contract.js';
import { pluginError } from '../../plugins/plugin-errors.js';
import { SpillFiles } from '../../agent/tools/spill-files.js';
import type { Settings } from '../../config/settings.js';
import type { CommandReviewer } from '../../runtime/command-review.js';
import type { GuardedRuntime } from '../../safety/guarded-runtime.js';
import { ApprovingReviewer, NoTerminalReviewer } from '../../safety/reviewers.js';
import { SessionStore } from '../../sessions/session-store.js';
import type { CliContext } from '../cli-context.js';
import { readSettingsWithSources } from '../field-options.js';
import { openGuard, type OpenedGuard } from '../open-runtime.js';
import { discoveredCatalog } from '../target-options.js';
import { selectTargets } from '../../targets/resolve-targets.js';
import { selectHosts } from '../../targets/host-pattern.js';
import { FanOutReviewer } from '../../fleet/fan-out-reviewer.js';
import { runFleet } from '../../fleet/run-fleet.js';
import { homeDir, spillDir } from '../../config/settings.js';
import type { FleetAccess } from '../../agent/tools/tool-contract.js';
import { targetedTool } from '../../agent/tools/targeted-tool.js';
import { gatherTargetFacts } from '../../runtime/target-facts.js';
import { targetFactsForModel } from '../../agent/tools/untrusted-text.js';
import { chosenTargets } from '../target-options.js';
import { ConfigError } from '../../errors/opsmate-error.js';
import { guardedCalls } from './guarded-calls.js';
import { toolsForLanguage } from './tools-for-language.js';
import { availableTools } from './available-tools.js';
import { guardedTool } from './guarded-tool.js';
import { configuredMcpServers, openSessionMcpTools } from './session-mcp-tools.js';
import type { SessionKnowledge } from './session-knowledge.js';
import type { McpTools } from '../../mcp/client/mcp-tools.js';
import { formatElapsed, terminalSpinner, type Spinner } from '../terminal/spinner.js';
import { colorsFor, type Colors } from '../terminal/terminal-style.js';
import { TerminalReviewer } from '../terminal/terminal-reviewer.js';

const KNOWLEDGE_TOOL = 'KnowledgeRetrieval';

/** Everything a model-driven command needs, opened in the order that fails fastest. */
export interface OpenedAgent {
  settings: Settings;
  model: ResolvedModel;
  /** The model as `-m` names it (the default chosen when none was given). */
  modelName: string;
  /** Its price per million tokens, for the cost estimate; undefined when unknown. */
  price: ModelPrice | undefined;
  /** The system prompt the model is given. */
  system: string;
  /** The session's id: in the audit log, and the name of its saved record. */
  sessionId: string;
  /** Guarded: policy, review, secret masking and the audit log apply to every command. The first target's. */
  runtime: GuardedRuntime;
  /** Every target of the session (one, unless several -t), each with its own guarded runtime. */
  targets: ReadonlyArray<{ name: string; runtime: GuardedRuntime }>;
  session: AgentSession;
  colors: Colors;
  /** On stderr, only when it is a terminal. */
  spinner: Spinner;
  /** Whether stdin is a terminal opsmate can ask questions on. */
  interactive: boolean;
  /** The knowledge base the model searches (KnowledgeRetrieval), when there is one. */
  knowledge?: SessionKnowledge;
  close(): Promise<void>;
}

/**
 * Reads the settings, resolves the model (a missing API key fails here, before anything
 * connects), connects the runtime, and asks the context for its system prompt.
 */
export async function openAgent(options: {
  command: Command;
  context: CliContext;
  review: boolean;
  signal: AbortSignal;
  /** `-y/--yes`: approve what the policy asks about (deny rules still apply); `-r` wins. */
  yes?: boolean;
  /** Show the command in the review: the agent's own output does not (answer-only, JSON). */
  reviewShowsCommand?: boolean;
  /** Review may end the turn (`q`): called then, to abort it. */
  onQuitTurn?: () => void;
  /** `--tool-calls-per-action`. */
  toolCallsPerStep?: number;
  /** Stdout carries data (`-o json`): questions go to stderr. */
  stdoutIsData?: boolean;
  /** The conversation to go on with (`chat --resume`), and its session id. */
  resume?: { sessionId: string; messages: readonly ModelMessage[] };
  /** Model calls per turn (tool rounds and the answer), for what the model is told of its budget. */
  maxSteps: number;
}): Promise<OpenedAgent> {
  const { command, context } = options;
  const { config: settings, sources } = readSettingsWithSources(command, context);
  const agentContext = context.contexts.require(settings.context).definition;
  const toolNames = settings.tools.length > 0 ? settings.tools : agentContext.tools;
  const wantsKnowledge = toolNames.some((name) => name.toLowerCase() === KNOWLEDGE_TOOL.toLowerCase());
  const knowledge = wantsKnowledge
    ? await (await import('./session-knowledge.js')).openSessionKnowledge({ settings, context })
    : undefined;
  const namedTools = toolNames.map((name) => context.tools.require(name));
  // Read before any network call: a bad models: entry is a configuration error (exit 2).
  const modelTable = context.config.read(modelsConfigSection) ?? new Map();
  let modelName = settings.model;
  if (sources.model?.kind === 'default') {
    const chosen = await chooseDefaultModel(context.config.env, { signal: options.signal });
    modelName = chosen.name;
    context.logger.debug(`no model chosen: using ${chosen.name} (${chosen.reason})`);
  }
  const modelEvents: ModelFetchEvents = {};
  const model = await resolveModel(modelName, context.config.env, context.providers, {
    timeoutMs: settings.modelTimeout * 1000,
    events: modelEvents,
  });
  context.logger.debug(`model ${model.provider}:${model.modelId} at ${model.baseUrl}`);
  const modelSettings = settingsForModel(modelTable, { ...model, name: modelName });
  if (modelSettings) context.logger.debug(`model settings from ${modelSettings.path}:${modelSettings.line}`);
  const price = modelSettings?.price ?? priceOf(model.provider, model.modelId);
  const sessionId = options.resume?.sessionId ?? SessionStore.newId();
  const colors = colorsFor(context.stdout, context.env);
  const spinner = terminalSpinner(
    context.stderr,
    Boolean(context.stderr.isTTY) && context.env.CI === undefined,
  );
  // A retry is said as it happens, on a terminal: three 500s with backoff are not a blank pause.
  if (context.stderr.isTTY) {
    const dim = colorsFor(context.stderr, context.env).dim;
    modelEvents.onRetry = (retry) => {
      spinner.stop();
      context.stderr.write(
        `${dim(`${retry.reason} from ${retry.url}, retrying (${retry.attempt}/${retry.retries}) in ${formatElapsed(retry.delayMs)}`)}\n`,
      );
      spinner.start('waiting for the model…');
    };
  }
  const interactive = Boolean(process.stdin.isTTY);
  // One reviewer for both -r/--review and the policy's "ask"; without a terminal it refuses.
  // The question goes where the user looks: stdout, unless that is piped to a file.
  const reviewOutput = context.stdout.isTTY && !options.stdoutIsData ? context.stdout : context.stderr;
  const reviewer: CommandReviewer =
    options.yes && !options.review
      ? new ApprovingReviewer()
      : interactive
        ? new TerminalReviewer({
            input: process.stdin,
            output: reviewOutput,
            colors: colorsFor(reviewOutput, context.env),
            spinner,
            // Where the agent has just printed `$ command`, the review does not repeat it.
            showCommand: options.reviewShowsCommand ?? false,
            ...(options.onQuitTurn ? { onQuitTurn: options.onQuitTurn } : {}),
          })
        : new NoTerminalReviewer();
  if (options.review && !interactive) {
    context.logger.warn('--review: stdin is not a terminal, so every command will be cancelled');
  }
  // Read and checked before anything starts; a bad entry stops here.
  const mcpServers = await configuredMcpServers({ settings, context });
  const { targets } = await chosenTargets(command, context);
  const guard = openGuard({
    command,
    settings,
    context,
    outputLimitBytes: settings.maxOutputLength,
    guard: { reviewer, reviewAll: options.review, sessionId },
  });
  // One guarded runtime per target: each its own persistent shell, policy scope and audit facts.
  const opened = (targets.length > 0 ? targets : [undefined]).map((target) => {
    const runtime = guard.runtimeFor(target);
    return {
      name: target?.name ?? runtime.name,
      runtime,
      toolCalls: guard.toolCallsFor(runtime),
      // A target's monitoring: settings win over the environment's, for its own tools.
      env: { ...context.config.env, ...target?.monitoring },
    };
  });
  const { runtime } = opened[0]!;
  const languages = new Set(opened.map((entry) => entry.runtime.language?.id ?? 'shell'));
  if (languages.size > 1)
    throw new ConfigError(
      `the targets speak different command languages (${[...languages].join(', ')}): one session takes targets of one language`,
      { hint: 'open one session per kind of target' },
    );
  const fleet = await openFleet({ command, context, guard, reviewer, settings });
  // A fleet comes with its tool, whatever the context's list says.
  const sessionTools =
    fleet && !namedTools.some((entry) => entry.definition.name === 'FleetCommand')
      ? [...namedTools, context.tools.require('FleetCommand')]
      : namedTools;
  const chosenTools = availableTools(
    toolsForLanguage(sessionTools, runtime.language?.id ?? 'shell', settings.tools.length > 0),
    // What a tool needs may be set by a flag (--home, --db-url) as well as in the environment.
    opened.map((entry) => ({
      ...entry.env,
      OPSMATE_HOME: homeDir(settings),
      ...(settings.dbUrl !== undefined ? { OPSMATE_DB_URL: settings.dbUrl } : {}),
    })),
    settings.tools.length > 0,
  );
  // A plugin's tool acts outside the shell: each call goes through the tool-call guard.
  const toolFor = (
    { definition, source }: (typeof chosenTools)[number],
    entry: (typeof opened)[number],
  ): ToolDefinition =>
    source.kind === 'plugin'
      ? guardedTool({
          tool: definition,
          guard: entry.toolCalls,
          origin: `plugin ${source.packageName}`,
          runtime: entry.runtime,
        })
      : definition;
  const contextOf = (entry: (typeof opened)[number]) => ({
    runtime: entry.runtime,
    ...(entry.runtime.outputRedactor ? { redactor: entry.runtime.outputRedactor } : {}),
    guardedCalls: guardedCalls({ guard: entry.toolCalls, runtime: entry.runtime }),
    env: entry.env,
    spillDir: spillDir(settings),
  });
  const tools: ToolDefinition[] = chosenTools.map((chosen) =>
    opened.length > 1 && chosen.definition.usesTarget !== false
      ? targetedTool(
          chosen.definition.name,
          opened.map((entry) => ({
            name: entry.name,
            tool: toolFor(chosen, entry),
            context: contextOf(entry),
          })),
        )
      : toolFor(chosen, opened[0]!),
  );
  const disconnectAll = async (): Promise<void> => {
    await Promise.all(opened.map((entry) => entry.runtime.disconnect()));
  };
  let mcp: McpTools | undefined;
  try {
    spinner.start(
      opened.length > 1
        ? `connecting to ${opened.length} targets…`
        : `connecting to the ${runtime.name} runtime…`,
    );
    // MCP servers start while the runtimes connect; each one that fails is a warning, not an end.
    // Their calls are judged and audited by the first target's tool-call guard.
    const mcpStarting =
      mcpServers.length === 0
        ? undefined
        : openSessionMcpTools({
            servers: mcpServers,
            context,
            guard: opened[0]!.toolCalls,
            timeoutMs: Math.round(settings.connectTimeout * 1000),
            signal: options.signal,
            reservedNames: tools.map((tool) => tool.name),
          });
    const [connected, started] = await Promise.allSettled([
      Promise.all(opened.map((entry) => entry.runtime.connect({ signal: options.signal }))),
      mcpStarting,
    ]);
    if (started.status === 'fulfilled' && started.value) {
      mcp = started.value.mcp;
      tools.push(...started.value.tools);
    }
    if (connected.status === 'rejected') throw connected.reason;
    if (started.status === 'rejected') throw started.reason;
    const contextSource = context.contexts.require(settings.context).source;
    let system: string;
    try {
      system = await agentContext.systemPrompt({
        runtime,
        env: context.env,
        signal: options.signal,
        tools: tools.map((tool) => tool.name),
        ...(settings.systemPrompt !== undefined ? { instructions: settings.systemPrompt } : {}),
      });
    } catch (error) {
      if (contextSource.kind !== 'plugin' || !contextSource.packageName) throw error;
      throw pluginError(error, {
        what: `context "${agentContext.name}" systemPrompt()`,
        packageName: contextSource.packageName,
      });
    }
    if (opened.length > 1) system += `\n\n${await describeTargets(opened)}`;
    // What the model is told of its own session, whatever the context: time, budget, changes.
    system += `\n\n${describeSession({
      now: new Date(),
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      toolRounds: Math.max(1, options.maxSteps - 1),
      profile: runtime.profile,
      canAsk: interactive,
      reviewAll: options.review,
      language: runtime.language ?? SHELL_LANGUAGE,
    })}`;
    spinner.stop();
    context.logger.debug(`system prompt:\n${system}`);
    const session = new AgentSession({
      model,
      system,
      tools,
      callSettings: callSettings(model.provider, modelSettings),
      // modelFetch retries, and says so; the SDK's own retries would be silent pauses.
      maxRetries: 0,
      ...(options.toolCallsPerStep !== undefined ? { toolCallsPerStep: options.toolCallsPerStep } : {}),
      ...(options.resume ? { history: options.resume.messages } : {}),
      onWarning: (message) => context.logger.debug(message),
      toolContext: {
        ...contextOf(opened[0]!),
        spillFiles: new SpillFiles(),
        maxOutputLength: settings.maxOutputLength,
        ...(fleet ? { fleet } : {}),
        ...(knowledge ? { knowledge: knowledge.access } : {}),
      },
    });
    return {
      settings,
      model,
      modelName,
      price,
      system,
      sessionId,
      runtime,
      targets: opened.map((entry) => ({ name: entry.name, runtime: entry.runtime })),
      session,
      colors,
      spinner,
      interactive,
      ...(knowledge ? { knowledge } : {}),
      close: async () => {
        spinner.stop();
        await Promise.all([disconnectAll(), mcp?.close()]);
      },
    };
  } catch (error) {
    spinner.stop();
    await Promise.all([disconnectAll(), mcp?.close()]);
    throw error;
  }
}

/**
 * For a session with several targets: which one the context described (the first), and the facts
 * of the others, each wrapped as untrusted data as the first one's are.
 */
async function describeTargets(
  opened: ReadonlyArray<{ name: string; runtime: GuardedRuntime }>,
): Promise<string> {
  const [first, ...others] = opened;
  const sections = await Promise.all(
    others.map(
      async (entry) =>
        `Target ${entry.name} (${entry.runtime.name} runtime):\n${targetFactsForModel(await gatherTargetFacts(entry.runtime))}`,
    ),
  );
  return [
    `This session has ${opened.length} targets: ${opened.map((entry) => entry.name).join(', ')}. Each keeps its own shell. The target described above is ${first!.name}. Every tool that acts on a target takes a \`target\` argument naming it; run each command on the target it is about.`,
    '',
    ...sections,
  ].join('\n');
}

/** What the header names as where commands run: the target, or every target of the session. */
export function sessionWhere(agent: Pick<OpenedAgent, 'runtime' | 'targets'>): {
  runtime: string;
  target: Record<string, string>;
} {
  if (agent.targets.length <= 1) return { runtime: agent.runtime.name, target: agent.runtime.target() };
  return {
    runtime: [...new Set(agent.targets.map((entry) => entry.runtime.name))].join('+'),
    target: { targets: agent.targets.map((entry) => entry.name).join(', ') },
  };
}

/**
 * The fleet of `--fleet GROUP`: its targets are resolved now (a bad name fails before anything
 * connects), and each FleetCommand call builds a guarded runtime per target it selects, with one
 * review for the whole fan-out, runs them a bounded number at a time and closes them after.
 */
async function openFleet(options: {
  command: Command;
  context: CliContext;
  guard: OpenedGuard;
  reviewer: CommandReviewer;
  settings: Settings;
}): Promise<FleetAccess | undefined> {
  const { fleet: name } = options.command.opts<{ fleet?: string }>();
  if (name === undefined) return undefined;
  const catalog = await discoveredCatalog(options.command, options.context, [name]);
  const members = selectTargets([name], catalog, options.context.registry);
  const names = members.map((member) => member.name);
  return {
    name,
    targets: names,
    spillDir: spillDir(options.settings),
    run: async ({ pattern, command, timeoutMs, signal }) => {
      const picked =
        pattern === undefined
          ? undefined
          : new Set(selectHosts(pattern, { hosts: names, groups: catalog.groups }));
      const chosen = picked ? members.filter((member) => picked.has(member.name)) : members;
      if (chosen.length === 0)
        throw new ConfigError(`pattern ${pattern} selects no target of the fleet ${name}`, {
          hint: `the fleet's targets: ${names.join(', ')}`,
        });
      const reviewer = new FanOutReviewer({
        reviewer: options.reviewer,
        targets: chosen.map((member) => member.name),
      });
      const outcomes = await runFleet({
        members: chosen.map((member) => ({
          name: member.name,
          runtime: options.guard.runtimeFor(member, { reviewer }),
        })),
        command,
        parallelism: options.settings.fleetParallelism,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        signal,
      });
      return outcomes;
    },
  };
}
