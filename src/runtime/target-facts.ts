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

/** The facts as the plain text that both `exec --info` and the model's context show. */
export function formatTargetFacts(facts: TargetFacts): string {
  // Runtimes usually open their info with "Runtime: <name>."; say it once either way.
  const info = /^Runtime:/.test(facts.runtimeInfo)
    ? facts.runtimeInfo
    : `Runtime: ${facts.runtime}\n${facts.runtimeInfo}`;
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
