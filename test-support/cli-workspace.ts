import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliIsolated } from './run-cli.js';

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
