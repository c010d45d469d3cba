import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { posix } from 'node:path';
import type { Runtime, RunResult } from '../../../runtime/contract.js';
import { shellQuote } from '../../../runtime/shell-session/shell-quote.js';

/** Default time one of the short scripts below may take on the target. */
const SCRIPT_TIMEOUT_MS = 60_000;
/** Base64 text sent per command when writing (a command is one line the shell reads whole). */
const WRITE_CHUNK_BASE64_CHARS = 128 * 1024;
/** Bytes sent per command when the target has no base64 and bytes go as printf octal escapes. */
const WRITE_CHUNK_OCTAL_BYTES = 24 * 1024;
/** Marks where data starts in a script's output; base64 and od never print `@`. */
const DATA_MARKER = '@@opsmate-data';

/** What `stat` found at a path on the target. */
export interface TargetFileStat {
  /** The path as asked for (absolute). */
  path: string;
  kind: 'file' | 'directory' | 'other' | 'missing';
  /** The path is a symbolic link (maybe dangling: `kind` is then `missing`). */
  symlink: boolean;
  /** The path with every symlink resolved, when the target can say (`readlink -f`). */
  realPath?: string;
  /** Permission bits with setuid/setgid/sticky, e.g. 0o644; absent for missing paths. */
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  readable: boolean;
  writable: boolean;
  /** For a missing path: whether its folder exists, and whether the user may create files in it. */
  parentExists?: boolean;
}

/** The programs a target has that the file tools use; found once per runtime. */
export interface TargetTools {
  base64: boolean;
  od: boolean;
  sha256sum: boolean;
  stat: boolean;
  readlink: boolean;
  head: boolean;
  find: boolean;
  grep: boolean;
  /** grep knows `-I` (skip binary files): GNU grep does, busybox does not. */
  grepSkipsBinary: boolean;
}

/** An operational failure on the target (a missing file, no permission, a timeout). */
export class TargetFileError extends Error {
  /** What the target said (stderr), for the model as untrusted data; may be empty. */
  readonly targetText: string;

  constructor(message: string, targetText = '') {
    super(message);
    this.name = 'TargetFileError';
    this.targetText = targetText;
  }
}

/** How a write ended. */
export interface WriteOutcome {
  /** SHA-256 of the file as read back after the write. */
  afterDigest: string | undefined;
  stat: TargetFileStat;
  /** The parent folders had to be created. */
  createdParents: boolean;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const toolCache = new WeakMap<Runtime, Promise<TargetTools>>();

/**
 * Reads and writes files on a runtime's target through `Runtime.run`, so it works wherever the
 * runtime's shell runs (local, ssh, docker, k8s, plugins). Bytes travel as base64 (or `od` hex
 * and printf octal escapes where the target lacks base64), collected from the raw output stream,
 * so binary content, CRLF, a missing final newline and non-UTF-8 bytes survive exactly, whatever
 * the runtime's output limit. Every script runs in a subshell of its own: it changes neither the
 * session's working directory nor its variables.
 *
 * Writes keep the file's inode, mode and owner: the new content goes to a private temporary file
 * first (next to the file, else in /tmp), is checked (size, SHA-256), and is then copied over the
 * file in place, after checking the file still has the content the change was made from.
 */
export class TargetFiles {
  readonly #runtime: Runtime;
  readonly #signal: AbortSignal | undefined;

  constructor(options: { runtime: Runtime; signal?: AbortSignal }) {
    this.#runtime = options.runtime;
    this.#signal = options.signal;
  }

