/**
 * Secrets recognised by what stands next to them: the value of a secret-named variable or key
 * (env, YAML, JSON, XML, .netrc, Kubernetes env, Java properties, query strings), passwords in
 * URLs and command lines (`mysql -p`, `redis-cli -a`, `--password`, `curl -u`, `docker login -p`),
 * bearer and basic credentials, shadow hashes and SQL `IDENTIFIED BY`.
 *
 * One case-insensitive regex of plain words (`pass`, `token`, `key`, `://`, `mysql`...) finds the
 * few places worth a look; every secret name contains one of them. Only there do small anchored
 * (sticky) matchers run, each bounded, and a value once read is not read again, so the whole
 * scan is linear in the text and costs little on text with no secrets.
 */
import {
  isNameChar,
  isSpace,
  isWordChar,
  LineBounds,
  matchAt,
  type MaskScan,
  type MaskSpan,
  NextMatch,
  type Progress,
  YIELD_EVERY_CHARS,
} from './mask-scan.js';
import { isSecretNameCached } from './secret-names.js';

/**
 * The span of a value without its quotes: a masked quoted value keeps them, so
 * `"token": "[REDACTED]"` is still JSON, YAML or shell.
 */
function insideQuotes(text: string, start: number, end: number): [number, number] {
  const quote = text[start];
  if ((quote === '"' || quote === "'") && end - start > 2 && text[end - 1] === quote)
    return [start + 1, end - 1];
  return [start, end];
}

/**
 * The words that start a look, in two regexes (one of many alternatives is much slower in V8
 * than two of fewer). Every secret name holds one of `NAME_HINTS` (keep in step with
 * `isSecretName`); `OTHER_HINTS` start a command, a URL or a format.
 */
const NAME_HINTS = /pass|pwd|secret|token|key|cred|cookie|dsn|auth|sig|conn|database_url|encrypt/gi;
const OTHER_HINTS =
  /bearer|basic|mysql|mariadb|mongo|sqlcmd|redis-cli|login|identified|rabbitmqctl|:(?:\/\/|\$|aa)|code=|\s--?u/gi;

/** The longest name looked at, plus room for a `--` or `-D` in front. */
const MAX_NAME_CHARS = 128;
const MAX_RUN_CHARS = MAX_NAME_CHARS + 2;

const QUOTED_OR_BARE = String.raw`"[^"\n]{0,4096}"|'[^'\n]{0,4096}'|[^\s"',;\0]{1,4096}`;
const QUOTED = String.raw`"[^"\n]{1,4096}"|'[^'\n]{1,4096}'`;

/** `NAME=value` (bare form: up to a space, quote, comma or semicolon). */
const BARE_ASSIGNMENT = new RegExp(String.raw`=(?!=)(${QUOTED_OR_BARE})`, 'dy');
/** `NAME = value` on a line of its own: the value runs to the end of the line. */
const LINE_ASSIGNMENT = /[ \t]*=[ \t]*([^\n]{1,65536})/dy;
/** What may stand before such a name on its line. */
const LINE_PREFIX =
  /^[ \t]{0,64}(?:(?:export|declare|typeset|readonly|local|set|setx|setenv)(?:[ \t]+-[A-Za-z-]{1,8}){0,3}[ \t]+)?$/;
