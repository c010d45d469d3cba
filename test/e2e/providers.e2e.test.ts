import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  FakeLlmServer,
  systemPromptOf,
  toolNamesOf,
  toolResultsOf,
  userTextsOf,
  type RecordedRequest,
} from '../../test-support/fake-llm/index.js';
import { runCliIsolated } from '../../test-support/run-cli.js';

/**
 * Every built-in provider end to end: the built CLI, the provider's real AI SDK package, and the
 * fake model server speaking that provider's wire protocol (Gemini's streamGenerateContent SSE,
 * Bedrock's Converse event stream, the OpenAI dialects at their own paths and headers).
 */
interface ProviderCase {
  name: string;
  model: string;
  env: (fake: FakeLlmServer) => Record<string, string>;
  protocol: RecordedRequest['protocol'];
  /** The path the provider's SDK posts to. */
  path: RegExp;
  /** Checks the credentials arrived as the provider sends them. */
  auth: (request: RecordedRequest) => void;
}

const KEY = 'test-key-0123456789';

const CASES: ProviderCase[] = [
  {
    name: 'Google Gemini (GEMINI_API_KEY)',
    model: 'gemini-2.5-flash',
    env: (fake) => ({ GEMINI_API_KEY: KEY, GOOGLE_GENERATIVE_AI_BASE_URL: `${fake.url}/v1beta` }),
    protocol: 'gemini',
    path: /^\/v1beta\/models\/gemini-2\.5-flash:streamGenerateContent$/,
    auth: (request) => assert.equal(request.headers['x-goog-api-key'], KEY),
  },
  {
    name: 'Vertex AI (express mode key)',
    model: 'vertex:gemini-2.5-pro',
    env: (fake) => ({
      GOOGLE_VERTEX_API_KEY: KEY,
      GOOGLE_VERTEX_BASE_URL: `${fake.url}/v1/publishers/google`,
    }),
    protocol: 'gemini',
    path: /^\/v1\/publishers\/google\/models\/gemini-2\.5-pro:streamGenerateContent$/,
    auth: (request) => assert.equal(request.headers['x-goog-api-key'], KEY),
  },
  {
    name: 'Amazon Bedrock (access keys, SigV4)',
    model: 'bedrock:anthropic.claude-3-5-sonnet-20241022-v2:0',
    env: (fake) => ({
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key-0123456789',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url,
    }),
    protocol: 'bedrock',
    path: /^\/model\/anthropic\.claude-3-5-sonnet-20241022-v2(:|%3A)0\/converse-stream$/,
    auth: (request) =>
      assert.match(
        String(request.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKE\/\d{8}\/eu-west-1\/bedrock\/aws4_request/,
      ),
  },
  {
    name: 'Amazon Bedrock (API key)',
    model: 'amazon.nova-pro-v1:0',
    env: (fake) => ({
      AWS_REGION: 'us-east-1',
      AWS_BEARER_TOKEN_BEDROCK: KEY,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url,
    }),
    protocol: 'bedrock',
    path: /^\/model\/amazon\.nova-pro-v1(:|%3A)0\/converse-stream$/,
    auth: (request) => assert.equal(request.headers.authorization, `Bearer ${KEY}`),
  },
  {
    name: 'Azure OpenAI',
    model: 'azure:my-gpt4o-deployment',
    env: (fake) => ({ AZURE_API_KEY: KEY, AZURE_BASE_URL: `${fake.url}/openai` }),
    protocol: 'openai',
    path: /^\/openai\/chat\/completions$/,
    auth: (request) => assert.equal(request.headers['api-key'], KEY),
  },
  {
    name: 'Groq (usage in x_groq)',
    model: 'groq:llama-3.3-70b-versatile',
    env: (fake) => ({ GROQ_API_KEY: KEY, GROQ_BASE_URL: `${fake.url}/groq/openai/v1` }),
    protocol: 'openai',
    path: /^\/groq\/openai\/v1\/chat\/completions$/,
    auth: (request) => assert.equal(request.headers.authorization, `Bearer ${KEY}`),
  },
  {
    name: 'Mistral (tool calls sent whole, usage with the finish)',
    model: 'mistral-large-latest',
    env: (fake) => ({ MISTRAL_API_KEY: KEY, MISTRAL_BASE_URL: `${fake.url}/mistral/v1` }),
    protocol: 'openai',
    path: /^\/mistral\/v1\/chat\/completions$/,
    auth: (request) => assert.equal(request.headers.authorization, `Bearer ${KEY}`),
  },
  {
    name: 'DeepSeek',
    model: 'deepseek-chat',
    env: (fake) => ({ DEEPSEEK_API_KEY: KEY, DEEPSEEK_BASE_URL: fake.url }),
    protocol: 'openai',
    path: /^\/chat\/completions$/,
    auth: (request) => assert.equal(request.headers.authorization, `Bearer ${KEY}`),
  },
  {
    name: 'Fireworks',
    model: 'accounts/fireworks/models/llama-v3p3-70b-instruct',
    env: (fake) => ({ FIREWORKS_API_KEY: KEY, FIREWORKS_BASE_URL: `${fake.url}/inference/v1` }),
    protocol: 'openai',
    path: /^\/inference\/v1\/chat\/completions$/,
    auth: (request) => assert.equal(request.headers.authorization, `Bearer ${KEY}`),
  },
];

describe('every provider through its own SDK and wire protocol', () => {
  let fake: FakeLlmServer;
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  for (const testCase of CASES) {
    it(`${testCase.name}: a tool loop with usage, -o json`, async () => {
      fake.enqueue(
        {
          text: 'Checking.',
          toolCalls: [
            { name: 'ShellCommand', args: { command: 'echo provider-ran-this', description: 'say it' } },
          ],
          usage: { input: 120, output: 30 },
        },
        { text: 'The command printed provider-ran-this.', usage: { input: 200, output: 12 } },
      );
      const run = await runCliIsolated({
        args: ['run', '-m', testCase.model, '-o', 'json', 'what does echo say?'],
        env: testCase.env(fake),
      });
      assert.equal(run.exitCode, 0, run.stderr);
      const report = JSON.parse(run.stdout) as {
        answer: string;
        stopReason: string;
        commands: Array<{ command: string; exitCode: number; ran: boolean; stdout: string }>;
        usage: { inputTokens: number; outputTokens: number };
      };
      assert.equal(report.stopReason, 'answer');
      assert.equal(report.answer, 'The command printed provider-ran-this.');
      assert.deepEqual(
        report.commands.map((command) => [command.command, command.exitCode, command.ran]),
        [['echo provider-ran-this', 0, true]],
      );
      assert.match(report.commands[0]!.stdout, /provider-ran-this/);
      assert.deepEqual([report.usage.inputTokens, report.usage.outputTokens], [320, 42]);
      assert.equal(fake.requests.length, 2);
      const [first, second] = fake.requests as [RecordedRequest, RecordedRequest];
      assert.equal(first.protocol, testCase.protocol);
      assert.match(first.path, testCase.path);
      assert.equal(first.stream, true);
      testCase.auth(first);
      assert.match(systemPromptOf(first), /OS info:/);
      assert.deepEqual(userTextsOf(first), ['what does echo say?']);
      assert.ok(
        toolNamesOf(first).includes('ShellCommand'),
        `tools offered: ${toolNamesOf(first).join(', ')}`,
      );
      assert.match(toolResultsOf(second)[0] ?? '', /Exit code: 0[\s\S]*provider-ran-this/);
    });
  }

  it('Bedrock keeps the tool results on the last step (Converse has no "no tools"), and runs no tool there', async () => {
    const made = `/tmp/wt-cfg-bedrock-last-step-${process.pid}`;
    fake.enqueue(
      { toolCalls: [{ name: 'ShellCommand', args: { command: 'echo step-one' } }] },
      { toolCalls: [{ name: 'ShellCommand', args: { command: `touch ${made}` } }] },
    );
    const run = await runCliIsolated({
      args: ['solve', '-i', '1', '-y', '-m', 'amazon.nova-pro-v1:0', 'go'],
      env: {
        AWS_REGION: 'us-east-1',
        AWS_BEARER_TOKEN_BEDROCK: KEY,
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.url,
      },
    });
    assert.equal(run.exitCode, 3, run.stderr);
    const last = fake.requests[1]!;
    assert.match(toolResultsOf(last)[0] ?? '', /step-one/, 'the model still sees the results');
    assert.ok(toolNamesOf(last).includes('ShellCommand'));
    assert.match(systemPromptOf(last), /This is your last step: answer now/);
    assert.throws(() => statSync(made), /ENOENT/, 'a tool call on the last step is not run');
  });

  it('Azure with a resource name and an API version goes to the deployment-less v1 path on its own host', async () => {
    // No server can answer as <name>.openai.azure.com here: the error names the URL the SDK built.
    const run = await runCliIsolated({
      args: ['run', '-m', 'azure:dep', 'hi'],
      env: { AZURE_API_KEY: KEY, AZURE_RESOURCE_NAME: 'opsmate-test-resource.invalid' },
    });
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      /opsmate-test-resource\.invalid\.openai\.azure\.com\/openai\/v1\/chat\/completions/,
    );
  });
});