  tools(): Promise<TargetTools> {
    let found = toolCache.get(this.#runtime);
    if (!found) {
      found = this.#probeTools();
      toolCache.set(this.#runtime, found);
      found.catch(() => toolCache.delete(this.#runtime));
    }
    return found;
  }

  async #probeTools(): Promise<TargetTools> {
    const names = ['base64', 'od', 'sha256sum', 'stat', 'readlink', 'head', 'find', 'grep'];
    const { text } = await this.#script(
      `( for t in ${names.join(' ')}; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done
  [ "$(printf 'YQ==' | base64 -d 2>/dev/null)" = a ] && echo base64-d
  printf 'x\\n' | grep -I x >/dev/null 2>&1 && echo grep-I
  exit 0 )`,
      'find the programs the file tools use',
    );
    const have = new Set(text.split('\n').map((line) => line.trim()));
    return {
      base64: have.has('base64') && have.has('base64-d'),
      od: have.has('od'),
      sha256sum: have.has('sha256sum'),
      stat: have.has('stat'),
      readlink: have.has('readlink'),
      head: have.has('head'),
      find: have.has('find'),
      grep: have.has('grep'),
      grepSkipsBinary: have.has('grep-I'),
    };
  }

  async stat(path: string): Promise<TargetFileStat> {
    const tools = await this.tools();
    const p = shellQuote(path);
    const parent = shellQuote(posix.dirname(path));
    const script = `( p=${p}
  [ -L "$p" ] && echo symlink=1
  if [ -d "$p" ]; then echo kind=directory
  elif [ -f "$p" ]; then echo kind=file
  elif [ -e "$p" ]; then echo kind=other
  else echo kind=missing; [ -d ${parent} ] && echo parent=1; [ -w ${parent} ] && echo writable=1; exit 0; fi
  ${tools.readlink ? `r=$(readlink -f -- "$p" 2>/dev/null) && echo "real=$r"` : ':'}
  ${tools.stat ? `s=$(stat -L -c '%a %u %g %s' -- "$p" 2>/dev/null) && echo "stat=$s" ||` : ''} echo "ls=$(ls -lnLd -- "$p" 2>/dev/null)"
  [ -r "$p" ] && echo readable=1
  [ -w "$p" ] && echo writable=1
  exit 0 )`;
    const { text } = await this.#script(script, `look at ${path}`);
    return parseStat(path, text);
  }

  /** The whole file; fails when it is larger than `maxBytes`. */
  async read(path: string, options: { maxBytes: number }): Promise<Buffer> {
    const tools = await this.tools();
    const limit = options.maxBytes + 1;
    const reader = tools.head ? `head -c ${limit} -- "$p"` : `cat -- "$p"`;
    const data = await this.#readData(path, reader, tools, `read ${path}`);
    if (data.length > options.maxBytes) {
      throw new TargetFileError(`${path} is larger than ${options.maxBytes} bytes`);
    }
    return data;
  }

  /**
   * Lines `start` to `end` (1-based, inclusive) of a file too large to read whole, with the
   * file's line count and, when the target has sha256sum, the digest of the whole file.
   */
  async readLines(
    path: string,
    options: { start: number; end: number; maxBytes: number },
  ): Promise<{ data: Buffer; totalLines: number; digest: string | undefined }> {
    const tools = await this.tools();
    const cut = tools.head ? ` | head -c ${options.maxBytes}` : '';
    const facts = `n=$(wc -l < "$p") || exit 1; echo "lines=$n"${
      tools.sha256sum ? `; set -- $(sha256sum < "$p") && echo "sha256=$1"` : ''
    }`;
    const { data, head } = await this.#readDataWithFacts(
      path,
      facts,
      `LC_ALL=C sed -n '${options.start},${options.end}p' -- "$p"${cut}`,
      tools,
      `read lines of ${path}`,
    );
    return {
      data,
      totalLines: Number(/^lines=\s*(\d+)/m.exec(head)?.[1] ?? 0),
      digest: /^sha256=([0-9a-f]{64})$/m.exec(head)?.[1],
    };
  }

  /** SHA-256 of the file computed on the target; undefined when it has no sha256sum. */
  async digest(path: string): Promise<string | undefined> {
    const tools = await this.tools();
    if (!tools.sha256sum) return undefined;
    const { text } = await this.#script(
      `( p=${shellQuote(path)}; set -- $(sha256sum < "$p") && echo "$1" )`,
      `compute the digest of ${path}`,
    );
    return /^[0-9a-f]{64}$/m.exec(text)?.[0];
  }

