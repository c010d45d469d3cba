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
import { createOpsmateMcpServer } from '../../mcp/server/opsmate-mcp-server.js';
import { NoTerminalReviewer } from '../../safety/reviewers.js';
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
  'opsmate mcp cannot ask anyone (its client is a program, not a terminal): a policy rule or --policy-profile must allow it';

export function mcpCommand(context: CliContext): Command {
  const command = new Command('mcp')
    .summary(
      'serve opsmate as an MCP server (stdio): other agents run commands on the target through its policy, masking and audit log',
    )
    .description(
      'Serves the runtime chosen by --shell-command-runtime to an MCP client (Claude Code, gemini-cli, Cursor...) over stdio: ShellCommand, FileEditor, FetchUrl, ReadSpilledOutput and DescribeTarget. Every call goes through the command policy (read-only profile unless --policy-profile or the policy file says otherwise), secret masking and the audit log; what the policy would ask about is not run, and the result says why.',
    )
    .addOption(
      new Option('--transport <transport>', 'how clients connect').choices(['stdio']).default('stdio'),
    );
  addSettingOptions(command, [...RUNTIME_COMMAND_SETTINGS, 'maxOutputLength']);
  addRuntimeOptions(command, context.registry);
  command.action(async (_options, self: Command) => {
    process.exitCode = await serveMcp(self, context);
  });
  return command;
}

async function serveMcp(command: Command, context: CliContext): Promise<number> {
  const settings = readSettings(command, context.env);
  const { runtime, toolCalls } = openGuardedRuntime({
    command,
    settings,
    context,
    outputLimitBytes: settings.maxOutputLength,
    guard: { reviewer: new NoTerminalReviewer({ nobody: NOBODY_TO_ASK }), defaultProfile: 'read-only' },
  });
  const interrupt = abortOnSignals();
  try {
    await runtime.connect({ signal: interrupt.signal });
    const tools = toolsForLanguage(
      SERVED_TOOLS.map((definition) => ({ definition })),
      runtime.language?.id ?? 'shell',
      false,
    ).map(({ definition }) => definition);
    const served = createOpsmateMcpServer({
      tools,
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

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}
