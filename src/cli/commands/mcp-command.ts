import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { fetchUrlTool } from '../../agent/tools/fetch-url/fetch-url-tool.js';
import { fileEditorTool } from '../../agent/tools/file-editor/file-editor-tool.js';
import { readSpilledOutputTool } from '../../agent/tools/read-spilled-output/read-spilled-output-tool.js';
import { shellCommandTool } from '../../agent/tools/shell-command/shell-command-tool.js';
import { SpillFiles } from '../../agent/tools/spill-files.js';
import type { ToolDefinition } from '../../agent/tools/tool-contract.js';
import { describeTargetTool } from '../../mcp/server/describe-target-tool.js';
import { isLoopback, serveMcpOverHttp } from '../../mcp/server/http-mcp-server.js';
import { createOpsmateMcpServer, SerialQueue } from '../../mcp/server/opsmate-mcp-server.js';
import { ConfigError } from '../../errors/opsmate-error.js';
import type { CommandReviewer } from '../../runtime/command-review.js';
import { NoTerminalReviewer } from '../../safety/reviewers.js';
import { TerminalReviewer } from '../terminal/terminal-reviewer.js';
import { colorsFor } from '../terminal/terminal-style.js';
import { abortOnSignals } from '../abort-on-signals.js';
import { guardedCalls } from '../agent/guarded-calls.js';
import { toolsForLanguage } from '../agent/tools-for-language.js';
import type { CliContext } from '../cli-context.js';
import {
  addRuntimeOptions,
  addSettingOptions,
  readSettings,
  RUNTIME_COMMAND_SETTINGS,
} from '../field-options.js';
import { openGuardedRuntime } from '../open-runtime.js';

/** What an MCP client is offered: opsmate's own tools, acting on the target, and DescribeTarget. */
const SERVED_TOOLS = [
  shellCommandTool,
  readSpilledOutputTool,
  fileEditorTool,
  fetchUrlTool,
  describeTargetTool,
] as unknown as readonly ToolDefinition[];

/** Why "ask" means "not run" here, for the model behind the client. */
const NOBODY_TO_ASK =
  'opsmate mcp cannot ask anyone (its client is a program, and it has no terminal of its own): a policy rule or --policy-profile must allow it';

