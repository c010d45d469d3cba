import { randomBytes } from 'node:crypto';
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

/**
 * The helpers a command's shell needs (the session shell uses them too, for its own first state
 * frame). `__opsmate_pp` is the pid whose stdout and stderr are the session's: the session shell
 * itself at start, the command shell's parent afterwards.
 */
function helperFunctions(flavor: ShellFlavor): string[] {
  const fd = STATE_FD[flavor];
  const dump = flavor === 'bash' ? 'declare -p' : "export -p; printf '\\037'; set";
  // Background processes that can still print into the session's output: this command's jobs;
  // with `__opsmate_scan` (the command used `&`), every process carrying this session's marker in
  // its environment (grep -z: the file is NUL-separated), which finds jobs whose parent exited
  // (`(cmd &)`); and those of earlier
  // commands (`__opsmate_bg`) still alive. Only those holding the session's stdout or stderr
  // count (Linux can tell; elsewhere every live one does). Checked again by the next command.
  const jobs = [
    '[ -z "${!-}" ] || { jobs >/dev/null 2>&1; jobs -p; }',
    '[ -z "${__opsmate_scan-}" ] || for __opsmate_p in $(grep -zlsF -- "__OPSMATE_RUN=${__OPSMATE_RUN%-*}-" /proc/[0-9]*/environ 2>/dev/null); do __opsmate_p=${__opsmate_p#/proc/}; __opsmate_p=${__opsmate_p%/environ}; [ "$__opsmate_p" = $$ ] || { __opsmate_holds "$__opsmate_p" && echo "$__opsmate_p"; }; done',
    'for __opsmate_p in ${__opsmate_bg-}; do kill -0 "$__opsmate_p" 2>/dev/null && __opsmate_holds "$__opsmate_p" && echo "$__opsmate_p"; done',
  ].join('; ');
  // Write only where it is still the session's stdout (Linux can tell; elsewhere trust it).
  const ours = `{ [ ! -e "/proc/$__opsmate_pp/fd/1" ] || [ "/proc/self/fd/${fd}" -ef "/proc/$__opsmate_pp/fd/1" ]; }`;
  // The directory as the kernel has it: PWD is only a variable (`PWD=/etc` changes nothing), and
  // it names nothing once the directory is deleted (then it is reported empty).
  const cwd = '[ "${PWD-}" -ef . ] || { PWD=$(pwd -P 2>/dev/null) || PWD=; }';
  return [
    '__opsmate_holds() { [ -e "/proc/$__opsmate_pp/fd/1" ] || return 0; for __opsmate_f in 1 2; do [ "/proc/$1/fd/$__opsmate_f" -ef "/proc/$__opsmate_pp/fd/1" ] || [ "/proc/$1/fd/$__opsmate_f" -ef "/proc/$__opsmate_pp/fd/8" ] && return 0; done; return 1; }',
    // FUNCNEST set by the command must not stop the helpers calling each other (it is restored
    // for the dump).
    `__opsmate_state() { [ -z "\${__opsmate_reported-}" ] || return 0; __opsmate_reported=1; ${ours} || return 0; __opsmate_fn=\${FUNCNEST+set}; __opsmate_fv=\${FUNCNEST-}; unset FUNCNEST; ${cwd}; { printf '\\036%sS' "$__opsmate_st"; ${jobs}; printf '\\037'; [ -z "$__opsmate_fn" ] || FUNCNEST=$__opsmate_fv; ${dump}; printf '\\036%sE\\n' "$__opsmate_st"; } 2>/dev/null >&${fd}; }`,
  ];
}

