import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../errors/opsmate-error.js';
import { HOST_VERSION } from '../host-resolution.js';

export type PluginTemplateKind = 'runtime' | 'tool' | 'context' | 'provider';
export const PLUGIN_TEMPLATE_KINDS: readonly PluginTemplateKind[] = [
  'runtime',
  'tool',
  'context',
  'provider',
];

export interface InitPluginOptions {
  /** The extension's name: `gce` (runtime, context, provider) or `http-check` (tool: HttpCheck). */
  name: string;
  kind: PluginTemplateKind;
  /** Plain JavaScript instead of TypeScript. */
  javascript: boolean;
  /** Folder to create; default `./opsmate-<kind>-<name>`. */
  directory?: string;
  cwd: string;
}

/**
 * Writes a working plugin package: package.json with the `opsmate` field and the peer range of
 * the running opsmate, a `define…()` skeleton, a contract test and a README. Returns the folder.
 * Refuses to write into a folder that exists.
 */
export function initPlugin(options: InitPluginOptions): { folder: string; files: string[] } {
  const name = options.name.toLowerCase();
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name) || (options.kind === 'runtime' && name.includes('-'))) {
    throw new ConfigError(`plugin name ${JSON.stringify(options.name)} cannot be used`, {
      hint:
        options.kind === 'runtime'
          ? 'a runtime name is lower-case letters and digits, e.g. gce'
          : 'use lower-case words joined by dashes, e.g. http-check',
    });
  }
  const packageName = `opsmate-${options.kind}-${name}`;
  const folder = resolve(options.cwd, options.directory ?? packageName);
  if (existsSync(folder)) {
    throw new ConfigError(`${folder} already exists`, { hint: 'choose another name or --dir, or remove it' });
  }
  const ext = options.javascript ? 'js' : 'ts';
  const registered = options.kind === 'tool' ? pascal(name) : name;
  const [major, minor] = HOST_VERSION.split('.');
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name: packageName,
        version: '0.1.0',
        description: `${options.kind} ${registered} for opsmate`,
        type: 'module',
        license: 'MIT',
        keywords: ['opsmate', 'opsmate-plugin'],
        files: ['src', 'README.md'],
        scripts: { test: 'opsmate plugin test .' },
        peerDependencies: { opsmate: `>=${major}.${minor}.0` },
        peerDependenciesMeta: { opsmate: { optional: true } },
        opsmate: { [`${options.kind}s`]: { [registered]: `./src/${name}.${ext}` } },
      },
      null,
      2,
    )}\n`,
    [`src/${name}.${ext}`]: SOURCES[options.kind](name, registered, options.javascript),
    [`test/${name}.test.${ext}`]: TESTS[options.kind](name, registered, ext),
    'README.md': readme(packageName, options.kind, registered),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(folder, path, '..'), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  return { folder, files: Object.keys(files) };
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

const SOURCES: Record<PluginTemplateKind, (name: string, registered: string, js: boolean) => string> = {
  runtime: (name, _registered, js) => `import { defineRuntime, ShellRuntime, z } from 'opsmate';