export function mcpCommand(context: CliContext): Command {
  const command = new Command('mcp')
    .summary(
      'serve opsmate as an MCP server (stdio, or streamable HTTP with a token): other agents run commands on the target through its policy, masking and audit log',
    )
    .description(
      'Serves the runtime chosen by --shell-command-runtime to MCP clients (Claude Code, gemini-cli, Cursor...) over stdio, or over streamable HTTP at http://HOST:PORT/mcp with a bearer token (OPSMATE_MCP_TOKEN, else a new one printed on stderr): ShellCommand, FileEditor, FetchUrl, ReadSpilledOutput and DescribeTarget. Every call goes through the command policy (read-only profile unless --policy-profile or the policy file says otherwise), secret masking and the audit log; what the policy would ask about is asked on the terminal opsmate runs in when it has one (HTTP), else not run, and the result says why.',
    )
    .addOption(
      new Option('--transport <transport>', 'how clients connect')
        .choices(['stdio', 'http'])
        .default('stdio'),
    )
    .addOption(new Option('--host <address>', 'http: the address to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'http: the port to listen on (0: any free port)').default('0'));
  addSettingOptions(command, [...RUNTIME_COMMAND_SETTINGS, 'maxOutputLength']);
  addRuntimeOptions(command, context.registry);
  command.action(async (_options, self: Command) => {
    process.exitCode = await serveMcp(self, context);
  });
  return command;
}

async function serveMcp(command: Command, context: CliContext): Promise<number> {
  const settings = readSettings(command, context);
  const options = command.opts<{ transport: string; host: string; port: string }>();
  // Checked before anything connects.
  const http =
    options.transport === 'http' ? { port: parsePort(options.port), token: httpToken(context) } : undefined;
  if (http && !isLoopback(options.host)) {
    context.logger.warn(
      `--host ${options.host} is not a loopback address: whoever can reach it and has the token can run commands on the target`,
    );
  }
  const { runtime, toolCalls } = openGuardedRuntime({
    command,
    settings,
    context,
    outputLimitBytes: settings.maxOutputLength,
    guard: { reviewer: mcpReviewer(context, http !== undefined), defaultProfile: 'read-only' },
  });
  const interrupt = abortOnSignals();
  try {
    await runtime.connect({ signal: interrupt.signal });
    const tools = toolsForLanguage(
      SERVED_TOOLS.map((definition) => ({ definition })),
      runtime.language?.id ?? 'shell',
      false,
    ).map(({ definition }) => definition);
    const createSession = (queue: SerialQueue) =>
      createOpsmateMcpServer({
        tools,
        queue,
        version: packageVersion(),
        toolContext: {
          runtime,
          spillFiles: new SpillFiles(),
          maxOutputLength: settings.maxOutputLength,
          ...(runtime.outputRedactor ? { redactor: runtime.outputRedactor } : {}),
          guardedCalls: guardedCalls({ guard: toolCalls, runtime }),
        },
        onToolError: (message) => context.logger.error(message),
      });
    if (http) {
      const { token } = http;
      const queue = new SerialQueue();
      await serveMcpOverHttp({
        host: options.host,
        port: http.port,
        token: token.value,
        newSession: () => createSession(queue),
        signal: interrupt.signal,
        onListening: (url) => {
          context.stderr.write(
            `opsmate mcp: serving ${runtime.name} (policy ${runtime.profile}) at ${url}\n`,
          );
          if (token.generated) context.stderr.write(`opsmate mcp: token: ${token.value}\n`);
        },
        onError: (message) => context.logger.error(message),
      });
      return interrupt.exitCode(0);
    }
    const served = createSession(new SerialQueue());
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      served.server.onclose = () => resolve();
      // The client closing our stdin is the end of the session.
      process.stdin.once('end', () => resolve());
      interrupt.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await served.server.connect(transport);
    context.logger.info(
      `serving MCP on stdio: ${runtime.name} runtime, policy ${runtime.profile}, tools ${tools.map((tool) => tool.name).join(', ')}`,
    );
    await closed;
    await served.close();
    return interrupt.received ? interrupt.exitCode() : 0;
  } finally {
    interrupt.dispose();
    await runtime.disconnect();
  }
}

/**
 * Who is asked when the policy says ask. Over HTTP, opsmate may run in a terminal of its own: the
 * operator there approves, edits or declines each call, one at a time. Over stdio, stdin is the
 * protocol and nobody can be asked: ask means not run, and the result says so.
 */
function mcpReviewer(context: CliContext, http: boolean): CommandReviewer {
  if (http && process.stdin.isTTY && context.stderr.isTTY) {
    return new TerminalReviewer({
      input: process.stdin,
      output: context.stderr,
      colors: colorsFor(context.stderr, context.env),
    });
  }
  return new NoTerminalReviewer({ nobody: NOBODY_TO_ASK });
}

/** OPSMATE_MCP_TOKEN, else a new random one (printed once on stderr). */
function httpToken(context: CliContext): { value: string; generated: boolean } {
  const given = context.env.OPSMATE_MCP_TOKEN;
  if (given !== undefined && given !== '') {
    if (given.length < 16) {
      throw new ConfigError('OPSMATE_MCP_TOKEN is too short: use at least 16 characters', {
        hint: 'unset it to get a random token, or set a longer one (openssl rand -hex 32)',
      });
    }
    return { value: given, generated: false };
  }
  return { value: randomBytes(32).toString('hex'), generated: true };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      `--port ${JSON.stringify(text)} is not valid: expected a port number from 0 to 65535`,
      {
        hint: 'pass --port 0 for any free port',
      },
    );
  }
  return port;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}
