import { isShellVariableName, shellQuote } from './shell-quote.js';
import type { ShellFlavor } from './shell-state.js';

/*
 * The protocol between a ShellSession and the shell it drives. All of it is plain POSIX sh, so it
 * works with bash, dash and busybox ash; docs/architecture.md describes it in prose.
 *
 * Three processes take part on the target:
 *   - the supervisor, the process the transport starts. It starts the session shell as its
 *     foreground child and, when that ends, says so at once on stderr (so a shell killed from
 *     outside is noticed even while an orphan keeps the pipes open) and exits;
 *   - the session shell, which reads one line per command from stdin and never runs a command's
 *     code itself: nothing a command does (redefining builtins, aliases, traps, `exec >log`,
 *     `IFS=...`, `ulimit -n 4`) can touch the framing, which lives here;
 *   - one subshell per command, `( ... )`, that runs the command with `eval` and, when it ends,
 *     reports its working directory and variables on a descriptor of its own (a state frame).
 *
 * The session shell prints the exit status after the subshell has ended, in frames that carry a
 * random token. The token is in the line the session shell has already parsed when it forks the
 * subshell, never in a variable, the environment, a file or an inherited descriptor, so a command
 * cannot print a valid frame. The state frame's token is known to the command (the subshell
 * holds it): a forged state frame can only set the state the command could have set itself, and
 * its contents are parsed as data (shell-state.ts), never evaluated.
 *
 * Frames (RS is 0x1e, US 0x1f):
 *   supervisor up      stdout  RS SUP 'U' RS LF
 *   shell ended        stderr  RS SUP 'X' STATUS RS LF          (printed by the supervisor)
 *   ready              stdout  RS READY 'R' PID ' ' FLAVOR RS LF
 *   state              fd 250 (bash) or 7 (other shells), a copy of the session's stdout:
 *                              RS ST 'S' JOB-PIDS US DUMP RS ST 'E' LF
 *   exit status        stdout  RS TOKEN '>' STATUS RS LF
 *   end of stderr      stderr  RS TOKEN '<' RS LF
 */

/**
 * Descriptor the subshell writes its state frame to: a copy of the session's stdout that the
 * command inherits (closing it around the command would need a restore, which busybox ash loops
 * on when the command lowered `ulimit -n`). Numbers scripts rarely use; other shells than bash take
 * only single digits. If the command reassigns it, the state is not written there (see
 * `__opsmate_state`) and the previous state is kept.
 */
const STATE_FD: Record<ShellFlavor, number> = { bash: 250, posix: 7 };

/**
 * The first line sent to the transport's process: it becomes the supervisor, announces itself
 * (after the line is read, so the rest of stdin is left for the session shell), then runs the
 * session shell, the same program, in the foreground.
 */
export function supervisorLine(token: string): string {
  return [
    '__opsmate_self=$0',
    'case $__opsmate_self in -*) __opsmate_self=${__opsmate_self#-};; esac',
    `printf '\\036%sU\\036\\n' ${token}`,
    // Its own stderr is /dev/null while it waits, so its job notice (`Killed`) is not output. The
    // session shell gets the real stderr on fd 3 and moves it to fd 2 itself (initScript): dash and
    // ash print a job notice while the command's own redirections are still in place.
    'exec 3>&2 2>/dev/null',
    '"$__opsmate_self"',
    `printf '\\036%sX%s\\036\\n' ${token} "$?" >&3`,
    'exit 0',
  ].join('; ');
}

