import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from 'opsmate';

/** Where a stand-in sends `gcloud compute ssh`: a loopback sshd from test-support/sshd-server.ts. */
export interface StandInTarget {
  port: number;
  user: string;
  keyFile: string;
  knownHostsFile: string;
}

export interface StandInGcloud {
  /** Folder holding the `gcloud` stand-in; put it first on PATH. */
  binDir: string;
  /** Every call's argv (without the program name), oldest first. */
  calls(): string[][];
}

/** The only instance name the stand-in knows; others fail the way gcloud does. */
export const STAND_IN_INSTANCE = 'my-vm';

/** What `gcloud compute instances list` answers: name, zone, status and labels of each instance. */
export interface StandInInstance {
  name: string;
  zone: string;
  status: 'RUNNING' | 'TERMINATED';
  labels: Record<string, string>;
}

/**
 * Writes a stand-in for the Google Cloud CLI, since no Google Cloud project is reachable from
 * tests: `gcloud compute ssh [USER@]my-vm ... --command CMD` becomes `ssh ... USER@127.0.0.1 CMD`
 * against the given sshd, with the host key checked. Zone, project, IAP and extra flags are only
 * recorded (see `calls()`), so tests can check the argv the runtime built. An unknown instance
 * fails like gcloud: `ERROR: (gcloud.compute.ssh) ...` and status 1.
 */
export function writeStandInGcloud(
  dir: string,
  target: StandInTarget,
  instances: readonly StandInInstance[] = [],
): StandInGcloud {
  const binDir = join(dir, 'bin');
  const log = join(dir, 'gcloud-calls.log');
  mkdirSync(binDir, { recursive: true });
  writeFileSync(log, '');
  const script = `#!/bin/sh
# Stand-in for gcloud, written by examples/runtime/gce/test/stand-in-gcloud.ts.
for arg in "$@"; do printf '%s\\037' "$arg"; done >> ${shellQuote(log)}
printf '\\036\\n' >> ${shellQuote(log)}
if [ "$1" = compute ] && [ "$2" = instances ] && [ "$3" = list ]; then
  # Only filters of the form (labels.K=V AND ...) AND status=RUNNING, as the runtime builds them.
  filter= zones=
  for arg in "$@"; do
    case $arg in
      --filter=*) filter=\${arg#--filter=} ;;
      --zones=*) zones=\${arg#--zones=} ;;
    esac
  done
  wanted=$(printf '%s' "$filter" | sed 's/^(//; s/) AND status=RUNNING$//; s/ AND / /g')
  case $wanted in
    *[!a-zA-Z0-9._=\\ -]*) echo "ERROR: (gcloud.compute.instances.list) the stand-in takes only labels.K=V AND ... filters" >&2; exit 1 ;;
  esac
  printf '%s\\n' ${instances.map((instance) => shellQuote([instance.name, instance.zone, instance.status, ...Object.entries(instance.labels).map(([key, value]) => `labels.${key}=${value}`)].join(' '))).join(' ')} |
  while read -r name zone status labels; do
    [ "$status" = RUNNING ] || continue
    [ -z "$zones" ] || [ "$zones" = "$zone" ] || continue
    keep=1
    for term in $wanted; do
      case " $labels " in *" $term "*) ;; *) keep=0 ;; esac
    done
    [ $keep = 1 ] && printf '%s\\t%s\\n' "$name" "$zone"
  done
  exit 0
fi
if [ "$1" != compute ] || [ "$2" != ssh ]; then
  echo "ERROR: (gcloud) this stand-in only does 'compute ssh' and 'compute instances list'" >&2
  exit 2
fi
shift 2
target=$1
shift
case $target in
  *@*) user=\${target%%@*}; instance=\${target#*@} ;;
  *) user=${shellQuote(target.user)}; instance=$target ;;
esac
command=
while [ $# -gt 0 ]; do
  case $1 in
    --command) command=$2; shift 2 ;;
    --command=*) command=\${1#--command=}; shift ;;
    *) shift ;;
  esac
done
if [ "$instance" != ${shellQuote(STAND_IN_INSTANCE)} ]; then
  echo "ERROR: (gcloud.compute.ssh) Could not fetch resource: The resource 'instances/$instance' was not found" >&2
  exit 1
fi
exec ssh -F /dev/null -T -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \\
  -o UserKnownHostsFile=${shellQuote(target.knownHostsFile)} -i ${shellQuote(target.keyFile)} \\
  -p ${target.port} -l "$user" 127.0.0.1 -- "$command"
`;
  const path = join(binDir, 'gcloud');
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return {
    binDir,
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\x1e\n')
        .filter((call) => call !== '')
        .map((call) => call.split('\x1f').slice(0, -1)),
  };
}
