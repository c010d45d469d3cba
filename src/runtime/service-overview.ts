/** Listening sockets shown at most; the overview says how many more there were. */
const MAX_SOCKETS = 30;
/** The overview is cut at this many characters. */
const MAX_OVERVIEW_CHARS = 3000;

/**
 * A POSIX sh script that prints what listens on the target and how its services are started, in
 * tagged lines for {@link formatServiceOverview}. Linux: sockets from /proc/net (so it needs no
 * ss or netstat) joined with the processes that hold them (those the user may see); elsewhere
 * `netstat -an`. Then PID 1's command line, systemd's running services, and the folders and
 * files other init systems start services from. It changes nothing and writes no file.
 */
export const SERVICE_OVERVIEW_SCRIPT = `( if [ -r /proc/net/tcp ]; then
  { for f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do
      [ -r "$f" ] && awk -v f="$f" 'FNR > 1 { print "L", f, $2, $4, $10 }' "$f"
    done
    ls -l /proc/[0-9]*/fd 2>/dev/null
  } | awk '
    $1 == "L" { p = $2; sub(".*/", "", p); if ((p ~ /^tcp/ && $4 == "0A") || (p ~ /^udp/ && $4 == "07")) addr[$5] = p " " $3; next }
    /^\\/proc\\/[0-9]+\\/fd:$/ { pid = $1; sub("/proc/", "", pid); sub("/fd:", "", pid); next }
    /socket:\\[/ { i = $NF; gsub(/.*socket:\\[|\\].*/, "", i); if ((i in addr) && !(i in seen)) { seen[i] = 1; print addr[i], pid } }
    END { for (i in addr) if (!(i in seen)) print addr[i], "-" }' | head -n 200 |
  while read -r proto address pid; do
    name=-; [ "$pid" != - ] && name=$(tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c 1-120)
    echo "S $proto $address $pid $name"
  done
elif command -v netstat >/dev/null 2>&1; then
  netstat -an 2>/dev/null | grep -i listen | head -n 60 | sed 's/^/N /'
fi
[ -r /proc/1/cmdline ] && echo "P $(tr '\\0' ' ' < /proc/1/cmdline | cut -c 1-200)"
if [ -d /run/systemd/system ]; then
  systemctl list-units --type=service --state=running --no-legend --plain --no-pager 2>/dev/null | head -n 40 | awk '{ print "U", $1 }'
fi
for d in /etc/init.d /etc/supervisor/conf.d /etc/supervisord.d /etc/services.d /etc/s6-overlay/s6-rc.d /etc/sv /etc/service /etc/runit/runsvdir/default /etc/runlevels/default /etc/cron.d /var/spool/cron/crontabs; do
  [ -d "$d" ] && echo "D $d $(ls "$d" 2>/dev/null | head -n 25 | tr '\\n' ' ')"
done
for f in /etc/supervisord.conf /etc/supervisor/supervisord.conf /etc/crontab /etc/rc.local /docker-entrypoint.sh /entrypoint.sh /usr/local/bin/docker-entrypoint.sh; do
  [ -f "$f" ] && echo "F $f"
done
exit 0 )`;

/** /proc/net address `0100007F:1F90` → `127.0.0.1:8080`; IPv6 in its 4-byte little-endian words. */
export function procNetAddress(hex: string): string {
  const [address = '', portHex = '0'] = hex.split(':');
  const port = parseInt(portHex, 16);
  if (address.length === 8) {
    const bytes = address
      .match(/../g)!
      .map((pair) => parseInt(pair, 16))
      .reverse();
    return `${bytes.join('.')}:${port}`;
  }
  if (address.length === 32) {
    const words = address.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
    const groups = words
      .join('')
      .match(/.{4}/g)!
      .map((group) => group.replace(/^0+(?=.)/, '').toLowerCase());
    const text = groups.join(':');
    if (text === '0:0:0:0:0:0:0:0') return `[::]:${port}`;
    if (text === '0:0:0:0:0:0:0:1') return `[::1]:${port}`;
    const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(text);
    if (mapped) {
      const value = (parseInt(mapped[1]!, 16) << 16) | parseInt(mapped[2]!, 16);
      return `[::ffff:${[24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.')}]:${port}`;
    }
    return `[${text.replace(/(^|:)0(:0)+(:|$)/, '::')}]:${port}`;
  }
  return hex;
}

/** The script's tagged lines as a short overview, for the model and `exec --info`. */
export function formatServiceOverview(output: string): string {
  const sockets: string[] = [];
  const netstat: string[] = [];
  const units: string[] = [];
  const places: string[] = [];
  let pid1 = '';
  for (const line of output.split('\n')) {
    const tag = line.slice(0, 2);
    const rest = line.slice(2).trim();
    if (tag === 'S ') {
      const [proto = '', address = '', pid = '-', ...command] = rest.split(' ');
      const who =
        pid === '-'
          ? '(process not visible to this user)'
          : `${command.join(' ').trim() || '?'} (pid ${pid})`;
      sockets.push(`${proto.replace(/6$/, '')} ${procNetAddress(address)} ${who}`);
    } else if (tag === 'N ') netstat.push(rest);
    else if (tag === 'P ') pid1 = rest;
    else if (tag === 'U ') units.push(rest);
    else if (tag === 'D ') {
      const [dir, ...entries] = rest.split(' ').filter((word) => word !== '');
      places.push(entries.length > 0 ? `${dir}: ${entries.join(' ')}` : `${dir} (empty)`);
    } else if (tag === 'F ') places.push(rest);
  }
  const unique = [...new Set(sockets)].sort(bySocket);
  const lines: string[] = [];
  if (unique.length > 0) {
    lines.push('Listening sockets:', ...unique.slice(0, MAX_SOCKETS).map((socket) => `  ${socket}`));
    if (unique.length > MAX_SOCKETS) lines.push(`  ... and ${unique.length - MAX_SOCKETS} more`);
  } else if (netstat.length > 0) {
    lines.push('Listening sockets (netstat -an):', ...netstat.slice(0, MAX_SOCKETS).map((row) => `  ${row}`));
  } else lines.push('Listening sockets: none found');
  if (pid1) lines.push(`PID 1: ${pid1}`);
  if (units.length > 0) lines.push(`Running systemd services: ${units.join(' ')}`);
  if (places.length > 0) lines.push('Service definitions found:', ...places.map((place) => `  ${place}`));
  const text = lines.join('\n');
  return text.length > MAX_OVERVIEW_CHARS ? `${text.slice(0, MAX_OVERVIEW_CHARS)}\n[... cut]` : text;
}

/** TCP before UDP, then by port. */
function bySocket(a: string, b: string): number {
  const key = (socket: string): [string, number] => {
    const [proto = '', address = ''] = socket.split(' ');
    return [proto, Number(/:(\d+)$/.exec(address)?.[1] ?? 0)];
  };
  const [protoA, portA] = key(a);
  const [protoB, portB] = key(b);
  return protoA === protoB ? portA - portB : protoA < protoB ? -1 : 1;
}
