/** What redaction did to one text. */
export interface Redaction {
  text: string;
  /** How many values were masked. */
  count: number;
}

/** The mask that replaces a secret; `kind` tells the model what was there. */
export function mask(kind: string): string {
  return `[REDACTED:${kind}]`;
}

const MASKED = /^\[REDACTED:[^\]]*\]/;

/** Values that are placeholders or references, not secrets: leave them readable. */
const PLACEHOLDER =
  /^(?:|""|''|null|nil|none|<none>|~|true|false|\*+|x{3,}|X{3,}|redacted|changeme|<[^>]*>|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}]*\}\}|\[REDACTED:.*)$/i;

/** Words that end a name which is not a secret even though it says KEY or TOKEN: paths, ids, sizes. */
const NOT_SECRET_TOKENS = new Set([
  'PATH',
  'FILE',
  'FILES',
  'DIR',
  'NAME',
  'NAMES',
  'ID',
  'IDS',
  'TYPE',
  'SIZE',
  'LEN',
  'LENGTH',
  'ALG',
  'ALGORITHM',
  'FORMAT',
  'URL',
  'URI',
  'ENDPOINT',
  'EXPIRY',
  'EXPIRES',
  'EXPIRATION',
  'TTL',
  'COUNT',
  'LIMIT',
  'MAX',
  'MIN',
  'USED',
  'HEADER',
  'FIELD',
  'REF',
  'REFS',
  'MODE',
  'POLICY',
  'LOCATION',
  'VERSION',
  'ROTATION',
  'PREFIX',
  'SUFFIX',
  'HINT',
  'LABEL',
  'SOURCE',
  'DAYS',
  'DAY',
  'HOURS',
  'MINUTES',
  'SECONDS',
  'AGE',
  'WARN',
  'HISTORY',
  'REQUIRED',
  'ENABLED',
  'RETRIES',
  'ATTEMPTS',
  'STRENGTH',
  'COMPLEXITY',
]);
/** Names whose KEY is not a secret: public keys, database and sort keys, keyboard layouts. */
const NOT_SECRET_KEY_OWNERS = new Set([
  'PUBLIC',
  'PUB',
  'SORT',
  'PRIMARY',
  'FOREIGN',
  'PARTITION',
  'ROUTING',
  'CACHE',
  'HASH',
  'SHARD',
  'GROUP',
  'MAP',
  'DICT',
  'LOOKUP',
  'JOIN',
  'UNIQUE',
  'INDEX',
  'ROW',
  'COLUMN',
  'ENTRY',
  'KBD',
  'KEYBOARD',
  'HOT',
  'SHORTCUT',
  'MONKEY',
  'TURN',
  'DOCKEY',
  'SSH_HOST',
]);

const SECRET_WORD =
  /^(?:PASSWORD|PASSWD|PASS|PWD|PASSPHRASE|SECRET|SECRETS|TOKEN|APIKEY|CREDENTIALS?|CREDS|COOKIE|DSN|AUTHTOKEN|PRIVATEKEY|SECRETKEY|ACCESSKEY|KEYSTOREPASSWORD)$/;

/**
 * Variable and key names whose value is a secret: `DB_PASSWORD`, `apiKey`, `client-secret`,
 * `SECRET_KEY_BASE`, `aws_secret_access_key`, `_authToken`, `identitytoken`... Compared as
 * upper-case words after splitting camelCase and separators.
 */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((word) => word !== '');
  if (words.length === 0) return false;
  const joined = words.join('_');
  if (joined === 'PWD' || joined === 'OLDPWD' || joined === 'PASS_MAX_DAYS') return false;
  if (joined === 'AUTH' || joined === 'PRIVATE_KEY_ID') return true;
  const last = words.at(-1)!;
  if (NOT_SECRET_TOKENS.has(last)) return false;
  if (words.some((word) => SECRET_WORD.test(word))) return true;
  // Glued words: `identitytoken`, `dbpassword`, `clientsecret`.
  if (/(?:PASSWORD|PASSWD|SECRET|TOKEN|APIKEY|PASSPHRASE|CREDENTIALS?)$/.test(last)) return true;
  const keyAt = words.lastIndexOf('KEY');
  if (keyAt >= 0) {
    const owner = words[keyAt - 1];
    if (owner !== undefined && NOT_SECRET_KEY_OWNERS.has(owner)) return false;
    if (words.length === 1) return false;
    // `*_KEY`, `*_KEY_BASE`, `*_KEY_DATA`, `KEY_*_SECRET`.
    return (
      keyAt === words.length - 1 ||
      ['BASE', 'DATA', 'MATERIAL', 'VALUE', 'B64', 'BASE64', 'PEM', 'JSON'].includes(last)
    );
  }
  return (
    /^(?:CONNECTION_STRING|CONN_STR|DATABASE_URL|SIGNING|ENCRYPTION)$/.test(joined) ||
    /(?:_|^)(?:SIGNATURE|SIG)$/.test(joined)
  );
}