/** Script the session shell runs once at start: helpers, environment, cwd, ready frame and state. */
export function initScript(options: {
  readyToken: string;
  baseStateToken: string;
  env: Record<string, string>;
  cwd?: string;
  /** The user chose `cwd`: a missing folder ends the shell with the shell's own message. */
  cwdMustExist?: boolean;
  /** Start a deadline watcher with each command shell started ahead (see deadlineLauncher). */
  watchDeadlines?: boolean;
}): string {
  const lines = [
    'exec 2>&3 3>&-',
    // The program to run each command's shell with: this one (the supervisor started it as $0).
    'case $0 in /*) __opsmate_self=$0 ;; *) __opsmate_self=$(command -v -- "$0" 2>/dev/null) || __opsmate_self=$0 ;; esac',
    '__opsmate_pp=$$',
    // Files a non-interactive shell would source at every start: not for the commands' shells.
    'unset BASH_ENV ENV',
    `__opsmate_dlw=${shellQuote(DEADLINE_WATCH_SCRIPT)}`,
    `__opsmate_end() { printf '\\036%s>%s\\036\\n' "$1" "$2"; printf '\\036%s<\\036\\n' "$1" >&2; }`,
    'if [ -n "${BASH_VERSION-}" ]; then',
    ...helperFunctions('bash'),
    '__opsmate_flavor=bash',
    // bash 4.2 and later read a counted block in one go (`read -N`): there each command's shell is
    // started ahead of its command, waiting for its script (see prestartedCommandInput).
    'case $BASH_VERSION in [5-9]*|4.[2-9]*) __opsmate_pre=1 ;; *) __opsmate_pre=- ;; esac',
    `__opsmate_recv=${shellQuote(receiverScript())}`,
    // The session shell's loop there: it reads nothing but `MARKER TOKEN` lines (anything else ends
    // it), starts the next command's shell with each and, when that shell ended, prints the exit
    // frame with the token. The token stays in the session shell's memory (a variable of its own,
    // not exported): the command's shell was exec'd, so it holds none of that memory.
    // Through eval: the process substitution in it is bash syntax, and dash and ash parse this
    // whole branch.
    `eval ${shellQuote(loopDefinition(options.watchDeadlines ?? false))}`,
    'else',
    ...helperFunctions('posix'),
    '__opsmate_flavor=posix',
    '__opsmate_pre=-',
    'fi',
    // How a command's shell reads its script: from an inherited descriptor by path where the
    // system names descriptors, else from the environment.
    'if [ -e /dev/fd/0 ]; then __opsmate_fds=/dev/fd; elif [ -e /proc/self/fd/0 ]; then __opsmate_fds=/proc/self/fd; else __opsmate_fds=-; fi',
  ];
  for (const [name, value] of Object.entries(options.env)) {
    if (!isShellVariableName(name)) throw new TypeError(`invalid environment variable name: ${name}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  if (options.cwd && options.cwdMustExist) lines.push(`cd -- ${shellQuote(options.cwd)} || exit 97`);
  else if (options.cwd) lines.push(`cd -- ${shellQuote(options.cwd)} 2>/dev/null`);
  lines.push(
    `__opsmate_st=${options.baseStateToken}`,
    // In a subshell: after a redirected function call, dash 0.5.12 no longer restores that
    // descriptor around later `{ ...; } N>&-` groups.
    `if [ "$__opsmate_flavor" = bash ]; then eval '__opsmate_state ${STATE_FD.bash}>&1'; else ( __opsmate_state ) ${STATE_FD.posix}>&1; fi`,
    'unset __opsmate_st __opsmate_reported',
    `printf '\\036%sR%s %s %s %s\\036\\n' ${options.readyToken} "$$" "$__opsmate_flavor" "$__opsmate_fds" "$__opsmate_pre"`,
    `[ "$__opsmate_pre" != 1 ] || __opsmate_loop`,
  );
  return lines.join('\n') + '\n';
}

/** The session shell's loop under bash 4.2+: see initScript. */
function loopDefinition(watchDeadlines: boolean): string {
  return `__opsmate_loop() { while IFS=' ' read -r __opsmate_m __opsmate_t __opsmate_x; do case $__opsmate_m in ''|*[!0-9a-f.-]*) exit 98 ;; esac; case $__opsmate_t in OPSMATE*) ;; *) exit 98 ;; esac; [ -z "$__opsmate_x" ] || exit 98; ${watchDeadlines ? `exec ${deadlineWatcherRedirection()}; ` : ''}{ __OPSMATE_RUN=$__opsmate_m "$__opsmate_self" -c "$__opsmate_recv" "$__opsmate_self" 2>&8 ${STATE_FD.bash}>&1; __opsmate_status=$?; } 8>&2 2>/dev/null; ${watchDeadlines ? `exec ${DEADLINE_FD}>&-; ` : ''}__opsmate_end "$__opsmate_t" "$__opsmate_status"; done; exit 0; }`;
}

/**
 * What a command's shell started ahead (bash 4.2+) runs while it waits: it reads a byte count
 * and then exactly that many bytes from the session's stdin, its script (see
 * prestartedCommandInput). `read -N` reads a pipe in blocks but never past the count, and counts
 * bytes in the C locale; the command's own locale is restored before it runs. A short or
 * malformed script (the session's stdin closed) runs nothing. Before the command runs, its stdin
 * becomes /dev/null, and nothing more is written to the session's stdin until it has ended.
 */
function receiverScript(): string {
  return [
    'exec 8>&-',
    '__opsmate_pp=$PPID',
    ...helperFunctions('bash'),
    '__opsmate_l=${LC_ALL-}; __opsmate_ls=${LC_ALL+1}; LC_ALL=C',
    'IFS= read -r __opsmate_n || exit 1',
    "case $__opsmate_n in ''|*[!0-9]*) exit 1 ;; esac",
    'IFS= read -r -N "$__opsmate_n" __opsmate_script || exit 1',
    '[ "${#__opsmate_script}" = "$__opsmate_n" ] || exit 1',
    'if [ -n "$__opsmate_ls" ]; then LC_ALL=$__opsmate_l; else unset LC_ALL; fi',
    'unset __opsmate_l __opsmate_ls __opsmate_n',
    'exec </dev/null',
    'eval "$__opsmate_script"',
  ].join('\n');
}

/**
 * The line that has the session shell start the next command's shell ahead (bash 4.2+; see
 * `__opsmate_loop`), sent between commands: that shell, with `runMarker` in its environment,
 * waits for its script; `token` is the one of its exit frame.
 */
export function prestartLine(options: { runMarker: string; token: string }): string {
  if (!/^[0-9a-f.-]+$/.test(options.runMarker) || !/^OPSMATE[0-9a-f]+$/.test(options.token)) {
    throw new TypeError('invalid run marker or token');
  }
  return `${options.runMarker} ${options.token}\n`;
}

/**
 * The input that runs one command on a shell whose command shell was started ahead (bash 4.2+):
 * that shell, exec'd by the session shell before this command was known and so holding no copy
 * of its memory, is waiting on the session's stdin for its script, counted; the session shell
 * waits for it to end, then prints the exit frame. The directory is entered by the command's
 * shell itself, before the command: it says whether it could in a frame of the state token
 * printed before the command runs, so only the first such frame counts (a command can print one
 * too, but never before its own start).
 */
export function prestartedCommandInput(options: {
  command: string;
  stateToken: string;
  variables: string;
  cd?: string;
  scanMarkers?: boolean;
  backgroundPids?: readonly number[];
  /** Stop the command on the target itself after this many milliseconds (see deadlineLauncher). */
  deadlineMs?: number;
}): { input: string; script: string } {
  const enter =
    options.cd === undefined
      ? []
      : [
          `cd -- ${shellQuote(options.cd)} 2>/dev/null || { printf '\\036%sCN\\036\\n' "$__opsmate_st"; exit 0; }`,
          `printf '\\036%sCG\\036\\n' "$__opsmate_st"`,
        ];
  const script = commandScript({
    head: [`__opsmate_st=${options.stateToken}`, ...enter],
    command: options.command,
    variables: options.variables,
    ...(options.backgroundPids ? { backgroundPids: options.backgroundPids } : {}),
    ...(options.scanMarkers ? { scanMarkers: true } : {}),
    deadline: options.deadlineMs !== undefined ? { ms: options.deadlineMs } : {},
  });
  return { input: `${Buffer.byteLength(script, 'latin1')}\n${script}`, script };
}

/** The script a command's shell runs: the given head, the carried state, the command, its state frame. */
function commandScript(options: {
  head: string[];
  command: string;
  variables: string;
  scanMarkers?: boolean;
  backgroundPids?: readonly number[];
  deadline?: InBandDeadline;
}): string {
  const quiet = '{ set +x; } 2>/dev/null';
  const pids = (options.backgroundPids ?? []).filter((pid) => Number.isInteger(pid) && pid > 0);
  // Everything before the command on its first line, so the shell's messages count the
  // command's own lines ("line 1: foo: not found").
  const prelude = [
    ...options.head,
    ...(options.deadline ? [deadlineLauncher(options.deadline)] : []),
    ...(options.variables ? [options.variables] : []),
    ...(pids.length > 0 ? [`__opsmate_bg='${pids.join(' ')}'`] : []),
    ...(options.scanMarkers ? ['__opsmate_scan=1'] : []),
    `trap '${quiet}; __opsmate_state' EXIT`,
  ].join('; ');
  return [
    `${prelude}; eval ${shellQuote(options.command)}`,
    '__opsmate_s=$?',
    quiet,
    '__opsmate_state',
    'exit "$__opsmate_s"',
  ].join('\n');
}

/** How the session shell hands a long script to the command's shell (from the ready frame). */
export type ScriptPassing = { kind: 'descriptor'; directory: string } | { kind: 'environment' };

/**
 * Scripts up to this size go through the environment (Linux caps one string at 128 KiB); longer
 * ones through a here-document on a descriptor, where the target names descriptors.
 */
export const MAX_ENVIRONMENT_SCRIPT_BYTES = 120 * 1024;

/**
 * The input that runs one command: one line for the session shell (plus, for a long command, a
 * here-document holding the command's script). The session shell forks and at once execs a new
 * shell of the same program for the command, so the command's process holds no copy of the
 * session shell's memory, where the exit frame's token is. That shell gets stdin from
 * /dev/null, its own stderr, the state descriptor, and nothing else of the session's. The session
 * shell's own stderr is /dev/null while it waits, so job notices (`Killed ...`) never reach the
 * output. Throws a RangeError when the script cannot be passed at all.
 */
export function commandInput(options: {
  command: string;
  token: string;
  stateToken: string;
  flavor: ShellFlavor;
  passing: ScriptPassing;
  /**
   * Shell text that gives the command's shell the carried variables (`export A='...'; unset B;
   * c='...'`): they are set there, never in the session shell, so no variable can change how the
   * session shell itself behaves.
   */
  variables: string;
  /** A directory the session shell enters first; when it cannot, the command is not run. */
  cd?: string;
  /** Put in the command's environment, so that its processes can be found wherever they went. */
  runMarker: string;
  /** Look for background processes by `runMarker` at the end (the command used `&`). */
  scanMarkers?: boolean;
  /** Pids of background processes earlier commands left running, checked again at the end. */
  backgroundPids?: readonly number[];
  /** Stop the command on the target itself after this many milliseconds (see deadlineLauncher). */
  deadlineMs?: number;
}): { line: string; script: string } {
  const fd = STATE_FD[options.flavor];
  const script = commandScript({
    head: [
      'exec 8>&-',
      '__opsmate_pp=$PPID',
      `__opsmate_st=${options.stateToken}`,
      ...helperFunctions(options.flavor),
    ],
    command: options.command,
    variables: options.variables,
    ...(options.backgroundPids ? { backgroundPids: options.backgroundPids } : {}),
    ...(options.scanMarkers ? { scanMarkers: true } : {}),
  });
  // In a subshell that execs it: dash and ash print a killed job's notice while that job's own
  // redirections are in place, and the subshell's (applied in the child) are not the session's.
  // The status is taken inside the group: dash 0.5.12 drops the redirections of a command that
  // is the last of a group.
  // $0 of the command: the shell's path, as in the session shell (the ssh runtime asks for it).
  const name = '"$__opsmate_self"';
  const marker = `__OPSMATE_RUN=${shellQuote(options.runMarker)}`;
  let run: string;
  let env = marker;
  let heredoc = '';
  let redirect = '';
  if (Buffer.byteLength(script, 'latin1') <= MAX_ENVIRONMENT_SCRIPT_BYTES) {
    run = '__opsmate_script=$__OPSMATE_SCRIPT; unset __OPSMATE_SCRIPT; eval "$__opsmate_script"';
    env = `${marker} __OPSMATE_SCRIPT=${shellQuote(script)}`;
  } else {
    if (options.passing.kind !== 'descriptor') {
      throw new RangeError(
        `the command is too long for this target (over ${MAX_ENVIRONMENT_SCRIPT_BYTES} bytes, and it has no /dev/fd)`,
      );
    }
    // A long script: read whole from a here-document on descriptor 6, then run like the others.
    const read =
      options.flavor === 'bash'
        ? `IFS= read -r -d '' __opsmate_script <&6`
        : `__opsmate_script=; while IFS= read -r __opsmate_l || [ -n "$__opsmate_l" ]; do __opsmate_script="$__opsmate_script$__opsmate_l\n"; done <&6`;
    run = `${read}; exec 6<&-; eval "$__opsmate_script"`;
    const lines = new Set(script.split('\n'));
    let delimiter = `OPSMATE_SCRIPT_END_${randomBytes(8).toString('hex')}`;
    while (lines.has(delimiter)) delimiter = `OPSMATE_SCRIPT_END_${randomBytes(8).toString('hex')}`;
    redirect = ` 6<<'${delimiter}'`;
    heredoc = `${script}\n${delimiter}\n`;
  }
  const watch =
    options.deadlineMs === undefined
      ? ''
      : `${spawnedWatcher({ runMarker: options.runMarker, ms: options.deadlineMs, stateFd: fd })} `;
  const group = `{ ( ${watch}${env} exec "$__opsmate_self" -c ${shellQuote(run)} ${name} )${redirect} 2>&8 ${fd}>&1 </dev/null; __opsmate_status=$?; } 8>&2 2>/dev/null`;
  const body =
    options.cd === undefined
      ? group
      : `if cd -- ${shellQuote(options.cd)} 2>/dev/null; then ${group}; else __opsmate_status=nocwd; fi`;
  return { line: `${body}; __opsmate_end ${options.token} "$__opsmate_status"\n${heredoc}`, script };
}

/**
 * A POSIX sh script that stops, then kills, a command's processes: every descendant of process
 * $1 (not $1 itself) and every process whose environment carries `__OPSMATE_RUN=$2` (the command's
 * marker, which finds jobs whose parent exited and were re-parented to init). Each is sent SIGSTOP
 * before its children are looked up, and the search repeats until nothing new appears, so nothing
 * of the command runs after the first pass, not a trap, not the next statement of a list or
 * loop; then SIGKILL to all of them. Children are read from /proc/PID/task/TID/children where the
 * kernel has them (time grows with the command's processes, not the host's), else from every
 * /proc/PID/stat (read whole: a name may hold a newline), else `ps`. A `sudo`, `doas`, `su`,
 * `run0` or `pkexec` among them is sent SIGTERM first, which it passes on to a command running as
 * another user that opsmate cannot signal itself; where the user may run `sudo -n` (no password),
 * such processes are stopped and killed through it, since they are the command's own. Prints
 * `stopped: PIDS`, and `unstoppable:` with the processes still alive that refused the signals. Run it beside the session shell, never in it.
 */
export const STOP_DESCENDANTS_SCRIPT = `root=$1; mark=$2; spare=\${3-}
have_children=; [ -r "/proc/$root/task/$root/children" ] && have_children=1
table() {
  if [ -r /proc/self/stat ]; then
    for f in /proc/[0-9]*/stat; do
      line=; while IFS= read -r part || [ -n "$part" ]; do line="$line $part"; done < "$f" 2>/dev/null
      [ -n "$line" ] || continue
      pid=\${f#/proc/}; pid=\${pid%/stat}; rest=\${line##*) }; set -- $rest; echo "$pid $2"
    done 2>/dev/null
  else
    ps -A -o pid= -o ppid=
  fi
}
stopped=' '; refused=' '; elevated=' '; can_sudo=
# Prints the state letter of process $1 (T stopped, Z dead), or nothing when it is gone.
state_of() {
  [ -r /proc/self/stat ] || { ps -o stat= -p "$1" 2>/dev/null | cut -c1; return 0; }
  line=; while IFS= read -r part || [ -n "$part" ]; do line="$line $part"; done < "/proc/$1/stat" 2>/dev/null
  [ -n "$line" ] || return 0; rest=\${line##*) }; echo "\${rest%% *}"
}
# Processes that refuse our signals run as another user, usually root through sudo: where this user
# may run sudo without a password, they are the command's own and are stopped through \`sudo -n\`.
elevate() {
  [ -n "$can_sudo" ] || { can_sudo=no; [ "$(id -u 2>/dev/null)" != 0 ] && sudo -n true 2>/dev/null </dev/null && can_sudo=yes; }
  [ "$can_sudo" = yes ] || return 1
  sudo -n kill -s "$1" $2 2>/dev/null </dev/null
  return 0
}
# Stops every process of $queue and, breadth first, everything below it.
# From the root ($1 = tree) a process stopped in an earlier round is walked again: SIGSTOP takes
# effect a moment after kill returns, and a child forked in that moment is found only by reading
# its parent's children again; a tree meets no process twice. The marker's list holds parents and
# children alike, so there a process already stopped is passed over.
stop_tree() {
  mode=$1
  while [ -n "$queue" ]; do
    set -- $queue; queue=; level=; denied=
    for p; do
      [ "$p" != "$spare" ] || continue
      case $stopped in
        *" $p "*) [ "$mode" = tree ] && level="$level $p"; continue;;
      esac
      level="$level $p"
      stopped="$stopped$p "
      kill -s STOP "$p" 2>/dev/null || denied="$denied $p"
    done
    if [ -n "$denied" ]; then
      if elevate STOP "$denied"; then elevated="$elevated$denied "; else refused="$refused$denied "; fi
    fi
    for p in $level; do
      if [ -n "$have_children" ]; then
        for t in /proc/$p/task/*/children; do kids=; read -r kids < "$t" 2>/dev/null; queue="$queue $kids"; done
      else
        queue="$queue $(printf '%s\\n' "$rows" | while read -r pid ppid; do [ "$ppid" = "$p" ] && echo "$pid"; done)"
      fi
    done
  done
}
round=0
while [ $round -lt 20 ]; do
  round=$((round + 1)); before=$stopped
  [ -n "$have_children" ] || rows=$(table)
  queue=
  if [ -n "$have_children" ]; then
    for t in /proc/$root/task/*/children; do kids=; read -r kids < "$t" 2>/dev/null; queue="$queue $kids"; done
  else
    queue=$(printf '%s\\n' "$rows" | while read -r pid ppid; do [ "$ppid" = "$root" ] && echo "$pid"; done)
  fi
  stop_tree tree
  if [ -n "$mark" ] && [ -r /proc/self/environ ]; then
    queue=$(grep -zlsF -- "__OPSMATE_RUN=$mark" /proc/[0-9]*/environ 2>/dev/null | sed 's,^/proc/,,; s,/environ$,,')
    stop_tree marker
  fi
  [ "$stopped" = "$before" ] && break
done
relayed=
for p in $stopped; do
  comm=; read -r comm < "/proc/$p/comm" 2>/dev/null
  case $comm in sudo|doas|su|run0|pkexec) kill -s CONT "$p" 2>/dev/null; kill -s TERM "$p" 2>/dev/null; relayed=1;; esac
done
[ -z "$relayed" ] || sleep 0.3 2>/dev/null || sleep 1
[ -n "\${stopped# }" ] && kill -s KILL $stopped 2>/dev/null
[ -z "\${elevated# }" ] || elevate KILL "$elevated"
echo "stopped:$stopped"
# A process killed through sudo is gone a moment later; one that is still there was not stopped.
n=0
while [ -n "\${elevated# }" ] && [ $n -lt 10 ]; do
  alive=
  for p in $elevated; do case $(state_of "$p") in Z|'') ;; *) alive=1;; esac; done
  [ -n "$alive" ] || break
  n=$((n + 1)); sleep 0.1 2>/dev/null || break