describe('provider settings that are missing', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['Gemini', ['-m', 'gemini-2.5-pro'], {}, /GOOGLE_GENERATIVE_AI_API_KEY is not set \(or GEMINI_API_KEY\)/],
    [
      'Vertex',
      ['-m', 'vertex:gemini-2.5-pro'],
      {},
      /GOOGLE_VERTEX_PROJECT and GOOGLE_VERTEX_LOCATION are not set/,
    ],
    ['Bedrock', ['-m', 'bedrock:amazon.nova-pro-v1:0'], { AWS_ACCESS_KEY_ID: 'x' }, /AWS_REGION is not set/],
    [
      'Azure',
      ['-m', 'azure:dep'],
      { AZURE_API_KEY: KEY },
      /neither AZURE_RESOURCE_NAME nor AZURE_BASE_URL is set/,
    ],
    ['Groq', ['-m', 'groq:llama-3.3-70b-versatile'], {}, /GROQ_API_KEY is not set/],
    ['Mistral', ['-m', 'mistral-large-latest'], {}, /MISTRAL_API_KEY is not set/],
    ['DeepSeek', ['-m', 'deepseek-chat'], {}, /DEEPSEEK_API_KEY is not set/],
    ['Fireworks', ['-m', 'fireworks:accounts/fireworks/models/x'], {}, /FIREWORKS_API_KEY is not set/],
  ];
  for (const [name, args, env, message] of cases) {
    it(`${name}: one error line naming the setting, and a hint`, async () => {
      const run = await runCliIsolated({ args: ['run', ...args, 'hi'], env });
      assert.equal(run.exitCode, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`^opsmate: error: .*${message.source}`));
      assert.match(run.stderr, /\nopsmate: hint: \S/);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
    });
  }
});