/** Script the session shell runs once at start: helpers, environment, cwd, ready frame and state. */
export function initScript(options: {
  readyToken: string;
  baseStateToken: string;
  env: Record<string, string>;
  cwd?: string;
  /** The user chose `cwd`: a missing folder ends the shell with the shell's own message. */
  cwdMustExist?: boolean;
}): string {
  const stateBody = (flavor: ShellFlavor): string => {
    const dump = flavor === 'bash' ? 'declare -p' : "export -p; printf '\\037'; set";
    // Background jobs: this command's own, and those of earlier commands (`__opsmate_bg`) still alive.
    // Background jobs that can still print into the session's output: those of earlier commands
    // (`__opsmate_bg`) that are alive and hold its stdout or stderr (Linux; elsewhere every live
    // one), and this command's own, checked the same way by the next command.
    const jobs =
      '[ -z "${!-}" ] || { jobs >/dev/null 2>&1; jobs -p; }; for __opsmate_p in ${__opsmate_bg-}; do kill -0 "$__opsmate_p" 2>/dev/null && __opsmate_holds "$__opsmate_p" && echo "$__opsmate_p"; done';
    const fd = STATE_FD[flavor];
    // Write only where it is still the session's stdout (Linux can tell; elsewhere trust it).
    const ours = `{ [ ! -e "/proc/$$/fd/1" ] || [ "/proc/self/fd/${fd}" -ef "/proc/$$/fd/1" ]; }`;
    return `[ -z "\${__opsmate_reported-}" ] || return 0; __opsmate_reported=1; ${ours} || return 0; { printf '\\036%sS' "$__opsmate_st"; ${jobs}; printf '\\037'; ${dump}; printf '\\036%sE\\n' "$__opsmate_st"; } 2>/dev/null >&${STATE_FD[flavor]}`;
  };
  const lines = [
    'exec 2>&3 3>&-',
    '__opsmate_holds() { [ -e "/proc/$$/fd/1" ] || return 0; for __opsmate_f in 1 2; do [ "/proc/$1/fd/$__opsmate_f" -ef "/proc/$$/fd/1" ] || [ "/proc/$1/fd/$__opsmate_f" -ef "/proc/$$/fd/8" ] && return 0; done; return 1; }',
    `__opsmate_end() { printf '\\036%s>%s\\036\\n' "$1" "$2"; printf '\\036%s<\\036\\n' "$1" >&2; }`,
    'if [ -n "${BASH_VERSION-}" ]; then',
    `__opsmate_state() { ${stateBody('bash')}; }`,
    '__opsmate_flavor=bash',
    'else',
    `__opsmate_state() { ${stateBody('posix')}; }`,
    '__opsmate_flavor=posix',
    'fi',
  ];
  for (const [name, value] of Object.entries(options.env)) {
    if (!isShellVariableName(name)) throw new TypeError(`invalid environment variable name: ${name}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  if (options.cwd && options.cwdMustExist) lines.push(`cd -- ${shellQuote(options.cwd)} || exit 97`);
  else if (options.cwd) lines.push(`cd -- ${shellQuote(options.cwd)} 2>/dev/null`);
  lines.push(
    `__opsmate_st=${options.baseStateToken}`,
    // In a subshell: after a redirected function call, dash 0.5.12 no longer restores that descriptor around
    // later `{ ...; } N>&-` groups.
    `if [ "$__opsmate_flavor" = bash ]; then eval '__opsmate_state ${STATE_FD.bash}>&1'; else ( __opsmate_state ) ${STATE_FD.posix}>&1; fi`,
    'unset __opsmate_st __opsmate_reported',
    `printf '\\036%sR%s %s\\036\\n' ${options.readyToken} "$$" "$__opsmate_flavor"`,
  );
  return lines.join('\n') + '\n';
}

/**
 * The one line that runs one command. The command runs in a subshell with stdin from /dev/null, its own
 * stderr, the state descriptor, and nothing else of the session's. The session shell's own
 * stderr is /dev/null while it waits, so job notices (`Killed ...`) never reach the output.
 */
export function commandLine(options: {
  command: string;
  token: string;
  stateToken: string;
  flavor: ShellFlavor;
  /** Pids of background processes earlier commands left running, checked again at the end. */
  backgroundPids?: readonly number[];
}): string {
  const fd = STATE_FD[options.flavor];
  const quiet = '{ set +x; } 2>/dev/null';
  const run = `eval ${shellQuote(options.command)}`;
  const pids = (options.backgroundPids ?? []).filter((pid) => Number.isInteger(pid) && pid > 0);
  const subshell = [
    // Closed here rather than by a `8>&-` on the subshell, which dash 0.5.12 mishandles (the
    // `2>&8` before it is then lost).
    'exec 8>&-',
    `__opsmate_st=${options.stateToken}`,
    ...(pids.length > 0 ? [`__opsmate_bg='${pids.join(' ')}'`] : []),
    `trap '${quiet}; __opsmate_state' EXIT`,
    run,
    '__opsmate_s=$?',
    quiet,
    '__opsmate_state',
    'exit "$__opsmate_s"',
  ].join('; ');
  // The status is taken inside the group: dash 0.5.12 drops the redirections of a subshell that
  // is the last command of a group.
  return `{ ( ${subshell} ) 2>&8 ${fd}>&1 </dev/null; __opsmate_status=$?; } 8>&2 2>/dev/null; __opsmate_end ${options.token} "$__opsmate_status"\n`;
}

/**
 * A POSIX sh script that stops, then kills, every descendant of process $1 (not $1 itself): it
 * sends SIGSTOP to each descendant it finds and looks again until no new one appears (a stopped
 * process cannot fork or run its next statement), then SIGKILL to all of them. Nothing of the
 * command runs after the first pass, not a trap, not the next statement of a list or loop. Reads
 * /proc where it exists, `ps` elsewhere. Run it beside the session shell, never inside it.
 */
export const STOP_DESCENDANTS_SCRIPT = `root=$1
table() {
  if [ -r /proc/self/stat ]; then
    for f in /proc/[0-9]*/stat; do read -r line < "$f" 2>/dev/null || continue; pid=\${f#/proc/}; pid=\${pid%/stat}; rest=\${line##*) }; set -- $rest; echo "$pid $2"; done 2>/dev/null
  else
    ps -A -o pid= -o ppid=
  fi
}
stopped=' '; round=0
while [ $round -lt 50 ]; do
  round=$((round + 1))
  rows=$(table)
  found=; todo=$root
  while [ -n "$todo" ]; do
    next=$(printf '%s\\n' "$rows" | while read -r pid ppid; do for p in $todo; do [ "$ppid" = "$p" ] && echo "$pid"; done; done)
    next=$(echo $next)
    found="$found $next"; todo=$next
  done
  new=
  for p in $found; do case $stopped in *" $p "*) ;; *) new="$new $p"; stopped="$stopped$p ";; esac; done
  [ -z "$new" ] && break
  kill -s STOP $new 2>/dev/null
done
[ -n "\${stopped# }" ] && kill -s KILL $stopped 2>/dev/null
echo "stopped:$stopped"
exit 0`;

/** Prints the state letter of process $1 (`R`, `S`, `T` for stopped...), or nothing when gone. */
export const PROCESS_STATE_SCRIPT = `if [ -r "/proc/$1/stat" ]; then read -r line < "/proc/$1/stat" && rest=\${line##*) } && echo "\${rest%% *}"; else ps -o stat= -p "$1" 2>/dev/null | cut -c1; fi
exit 0`;
