/**
 * Real Prometheus, node_exporter and Alertmanager for tests: Debian's `prometheus`,
 * `prometheus-node-exporter` and `prometheus-alertmanager` (`.ci/run` installs them), each
 * started on loopback with its own config and data dir. Prometheus scrapes node_exporter and
 * itself every second, and evaluates two alerting rules on `vector(1)`: one fires at once and is
 * sent to the Alertmanager, one stays pending (`for: 1h`). Start them once per test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreePort } from './free-port.js';

const BINARIES = {
  prometheus: '/usr/bin/prometheus',
  alertmanager: '/usr/bin/prometheus-alertmanager',
  nodeExporter: '/usr/bin/prometheus-node-exporter',
} as const;

/** The alert that fires as soon as the rule is evaluated, and the one that stays pending. */
export const FIRING_ALERT = 'OpsmateTestAlwaysFiring';
export const PENDING_ALERT = 'OpsmateTestPending';

/** Why the servers cannot run here, or undefined. */
export function monitoringMissingReason(): string | undefined {
  const missing = Object.entries(BINARIES).filter(([, path]) => !existsSync(path));
  return missing.length === 0
    ? undefined
    : `${missing.map(([, path]) => path).join(', ')} not found (apt-get install prometheus prometheus-node-exporter prometheus-alertmanager)`;
}

export interface MonitoringServers {
  prometheusUrl: string;
  alertmanagerUrl: string;
  nodeExporterUrl: string;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logs: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms:\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startMonitoringServers(): Promise<MonitoringServers> {
  const dir = mkdtempSync(join(tmpdir(), 'wt-prom-monitoring-'));
  writeFileSync(
    join(dir, 'rules.yml'),
    `groups:
  - name: opsmate-test
    interval: 1s
    rules:
      - alert: ${FIRING_ALERT}
        expr: vector(1)
        labels:
          severity: warning
        annotations:
          summary: An alert that always fires, for opsmate's tests
      - alert: ${PENDING_ALERT}
        expr: vector(1)
        for: 1h
        labels:
          severity: info
`,
  );
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: blackhole
`,
  );
  let promPort: number;
  let amPort = 0;
  let nodePort = 0;
  // Prometheus scrapes itself, so its config is written once its own port is chosen.
  const writePrometheusConfig = (ownPort: number) =>
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:${amPort}']
rule_files:
  - ${join(dir, 'rules.yml')}
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${ownPort}']
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:${nodePort}']
`,
    );
  const children: ChildProcess[] = [];
  const output = new Map<string, string>();
  const logs = () => [...output].map(([name, text]) => `--- ${name}\n${text}`).join('\n');
  const stopAll = () => Promise.all(children.map(stopChild));
  /**
   * Starts one server on a free port and waits until it says it listens there (exporter-toolkit's
   * `msg="Listening on" address=...`, logged after the bind). A bind that fails because another
   * test took the port in between makes the server exit saying so, and onFreePort tries again.
   */
  const launch = (name: string, command: string, args: (port: number) => string[]) =>
    onFreePort(
      (port) =>
        new Promise<number>((resolve, reject) => {
          const child = spawn(command, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
          output.set(name, '');
          const listening = new RegExp(`Listening on"? address=127\\.0\\.0\\.1:${port}\\b`);
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`${name} did not listen on port ${port} within 30000 ms:\n${logs()}`));
          }, 30_000);
          const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
            clearTimeout(timer);
            reject(
              new Error(
                `${name} exited before listening (${signal ?? `status ${code}`}):\n${output.get(name)}`,
              ),
            );
          };
          const keep = (chunk: Buffer) => {
            output.set(name, (output.get(name)! + chunk.toString()).slice(-4000));
            if (listening.test(output.get(name)!)) {
              clearTimeout(timer);
              child.off('exit', onExit);
              children.push(child);
              resolve(port);
            }
          };
          child.stdout!.on('data', keep);
          child.stderr!.on('data', keep);
          child.once('exit', onExit);
        }),
    );
  try {
    nodePort = await launch('node_exporter', BINARIES.nodeExporter, (port) => [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      '--collector.cpu',
      '--collector.meminfo',
      '--collector.loadavg',
      '--collector.filesystem',
    ]);
    amPort = await launch('alertmanager', BINARIES.alertmanager, (port) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ]);
    promPort = await launch('prometheus', BINARIES.prometheus, (port) => {
      writePrometheusConfig(port);
      return [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // The first send happens before the Alertmanager is discovered and is dropped; resend soon.
        '--rules.alert.resend-delay=1s',
      ];
    });
  } catch (error) {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const servers: MonitoringServers = {
    prometheusUrl: `http://127.0.0.1:${promPort}`,
    alertmanagerUrl: `http://127.0.0.1:${amPort}`,
    nodeExporterUrl: `http://127.0.0.1:${nodePort}`,
    stop: async () => {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const json = async (url: string) => (await (await fetch(url)).json()) as Record<string, unknown>;
    // Both scrape targets up, then the firing alert in the Alertmanager.
    await waitFor(
      'Prometheus scraping node_exporter and itself',
      async () => {
        const answer = (await json(
          `${servers.prometheusUrl}/api/v1/query?query=${encodeURIComponent('sum(up)')}`,
        )) as {
          data: { result: Array<{ value: [number, string] }> };
        };
        return answer.data.result[0]?.value[1] === '2';
      },
      30_000,
      logs,
    );
    await waitFor(
      `the ${FIRING_ALERT} alert in the Alertmanager`,
      async () => {
        const alerts = (await (await fetch(`${servers.alertmanagerUrl}/api/v2/alerts`)).json()) as Array<{
          labels: Record<string, string>;
        }>;
        return alerts.some((alert) => alert.labels.alertname === FIRING_ALERT);
      },
      30_000,
      logs,
    );
  } catch (error) {
    await servers.stop();
    throw error;
  }
  return servers;
}
