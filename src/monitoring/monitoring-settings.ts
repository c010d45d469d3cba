// Only names: the config file's targets: section checks them on every command's path.

/** The settings of one service, by suffix of its env var name (`PROMETHEUS_` + suffix). */
export const MONITORING_SETTINGS = [
  ['ENDPOINT', 'the server URL (http://prometheus:9090); the tools are offered only when it is set'],
  ['PATH', 'a path prefix before the API (Grafana Cloud: /api/prom); an API path written here is dropped'],
  ['USER_ID', 'user for basic auth (Grafana Cloud: the stack user id), with _API_KEY as password'],
  ['API_KEY', 'the password for basic auth with _USER_ID, else a bearer token'],
  ['HEADERS', 'extra headers: "Name: value" pairs separated by newlines or ";" (X-Scope-OrgID: team-a)'],
  ['CA_FILE', 'PEM file of the CA that signs the server certificate'],
  ['TLS_SKIP_VERIFY', 'true: accept any server certificate (opt-in)'],
  [
    'FROM',
    'opsmate (default: requests from this machine) or target (curl on the target through its runtime; wget when no credential is set)',
  ],
] as const;

/** Every monitoring setting's env name: PROMETHEUS_ENDPOINT, LOKI_API_KEY... */
export const MONITORING_SETTING_NAMES: readonly string[] = ['PROMETHEUS', 'ALERTMANAGER', 'LOKI'].flatMap(
  (prefix) => MONITORING_SETTINGS.map(([suffix]) => `${prefix}_${suffix}`),
);