  /**
   * Writes `data` to `path`. `expect` guards against changes nobody has seen: `{ digest }` — the
   * file must still have exactly this content (else nothing is written); `{ absent: true }` —
   * the path must not exist (a new file; its folders are created when missing).
   */
  async write(
    path: string,
    data: Uint8Array,
    options: { expect: { digest: string } | { absent: true } },
  ): Promise<WriteOutcome> {
    const tools = await this.tools();
    if (!tools.base64 && !tools.od) {
      throw new TargetFileError('the target has neither base64 nor od, which the file tools need');
    }
    const creating = 'absent' in options.expect;
    const dir = posix.dirname(path);
    let createdParents = false;
    if (creating) {
      const made = await this.#script(
        `( d=${shellQuote(dir)}; [ -d "$d" ] && exit 0; mkdir -p -- "$d" && echo created=1 )`,
        `create the folder ${dir}`,
      );
      createdParents = made.text.includes('created=1');
    }
    const token = randomBytes(6).toString('hex');
    const made = await this.#script(
      `( umask 077
  t1=${shellQuote(`${dir === '/' ? '' : dir}/.${posix.basename(path)}.opsmate-${token}.tmp`)}
  t2="\${TMPDIR:-/tmp}/.opsmate-${token}.tmp"
  if ( set -C; : > "$t1" ) 2>/dev/null; then echo "tmp=$t1"; elif ( set -C; : > "$t2" ); then echo "tmp=$t2"; else exit 1; fi )`,
      `create a temporary file for ${path}`,
    );
    const temp = /^tmp=(.*)$/m.exec(made.text)?.[1];
    if (!temp) throw new TargetFileError(`could not create a temporary file for ${path}`, made.stderr);
    let committed = false;
    try {
      await this.#sendBytes(temp, data, tools);
      const digest = sha256Hex(data);
      if (!creating && !tools.sha256sum) {
        // No digest on the target: compare here, just before the copy.
        const current = sha256Hex(await this.read(path, { maxBytes: Number.MAX_SAFE_INTEGER }));
        if (current !== (options.expect as { digest: string }).digest) {
          throw new TargetFileError(staleMessage(path));
        }
      }
      const expectDigest = creating ? '' : (options.expect as { digest: string }).digest;
      const commit = await this.#script(
        `( p=${shellQuote(path)}; t=${shellQuote(temp)}; n=${data.length}; h=${digest}; expect=${expectDigest || "''"}
  s=$(wc -c < "$t") || { echo error=temp; exit 3; }
  [ "$s" -eq "$n" ] || { echo "error=temp-size $s"; exit 3; }
  ${tools.sha256sum ? `set -- $(sha256sum < "$t"); [ "$1" = "$h" ] || { echo error=temp-digest; exit 3; }` : ':'}
  if [ -z "$expect" ]; then
    if [ -e "$p" ] || [ -L "$p" ]; then echo error=exists; exit 3; fi
    ( set -C; cat -- "$t" > "$p" ) || { echo error=write; exit 3; }
  else
    ${tools.sha256sum ? `set -- $(sha256sum < "$p") || { echo error=read; exit 3; }; [ "$1" = "$expect" ] || { echo "error=changed $1"; exit 3; }` : ':'}
    cat -- "$t" > "$p" || { echo error=partial; exit 4; }
  fi
  echo committed=1
  rm -f -- "$t"
  exit 0 )`,
        `write ${path}`,
        { allowFailure: true },
      );
      const error = /^error=(.*)$/m.exec(commit.text)?.[1];
      if (commit.text.includes('committed=1')) committed = true;
      if (error !== undefined || !committed) {
        if (error === 'partial') {
          committed = true; // The temporary file now holds the only full copy of the new content.
          throw new TargetFileError(
            `the write to ${path} failed part way, so the file may be incomplete; the new content is in ${temp} on the target`,
            commit.stderr,
          );
        }
        if (error === 'exists') throw new TargetFileError(`${path} exists now; nothing was written`);
        if (error?.startsWith('changed')) throw new TargetFileError(staleMessage(path));
        throw new TargetFileError(
          `could not write ${path}${error && error !== 'write' ? ` (${error})` : ''}`,
          commit.stderr,
        );
      }
    } finally {
      if (!committed) await this.#removeQuietly(temp);
    }
    const afterDigest = tools.sha256sum ? await this.digest(path) : sha256Hex(data);
    return { afterDigest, stat: await this.stat(path), createdParents };
  }

  /** Removes a file, if it still has the content `expectDigest` (an undo of a create). */
  async remove(path: string, options: { expectDigest: string }): Promise<void> {
    const tools = await this.tools();
    if (!tools.sha256sum) {
      const current = sha256Hex(await this.read(path, { maxBytes: Number.MAX_SAFE_INTEGER }));
      if (current !== options.expectDigest) throw new TargetFileError(staleMessage(path));
    }
    const result = await this.#script(
      `( p=${shellQuote(path)}; expect=${options.expectDigest}
  ${tools.sha256sum ? `set -- $(sha256sum < "$p") || { echo error=read; exit 3; }; [ "$1" = "$expect" ] || { echo error=changed; exit 3; }` : ':'}
  rm -f -- "$p" || { echo error=remove; exit 3; }
  echo removed=1 )`,
      `remove ${path}`,
      { allowFailure: true },
    );
    if (result.text.includes('error=changed')) throw new TargetFileError(staleMessage(path));
    if (!result.text.includes('removed=1'))
      throw new TargetFileError(`could not remove ${path}`, result.stderr);
  }

  /** Entries below a folder, `depth` levels deep, `.git` folders not entered. */
  async list(
    path: string,
    options: { depth: number; maxEntries: number },
  ): Promise<{ entries: Array<{ path: string; directory: boolean }>; cut: boolean }> {
    const tools = await this.tools();
    if (!tools.find) throw new TargetFileError('the target has no find, which listing a folder needs');
    const limit = options.maxEntries + 1;
    const find = (test: string): string =>
      `find . -maxdepth ${options.depth} -name .git -prune -o ${test} -print 2>/dev/null | head -n ${limit}`;
    const { text, stderr } = await this.#script(
      `( cd -- ${shellQuote(path)} || exit 1
  ${find('-type d')} | sed 's/^/d /'
  ${find('! -type d')} | sed 's/^/f /'
  exit 0 )`,
      `list ${path}`,
    );
    void stderr;
    const entries: Array<{ path: string; directory: boolean }> = [];
    for (const line of text.split('\n')) {
      const match = /^([df]) \.\/(.*)$/.exec(line);
      if (match) entries.push({ path: match[2]!, directory: match[1] === 'd' });
    }
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const cut = entries.length > options.maxEntries;
    return { entries: entries.slice(0, options.maxEntries), cut };
  }

  /** grep on the target: `path:line:text` lines (and `-` context lines), at most `maxLines`. */
  async search(options: {
    path: string;
    pattern: string;
    regex: boolean;
    ignoreCase: boolean;
    contextLines: number;
    maxLines: number;
    directory: boolean;
  }): Promise<{ output: string; status: number; cut: boolean }> {
    const tools = await this.tools();
    if (!tools.grep) throw new TargetFileError('the target has no grep');
    const flags = [
      '-n',
      options.directory ? '-r' : '-H',
      options.regex ? '-E' : '-F',
      ...(options.ignoreCase ? ['-i'] : []),
      ...(options.contextLines > 0 ? ['-C', String(options.contextLines)] : []),
      ...(tools.grepSkipsBinary ? ['-I'] : []),
    ].join(' ');
    const script = `( p=${shellQuote(options.path)}; exec 3>&1
  st=$( { { LC_ALL=C grep ${flags} -e ${shellQuote(options.pattern)} -- "$p"; echo $? >&4; } | head -n ${options.maxLines + 1} | cut -c 1-1000 >&3; } 4>&1 )
  echo "${DATA_MARKER} status=$st" )`;
    const { text, stderr } = await this.#script(script, `search ${options.path}`);
    const at = text.lastIndexOf(`${DATA_MARKER} status=`);
    const status = Number(/status=(\d*)/.exec(text.slice(at))?.[1] || 0);
    if (status > 1 && text.slice(0, at).trim() === '') {
      throw new TargetFileError(`grep failed on ${options.path}`, stderr);
    }
    const lines = text.slice(0, at).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const cut = lines.length > options.maxLines;
    return { output: lines.slice(0, options.maxLines).join('\n'), status, cut };
  }

  async #sendBytes(temp: string, data: Uint8Array, tools: TargetTools): Promise<void> {
    const t = shellQuote(temp);
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (tools.base64) {
      const text = buffer.toString('base64');
      for (let offset = 0; offset < text.length; offset += WRITE_CHUNK_BASE64_CHARS) {
        const chunk = text.slice(offset, offset + WRITE_CHUNK_BASE64_CHARS);
        await this.#script(`( printf '%s' '${chunk}' | base64 -d >> ${t} )`, `send data to ${temp}`);
      }
      return;
    }
    for (let offset = 0; offset < buffer.length; offset += WRITE_CHUNK_OCTAL_BYTES) {
      let escapes = '';
      for (const byte of buffer.subarray(offset, offset + WRITE_CHUNK_OCTAL_BYTES)) {
        escapes += `\\${byte.toString(8).padStart(3, '0')}`;
      }
      await this.#script(`( printf '${escapes}' >> ${t} )`, `send data to ${temp}`);
    }
  }

  async #removeQuietly(path: string): Promise<void> {
    try {
      await this.#script(`( rm -f -- ${shellQuote(path)} )`, `remove ${path}`, { allowFailure: true });
    } catch {
      // Best effort: the temporary file is private (mode 0600) and named after opsmate.
    }
  }

  async #readData(path: string, reader: string, tools: TargetTools, what: string): Promise<Buffer> {
    return (await this.#readDataWithFacts(path, ':', reader, tools, what)).data;
  }

  /** Runs `facts` (lines of text), then `reader`'s bytes encoded; keeps the reader's exit status. */
  async #readDataWithFacts(
    path: string,
    facts: string,
    reader: string,
    tools: TargetTools,
    what: string,
  ): Promise<{ data: Buffer; head: string }> {
    if (!tools.base64 && !tools.od) {
      throw new TargetFileError('the target has neither base64 nor od, which the file tools need');
    }
    const encoder = tools.base64 ? 'base64' : 'od -An -v -tx1';
    const script = `( p=${shellQuote(path)}; ${facts}
  echo ${DATA_MARKER}; exec 3>&1
  st=$( { { ${reader}; echo $? >&4; } | ${encoder} >&3; } 4>&1 )
  exit "$st" )`;
    const { text, stderr } = await this.#script(script, what);
    const at = text.indexOf(`${DATA_MARKER}\n`);
    if (at < 0) throw new TargetFileError(`could not ${what}`, stderr);
    const encoded = text.slice(at + DATA_MARKER.length + 1);
    const data = tools.base64
      ? Buffer.from(encoded.replace(/\s+/g, ''), 'base64')
      : Buffer.from(encoded.replace(/\s+/g, ''), 'hex');
    return { data, head: text.slice(0, at) };
  }

  /**
   * Runs one script and collects its stdout in full from the raw stream (the runtime's output
   * limit cuts only what it keeps for display). Fails on a timeout, a cancel, a lost shell, or a
   * non-zero exit unless `allowFailure`.
   */
  async #script(
    script: string,
    what: string,
    options: { allowFailure?: boolean } = {},
  ): Promise<{ text: string; stderr: string; result: RunResult }> {
    const chunks: Buffer[] = [];
    const result = await this.#runtime.run(script, {
      timeoutMs: SCRIPT_TIMEOUT_MS,
      ...(this.#signal ? { signal: this.#signal } : {}),
      onOutput: (chunk) => {
        if (chunk.stream === 'stdout') chunks.push(Buffer.from(chunk.data));
      },
    });
    // The runtime spilled what its limit cut; the bytes are here already.
    for (const file of Object.values(result.spillFiles)) {
      if (file) rmSync(file, { force: true });
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (result.cancelled) throw new TargetFileError(`cancelled while trying to ${what}`);
    if (result.exitCode === null) {
      throw new TargetFileError(
        `could not ${what}: ${result.notice ?? 'the command did not finish'}`,
        result.stderr,
      );
    }
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw new TargetFileError(`could not ${what} (exit ${result.exitCode})`, result.stderr);
    }
    return { text, stderr: result.stderr.trim(), result };
  }
}

