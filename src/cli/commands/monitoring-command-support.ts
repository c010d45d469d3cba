import { Option, type Command } from 'commander';
import { ConfigError, OpsmateError } from '../../errors/opsmate-error.js';
import {
  monitoringEndpoint,
  type MonitoringEndpoint,
  type MonitoringService,
} from '../../monitoring/monitoring-endpoints.js';
import { DEFAULT_MONITORING_TIMEOUT_MS, MonitoringError } from '../../monitoring/monitoring-http.js';
import { abortOnSignals } from '../abort-on-signals.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions } from '../field-options.js';
import { outputOption } from '../output-format.js';

/** The options every monitoring command has: settings that find the config file, -o, --timeout. */
export function addMonitoringOptions(command: Command): Command {
  addSettingOptions(command, ['home', 'pluginsDir', 'loglevel', 'config']);
  return command
    .addOption(outputOption())
    .addOption(
      new Option(
        '--timeout <SECONDS>',
        `seconds to wait for the server [default: ${DEFAULT_MONITORING_TIMEOUT_MS / 1000}]`,
      ),
    );
}

export function timeoutMs(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MONITORING_TIMEOUT_MS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new ConfigError(`--timeout ${JSON.stringify(text)} is not a number of seconds`, {
      hint: 'e.g. --timeout 10',
    });
  return Math.round(seconds * 1000);
}

/** The service's endpoint, or a ConfigError saying which setting to set. */
export function requireEndpoint(context: CliContext, service: MonitoringService): MonitoringEndpoint {
  const endpoint = monitoringEndpoint(service, context.config.env);
  const prefix = service.toUpperCase();
  if (!endpoint)
    throw new ConfigError(`${prefix}_ENDPOINT is not set`, {
      hint: `set ${prefix}_ENDPOINT (env or config file) to the server's address, e.g. ${prefix}_ENDPOINT=http://localhost:${service === 'prometheus' ? 9090 : service === 'loki' ? 3100 : 9093}`,
    });
  if (endpoint.reach === 'target')
    throw new ConfigError(`${prefix}_FROM=target: this command makes its requests from this machine`, {
      hint: `unset ${prefix}_FROM for this command (the agent's tools use it to reach ${endpoint.title} through the target)`,
    });
  return endpoint;
}

/** A failed request as the CLI's one error line and one hint. */
export function commandError(error: unknown, endpoint: MonitoringEndpoint): unknown {
  if (!(error instanceof MonitoringError)) return error;
  const prefix = endpoint.envPrefix;
  const hints: Record<MonitoringError['kind'], string> = {
    unreachable: `check ${prefix}_ENDPOINT (${endpoint.baseUrl}) and that the server runs`,
    timeout: 'narrow the query or the range, or give more time with --timeout SECONDS',
    auth: `set ${prefix}_USER_ID and ${prefix}_API_KEY (basic auth), ${prefix}_API_KEY alone (bearer), or ${prefix}_HEADERS`,
    api: 'fix the query and run it again',
    http: `check ${prefix}_ENDPOINT and ${prefix}_PATH point at the API`,
    cancelled: 'run it again',
    config: `check the ${prefix}_* settings`,
  };
  return error.kind === 'config'
    ? new ConfigError(error.message, { hint: hints.config })
    : new OpsmateError(error.message, { hint: hints[error.kind] });
}

/** Runs one request with Ctrl-C wired to its signal; a failure becomes the CLI's error. */
export async function requestWithSignals<T>(
  endpoint: MonitoringEndpoint,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const interrupt = abortOnSignals();
  try {
    return await work(interrupt.signal);
  } catch (error) {
    if (interrupt.signal.aborted)
      throw new OpsmateError('interrupted', { exitCode: interrupt.exitCode(), hint: 'run it again' });
    throw commandError(error, endpoint);
  } finally {
    interrupt.dispose();
  }
}