/** Characters of a name, and the longest name looked at (bounded so every scan stays linear). */
const NAME = String.raw`[A-Za-z_][A-Za-z0-9_.-]{0,127}`;
const NAME_START = String.raw`(?<![A-Za-z0-9_.-])`;
/**
 * Every secret name holds one of these: checked inside the regex so that ordinary names
 * (`a=b`, `apiVersion:`) cost no callback. Keep in step with {@link isSecretName}.
 */
const NAME_HINT = String.raw`(?=[A-Za-z0-9_.-]{0,127}?(?:[Pp][Aa][Ss][Ss]|[Pp][Ww][Dd]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Tt][Oo][Kk][Ee][Nn]|[Kk][Ee][Yy]|[Cc][Rr][Ee][Dd]|[Cc][Oo][Oo][Kk][Ii][Ee]|[Dd][Ss][Nn]|[Aa][Uu][Tt][Hh]|[Ss][Ii][Gg]|[Cc][Oo][Nn][Nn]|[Dd][Aa][Tt][Aa][Bb][Aa][Ss][Ee]_[Uu][Rr][Ll]|[Ee][Nn][Cc][Rr][Yy][Pp][Tt]))`;
const HINTED_NAME = `${NAME_HINT}${NAME}`;

/** Known token formats, one alternation so the text is scanned once: [regex body, kind]. */
const TOKEN_FORMATS: Array<[string, string]> = [
  [
    String.raw`(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])`,
    'aws-access-key-id',
  ],
  [String.raw`gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255}`, 'github-token'],
  [String.raw`glpat-[A-Za-z0-9_-]{20,255}`, 'gitlab-token'],
  [String.raw`xox[abposre]-[A-Za-z0-9-]{10,255}`, 'slack-token'],
  [
    String.raw`sk-(?:proj-|ant-[a-z]+\d\d-|svcacct-)?[A-Za-z0-9_-]{20,255}|[rsp]k_(?:live|test)_[A-Za-z0-9]{16,255}|whsec_[A-Za-z0-9]{20,255}`,
    'api-key',
  ],
  [String.raw`AIza[0-9A-Za-z_-]{35}`, 'google-api-key'],
  [String.raw`npm_[A-Za-z0-9]{36}`, 'npm-token'],
  [String.raw`hv[sbr]\.[A-Za-z0-9_-]{24,255}`, 'vault-token'],
  [String.raw`eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{0,4096}`, 'jwt'],
  // base64 of `-----BEGIN ` followed by anything but a certificate, public key or CRL.
  [
    String.raw`LS0tLS1CRUdJTi(?!BDRVJUSUZJQ0FUR|BQVUJMSUMgS0VZ|BYNTA5IENSTC|BUUlVTVEVEIENFUlRJRklDQVRF)[A-Za-z0-9+/=]{20,65536}`,
    'private-key',
  ],
  [String.raw`(?:SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})`, 'sendgrid-key'],
  [String.raw`(?:dop|doo|dor)_v1_[a-f0-9]{64}`, 'digitalocean-token'],
  [String.raw`(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/=]{20,512}`, 'azure-key'],
  [String.raw`pypi-[A-Za-z0-9_-]{50,255}`, 'pypi-token'],
  [
    String.raw`(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,255}`,
    'slack-webhook',
  ],
  [
    String.raw`(?:https?://)?(?:discord(?:app)?\.com)/api/webhooks/[0-9]{5,30}/[A-Za-z0-9_-]{20,255}`,
    'discord-webhook',
  ],
];
const TOKEN_REGEX = new RegExp(
  `(?<![A-Za-z0-9_])(?:${TOKEN_FORMATS.map(([body]) => `(${body})`).join('|')})`,
  'g',
);

/** A rule masks group `secret` of each match and keeps the text before and after it. */
interface Pattern {
  kind: string;
  regex: RegExp;
  /** Index of the capture group holding the secret; group 1, when it comes before, is kept. */
  secret: number;
  /** Index of a capture group after the secret that is kept too. */
  after?: number;
  when?: (groups: string[]) => boolean;
  /** A cheap test that must pass for the regex to be worth running. */
  needs?: RegExp;
}

