import { errorMessage } from '../errors/opsmate-error.js';
import { SHELL_LANGUAGE, type CommandLanguage, type Runtime } from './contract.js';

/** What the model is told about the target. Facts the runtime does not have are absent. */
export interface TargetFacts {
  runtime: string;
  language: CommandLanguage;
  osInfo?: string;
  user?: string;
  hasSystemd?: boolean;
  /** Listening sockets and how services start ({@link Runtime.services}). */
  services?: string;
  runtimeInfo: string;
  /** Probes that failed, one line each, e.g. `user: the probe timed out after 15 s`. */
  failures: string[];
}

/**
 * Asks the runtime for the facts it has, one probe after another (a runtime serialises them
 * anyway). A failing probe does not stop the others; it is listed in `failures` with its reason.
 */
export async function gatherTargetFacts(runtime: Runtime): Promise<TargetFacts> {
  const failures: string[] = [];
  const probe = async <T>(what: string, ask: (() => Promise<T>) | undefined): Promise<T | undefined> => {
    if (!ask) return undefined;
    try {
      return await ask();
    } catch (error) {
      failures.push(`${what}: ${errorMessage(error)}`);
      return undefined;
    }
  };
  const osInfo = await probe('OS info', runtime.osInfo?.bind(runtime));
  const user = await probe('user', runtime.whoami?.bind(runtime));
  const hasSystemd = await probe('systemd', runtime.hasSystemd?.bind(runtime));
  const services = await probe('services', runtime.services?.bind(runtime));
  const runtimeInfo = (await probe('runtime info', () => runtime.runtimeInfo())) ?? '';
  return {
    runtime: runtime.name,
    language: runtime.language ?? SHELL_LANGUAGE,
    ...(osInfo !== undefined ? { osInfo } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(hasSystemd !== undefined ? { hasSystemd } : {}),
    ...(services !== undefined ? { services } : {}),
    runtimeInfo,
    failures,
  };
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
  const wrap = options.wrap ?? ((_source: string, text: string) => text);
  // Runtimes usually open their info with "Runtime: <name>."; say it once either way.
  const named = /^Runtime:/.test(facts.runtimeInfo);
  const lines: string[] = [];
  if (options.wrap) {
    lines.push(
      ...(named ? [] : [`Runtime: ${facts.runtime}`]),
      'Runtime info:',
      wrap('runtime-info', facts.runtimeInfo),
    );
  } else lines.push(named ? facts.runtimeInfo : `Runtime: ${facts.runtime}\n${facts.runtimeInfo}`);
  if (facts.language.id !== SHELL_LANGUAGE.id) {
    lines.push(`Commands are written in: ${facts.language.description}`);
  }
  const failed = (what: string): string | undefined =>
    facts.failures.find((line) => line.startsWith(`${what}: `))?.slice(what.length + 2);
  // A failed probe's reason may quote the target's stderr: wrapped too, on lines of its own.
  const unknown = (what: string, source: string): string | undefined => {
    const reason = failed(what);
    if (reason === undefined) return undefined;
    return options.wrap
      ? `unknown (the probe failed, see below)\n${wrap(source, reason)}`
      : `unknown (the probe failed: ${reason})`;
  };
  const machine: string[] = [];
  const user = facts.user !== undefined ? wrap('user', facts.user) : unknown('user', 'user-probe');
  if (user !== undefined) {
    machine.push(options.wrap && facts.user !== undefined ? `User:\n${user}` : `User: ${user}`);
  }
  const systemd =
    facts.hasSystemd !== undefined ? (facts.hasSystemd ? 'yes' : 'no') : unknown('systemd', 'systemd-probe');
  if (systemd !== undefined) machine.push(`Systemd: ${systemd}`);
  if (machine.length > 0) lines.push('', ...machine);
  const osInfo =
    facts.osInfo !== undefined ? wrap('os-info', facts.osInfo) : unknown('OS info', 'os-info-probe');
  if (osInfo !== undefined) lines.push('', 'OS info:', osInfo);
  const services =
    facts.services !== undefined ? wrap('services', facts.services) : unknown('services', 'services-probe');
  if (services !== undefined) lines.push('', 'Services:', services);
  return lines.join('\n');
}
