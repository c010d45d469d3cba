import type { Runtime } from './contract.js';

/** What the model is told about the machine it works on. */
export interface TargetFacts {
  runtime: string;
  osInfo: string;
  user: string;
  hasSystemd: boolean;
  runtimeInfo: string;
}

/** Asks the runtime for the facts, one probe after another (a runtime serialises them anyway). */
export async function gatherTargetFacts(runtime: Runtime): Promise<TargetFacts> {
  const osInfo = await runtime.osInfo();
  const user = await runtime.whoami();
  const hasSystemd = await runtime.hasSystemd();
  const runtimeInfo = await runtime.runtimeInfo();
  return { runtime: runtime.name, osInfo, user, hasSystemd, runtimeInfo };
}

/** How {@link formatTargetFacts} marks text that came from the target, for a model. */
export interface FormatTargetFactsOptions {
  /** Wraps one fact (`os-info`, `user`, `runtime-info`) as untrusted data. Unset: plain text. */
  wrap?: (source: string, text: string) => string;
}

/**
 * The facts as the text that both `exec --info` and the model's context show. With `wrap`, every
 * fact that came from the target (all but the runtime's name and the systemd flag) is wrapped.
 */
export function formatTargetFacts(facts: TargetFacts, options: FormatTargetFactsOptions = {}): string {
  // Runtimes usually open their info with "Runtime: <name>."; say it once either way.
  const named = /^Runtime:/.test(facts.runtimeInfo);
  const wrap = options.wrap;
  if (wrap) {
    return [
      ...(named ? [] : [`Runtime: ${facts.runtime}`]),
      'Runtime info:',
      wrap('runtime-info', facts.runtimeInfo),
      '',
      'User:',
      wrap('user', facts.user),
      `Systemd: ${facts.hasSystemd ? 'yes' : 'no'}`,
      '',
      'OS info:',
      wrap('os-info', facts.osInfo),
    ].join('\n');
  }
  const info = named ? facts.runtimeInfo : `Runtime: ${facts.runtime}\n${facts.runtimeInfo}`;
  return [
    info,
    '',
    `User: ${facts.user}`,
    `Systemd: ${facts.hasSystemd ? 'yes' : 'no'}`,
    '',
    'OS info:',
    facts.osInfo,
  ].join('\n');
}