const QUOTED_OR_BARE = String.raw`"[^"\n]{0,4096}"|'[^'\n]{0,4096}'|[^\s"',;]{1,4096}`;

const PATTERNS: Pattern[] = [
  {
    kind: 'authorization',
    regex:
      /(\b(?:Proxy-)?Authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:Bearer|Basic|Token|Bot|Digest|Negotiate|AWS4-HMAC-SHA256)[ \t]+)?)([^\s"',]{1,4096})/gi,
    secret: 2,
    needs: /authorization/i,
  },
  {
    kind: 'bearer-token',
    regex: /(\b(?:Bearer|Token)[ \t]+)([A-Za-z0-9._~+/-]{16,4096}=*)/g,
    secret: 2,
    needs: /Bearer|Token/,
  },
  {
    kind: 'url-password',
    regex: /(\b[a-zA-Z][a-zA-Z0-9+.-]{0,31}:\/\/[^\s:/@"'<>]{0,256}:)([^\s@/"'<>]{1,1024})(@)/g,
    secret: 2,
    after: 3,
    needs: /:\/\//,
  },
  {
    kind: 'url-secret',
    regex: new RegExp(String.raw`([?&;](${NAME})=)([^&#\s"'<>;]{1,4096})`, 'g'),
    secret: 3,
    when: (groups) =>
      isSecretName(groups[2] ?? '') ||
      /^(?:sig|signature|x-amz-signature|x-goog-signature|code|key|access_token|token|auth)$/i.test(
        groups[2] ?? '',
      ),
    needs: /[?&;]/,
  },
  {
    kind: 'connection-string',
    regex:
      /((?:^|[;\s"'])(?:SharedAccessSignature|PrimaryKey|SecondaryKey|sig|client_secret|access_token|refresh_token)=)([^;&\s"'<>]{1,4096})/gi,
    secret: 2,
    needs: /=/,
  },
  {
    kind: 'password-flag',
    regex: new RegExp(
      String.raw`((?:^|\s)--(?:[A-Za-z0-9]+-){0,4}(?:password|passwd|pass|token|secret|api-key|apikey|access-key|secret-key|client-secret|auth-token|auth)(?:=|[ \t]+))(${QUOTED_OR_BARE})`,
      'gi',
    ),
    secret: 2,
    needs: /--/,
  },
  {
    kind: 'password-flag',
    regex:
      /(\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n|;&]{0,512}?[ \t]-p)('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|[^\s'"]{1,1024})/g,
    secret: 2,
    needs: /mysql|mariadb/,
  },
  {
    kind: 'password-flag',
    regex: /(\bsshpass[ \t]+-p[ \t]*)('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|\S{1,1024})/g,
    secret: 2,
    needs: /sshpass/,
  },
  {
    kind: 'password-flag',
    regex:
      /(\bredis-cli\b[^\n|;&]{0,512}?[ \t](?:-a|--pass)[ \t]+)('[^'\n]{0,1024}'|"[^"\n]{0,1024}"|\S{1,1024})/g,
    secret: 2,
    needs: /redis-cli/,
  },
  {
    kind: 'password-flag',
    regex: /((?:^|\s)(?:-u|--user)[ \t]+["']?[^\s:'"]{1,256}:)([^\s'"]{1,1024})/g,
    secret: 2,
    needs: /-u|--user/,
  },
  // Java system properties in `ps` output: `-Dspring.datasource.password=x`.
  {
    kind: 'secret-property',
    regex: new RegExp(String.raw`((?:^|\s)-D(${HINTED_NAME})=)(${QUOTED_OR_BARE})`, 'g'),
    secret: 3,
    when: (groups) => isSecretName(groups[2] ?? ''),
    needs: /-D/,
  },
  // `env`, `export -p`, `.env`, npmrc, `"Env": ["DB_PASSWORD=x"]`, `PGPASSWORD=x psql`, `-e TOKEN=x`.
  {
    kind: 'secret-env',
    regex: new RegExp(
      String.raw`(^[ \t]{0,64}(?:export[ \t]+|declare[ \t]+-x[ \t]+)?(${HINTED_NAME})[ \t]*=[ \t]*)([^\n]{1,65536})`,
      'gm',
    ),
    secret: 3,
    when: (groups) => isSecretName(groups[2] ?? ''),
    needs: /=/,
  },
  {
    kind: 'secret-env',
    regex: new RegExp(String.raw`(${NAME_START}(${HINTED_NAME})=)(${QUOTED_OR_BARE})`, 'g'),
    secret: 3,
    when: (groups) => isSecretName(groups[2] ?? ''),
    needs: /=/,
  },
  // YAML and JSON: `password: x`, `"client_secret": "x"`; only on the same line (a key's first
  // child under a parent such as `data:` is a key of its own, not the parent's value).
  {
    kind: 'secret-value',
    regex: new RegExp(
      String.raw`(${NAME_START}(["']?)(${HINTED_NAME})\2[ \t]*:(?:[ \t]*\r?\n[ \t]{0,64}(?=")|[ \t]*))("(?:[^"\\\n]|\\.){0,8192}"|'[^'\n]{0,8192}'|\$\{[^}\n]{0,256}\}|[^\s,}\]#][^\n,}\]#]{0,8192})`,
      'g',
    ),
    secret: 4,
    when: (groups) => isSecretName(groups[3] ?? '') && !/^[|>][-+]?\d?$/.test(groups[4] ?? ''),
    needs: /:/,
  },
  // Kubernetes env: `- name: DB_PASSWORD` then `value: x`; and its JSON form.
  {
    kind: 'secret-env',
    regex: new RegExp(
      String.raw`(-[ \t]+name:[ \t]*["']?(${HINTED_NAME})["']?[ \t]*\r?\n[ \t]{0,64}value:[ \t]*)("(?:[^"\\\n]|\\.){0,8192}"|'[^'\n]{0,8192}'|[^\s#][^\n#]{0,8192})`,
      'g',
    ),
    secret: 3,
    when: (groups) => isSecretName(groups[2] ?? ''),
    needs: /name:/,
  },
  {
    kind: 'secret-env',
    regex: new RegExp(
      String.raw`("name"[ \t]*:[ \t]*"(${HINTED_NAME})"[ \t]*,[ \t\r\n]{0,64}"value"[ \t]*:[ \t]*")((?:[^"\\\n]|\\.){1,8192})(")`,
      'g',
    ),
    secret: 3,
    after: 4,
    when: (groups) => isSecretName(groups[2] ?? ''),
    needs: /"name"/,
  },
  // XML: `<password>x</password>`, `<add key="DbPassword" value="x"/>`.
  {
    kind: 'secret-value',
    regex: new RegExp(String.raw`(<(${HINTED_NAME})(?:[ \t][^>\n]{0,256})?>)([^<\n]{1,8192})(</\2>)`, 'g'),
    secret: 3,
    after: 4,
    when: (groups) => isSecretName(groups[2] ?? ''),
    needs: /<\//,
  },
  {
    kind: 'secret-value',
    regex: new RegExp(String.raw`(\bkey="(${HINTED_NAME})"[ \t]+value=")([^"\n]{1,8192})(")`, 'gi'),
    secret: 3,
    after: 4,
    when: (groups) => isSecretName(groups[2] ?? ''),
    needs: /key="/i,
  },
  // .netrc: `machine h login u password p`, or `password p` on a line of its own.
  {
    kind: 'netrc-password',
    regex: /(\b(?:machine|login|default)\b[^\n]{0,512}?[ \t]password[ \t]+)(\S{1,1024})/g,
    secret: 2,
    needs: /password/,
  },
  {
    kind: 'netrc-password',
    regex: /(^[ \t]{0,64}password[ \t]+)(\S{1,1024})(?=[ \t]*$)/gm,
    secret: 2,
    needs: /password/,
  },
  // .pgpass: `host:port:database:user:password`.
  {
    kind: 'pgpass-password',
    regex:
      /(^(?:[A-Za-z0-9-]{1,63}\.[A-Za-z0-9.-]{1,190}|localhost|\*|\[[0-9a-fA-F:]{2,45}\]):(?:\d{1,5}|\*):[^:\s]{1,256}:[^:\s]{1,256}:)([^\n]{1,1024})$/gm,
    secret: 2,
    needs: /:/,
  },
  // /etc/shadow: the hash field.
  {
    kind: 'password-hash',
    regex: /(^[a-z_][a-z0-9_.-]{0,31}\$?:)(\$[0-9a-z]{1,4}\$[^:\n]{1,1024})(?=:)/gm,
    secret: 2,
    needs: /\$/,
  },
  // Docker `auths` and similar: `"auth": "dXNlcjpwYXNz"`.
  {
    kind: 'secret-value',
    regex: /("(?:auth|identitytoken|registrytoken)"[ \t]*:[ \t]*")([^"\n]{1,8192})(")/g,
    secret: 2,
    after: 3,
    needs: /"auth"|token"/,
  },
];

/** The line opsmate's output collector puts between head and tail when it cuts the middle. */
const TRUNCATION_NOTICE = /\n\[\.\.\. \d+ bytes omitted \(\d+ in all\); [^\n]*\.\.\.\]\n/;

/** A head that stops right inside a secret's value: `PASSWORD=`, `Bearer `, a masked value. */
function endsInsideSecret(lastLine: string): boolean {
  const tail = lastLine.slice(-300);
  const keyed = new RegExp(String.raw`(${NAME})[ \t]*[=:][ \t]*["']?$`).exec(tail);
  if (keyed && isSecretName(keyed[1] ?? '')) return true;
  return /\b(?:Bearer|Basic|Token|Authorization:)[ \t]*$|:\/\/[^\s:/@]{0,256}:$|\[REDACTED:[^\]]{1,64}\]["']?$/.test(
    tail,
  );
}

/** The start of a known token format, cut off at the end of a head. */
const PARTIAL_TOKEN_AT_END =
  /(^|[^A-Za-z0-9_])((?:AKIA|ASIA)[A-Z0-9]{0,15}|eyJ[A-Za-z0-9_.-]{0,8192}|gh[pousr]_\w{0,255}|github_pat_\w{0,255}|glpat-[\w-]{0,255}|xox[abposr]-[\w-]{0,255}|sk-[\w-]{3,255}|AIza[\w-]{0,40}|npm_\w{0,40}|hv[sb]\.[\w-]{0,255}|LS0tLS1CRUdJTi[A-Za-z0-9+/=]{0,65536})$/;

/** Names of env vars that hold opsmate's own credentials (LLM API keys and the like). */
const OWN_SECRET_ENV = /(?:API_KEY|TOKEN|SECRET|PASSWORD|PASSPHRASE)$/;
/** Shorter values are not masked where they appear: they would hit ordinary words. */
const MIN_OWN_SECRET_LENGTH = 8;
/** Texts longer than this yield to the event loop between passes in {@link SecretRedactor.redactAsync}. */
const YIELD_ABOVE_CHARS = 256 * 1024;

export interface SecretRedactorOptions {
  /** opsmate's environment: values of its secret-named variables are masked wherever they appear. */
  env?: NodeJS.ProcessEnv;
}

interface PassState {
  text: string;
  count: number;
  keepLineCount: boolean;
}

type Pass = (state: PassState) => void;

/**
 * Masks secrets in text before it reaches the language model: private keys, cloud and SaaS keys,
 * bearer tokens and JWTs, passwords in URLs, connection strings and command flags, values of
 * secret-named variables and keys (env, YAML, JSON, XML, .netrc, .pgpass, Kubernetes env and
 * Secret data), shadow hashes, webhook URLs, and opsmate's own API keys. Hex digests, UUIDs and
 * plain base64 are left alone: only known formats and secret-named keys are masked.
 *
 * Every pass is linear in the length of the text (quantifiers are bounded, names are matched
 * only from their first character), so adversarial input cannot make masking slow.
 */
export class SecretRedactor {
  readonly #ownSecrets: Array<{ name: string; value: string }>;
  readonly #passes: Pass[];

  constructor(options: SecretRedactorOptions = {}) {
    this.#ownSecrets = Object.entries(options.env ?? {})
      .filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined && entry[1].length >= MIN_OWN_SECRET_LENGTH && OWN_SECRET_ENV.test(entry[0]),
      )
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => b.value.length - a.value.length);
    this.#passes = [
      (state) => this.#maskOwnSecrets(state),
      maskPrivateKeys,
      maskSecretData,
      maskBlockScalars,
      maskTokens,
      ...PATTERNS.map((pattern) => (state: PassState) => applyPattern(pattern, state)),
    ];
  }

  /**
   * Masks the secrets in one text. With `keepLineCount`, a mask that swallows line breaks (a
   * private key) is followed by as many empty lines, so line numbers stay right.
   */
  redact(text: string, options: { keepLineCount?: boolean } = {}): Redaction {
    const state: PassState = { text, count: 0, keepLineCount: options.keepLineCount === true };
    for (const pass of this.#passes) pass(state);
    return { text: state.text, count: state.count };
  }

  /**
   * {@link redact} for long texts: yields to the event loop between passes so Ctrl-C is handled,
   * and rejects with the signal's reason once it is aborted.
   */
  async redactAsync(
    text: string,
    options: { keepLineCount?: boolean; signal?: AbortSignal } = {},
  ): Promise<Redaction> {
    const state: PassState = { text, count: 0, keepLineCount: options.keepLineCount === true };
    for (const pass of this.#passes) {
      options.signal?.throwIfAborted();
      pass(state);
      if (state.text.length > YIELD_ABOVE_CHARS) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    options.signal?.throwIfAborted();
    return { text: state.text, count: state.count };
  }

  #maskOwnSecrets(state: PassState): void {
    for (const secret of this.#ownSecrets) {
      if (!state.text.includes(secret.value)) continue;
      const parts = state.text.split(secret.value);
      state.count += parts.length - 1;
      state.text = parts.join(mask(`env:${secret.name}`));
    }
  }

  /**
   * Masks a command's output as a runtime returns it. When the middle was cut, head and tail are
   * masked on their own, and a secret that runs across the cut is masked on both sides.
   */
  redactOutput(text: string): Redaction {
    const notice = TRUNCATION_NOTICE.exec(text);
    if (!notice) return this.redact(text);
    const head = this.redact(text.slice(0, notice.index));
    const tail = this.redact(text.slice(notice.index + notice[0].length));
    return joinAtCut({ head, tail, notice: notice[0] });
  }
}

/** Masks both sides of a cut: a token whose start ends the head, and the rest of a secret starting the tail. */
export function joinAtCut(input: { head: Redaction; tail: Redaction; notice: string }): Redaction {
  let count = input.head.count + input.tail.count;
  let headText = input.head.text;
  const partial = PARTIAL_TOKEN_AT_END.exec(headText.slice(-70_000));
  if (partial) {
    const at = headText.length - Math.min(headText.length, 70_000) + partial.index;
    headText = headText.slice(0, at) + partial[1]! + mask('cut-secret');
    count++;
  }
  let tailText = input.tail.text;
  const lastLine = headText.slice(headText.lastIndexOf('\n') + 1);
  const fragment = /^[^\s"',;]{1,65536}/.exec(tailText);
  if (fragment && endsInsideSecret(lastLine) && !MASKED.test(tailText)) {
    tailText = mask('cut-secret') + tailText.slice(fragment[0].length);
    count++;
  }
  return { text: headText + input.notice + tailText, count };
}

function replacement(state: PassState, kind: string, secret: string): string {
  state.count++;
  return mask(kind) + (state.keepLineCount ? secret.replace(/[^\n]/g, '') : '');
}

function applyPattern(pattern: Pattern, state: PassState): void {
  if (pattern.needs && !pattern.needs.test(state.text)) return;
  pattern.regex.lastIndex = 0;
  state.text = state.text.replace(pattern.regex, (...match: unknown[]) => {
    const groups = match.slice(0, -2).map((group) => (typeof group === 'string' ? group : ''));
    const secret = groups[pattern.secret] ?? '';
    if (PLACEHOLDER.test(secret.trim()) || MASKED.test(secret) || MASKED.test(secret.replace(/^["']/, '')))
      return groups[0]!;
    if (pattern.when && !pattern.when(groups)) return groups[0]!;
    const before = pattern.secret > 1 ? groups[1]! : '';
    const after = pattern.after === undefined ? '' : groups[pattern.after]!;
    return `${before}${replacement(state, pattern.kind, secret)}${after}`;
  });
}

function maskTokens(state: PassState): void {
  TOKEN_REGEX.lastIndex = 0;
  state.text = state.text.replace(TOKEN_REGEX, (...match: unknown[]) => {
    const index = match.slice(1, TOKEN_FORMATS.length + 1).findIndex((group) => typeof group === 'string');
    const kind = TOKEN_FORMATS[index]?.[1] ?? 'token';
    const whole = match[0] as string;
    if (kind === 'azure-key')
      return `${whole.slice(0, whole.indexOf('=') + 1)}${replacement(state, kind, '')}`;
    return replacement(state, kind, whole);
  });
}

const PEM_BEGIN = /-----BEGIN ((?:[A-Z0-9]+ ){0,4})PRIVATE KEY(?: BLOCK)?-----/y;
const PEM_END = /-----END ((?:[A-Z0-9]+ ){0,4})PRIVATE KEY(?: BLOCK)?-----/y;
const MAX_KEY_CHARS = 65_536;
const KEY_LINE = /^(?:[A-Za-z0-9+/=]{1,100}|[A-Za-z-]{1,40}: [^\n]{0,200}|)$/;

/** PEM private keys (also JSON-escaped, and with their start or end cut off), found with indexOf. */
function maskPrivateKeys(state: PassState): void {
  const text = state.text;
  if (!text.includes('PRIVATE KEY')) return;
  let out = '';
  let cursor = 0;
  let search = 0;
  // The next end marker for each label, so a text of many starts and no end stays linear.
  const nextEnd = new Map<string, number>();
  const findEnd = (label: string, from: number): number => {
    const known = nextEnd.get(label);
    if (known !== undefined && (known < 0 || known >= from)) return known;
    const found = text.indexOf(`-----END ${label}PRIVATE KEY`, from);
    nextEnd.set(label, found);
    return found;
  };
  let nextBegin = -2;
  let nextEndMarker = -2;
  for (;;) {
    // Each marker is searched for again only once the search has passed it: linear overall.
    if (nextBegin !== -1 && nextBegin < search) nextBegin = text.indexOf('-----BEGIN ', search);
    if (nextEndMarker !== -1 && nextEndMarker < search) nextEndMarker = text.indexOf('-----END ', search);
    const begin = nextBegin;
    const end = nextEndMarker;
    if (begin < 0 && end < 0) break;
    if (begin >= 0 && (end < 0 || begin < end)) {
      PEM_BEGIN.lastIndex = begin;
      const label = PEM_BEGIN.exec(text);
      if (!label) {
        search = begin + 11;
        continue;
      }
      const bodyStart = begin + label[0].length;
      const endAt = findEnd(label[1] ?? '', bodyStart);
      if (endAt >= 0 && endAt - bodyStart <= MAX_KEY_CHARS) {
        out +=
          text.slice(cursor, bodyStart) + replacement(state, 'private-key', text.slice(bodyStart, endAt));
        cursor = endAt;
        search = endAt + 9;
        continue;
      }
      // The end was cut off: mask the key lines that follow.
      const stop = keyLinesForward(text, bodyStart);
      out += text.slice(cursor, bodyStart) + replacement(state, 'private-key', text.slice(bodyStart, stop));
      cursor = stop;
      search = stop;
      continue;
    }
    PEM_END.lastIndex = end;
    if (!PEM_END.exec(text) || end < cursor) {
      search = end + 9;
      continue;
    }
    // An end with no start (the start was cut off): mask the key lines before it.
    const start = keyLinesBackward(text, end, cursor);
    if (start < end) {
      out += text.slice(cursor, start) + replacement(state, 'private-key', text.slice(start, end));
      cursor = end;
    }
    search = end + 9;
  }
  state.text = out + text.slice(cursor);
}

/** The line starting at `from` (without its line break), and where the next line starts. */
function lineAt(text: string, from: number): { line: string; next: number } {
  const newline = text.indexOf('\n', from);
  const stop = newline < 0 ? text.length : newline;
  return { line: text.slice(from, stop).replace(/\r$/, ''), next: newline < 0 ? text.length : newline + 1 };
}

/** Where the key lines after a key's start end (JSON-escaped keys run to the closing quote). */
function keyLinesForward(text: string, from: number): number {
  const first = lineAt(text, from);
  if (first.line.includes('\\n')) {
    const quote = /["\s]/.exec(text.slice(from, from + MAX_KEY_CHARS));
    return quote ? from + quote.index : Math.min(text.length, from + MAX_KEY_CHARS);
  }
  let position = first.next;
  let end = from + first.line.length;
  while (position < text.length && position - from < MAX_KEY_CHARS) {
    const { line, next } = lineAt(text, position);
    if (!KEY_LINE.test(line)) break;
    end = position + line.length;
    position = next;
  }
  return end;
}

/** Where the key lines before a key's end start (not before `floor`). */
function keyLinesBackward(text: string, end: number, floor: number): number {
  const lineStart = Math.max(floor, text.lastIndexOf('\n', end - 1) + 1);
  const before = text.slice(lineStart, end);
  if (before.includes('\\n')) {
    const quote = Math.max(before.lastIndexOf('"'), before.lastIndexOf(' '));
    return lineStart + quote + 1;
  }
  if (before.trim() !== '' && !/^[A-Za-z0-9+/=]{1,100}$/.test(before)) return end;
  let start = lineStart;
  while (start > floor && end - start < MAX_KEY_CHARS) {
    const previousStart = text.lastIndexOf('\n', start - 2) + 1;
    if (previousStart < floor || previousStart >= start) break;
    const line = text.slice(previousStart, start - 1).replace(/\r$/, '');
    if (!/^[A-Za-z0-9+/=]{4,100}$/.test(line)) break;
    start = previousStart;
  }
  return start;
}

/** `password: |` and `key: >-`: a YAML block scalar; mask its more-indented lines. */
function maskBlockScalars(state: PassState): void {
  const text = state.text;
  if (!/:[ \t]*[|>]/.test(text)) return;
  const header = new RegExp(
    String.raw`^([ \t]{0,64})(?:- )?(["']?)(${NAME})\2[ \t]*:[ \t]*[|>][-+]?\d?[ \t]*$`,
    'gm',
  );
  let out = '';
  let cursor = 0;
  let match: RegExpExecArray | null;
  while ((match = header.exec(text)) !== null) {
    if (!isSecretName(match[3] ?? '') || match.index < cursor) continue;
    const indent = (match[1] ?? '').length;
    const lineEnd = match.index + match[0].length;
    let position = lineEnd;
    while (position < text.length && text[position] === '\n') {
      const next = text.indexOf('\n', position + 1);
      const line = text.slice(position + 1, next < 0 ? text.length : next);
      const lineIndent = /^[ \t]*/.exec(line)![0].length;
      if (line.trim() !== '' && lineIndent <= indent) break;
      position = next < 0 ? text.length : next;
    }
    if (position > lineEnd) {
      out += text.slice(cursor, lineEnd) + replacement(state, 'secret-value', text.slice(lineEnd, position));
      cursor = position;
      header.lastIndex = position;
    }
  }
  state.text = out + text.slice(cursor);
}

/**
 * The `data:` and `stringData:` values of a Kubernetes Secret (YAML or JSON). A value that
 * decodes to a certificate is public and stays; every other value is masked. A ConfigMap has no
 * such block in a Secret's document, so it stays readable.
 */
function maskSecretData(state: PassState): void {
  const text = state.text;
  if (!/kind["']?[ \t]*:[ \t]*["']?Secret\b/.test(text)) return;
  const documents = text.split(/(?<=\n)(?=---[ \t]*\n)/);
  state.text = documents
    .map((document) => {
      if (!/kind["']?[ \t]*:[ \t]*["']?Secret\b/.test(document)) return document;
      return maskYamlDataBlocks(maskJsonDataBlocks(document, state), state);
    })
    .join('');
}

function decodesToCertificate(value: string): boolean {
  const clean = value.trim().replace(/^["']|["']$/g, '');
  if (clean.startsWith('-----BEGIN CERTIFICATE')) return true;
  try {
    return Buffer.from(clean.slice(0, 64), 'base64').toString('latin1').startsWith('-----BEGIN CERTIFICATE');
  } catch {
    return false;
  }
}

function maskYamlDataBlocks(document: string, state: PassState): string {
  const lines = document.split('\n');
  let dataIndent = -1;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const indent = /^[ \t]*/.exec(line)![0].length;
    const header = /^[ \t]*(?:data|stringData):[ \t]*$/.test(line);
    if (header) {
      dataIndent = indent;
      continue;
    }
    if (dataIndent < 0) continue;
    if (line.trim() !== '' && indent <= dataIndent) {
      dataIndent = -1;
      continue;
    }
    const entry = /^([ \t]+["']?[A-Za-z0-9_.-]{1,253}["']?[ \t]*:[ \t]*)(\S[^\n]{0,1048576})$/.exec(line);
    if (!entry) continue;
    const value = entry[2]!;
    if (PLACEHOLDER.test(value) || MASKED.test(value) || decodesToCertificate(value) || /^[|>]/.test(value))
      continue;
    lines[index] = `${entry[1]}${replacement(state, 'secret-data', '')}`;
  }
  return lines.join('\n');
}

function maskJsonDataBlocks(document: string, state: PassState): string {
  if (!/"(?:data|stringData)"[ \t]*:[ \t]*\{/.test(document)) return document;
  return document.replace(
    /("(?:data|stringData)"[ \t]*:[ \t]*\{)([^{}]{0,1048576})(\})/g,
    (_match, open: string, body: string, close: string) => {
      const masked = body.replace(
        /("[^"\n]{1,253}"[ \t]*:[ \t]*")([^"\n]{0,1048576})(")/g,
        (entry: string, key: string, value: string, end: string) =>
          PLACEHOLDER.test(value) || MASKED.test(value) || decodesToCertificate(value)
            ? entry
            : `${key}${replacement(state, 'secret-data', '')}${end}`,
      );
      return `${open}${masked}${close}`;
    },
  );
}
