import { isShellVariableName, shellQuote } from './shell-quote.js';

/*
 * The protocol between a ShellSession and the shell it drives. Everything here is plain POSIX sh,
 * so it works with bash, dash and busybox ash.
 *
 * Framing: after each command the shell prints, on stdout,
 *   RS TOKEN '>' EXIT_STATUS US KIND US PWD US <output of `export -p`> RS TOKEN '<' LF
 * and on stderr RS TOKEN '<' LF. RS is byte 0x1e, US 0x1f; TOKEN is random for every command and
 * never appears in the text the shell reads, so no output can fake the end of a command.
 * KIND is `done`, or `exit` when the EXIT trap printed the trailer because the shell is ending.
 */

export const RECORD_SEPARATOR = 0x1e;
export const UNIT_SEPARATOR = '\x1f';

const TRAILER_FUNCTION = '__opsmate_trailer';
const TOKEN_VARIABLE = '__opsmate_token';

/** Script sent once when a shell starts: framing helpers, environment, working directory. */
export function initScript(options: {
  readyToken: string;
  env: Record<string, string>;
  cwd?: string;
  /**
   * The user chose `cwd`: a missing folder ends the shell with the shell's own message. Otherwise
   * (restoring a replaced shell) a folder that vanished falls back to the home folder.
   */
  cwdMustExist?: boolean;
  /** `export -p` output captured from the previous shell, replayed to restore exported variables. */
  restoreExports?: string;
}): string {
  const lines = [
    `${TRAILER_FUNCTION}() { printf '\\036%s>%s\\037%s\\037%s\\037' "$${TOKEN_VARIABLE}" "$1" "$2" "$PWD"; export -p; printf '\\036%s<\\n' "$${TOKEN_VARIABLE}"; printf '\\036%s<\\n' "$${TOKEN_VARIABLE}" >&2; }`,
    `trap '${TRAILER_FUNCTION} $? exit' EXIT`,
  ];
  if (options.restoreExports) {
    lines.push(`command eval ${shellQuote(filterExports(options.restoreExports))} 2>/dev/null`);
  }
  for (const [name, value] of Object.entries(options.env)) {
    if (!isShellVariableName(name)) throw new TypeError(`invalid environment variable name: ${name}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  if (options.cwd && options.cwdMustExist) lines.push(`cd -- ${shellQuote(options.cwd)} || exit 97`);
  else if (options.cwd) lines.push(`cd -- ${shellQuote(options.cwd)} 2>/dev/null || cd`);
  lines.push(`printf '\\036%s %s\\036\\n' ${options.readyToken} "$$"`);
  return lines.join('\n') + '\n';
}

/** The single line that runs one command: stdin from /dev/null, then the trailer. */
export function commandLine(command: string, token: string): string {
  return `${TOKEN_VARIABLE}=${token}; command eval ${shellQuote(command)} </dev/null; ${TRAILER_FUNCTION} $? done\n`;
}

const SKIPPED_EXPORTS = new Set(['PWD', 'OLDPWD', 'SHLVL', '_', 'SSH_CLIENT', 'SSH_CONNECTION', 'SSH_TTY']);

/** Drops variables that describe the dead shell rather than the user's state. */
function filterExports(exportText: string): string {
  const statements: string[] = [];
  for (const line of exportText.split('\n')) {
    const match = /^(?:declare -[-a-zA-Z]+|export(?: -[a-z]+)?) ([A-Za-z_][A-Za-z0-9_]*)/.exec(line);
    if (match) statements.push(line);
    else if (statements.length > 0) statements[statements.length - 1] += `\n${line}`;
  }
  return statements
    .filter((statement) => {
      const name = /^(?:declare -[-a-zA-Z]+|export(?: -[a-z]+)?) ([A-Za-z_][A-Za-z0-9_]*)/.exec(
        statement,
      )?.[1];
      return name !== undefined && !SKIPPED_EXPORTS.has(name);
    })
    .join('\n');
}

/**
 * A POSIX sh script that sends signal $2 to every descendant of process $1 (not to $1 itself).
 * Reads /proc where it exists, `ps` elsewhere. Run it out of band: beside the busy shell, never
 * inside it.
 */
export const KILL_DESCENDANTS_SCRIPT = `root=$1; sig=$2
if [ -r /proc/1/stat ]; then
  table=$(for f in /proc/[0-9]*/stat; do read -r line < "$f" 2>/dev/null || continue; pid=\${f#/proc/}; pid=\${pid%/stat}; rest=\${line##*) }; set -- $rest; echo "$pid $2"; done 2>/dev/null)
else
  table=$(ps -A -o pid= -o ppid=)
fi
found=; todo=$root
while [ -n "$todo" ]; do
  next=$(printf '%s\\n' "$table" | { n=; while read -r pid ppid; do for p in $todo; do [ "$ppid" = "$p" ] && n="$n $pid"; done; done; echo $n; })
  found="$found $next"; todo=$next
done
[ -n "\${found# }" ] && kill -s "$sig" $found 2>/dev/null
exit 0`;
