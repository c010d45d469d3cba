import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach } from 'node:test';
import { FakeLlmServer } from './fake-llm/index.js';
import { runCliIsolated, type CliResult } from './run-cli.js';

/** A HOME of its own with an opsmate home holding `config.yaml`, for one CLI test. */
export interface CliWorkspace {
  home: string;
  opsmateHome: string;
}

export function cliWorkspace(config: string, prefix = 'opsmate-e2e-'): CliWorkspace {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const opsmateHome = join(home, '.opsmate');
  mkdirSync(opsmateHome);
  writeFileSync(join(opsmateHome, 'config.yaml'), config, { mode: 0o600 });
  return { home, opsmateHome };
}

/** Runs the built CLI with the workspace's HOME and OPSMATE_HOME. */
export function cliIn(where: CliWorkspace, args: string[], env: Record<string, string> = {}) {
  return runCliIsolated({ args, env: { HOME: where.home, OPSMATE_HOME: where.opsmateHome, ...env } });
}

/** One record of the audit log, as far as tests read it. */
export interface AuditLine {
  type: string;
  target?: Record<string, string>;
  command?: string;
  outcome?: string;
  sessionId?: string;
}

/** Every record of the workspace's audit log, oldest first. */
export function auditLines(opsmateHome: string): AuditLine[] {
  return readFileSync(join(opsmateHome, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditLine);
}

/** What `fakeModelCli` gives a describe() block: the fake model and this test's HOME. */
export interface FakeModelCli {
  /** The block's fake model server, reset before each test. */
  readonly fake: FakeLlmServer;
  /** This test's HOME; opsmate's home is `.opsmate` in it. */
  readonly home: string;
  /** This test's working folder, when asked for (`withWorkDir`). */
  readonly work: string;
  /** Runs the built CLI with this test's HOME and OPSMATE_HOME, the fake model as OpenAI, and the work folder as cwd. */
  cli(args: string[], extra?: { env?: Record<string, string>; input?: string }): Promise<CliResult>;
}

/**
 * Registers, in the calling describe() block, one fake model server for the block and a fresh
 * HOME (and work folder) for each test, and returns them with a CLI runner that uses both.
 */
export function fakeModelCli(prefix: string, options: { withWorkDir?: boolean } = {}): FakeModelCli {
  let fake: FakeLlmServer | undefined;
  let home = '';
  let work = '';
  before(async () => {
    fake = await FakeLlmServer.start();
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake?.reset();
    home = mkdtempSync(join(tmpdir(), `${prefix}home-`));
    if (options.withWorkDir) work = mkdtempSync(join(tmpdir(), `${prefix}work-`));
  });
  return {
    get fake() {
      if (!fake)
        throw new Error('fakeModelCli: the fake model server is not started yet (use it inside a test)');
      return fake;
    },
    get home() {
      return home;
    },
    get work() {
      return work;
    },
    cli: (args, extra = {}) =>
      runCliIsolated({
        args,
        ...(extra.input !== undefined ? { input: extra.input } : {}),
        ...(work ? { cwd: work } : {}),
        env: {
          HOME: home,
          OPSMATE_HOME: join(home, '.opsmate'),
          OPENAI_BASE_URL: fake!.openAiBaseUrl,
          ...extra.env,
        },
      }),
  };
}
