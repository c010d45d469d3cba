// Plugins that add a tool, a context and a model provider, installed with `opsmate install -e`
// and used end to end by the agent, with the fake model server playing the model.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  FakeLlmServer,
  systemPromptOf,
  toolNamesOf,
  toolResultsOf,
} from '../../test-support/fake-llm/index.js';
import { writePluginPackage } from '../../test-support/plugin-fixtures.js';
import { runCliIsolated, type CliResult } from '../../test-support/run-cli.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const SECRET = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

describe('agent end to end: tool, context and provider plugins', () => {
  let fake: FakeLlmServer;
  let web: Server;
  let webUrl: string;
  let home: string;
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCliIsolated({ args, env: { OPENAI_BASE_URL: fake.openAiBaseUrl, OPSMATE_HOME: home, ...env } });

  before(async () => {
    fake = await FakeLlmServer.start();
    web = createServer((request, response) => {
      response.writeHead(request.url === '/health' ? 200 : 404, {
        'content-type': 'text/plain',
        server: 'test',
      });
      response.end(request.url === '/health' ? `all good; token=${SECRET}\n` : 'nothing here\n');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    home = mkdtempSync(join(tmpdir(), 'opsmate-agent-plugins-'));
    for (const folder of ['tool/http-check', 'context/runbook']) {
      const install = await cli(['install', '-e', join(EXAMPLES, folder)]);
      assert.equal(install.exitCode, 0, install.stderr);
    }
  });
  after(async () => {
    await fake?.close();
    await new Promise((resolve) => web?.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  it('lists the plugin tool and context with where they come from', async () => {
    const tools = await cli(['list-tools']);
    assert.match(tools.stdout, /^HttpCheck\s+Fetches a URL .*\s+yes\s+plugin opsmate-tool-http-check$/m);
    assert.match(tools.stdout, /^ShellCommand\s.*\s+no\s+built-in$/m);
    const contexts = await cli(['list-contexts']);
    assert.match(
      contexts.stdout,
      /^runbook\s+Troubleshooting by the runbook .*\s+plugin opsmate-context-runbook$/m,
    );
  });

  it('runs a read-only plugin tool unasked, masks its output, and audits the call', async () => {
    fake.requests.length = 0;
    const runbook = join(home, 'runbook.md');
    writeFileSync(
      runbook,
      '# Health\n1. Fetch /health with HttpCheck.\n2. If it is not 200, restart the service.\n',
    );
    fake.enqueue(
      { text: 'Step 1.', toolCalls: [{ name: 'HttpCheck', args: { url: `${webUrl}/health` } }] },
      { text: 'The service answers 200: all good.' },
    );
    const run = await cli(
      ['run', '-c', 'runbook', '--tools', 'ShellCommand,HttpCheck', 'is the service healthy?'],
      {
        OPSMATE_RUNBOOK: runbook,
      },
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /The service answers 200: all good\./);
    const system = systemPromptOf(fake.requests[0]!);
    assert.match(system, /working through your team's runbook/);
    assert.match(system, /1\. Fetch \/health with HttpCheck\./);
    assert.match(system, /Runtime: local/);
    assert.deepEqual(toolNamesOf(fake.requests[0]!), ['ShellCommand', 'HttpCheck']);
    const [result] = toolResultsOf(fake.requests[1]!);
    assert.match(result!, /^GET http:\/\/127\.0\.0\.1:\d+\/health\nHTTP 200 OK\n/);
    assert.match(result!, /all good; token=/);
    assert.ok(!result!.includes(SECRET), 'the secret reached the model');
    const audit = readFileSync(join(home, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const call = audit.find((entry) => entry.tool === 'HttpCheck');
    assert.ok(call, 'no audit line for the tool call');
    assert.equal(call.outcome, 'approved');
    assert.equal(call.rule, 'builtin:read-only-tool');
    assert.equal(call.instruction, 'is the service healthy?');
    assert.match(String(call.command), /^HttpCheck \{"url":"http:\/\/127\.0\.0\.1:\d+\/health"/);
  });

  it('refuses a tool that may change things when there is no terminal to ask, and says why', async () => {
    const folder = writePluginPackage(join(home, 'writer'), {
      name: 'opsmate-tool-writer',
      opsmate: { tools: { WriteNote: './index.js' } },
      files: {
        'index.js': `import { writeFileSync } from 'node:fs';
import { defineTool, z } from 'opsmate';
export default defineTool({
  name: 'WriteNote', summary: 'Writes a note', description: 'Writes a note to a file.', readOnly: false,
  inputSchema: z.object({ path: z.string().describe('Where'), text: z.string().describe('What') }),
  title: (input) => 'write ' + input.path,
  async execute(input) { writeFileSync(input.path, input.text); return { llmContent: 'written', display: { kind: 'text', text: 'written' } }; },
});
`,
      },
    });
    assert.equal((await cli(['install', '-e', folder])).exitCode, 0);
    fake.requests.length = 0;
    const target = join(home, 'note.txt');
    fake.enqueue(
      { toolCalls: [{ name: 'WriteNote', args: { path: target, text: 'hi' } }] },
      { text: 'I could not write it.' },
    );
    const run = await cli(['run', '--tools', 'WriteNote', 'write a note']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(existsSync(target), false, 'the tool ran without approval');
    const [result] = toolResultsOf(fake.requests[1]!);
    assert.match(
      result!,
      /^The WriteNote call was NOT run: needs approval \(WriteNote may change things .*\) but there is no terminal to ask\./,
    );
    const audit = readFileSync(join(home, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const refused = audit.find((entry) => entry.tool === 'WriteNote');
    assert.equal(refused?.outcome, 'cancelled');
    assert.equal(refused?.decidedBy, 'no-terminal');
  });

  it('adds a model provider from a plugin: -m myllm:model, its env vars in list-models', async () => {
    const folder = writePluginPackage(join(home, 'provider'), {
      name: 'opsmate-provider-myllm',
      opsmate: { providers: { myllm: './index.js' } },
      files: {
        'index.js': `import { defineProvider, openAiCompatibleModel } from 'opsmate';
export default defineProvider({
  name: 'myllm',
  description: 'The company LLM gateway',
  env: [
    { name: 'MYLLM_BASE_URL', description: 'Gateway URL', required: true },
    { name: 'MYLLM_API_KEY', description: 'Gateway key', secret: true },
  ],
  models: ['house-model'],
  baseUrl: (env) => env.MYLLM_BASE_URL,
  createModel: ({ modelId, env, fetch }) => openAiCompatibleModel({ baseURL: env.MYLLM_BASE_URL, apiKey: env.MYLLM_API_KEY, modelId, fetch }),
});
`,
      },
    });
    assert.equal((await cli(['install', folder])).exitCode, 0);
    const models = await cli(['list-models']);
    assert.match(
      models.stdout,
      /^myllm\s+myllm:house-model\s+no \(set MYLLM_BASE_URL\)\s+MYLLM_BASE_URL \(required\), MYLLM_API_KEY\s+plugin opsmate-provider-myllm$/m,
    );
    const missing = await cli(['run', '-m', 'myllm:house-model', 'hi']);
    assert.equal(missing.exitCode, 1);
    assert.match(
      missing.stderr,
      /^opsmate: error: MYLLM_BASE_URL is not set: provider myllm \(plugin opsmate-provider-myllm\) needs it$/m,
    );
    fake.requests.length = 0;
    fake.enqueue({ text: 'Hello from the gateway.' });
    const run = await cli(['run', '-m', 'myllm:house-model', 'hi'], {
      MYLLM_BASE_URL: fake.openAiBaseUrl,
      MYLLM_API_KEY: 'k-123',
    });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /Hello from the gateway\./);
    assert.equal(fake.requests[0]!.body.model, 'house-model');
    assert.equal(fake.requests[0]!.headers.authorization, 'Bearer k-123');
  });
});