/** Dockerfile `ENV NAME value`. */
const DOCKERFILE_PREFIX = /^[ \t]{0,64}(?:ENV|ARG)[ \t]+$/;
const SPACE_VALUE = /[ \t]+([^\s][^\n]{0,65535})/dy;
/** `password = "x"` and Go's `password := "x"` in the middle of a line: quoted values only. */
const QUOTED_ASSIGNMENT = new RegExp(String.raw`[ \t]*:?=(?!=)[ \t]*(${QUOTED})`, 'dy');
/** YAML, JSON, Ruby and Perl hashes: `password: x`, `"secret": "x"`, `'token' => 'x'`. */
const KEY_VALUE =
  /[ \t]*(?::(?!=)|=>)(?:[ \t]*\r?\n[ \t]{0,64}(?=")|[ \t]*)("(?:[^"\\\n]|\\.){0,8192}"|'[^'\n]{0,8192}'|\$\{[^}\n]{0,256}\}|[^\s,}\]#][^\n,}\]#]{0,8192})/dy;
const BLOCK_INDICATOR_VALUE = /^[|>][-+]?\d?$/;
/** Kubernetes env in YAML: `- name: DB_PASSWORD` then `value: x`. */
const K8S_ENV_BEFORE = /-[ \t]+name:[ \t]*["']?$/;
const K8S_ENV_VALUE =
  /["']?[ \t]*\r?\n[ \t]{0,64}value:[ \t]*("(?:[^"\\\n]|\\.){0,8192}"|'[^'\n]{0,8192}'|[^\s#][^\n#]{0,8192})/dy;
/** ... and in JSON: `"name": "DB_PASSWORD", "value": "x"`. */
const K8S_JSON_BEFORE = /"name"[ \t]*:[ \t]*"$/;
const K8S_JSON_VALUE = /"[ \t]*,[ \t\r\n]{0,64}"value"[ \t]*:[ \t]*"((?:[^"\\\n]|\\.){1,8192})"/dy;
/** XML: `<password>x</password>`, with attributes or not. */
const XML_VALUE = /(?:[ \t][^>\n]{0,256})?>([^<\n]{1,8192})<\//dy;
/** .NET config: `<add key="DbPassword" value="x"/>`. */
const XML_KEY_BEFORE = /(?:^|[^A-Za-z0-9_])key="$/i;
const XML_KEY_VALUE = /"[ \t]+value="([^"\n]{1,8192})"/diy;
/** PHP: `define('DB_PASSWORD', 'x')`. */
const DEFINE_BEFORE = /define\([ \t]*["']$/;
const DEFINE_VALUE = new RegExp(String.raw`["'][ \t]*,[ \t]*(${QUOTED})`, 'dy');
/** Docker `config.json`: `"auth": "dXNlcjpwYXNz"`. */
const JSON_STRING_VALUE = /"[ \t]*:[ \t]*"([^"\n]{1,8192})"/dy;
/** Query strings: `?token=x`, `&sig=x`. */
const QUERY_VALUE = /=([^&#\s"'<>;]{1,4096})/dy;
const QUERY_SECRET_NAMES =
  /^(?:sig|signature|x-amz-signature|x-goog-signature|x-amz-security-token|code|key|access_token|token|auth|apikey|api_key)$/i;
/** Connection strings: `SharedAccessSignature=x;`, `client_secret=x&`. */
const CONNECTION_NAMES =
  /^(?:SharedAccessSignature|PrimaryKey|SecondaryKey|sig|client_secret|access_token|refresh_token)$/i;
const CONNECTION_VALUE = /=([^;&\s"'<>]{1,4096})/dy;
/** `Authorization: Bearer x`, `Authorization="Basic x"`, nginx `proxy_set_header Authorization "Basic x"`. */
const AUTHORIZATION_VALUE =
  /(?:["']?[ \t]*[:=][ \t]*["']?|[ \t]+["']?(?=(?:Bearer|Basic|Token|Bot|Digest|Negotiate|AWS4-HMAC-SHA256)[ \t]))(?:(?:Bearer|Basic|Token|Bot|Digest|Negotiate|AWS4-HMAC-SHA256)[ \t]+)?([^\s"',;]{1,4096})/diy;
/** `--password x`, `--db-password=x`, `-storepass x`, `-passin pass:x`. */
const FLAG_NAME =
  /^--?(?:[A-Za-z0-9]+-){0,4}(?:password|passwd|pass|passphrase|token|secret|api-key|apikey|access-key|secret-key|client-secret|auth-token|auth|bearer|oauth2-bearer|storepass|keypass|srcstorepass|deststorepass|passin|passout)$/i;
const FLAG_VALUE = new RegExp(String.raw`(?:=|[ \t]+)(${QUOTED_OR_BARE})`, 'dy');
/** Values of openssl's `-passin` that name where the password is, not the password. */
const PASSWORD_SOURCE = /^["']?(?:env|file|fd|stdin)(?::|["']?$)/;
/** `-Dspring.datasource.password=x` in `ps` output. */
const PROPERTY_VALUE = new RegExp(String.raw`=(${QUOTED_OR_BARE})`, 'dy');
/** `.netrc`: `machine h login u password p`, or `password p` on its own line. */
/** What stands before `password` on a .netrc line: keyword and value pairs only. */
const NETRC_PAIRS = /^[ \t]*(?:(?:machine|login|account|port)[ \t]+\S{1,256}[ \t]+|default[ \t]+)+$/;
const NETRC_VALUE = /[ \t]+(\S{1,1024})/dy;
const NETRC_OWN_LINE_VALUE = /[ \t]+(\S{1,1024})(?=[ \t]*\r?(?:\n|$))/dy;
/** SQL: `WITH PASSWORD 'x'`, `PASSWORD "x"`. */
const SQL_PASSWORD_VALUE = /[ \t]+('[^'\n]{1,1024}'|"[^"\n]{1,1024}")/dy;
/** SQL: `IDENTIFIED BY 'x'`, `IDENTIFIED WITH plugin BY 'x'`. */
const IDENTIFIED_BY =
  /identified[ \t]+(?:with[ \t]+\S{1,64}[ \t]+)?by[ \t]+(?:password[ \t]+)?('[^'\n]{1,1024}'|"[^"\n]{1,1024}"|[^\s;'"]{1,1024})/diy;
/** redis.conf: `requirepass x`, `masterauth x`. */
const CONFIG_DIRECTIVES = new Set(['requirepass', 'masterauth', 'rpcpassword']);
/** `echo 'user:pw' | chpasswd`. */
const CHPASSWD_BEFORE = /[a-z_][a-z0-9_.-]{0,31}:([^\s'":]{1,256})["']?[ \t]*\|[ \t]*(?:sudo[ \t]+)?$/d;
/** `htpasswd -b[c] FILE USER PASSWORD`. */
const HTPASSWD_VALUE = /((?:[ \t]+-[A-Za-z]{1,8}){1,4})[ \t]+\S{1,1024}[ \t]+\S{1,256}[ \t]+(\S{1,1024})/dy;
/** `rabbitmqctl add_user USER PASSWORD`, `change_password USER PASSWORD`. */
const RABBITMQ_VALUE = /[ \t]+(?:add_user|change_password)[ \t]+\S{1,256}[ \t]+(\S{1,1024})/dy;
/** `scheme://user:password@host`. */
const URL_PASSWORD = /[^\s:/@"'<>]{0,256}:([^\s@/"'<>]{1,1024})@/dy;
/** `curl -u user:pw`, `--user user:pw`. */
const USER_FLAG_VALUE = /[ \t]+["']?[^\s:'"]{1,256}:([^\s'"]{1,1024})/dy;
/** `Bearer x`, `Token x`. */
const BEARER_VALUE = /[ \t]+([A-Za-z0-9._~+/-]{16,4096}=*)/dy;
/** `Basic dXNlcjpwYXNz` (masked when it decodes to `user:password`). */
const BASIC_VALUE = /[ \t]+([A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/=])/dy;
/** `/etc/shadow`: `user:$6$salt$hash:`. */
const SHADOW_USER = /^[a-z_][a-z0-9_.-]{0,31}\$?$/;
const SHADOW_HASH = /(\$[0-9a-z]{1,4}\$[^:\n]{1,1024})(?=:)/dy;
/** Telegram bot tokens: `123456789:AA...`. */
const TELEGRAM_DIGITS = /\d{8,10}$/;
const TELEGRAM_REST = /:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/y;

/** Command-line tools whose password follows an option, and where that option is found. */
const PASSWORD_OPTIONS: Record<string, { names: RegExp; option: RegExp; value: RegExp }> = {
  mysql: {
    names:
      /^(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mariadb|mariadb-dump|mariadb-admin)$/,
    option: /[ \t]-p(?=\S)/g,
    value: /('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|[^\s'"]{1,1024})/dy,
  },
  mongo: {
    names: /^(?:mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport|mongostat|mongotop)$/,
    option: /[ \t]-p(?=[ \t]*\S)/g,
    value: /[ \t]*('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|[^\s'"-][^\s'"]{0,1023})/dy,
  },
  sqlcmd: {
    names: /^(?:sqlcmd|bcp|osql|isql)$/,
    option: /[ \t]-P(?=[ \t]*\S)/g,
    value: /[ \t]*('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|[^\s'"-][^\s'"]{0,1023})/dy,
  },
  'redis-cli': {
    names: /^redis-cli$/,
    option: /[ \t](?:-a|--pass)(?=[ \t]+\S)/g,
    value: /[ \t]+('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|\S{1,1024})/dy,
  },
  sshpass: {
    names: /^sshpass$/,
    option: /[ \t]-p(?=[ \t]*\S)/g,
    value: /[ \t]*('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|\S{1,1024})/dy,
  },
  // `docker login -p x`, `podman login --password=x`, `oc login -p x`, `cf login -p x`.
  login: {
    names: /^login$/,
    option: /[ \t]-p(?=[ \t=]*\S)/g,
    value: /[ \t=]*('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|[^\s'"-][^\s'"]{0,1023})/dy,
  },
};
/** Where a command ends: its option may not be looked for past this. */
const COMMAND_END = /[\n|;&]/g;
const MAX_OPTION_DISTANCE = 512;

/** Per-scan state: where values end, lines, and the lazily made finders. */
class NamedValueScan {
  readonly scan: MaskScan;
  readonly text: string;
  readonly lines: LineBounds;
  /** Values up to here were read (masked or left as placeholders): not read again. */
  seenUntil = 0;
  /** The name run around the last hit ends here: the next hits inside it add nothing. */
  runDoneUntil = 0;
  /** The last name read. */
  lastName = '';
  #finders = new Map<string, NextMatch>();

  constructor(scan: MaskScan) {
    this.scan = scan;
    this.text = scan.text;
    this.lines = new LineBounds(scan.text);
  }

  finder(name: string, regex: RegExp): NextMatch {
    let finder = this.#finders.get(name);
    if (!finder) {
      finder = new NextMatch(this.text, new RegExp(regex.source, regex.flags));
      this.#finders.set(name, finder);
    }
    return finder;
  }

  /** Runs a sticky matcher at `at` and marks its group `group` as a secret of `kind`. */
  value(regex: RegExp, at: number, kind: string, group = 1): RegExpExecArray | null {
    const match = matchAt(regex, this.text, at);
    const where = match?.indices?.[group];
    if (!match || !where) return null;
    const [start, end] = insideQuotes(this.text, where[0], where[1]);
    this.scan.addValue(start, end, kind);
    this.seenUntil = Math.max(this.seenUntil, where[1]);
    return match;
  }

  code(at: number): number {
    return at >= 0 && at < this.text.length ? this.text.charCodeAt(at) : -1;
  }
}

/**
 * Masks named values. `already` are the spans other finders masked (sorted): hits inside them
 * are skipped, since what they would find is masked already.
 */
export function* findNamedValues(scan: MaskScan, already: MaskSpan[]): Progress {
  yield* nameHints(new NamedValueScan(scan), already);
  yield* otherHints(new NamedValueScan(scan), already);
}

/**
 * Names: `test()` finds where a hint ends without building a match, and the name around it is
 * read from there (this loop runs for every `key` and `pass` in the text).
 */
function* nameHints(state: NamedValueScan, already: MaskSpan[]): Progress {
  const skip = new SkipSpans(already);
  NAME_HINTS.lastIndex = 0;
  // The loop is a plain function (V8 optimises it better than a generator's body); the generator
  // only yields between stretches of text.
  for (let until = YIELD_EVERY_CHARS; ; until += YIELD_EVERY_CHARS) {
    const next = nameHintsUntil(state, skip, until);
    if (next < 0) return;
    yield;
    NAME_HINTS.lastIndex = next;
  }
}

/** Handles the name hints up to `until`; returns where to go on, or -1 at the end of the text. */
function nameHintsUntil(state: NamedValueScan, skip: SkipSpans, until: number): number {
  const text = state.text;
  while (NAME_HINTS.test(text)) {
    const last = NAME_HINTS.lastIndex - 1;
    const resume = NAME_HINTS.lastIndex;
    if (last < state.seenUntil) {
      NAME_HINTS.lastIndex = state.seenUntil;
      continue;
    }
    const skipTo = skip.coveringEnd(last);
    if (skipTo >= 0) {
      NAME_HINTS.lastIndex = skipTo;
      continue;
    }
    if (
      (text.charCodeAt(last) | 32) === 110 /* n */ &&
      last >= 4 &&
      /^token$/i.test(text.slice(last - 4, resume))
    )
      onLiteral(state, 'token', last - 4);
    if (last >= state.runDoneUntil) onNameRun(state, last, 1);
    NAME_HINTS.lastIndex = Math.max(resume, state.seenUntil);
    if (NAME_HINTS.lastIndex >= until) return NAME_HINTS.lastIndex;
  }
  return -1;
}

/** URLs, commands and formats. */
function* otherHints(state: NamedValueScan, already: MaskSpan[]): Progress {
  const text = state.text;
  const skip = new SkipSpans(already);
  let yieldAt = YIELD_EVERY_CHARS;
  OTHER_HINTS.lastIndex = 0;
  // The regex finds `-u` after a space; at the very start of the text there is none.
  if (/^--?u/.test(text)) onLiteral(state, text.startsWith('--') ? '--u' : '-u', 0);
  let hit: RegExpExecArray | null;
  while ((hit = OTHER_HINTS.exec(text)) !== null) {
    const at = hit.index;
    const resume = OTHER_HINTS.lastIndex;
    if (at < state.seenUntil) {
      OTHER_HINTS.lastIndex = state.seenUntil;
      continue;
    }
    const skipTo = skip.coveringEnd(at);
    if (skipTo >= 0) {
      OTHER_HINTS.lastIndex = skipTo;
      continue;
    }
    const literal = hit[0].toLowerCase();
    if (literal.length >= 3 && isSpace(literal.charCodeAt(0))) onLiteral(state, literal.slice(1), at + 1);
    else onLiteral(state, literal, at);
    OTHER_HINTS.lastIndex = Math.max(resume, state.seenUntil);
    if (OTHER_HINTS.lastIndex >= yieldAt) {
      yieldAt = OTHER_HINTS.lastIndex + YIELD_EVERY_CHARS;
      const next = OTHER_HINTS.lastIndex;
      yield;
      OTHER_HINTS.lastIndex = next;
    }
  }
}

/** Spans masked by other finders, asked about in increasing positions. */
class SkipSpans {
  readonly #spans: MaskSpan[];
  #index = 0;

  constructor(spans: MaskSpan[]) {
    this.#spans = spans;
  }

  /** The end of the span covering `position`, or -1. */
  coveringEnd(position: number): number {
    while (this.#index < this.#spans.length && this.#spans[this.#index]!.end <= position) this.#index++;
    const span = this.#spans[this.#index];
    return span && span.start <= position ? span.end : -1;
  }
}

/** Handlers for hits that are not (only) part of a name: URLs, commands, formats. */
function onLiteral(state: NamedValueScan, literal: string, at: number): void {
  const text = state.text;
  switch (literal) {
    case '://': {
      const before = state.code(at - 1);
      if (before >= 0 && (isWordChar(before) || before === 43 || before === 46 || before === 45))
        state.value(URL_PASSWORD, at + 3, 'url-password');
      return;
    }
    case ':$': {
      const { start } = state.lines.around(at);
      if (at - start <= 33 && SHADOW_USER.test(text.slice(start, at)))
        state.value(SHADOW_HASH, at + 1, 'password-hash');
      return;
    }
    case ':aa': {
      TELEGRAM_REST.lastIndex = at;
      if (TELEGRAM_REST.test(text) && TELEGRAM_DIGITS.test(text.slice(Math.max(0, at - 10), at))) {
        const digits = /\d+$/.exec(text.slice(Math.max(0, at - 10), at))![0].length;
        if (!isWordChar(state.code(at - digits - 1))) {
          state.scan.add(at - digits, TELEGRAM_REST.lastIndex, 'telegram-token');
          state.seenUntil = Math.max(state.seenUntil, TELEGRAM_REST.lastIndex);
        }
      }
      return;
    }
    case 'code=': {
      const before = state.code(at - 1);
      if (before === 63 || before === 38 || before === 59) state.value(QUERY_VALUE, at + 4, 'url-secret');
      return;
    }
    case '-u':
    case '--u': {
      const flag = text.startsWith('--user', at) ? 6 : literal === '-u' ? 2 : 0;
      if (flag > 0) state.value(USER_FLAG_VALUE, at + flag, 'password-flag');
      return;
    }
    case 'bearer':
    case 'token':
      if ((text.startsWith('Bearer', at) || text.startsWith('Token', at)) && !isWordChar(state.code(at - 1)))
        state.value(BEARER_VALUE, at + literal.length, 'bearer-token');
      return;
    case 'basic': {
      if (!text.startsWith('Basic', at) || isWordChar(state.code(at - 1))) return;
      const match = matchAt(BASIC_VALUE, text, at + 5);
      const where = match?.indices?.[1];
      if (match && where && Buffer.from(match[1]!, 'base64').toString('latin1').includes(':')) {
        state.scan.add(where[0], where[1], 'basic-auth');
        state.seenUntil = Math.max(state.seenUntil, where[1]);
      }
      return;
    }
    case 'identified':
      if (!isWordChar(state.code(at - 1))) state.value(IDENTIFIED_BY, at, 'sql-password');
      return;
    case 'rabbitmqctl':
      if (!isNameChar(state.code(at - 1))) state.value(RABBITMQ_VALUE, at + literal.length, 'password-flag');
      return;
    case 'mysql':
    case 'mariadb':
    case 'mongo':
    case 'sqlcmd':
    case 'redis-cli':
    case 'login':
      passwordOption(state, literal, at);
      return;
  }
}

/** `mysql ... -pX`, `redis-cli ... -a X`: the first such option after the command, before it ends. */
function passwordOption(state: NamedValueScan, literal: string, at: number): void {
  const text = state.text;
  let end = at + literal.length;
  while (end < text.length && isNameChar(text.charCodeAt(end)) && end - at < 32) end++;
  if (isNameChar(state.code(at - 1))) return;
  const word = text.slice(at, end);
  const family = literal === 'mariadb' ? 'mysql' : literal;
  const spec = PASSWORD_OPTIONS[family];
  if (!spec || !spec.names.test(word)) return;
  const option = state.finder(`option:${family}`, spec.option);
  const stop = state.finder('command-end', COMMAND_END).next(end);
  let from = end;
  for (;;) {
    const found = option.next(from);
    if (found < 0 || found - end > MAX_OPTION_DISTANCE || (stop >= 0 && stop < found)) return;
    if (state.value(spec.value, found + option.length, 'password-flag')) return;
    from = found + 1;
  }
}

/** A hit inside a name: find the whole name and look at what stands around it. */
function onNameRun(state: NamedValueScan, at: number, length: number): void {
  const text = state.text;
  let start = at;
  while (start > 0 && isNameChar(text.charCodeAt(start - 1))) {
    start--;
    if (at - start > MAX_RUN_CHARS) break;
  }
  let end = at + length;
  while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
  state.runDoneUntil = end;
  // Too long to be a name (a run of letters, a token): nothing here is a named value.
  if (end - start > MAX_RUN_CHARS || (start > 0 && isNameChar(text.charCodeAt(start - 1)))) return;
  // Dense text repeats the same name (`password= password= ...`): reuse it without a new string.
  const run =
    end - start === state.lastName.length && text.startsWith(state.lastName, start)
      ? state.lastName
      : (state.lastName = text.slice(start, end));
  const first = run.charCodeAt(0);
  if (first === 45 /* - */) {
    onOption(state, run, start, end);
    return;
  }
  if (!isNameStart(first) || run.length > MAX_NAME_CHARS) return;
  onName(state, run, start, end);
}

/** `[A-Za-z_]`. */
function isNameStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/** `--password x`, `-storepass x`, `-Ddb.password=x`. */
function onOption(state: NamedValueScan, run: string, start: number, end: number): void {
  const before = state.code(start - 1);
  if (before >= 0 && !isSpace(before) && before !== 34 && before !== 39) return;
  if (FLAG_NAME.test(run)) {
    const match = matchAt(FLAG_VALUE, state.text, end);
    const where = match?.indices?.[1];
    if (!match || !where) return;
    let value = match[1]!;
    let valueStart = where[0];
    state.seenUntil = Math.max(state.seenUntil, where[1]);
    if (/^["']?pass:/.test(value)) {
      const offset = value.indexOf('pass:') + 5;
      valueStart += offset;
      value = value.slice(offset);
    } else if (PASSWORD_SOURCE.test(value)) return;
    // A single-dash option given a path (`-auth /run/xauth`) names a file, not a secret.
    if (!run.startsWith('--') && /^["']?(?:\/|~\/|\.\/)/.test(value)) return;
    state.scan.addValue(valueStart, where[1], 'password-flag');
    return;
  }
  if (run.startsWith('-D') && run.length > 2 && /^[A-Za-z_]/.test(run.slice(2))) {
    if (isSecretNameCached(run.slice(2))) state.value(PROPERTY_VALUE, end, 'secret-property');
  }
}

/** What a name can be, as bits: worked out once per name and remembered. */
const SECRET = 1;
const AUTHORIZATION = 2;
const QUERY_NAME = 4;
const CONNECTION_NAME = 8;
const DOCKER_AUTH = 16;
const DIRECTIVE = 32;
const PASSWORD_WORD = 64;
const NETRC_WORD = 128;
const CHPASSWD = 256;
const SSHPASS = 512;
const HTPASSWD = 1024;

const MAX_CACHED_NAMES = 4096;
const nameKinds = new Map<string, number>();

function nameKind(name: string): number {
  let kind = nameKinds.get(name);
  if (kind !== undefined) return kind;
  kind =
    (isSecretNameCached(name) ? SECRET : 0) |
    (/(?:^|[^A-Za-z0-9_])authorization$/i.test(name) ? AUTHORIZATION : 0) |
    (QUERY_SECRET_NAMES.test(name) ? QUERY_NAME : 0) |
    (CONNECTION_NAMES.test(name) ? CONNECTION_NAME : 0) |
    (/^(?:auth|identitytoken|registrytoken)$/.test(name) ? DOCKER_AUTH : 0) |
    (CONFIG_DIRECTIVES.has(name) ? DIRECTIVE : 0) |
    (/^(?:password|passwd)$/i.test(name) ? PASSWORD_WORD : 0) |
    (name === 'password' ? NETRC_WORD : 0) |
    (name === 'chpasswd' ? CHPASSWD : 0) |
    (name === 'sshpass' ? SSHPASS : 0) |
    (name === 'htpasswd' ? HTPASSWD : 0);
  if (nameKinds.size >= MAX_CACHED_NAMES) nameKinds.clear();
  nameKinds.set(name, kind);
  return kind;
}

/** A name: is it a secret's, and which of the known shapes stands around it? */
function onName(state: NamedValueScan, name: string, start: number, end: number): void {
  const kind = nameKind(name);
  if (kind === 0) return;
  const text = state.text;
  const before = state.code(start - 1);
  const after = state.code(end);
  const secret = (kind & SECRET) !== 0;

  if (kind & AUTHORIZATION) state.value(AUTHORIZATION_VALUE, end, 'authorization');
  if (after === 61 /* = */) {
    if ((before === 63 || before === 38 || before === 59) && (secret || kind & QUERY_NAME))
      state.value(QUERY_VALUE, end, 'url-secret');
    if (
      kind & CONNECTION_NAME &&
      (before < 0 || before === 59 || before === 34 || before === 39 || isSpace(before))
    )
      state.value(CONNECTION_VALUE, end, 'connection-string');
  }
  if (kind & DOCKER_AUTH && before === 34 && after === 34)
    state.value(JSON_STRING_VALUE, end, 'secret-value');
  if (kind & DIRECTIVE && linePrefixIsBlank(state, start)) state.value(NETRC_VALUE, end, 'secret-value');
  if (
    kind & NETRC_WORD &&
    (after === 32 || after === 9) &&
    (before === 32 || before === 9 || before < 0 || before === 10)
  )
    netrc(state, start, end);
  if (kind & CHPASSWD) chpasswd(state, start);
  if (kind & SSHPASS) passwordOption(state, 'sshpass', start);
  if (kind & HTPASSWD) {
    const match = matchAt(HTPASSWD_VALUE, text, end);
    if (match && /b/.test(match[1]!)) state.value(HTPASSWD_VALUE, end, 'password-flag', 2);
  }
  if (kind & PASSWORD_WORD && (after === 32 || after === 9))
    state.value(SQL_PASSWORD_VALUE, end, 'sql-password');
  if (!secret) return;

  if (after === 61 || after === 32 || after === 9) {
    const { start: lineStart } = state.lines.around(start);
    if (start - lineStart <= 100) {
      const prefix = text.slice(lineStart, start);
      if (LINE_PREFIX.test(prefix)) state.value(LINE_ASSIGNMENT, end, 'secret-env');
      else if (after !== 61 && DOCKERFILE_PREFIX.test(prefix)) state.value(SPACE_VALUE, end, 'secret-env');
    }
    // In a query string (`?a=1&token=x&b=2`) the query matcher above stops at the next `&`.
    if (after === 61 && before !== 63 && before !== 38) state.value(BARE_ASSIGNMENT, end, 'secret-env');
    else state.value(QUOTED_ASSIGNMENT, end, 'secret-value');
  }
  if (after === 58 /* : */ && end + 1 < text.length && text.charCodeAt(end + 1) === 61)
    state.value(QUOTED_ASSIGNMENT, end, 'secret-value');

  // `password: x`, `"password": "x"`, `'password' => 'x'`.
  const quote = before === 34 || before === 39 ? before : -1;
  if (
    (quote < 0 || (after === quote && !isNameChar(state.code(start - 2)))) &&
    keyValueSeparatorAt(text, quote < 0 ? end : end + 1)
  ) {
    const match = matchAt(KEY_VALUE, text, quote < 0 ? end : end + 1);
    const where = match?.indices?.[1];
    if (match && where && !BLOCK_INDICATOR_VALUE.test(match[1]!)) {
      const [valueStart, valueEnd] = insideQuotes(text, where[0], where[1]);
      state.scan.addValue(valueStart, valueEnd, 'secret-value');
      state.seenUntil = Math.max(state.seenUntil, where[1]);
    }
  }
  if (before === 60 /* < */) {
    const match = matchAt(XML_VALUE, text, end);
    const where = match?.indices?.[1];
    if (match && where && text.startsWith(`${name}>`, where[1] + 2)) {
      state.scan.addValue(where[0], where[1], 'secret-value');
      state.seenUntil = Math.max(state.seenUntil, where[1]);
    }
  }
  if (quote === 34 && after === 34 && XML_KEY_BEFORE.test(text.slice(Math.max(0, start - 6), start)))
    state.value(XML_KEY_VALUE, end, 'secret-value');
  if (quote >= 0 && DEFINE_BEFORE.test(text.slice(Math.max(0, start - 16), start)))
    state.value(DEFINE_VALUE, end, 'secret-value');
  if (quote === 34 && after === 34 && K8S_JSON_BEFORE.test(text.slice(Math.max(0, start - 40), start)))
    state.value(K8S_JSON_VALUE, end, 'secret-env');
  if (afterNameColon(text, start)) {
    const { start: lineStart } = state.lines.around(start);
    if (K8S_ENV_BEFORE.test(text.slice(Math.max(lineStart, start - 80), start)))
      state.value(K8S_ENV_VALUE, end, 'secret-env');
  }
}

/** `:` or `=>` after spaces: a cheap test before the regex. */
function keyValueSeparatorAt(text: string, position: number): boolean {
  let at = position;
  while (at < text.length && (text.charCodeAt(at) === 32 || text.charCodeAt(at) === 9)) at++;
  const code = text.charCodeAt(at);
  return code === 58 || (code === 61 && text.charCodeAt(at + 1) === 62);
}

/** The name follows `name:` (and spaces or a quote): a cheap test before the regex. */
function afterNameColon(text: string, start: number): boolean {
  let position = start - 1;
  if (text[position] === '"' || text[position] === "'") position--;
  while (position >= 0 && (text[position] === ' ' || text[position] === '\t')) position--;
  return text[position] === ':' && text.startsWith('name', position - 4);
}

function linePrefixIsBlank(state: NamedValueScan, start: number): boolean {
  const { start: lineStart } = state.lines.around(start);
  return start - lineStart <= 64 && /^[ \t]*$/.test(state.text.slice(lineStart, start));
}

/** `.netrc`: `password p` on its own line, or after `machine`/`login`/`default` on the same line. */
function netrc(state: NamedValueScan, start: number, end: number): void {
  if (linePrefixIsBlank(state, start)) {
    state.value(NETRC_OWN_LINE_VALUE, end, 'netrc-password');
    return;
  }
  const { start: lineStart } = state.lines.around(start);
  if (start - lineStart > MAX_OPTION_DISTANCE) return;
  if (NETRC_PAIRS.test(state.text.slice(lineStart, start))) state.value(NETRC_VALUE, end, 'netrc-password');
}

/** `echo 'user:pw' | chpasswd`: the password is on the left of the pipe. */
function chpasswd(state: NamedValueScan, start: number): void {
  const { start: lineStart } = state.lines.around(start);
  const from = Math.max(lineStart, start - 300);
  const match = CHPASSWD_BEFORE.exec(state.text.slice(from, start));
  const where = match?.indices?.[1];
  if (where) state.scan.addValue(from + where[0], from + where[1], 'password-flag');
}