function staleMessage(path: string): string {
  return `${path} was changed on the target by someone else meanwhile; nothing was written`;
}

/** Parses the `stat` script's `key=value` lines. */
export function parseStat(path: string, text: string): TargetFileStat {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  const kind = (fields.get('kind') ?? 'missing') as TargetFileStat['kind'];
  const stat: TargetFileStat = {
    path,
    kind,
    symlink: fields.has('symlink'),
    readable: fields.has('readable'),
    writable: fields.has('writable'),
  };
  if (kind === 'missing') {
    stat.parentExists = fields.has('parent');
    return stat;
  }
  const real = fields.get('real');
  if (real) stat.realPath = real;
  const numbers = /^([0-7]+) (\d+) (\d+) (\d+)$/.exec(fields.get('stat') ?? '');
  if (numbers) {
    stat.mode = parseInt(numbers[1]!, 8);
    stat.uid = Number(numbers[2]);
    stat.gid = Number(numbers[3]);
    stat.size = Number(numbers[4]);
  } else {
    const ls = /^\S(\S{9})\S*\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)/.exec(fields.get('ls') ?? '');
    if (ls) {
      stat.mode = modeFromLs(ls[1]!);
      stat.uid = Number(ls[2]);
      stat.gid = Number(ls[3]);
      stat.size = Number(ls[4]);
    }
  }
  return stat;
}

/** `rwsr-xr-t` → 0o5755. */
export function modeFromLs(text: string): number {
  let mode = 0;
  const bit = (index: number, value: number, chars: string): void => {
    if (chars.includes(text[index] ?? '-')) mode |= value;
  };
  bit(0, 0o400, 'r');
  bit(1, 0o200, 'w');
  bit(2, 0o100, 'xs');
  bit(2, 0o4000, 'sS');
  bit(3, 0o040, 'r');
  bit(4, 0o020, 'w');
  bit(5, 0o010, 'xs');
  bit(5, 0o2000, 'sS');
  bit(6, 0o004, 'r');
  bit(7, 0o002, 'w');
  bit(8, 0o001, 'xt');
  bit(8, 0o1000, 'tT');
  return mode;
}