${js ? '' : "import type { RuntimeContext, ShellTransport } from 'opsmate';\n"}
export const configSchema = z.object({
  shell: z.string().default('/bin/sh').describe('Shell to start on the target'),
});
${js ? '' : 'type Config = z.output<typeof configSchema>;\n'}
class ${pascal(name)}Runtime extends ShellRuntime {
${js ? '  #config;\n\n  constructor(config, context) {' : '  readonly #config: Config;\n\n  constructor(config: Config, context: RuntimeContext) {'}
    super({ name: '${name}', context });
    this.#config = config;
  }

  // The process that carries the shell. Replace with your transport, e.g. ['ssh', '-T', host, '--', 'exec sh'].
  transport()${js ? '' : ': ShellTransport'} {
    return { argv: [this.#config.shell] };
  }

  async runtimeInfo()${js ? '' : ': Promise<string>'} {
    return 'Runtime: ${name}. Commands run in a shell started by the ${name} plugin.';
  }

  target()${js ? '' : ': Record<string, string>'} {
    return { shell: this.#config.shell };
  }
}

export default defineRuntime({
  name: '${name}',
  description: 'Runs commands through the ${name} plugin.',
  configSchema,
  create: (config, context) => new ${pascal(name)}Runtime(config, context),
});
`,
  tool: (_name, registered) => `import { defineTool, z } from 'opsmate';

export default defineTool({
  name: '${registered}',
  summary: 'Echoes its text back (replace with what your tool does)',
  description: 'Returns the text it is given. Use it when the user asks you to repeat something.',
  // Calls of a tool that only reads run unasked; the others are asked about (or refused without a terminal).
  readOnly: true,
  inputSchema: z.object({
    text: z.string().describe('The text to echo'),
  }),
  title: (input) => \`${registered} \${input.text}\`,
  async execute(input) {
    return { llmContent: \`You said: \${input.text}\`, display: { kind: 'text', text: input.text } };
  },
});
`,
  context: (name) => `import { defineContext, formatTargetFacts, gatherTargetFacts } from 'opsmate';

const INSTRUCTIONS = 'You are opsmate, an SRE assistant. Describe the job of the ${name} context here.';

export default defineContext({
  name: '${name}',
  description: 'Describe what the ${name} context is for, in one line',
  tools: ['ShellCommand', 'ReadSpilledOutput'],
  async systemPrompt({ runtime, instructions }) {
    const facts = formatTargetFacts(await gatherTargetFacts(runtime));
    return [instructions ?? INSTRUCTIONS, '', 'The target:', facts].join('\\n');
  },
});
`,
  provider: (name, _registered, js) => {
    const env = name.toUpperCase().replaceAll('-', '_');
    return `import { defineProvider, openAiCompatibleModel } from 'opsmate';

export default defineProvider({
  name: '${name}',
  description: 'Models served by ${name} (an OpenAI-compatible API)',
  env: [
    { name: '${env}_API_KEY', description: 'API key for ${name}', required: true, secret: true },
    { name: '${env}_BASE_URL', description: 'Base URL of the API, e.g. https://llm.example.com/v1', required: true },
  ],
  models: ['my-model'],
  baseUrl: (env) => env.${env}_BASE_URL ?? '',
  createModel: ({ modelId, env, fetch }) =>
    openAiCompatibleModel({ baseURL: env.${env}_BASE_URL${js ? '' : '!'}, apiKey: env.${env}_API_KEY, modelId, fetch }),
});
`;
  },
};

const TESTS: Record<PluginTemplateKind, (name: string, registered: string, ext: string) => string> = {
  runtime: (name) => `import { runtimeContractSuite, SHELL_CONTRACT_COMMANDS } from 'opsmate/testing';
import runtime, { configSchema } from '../src/${name}.js';

// The contract every runtime passes; for a shell runtime, runtimeConformanceSuite adds the shell tests.
runtimeContractSuite({
  name: '${name}',
  create: (context) => runtime.create(configSchema.parse({}), context),
  commands: SHELL_CONTRACT_COMMANDS,
});
`,
  tool: (name, registered, ext) => `import assert from 'node:assert/strict';
import { it } from 'node:test';
import { validateToolDefinition } from 'opsmate';
import tool from '../src/${name}.js';

it('is a valid tool', () => {
  assert.equal(validateToolDefinition(tool), undefined);
  assert.equal(tool.name, '${registered}');
});

it('answers the model', async () => {
  const result = await tool.execute({ text: 'hello' }, {}${ext === 'ts' ? ' as never' : ''}, { signal: new AbortController().signal });
  assert.match(result.llmContent, /hello/);
});
`,
  context: (name) => `import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { localRuntime, validateContextDefinition } from 'opsmate';
import context from '../src/${name}.js';

it('is a valid context', () => {
  assert.equal(validateContextDefinition(context), undefined);
});

it('writes a system prompt that describes the target', async () => {
  const runtime = localRuntime.create(localRuntime.configSchema.parse({}), {
    spillDir: mkdtempSync(join(tmpdir(), '${name}-')),
    outputLimitBytes: 4096,
  });
  try {
    const prompt = await context.systemPrompt({ runtime });
    assert.match(prompt, /Runtime: local/);
  } finally {
    await runtime.disconnect();
  }
});
`,
  provider: (name) => {
    const env = name.toUpperCase().replaceAll('-', '_');
    return `import assert from 'node:assert/strict';
import { it } from 'node:test';
import { validateProviderDefinition } from 'opsmate';
import provider from '../src/${name}.js';

it('is a valid provider', () => {
  assert.equal(validateProviderDefinition(provider), undefined);
});

it('builds a model from its env vars', async () => {
  const env = { ${env}_API_KEY: 'test-key', ${env}_BASE_URL: 'http://127.0.0.1:9/v1' };
  const model = await provider.createModel({ modelId: 'my-model', env, fetch: globalThis.fetch });
  assert.equal(typeof model === 'string' ? model : model.modelId, 'my-model');
});
`;
  },
};

function readme(packageName: string, kind: PluginTemplateKind, registered: string): string {
  const use: Record<PluginTemplateKind, string> = {
    runtime: `opsmate exec --shell-command-runtime ${registered} -- uptime`,
    tool: `opsmate run --tools ShellCommand,${registered} "..."`,
    context: `opsmate chat -c ${registered}`,
    provider: `opsmate run -m ${registered}:my-model "..."`,
  };
  return `# ${packageName}

An opsmate plugin that adds the ${kind} \`${registered}\`.

\`\`\`sh
opsmate plugin check .   # load and validate it as \`opsmate install\` would, without installing
opsmate plugin test .    # run its tests with the opsmate that is installed
opsmate install -e .     # use it; edits take effect without reinstalling
${use[kind]}
\`\`\`

For type checking in an editor, add opsmate as a dev dependency: \`npm pack\` in an opsmate
checkout, then \`npm install -D ./opsmate-<version>.tgz\` here. See opsmate's
docs/runtime-plugins.md.
`;
}