done
left=
for p in $refused $elevated; do
  case $(state_of "$p") in Z|'') continue;; esac
  comm=; read -r comm < "/proc/$p/comm" 2>/dev/null; left="$left $p:\${comm:-?}"
done
[ -z "$left" ] || echo "unstoppable:$left"
exit 0`;

/** A command's deadline kept on the target: see {@link deadlineLauncher}. */
interface InBandDeadline {
  /** Milliseconds from the command's start; none: no deadline (the watcher started ahead is told). */
  ms?: number;
}

/**
 * The watcher of one command's deadline, a POSIX sh script run on the target: `$1` the command's
 * run marker, then the command's shell and the milliseconds, as `$2` and `$3` or as one line on
 * its stdin (`PID MS`; nothing there means no deadline). It waits a second at a time while that
 * shell lives (the same process: pid and start time, where /proc tells) and exits once it is gone:
 * read from its pipe, it learns that at once (the session shell closes the pipe when the command's
 * shell ended); otherwise within a second. So it never touches what a finished command left
 * running. If the shell is still there at the deadline, it stops it and everything of the
 * command as the side channel would ({@link STOP_DESCENDANTS_SCRIPT}, from that shell and by the
 * marker), then kills it.
 */
const DEADLINE_WATCH_SCRIPT = `mark=$1
unset __OPSMATE_DL
piped=
if [ $# -ge 3 ]; then cmd=$2; left=$3; else IFS=' ' read -r cmd left || exit 0; [ -z "\${BASH_VERSION-}" ] || piped=1; fi
case "$cmd" in ''|*[!0-9]*|0|1) exit 0;; esac
case "$left" in ''|*[!0-9]*) exit 0;; esac
case "$mark" in ''|*[!0-9a-f.-]*) exit 0;; esac
# Waits $1 seconds; fails once the command has ended. Read from the pipe, that is as soon as the
# session shell closes it (the command's shell has ended): no process is started for the wait.
nap() {
  if [ -n "$piped" ]; then read -r -t "$1" _; [ $? -gt 128 ]; return; fi
  sleep "$1" 2>/dev/null || sleep 1
}
ident() {
  id=
  if [ -r /proc/self/stat ]; then
    line=; while IFS= read -r part || [ -n "$part" ]; do line="$line $part"; done < "/proc/$cmd/stat" 2>/dev/null
    [ -n "$line" ] || return 0; rest=\${line##*) }; set -- $rest; [ "$1" = Z ] || id=\${20}
  else kill -0 "$cmd" 2>/dev/null && id=alive; fi
}
ident; first=$id; [ -n "$first" ] || exit 0
while [ "$left" -gt 1000 ]; do nap 1 || exit 0; left=$((left - 1000)); ident; [ "$id" = "$first" ] || exit 0; done
f=$left; case $f in ?) f=00$f;; ??) f=0$f;; esac
if [ "$left" -ge 1000 ]; then nap 1; else nap "0.$f"; fi || exit 0
ident; [ "$id" = "$first" ] || exit 0
# Only ever the command's own shell: it carries the command's marker (where /proc tells).
if [ -r "/proc/$cmd/environ" ]; then grep -zqsF -- "__OPSMATE_RUN=$mark" "/proc/$cmd/environ" || exit 0; fi
kill -s STOP "$cmd" 2>/dev/null
me=$$
( set -- "$cmd" "$mark" "$me"
${STOP_DESCENDANTS_SCRIPT}
) >/dev/null 2>&1
kill -s KILL "$cmd" 2>/dev/null
exit 0`;

/** The descriptor on which a command shell started ahead tells its watcher the deadline. */
const DEADLINE_FD = 9;

/**
 * Shell text, run by a command shell started ahead (bash 4.2+) before its command, that gives the
 * command's deadline to its watcher ({@link DEADLINE_WATCH_SCRIPT}) on the target. A stop through
 * the side channel waits for a new connection on some transports (kubectl, gcloud, docker exec),
 * or cannot come at all when the connection to the target is lost; the watcher keeps the limit
 * there regardless. The session shell started the watcher along with this shell, ahead of the
 * command, reading from a pipe on {@link DEADLINE_FD} (see deadlineWatcherRedirection); this shell
 * writes `PID MS` there (or nothing) and closes it, so no process is started on the way to the
 * command. SIGPIPE is ignored for that write only: a watcher gone must not kill the command.
 */
function deadlineLauncher(deadline: InBandDeadline): string {
  const ms = deadline.ms === undefined ? undefined : Math.max(1, Math.ceil(deadline.ms));
  const tell =
    ms === undefined
      ? ''
      : `{ trap '' PIPE; printf '%s %s\\n' "$$" ${ms} >&${DEADLINE_FD}; trap - PIPE; } 2>/dev/null; `;
  return `${tell}exec ${DEADLINE_FD}>&-`;
}

/**
 * Under other shells (dash, busybox ash: no shell started ahead), the watcher is started by the
 * subshell that is about to exec the command's shell, in the background, and told that subshell's
 * pid (which becomes the command's shell's). The command's shell, a new program,
 * has no job of it (`$!`, `jobs` and `wait` in the command see nothing), and the watcher spares
 * itself when it stops that shell's descendants. One fork on the way to the command.
 */
function spawnedWatcher(options: { runMarker: string; ms: number; stateFd: number }): string {
  const ms = Math.max(1, Math.ceil(options.ms));
  // The subshell's own pid, read by the shell itself from /proc/self (no process started): `$$`
  // is the session shell's in a subshell, and `$PPID` in the watcher is init's once a quick
  // command has ended. No /proc: no watcher (the side channel still stops the command).
  return (
    `if [ -r /proc/self/stat ] && IFS=' ' read -r __opsmate_me __opsmate_x </proc/self/stat; then ` +
    `__OPSMATE_RUN= __OPSMATE_DL="$__opsmate_dlw" "$__opsmate_self" -c 'eval "$__OPSMATE_DL"' ` +
    `opsmate-deadline ${shellQuote(options.runMarker)} "$__opsmate_me" ${ms} </dev/null >/dev/null 2>&1 ${options.stateFd}>&- 8>&- 6<&- & fi;`
  );
}

/**
 * The redirection, by the session shell's `exec` before it starts a command's shell ahead, that
 * starts that command's watcher: a process substitution that execs it, the pipe as its stdin.
 * With `exec`, bash keeps no other descriptor of the pipe open; the session shell closes its own
 * once the command's shell has ended. The watcher is a child of the session shell, not of the
 * command's shell (so a stop from the command's shell never meets it), and a stop through the
 * side channel, which takes everything below the session shell, ends it too.
 */
function deadlineWatcherRedirection(): string {
  return (
    `${DEADLINE_FD}> >(__OPSMATE_RUN= __OPSMATE_DL=$__opsmate_dlw exec "$__opsmate_self" -c 'eval "$__OPSMATE_DL"' ` +
    `opsmate-deadline "$__opsmate_m" >/dev/null 2>&1 8>&- ${STATE_FD.bash}>&-)`
  );
}

/** Prints the state letter of process $1 (`R`, `S`, `T` for stopped...), or nothing when gone. */
export const PROCESS_STATE_SCRIPT = `if [ -r "/proc/$1/stat" ]; then
  line=; while IFS= read -r part || [ -n "$part" ]; do line="$line $part"; done < "/proc/$1/stat"
  rest=\${line##*) }; echo "\${rest%% *}"
else ps -o stat= -p "$1" 2>/dev/null | cut -c1; fi
exit 0`;
