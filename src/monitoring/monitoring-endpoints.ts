import { ConfigError } from '../errors/opsmate-error.js';

export { MONITORING_SETTINGS } from './monitoring-settings.js';

/** The monitoring services opsmate's tools and commands speak to. */
export type MonitoringService = 'prometheus' | 'alertmanager' | 'loki';

/** Where a service's requests are made from: opsmate's machine, or `curl` on the target. */
export type MonitoringReach = 'opsmate' | 'target';

/** One service's endpoint as configured, ready for requests. */
export interface MonitoringEndpoint {
  service: MonitoringService;
  /** What the user calls it: `Prometheus`. */
  title: string;
  /** The endpoint with its path prefix, no trailing slash; API paths are appended. */
  baseUrl: string;
  /** Headers sent with every request (auth, custom ones). Secret: never shown. */
  headers: Record<string, string>;
  /** PEM file of the CA that signs the server's certificate. */
  caFile?: string;
  /** Accept any certificate (opt-in, `*_TLS_SKIP_VERIFY=true`). */
  skipTlsVerify: boolean;
  reach: MonitoringReach;
  /** The env var names of this service's settings, for messages: `PROMETHEUS`. */
  envPrefix: string;
}

const SERVICES: Readonly<Record<MonitoringService, { prefix: string; title: string; apiPath: RegExp }>> = {
  prometheus: { prefix: 'PROMETHEUS', title: 'Prometheus', apiPath: /\/api\/v1(\/.*)?$/ },
  alertmanager: { prefix: 'ALERTMANAGER', title: 'Alertmanager', apiPath: /\/api\/v[12](\/.*)?$/ },
  loki: { prefix: 'LOKI', title: 'Loki', apiPath: /\/loki\/api\/v1(\/.*)?$/ },
};

function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Why the service's tools are not offered, or undefined when its endpoint is set. */
export function monitoringUnavailable(
  service: MonitoringService,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const { prefix } = SERVICES[service];
  return setting(env, `${prefix}_ENDPOINT`) === undefined
    ? `${prefix}_ENDPOINT is not set (env or config file)`
    : undefined;
}

/**
 * The service's endpoint from env names (the config file's `NAME: value` entries included), or
 * undefined when `<PREFIX>_ENDPOINT` is not set. Throws a ConfigError for a bad value.
 */
export function monitoringEndpoint(
  service: MonitoringService,
  env: NodeJS.ProcessEnv,
): MonitoringEndpoint | undefined {
  const { prefix, title, apiPath } = SERVICES[service];
  const raw = setting(env, `${prefix}_ENDPOINT`);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new ConfigError(`${prefix}_ENDPOINT=${raw} is not a URL`, {
      hint: `set it to the server's address, e.g. ${prefix}_ENDPOINT=http://localhost:${service === 'prometheus' ? 9090 : service === 'loki' ? 3100 : 9093}`,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`${prefix}_ENDPOINT=${raw}: only http:// and https:// are supported`, {
      hint: `write it as http://host:port or https://host:port`,
    });
  const headers: Record<string, string> = { accept: 'application/json' };
  // Credentials in the URL become basic auth, and leave the URL (it is shown in messages).
  const user =
    setting(env, `${prefix}_USER_ID`) ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const key =
    setting(env, `${prefix}_API_KEY`) ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  if (user !== undefined && key === undefined) {
    throw new ConfigError(`${prefix}_USER_ID is set without ${prefix}_API_KEY`, {
      hint: `set ${prefix}_API_KEY to the password or key for basic auth`,
    });
  }
  if (user !== undefined) headers.authorization = `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;
  else if (key !== undefined) headers.authorization = `Bearer ${key}`;
  for (const [name, value] of parseHeaders(setting(env, `${prefix}_HEADERS`), `${prefix}_HEADERS`))
    headers[name.toLowerCase()] = value;
  const prefixPath = `${url.pathname}${setting(env, `${prefix}_PATH`) ?? ''}`
    .replace(/\/{2,}/g, '/')
    .replace(apiPath, '')
    .replace(/\/+$/, '');
  const reach = setting(env, `${prefix}_FROM`) ?? 'opsmate';
  if (reach !== 'opsmate' && reach !== 'target')
    throw new ConfigError(`${prefix}_FROM=${reach}: expected opsmate or target`, {
      hint: `${prefix}_FROM=target makes the requests on the target (curl, or wget without credentials); opsmate (the default) from this machine`,
    });
  const skip = setting(env, `${prefix}_TLS_SKIP_VERIFY`) ?? 'false';
  if (!/^(true|false|1|0|yes|no)$/i.test(skip))
    throw new ConfigError(`${prefix}_TLS_SKIP_VERIFY=${skip}: expected true or false`, {
      hint: 'leave it unset to check certificates (the default)',
    });
  const caFile = setting(env, `${prefix}_CA_FILE`);
  return {
    service,
    title,
    baseUrl: `${url.origin}${prefixPath}`,
    headers,
    ...(caFile !== undefined ? { caFile } : {}),
    skipTlsVerify: /^(true|1|yes)$/i.test(skip),
    reach,
    envPrefix: prefix,
  };
}

function parseHeaders(text: string | undefined, name: string): Array<[string, string]> {
  if (text === undefined) return [];
  return text
    .split(/[\n;]/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const colon = part.indexOf(':');
      const header = colon > 0 ? part.slice(0, colon).trim() : '';
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header))
        throw new ConfigError(`${name}: "${part.split(':')[0]}" is not a header "Name: value"`, {
          hint: `write headers as "Name: value" separated by ";" or newlines`,
        });
      return [header, part.slice(colon + 1).trim()];
    });
}
