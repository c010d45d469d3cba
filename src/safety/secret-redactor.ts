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
  /^(?:|""|''|null|nil|none|<none>|~|true|false|\*+|x{3,}|X{3,}|redacted|<[^>]*>|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[REDACTED:.*)$/i;

/**
 * Variable and key names whose value is a secret: `DB_PASSWORD`, `apiKey`, `client-secret`,
 * `aws_secret_access_key`, `token`... Compared in SNAKE_CASE after splitting camelCase.
 */
const SECRET_NAME =
  /(?:^|_)(?:PASSWORD|PASSWD|PASS|PWD|PASSPHRASE|SECRET|SECRETS|TOKEN|API_?KEY|APIKEY|ACCESS_?KEY|SECRET_?KEY|SECRET_ACCESS_KEY|PRIVATE_?KEY|AUTH_?KEY|AUTH_?TOKEN|CREDENTIALS?|CREDS|SIGNING_?KEY|ENCRYPTION_?KEY|MASTER_?KEY|ACCOUNT_?KEY|SESSION_?KEY|CONNECTION_?STRING|DSN|COOKIE|KEY_DATA|PRIVATE_KEY_ID)$/;

export function isSecretName(name: string): boolean {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-.\s]/g, '_')
    .toUpperCase();
  if (snake === 'PWD' || snake === 'OLDPWD') return false;
  return SECRET_NAME.test(snake);
}

/**
 * A rule masks group `secret` of each match and keeps the rest. `when` can veto a match (the name
 * in a `NAME=value` must look secret).
 */
interface Pattern {
  kind: string;
  regex: RegExp;
  /** Index of the capture group holding the secret; group 1, when it comes before, is kept. */
  secret: number;
  /** Index of a capture group after the secret that is kept too. */
  after?: number;
  when?: (groups: string[]) => boolean;
}

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_.-]*`;
const PEM_LABEL = String.raw`-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----`;
const BASE64_LINES = String.raw`(?:(?:\r?\n|\\n)(?:[A-Za-z0-9+/=]{4,100}|[A-Za-z-]+: [^\n]*))+`;

const PATTERNS: Pattern[] = [
  {
    kind: 'private-key',
    regex: new RegExp(String.raw`(${PEM_LABEL})([\s\S]*?)(-----END \2PRIVATE KEY(?: BLOCK)?-----)`, 'g'),
    secret: 3,
    after: 4,
  },
  // A key whose end was cut off (head of a truncated output, `head key.pem`).
  { kind: 'private-key', regex: new RegExp(String.raw`(${PEM_LABEL})(${BASE64_LINES})`, 'g'), secret: 3 },
  // A key whose start was cut off (tail of a truncated output).
  {
    kind: 'private-key',
    regex: new RegExp(
      String.raw`(^|\n)((?:[A-Za-z0-9+/=]{4,100}(?:\r?\n|\\n))+)(-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)`,
      'g',
    ),
    secret: 2,
    after: 3,
  },
  // Kubernetes kubeconfig `client-key-data`: base64 of a PEM key.
  { kind: 'private-key', regex: /(\bLS0tLS1CRUdJTi)([A-Za-z0-9+/=]{20,})/g, secret: 2 },
  {
    kind: 'aws-access-key-id',
    regex:
      /(^|[^A-Za-z0-9])((?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Za-z0-9])/g,
    secret: 2,
  },
  {
    kind: 'github-token',
    regex: /(^|[^A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255})/g,
    secret: 2,
  },
  { kind: 'gitlab-token', regex: /(^|[^A-Za-z0-9_])(glpat-[A-Za-z0-9_-]{20,})/g, secret: 2 },
  { kind: 'slack-token', regex: /(^|[^A-Za-z0-9_])(xox[abposr]-[A-Za-z0-9-]{10,})/g, secret: 2 },
  {
    kind: 'api-key',
    regex:
      /(^|[^A-Za-z0-9_-])(sk-(?:proj-|ant-[a-z]+\d\d-)?[A-Za-z0-9_-]{20,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,})/g,
    secret: 2,
  },
  { kind: 'google-api-key', regex: /(^|[^A-Za-z0-9_])(AIza[0-9A-Za-z_-]{35})/g, secret: 2 },
  { kind: 'npm-token', regex: /(^|[^A-Za-z0-9_])(npm_[A-Za-z0-9]{36})/g, secret: 2 },
  { kind: 'vault-token', regex: /(^|[^A-Za-z0-9_])(hv[sb]\.[A-Za-z0-9_-]{24,})/g, secret: 2 },
  {
    kind: 'jwt',
    regex: /(^|[^A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)/g,
    secret: 2,
  },
  {
    kind: 'authorization',
    regex:
      /(\b(?:Proxy-)?Authorization["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic|Token|Bot|Digest|Negotiate|AWS4-HMAC-SHA256)\s+)?)([^\s"',]+)/gi,
    secret: 2,
  },
  { kind: 'bearer-token', regex: /(\b(?:Bearer|Token)\s+)([A-Za-z0-9._~+/-]{16,}=*)/g, secret: 2 },
  {
    kind: 'url-password',
    regex: /(\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s:/@"'<>]*:)([^\s@/"'<>]+)(@)/g,
    secret: 2,
    after: 3,
  },
  {
    kind: 'connection-string',
    regex:
      /((?:^|[;\s"'?&])(?:AccountKey|SharedAccessKey|SharedAccessSignature|PrimaryKey|SecondaryKey|sig|client_secret|access_token|refresh_token|api_key|apikey)=)([^;&\s"'<>]+)/gi,
    secret: 2,
  },
  {
    kind: 'password-flag',
    regex:
      /((?:^|\s)--(?:[A-Za-z0-9]+-)*(?:password|passwd|pass|token|secret|api-key|apikey|access-key|secret-key|client-secret|auth-token)(?:=|\s+))("[^"\n]*"|'[^'\n]*'|[^\s"']+)/gi,
    secret: 2,
  },
  {
    kind: 'password-flag',
    regex:
      /(\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n|;&]*?\s-p)('[^'\n]*'|"[^"\n]*"|[^\s'"]+)/g,
    secret: 2,
  },
  { kind: 'password-flag', regex: /(\bsshpass\s+-p\s*)('[^'\n]*'|"[^"\n]*"|\S+)/g, secret: 2 },
  {
    kind: 'password-flag',
    regex: /((?:^|\s)(?:-u|--user)\s+["']?[^\s:'"]+:)([^\s'"]+)/g,
    secret: 2,
  },
  // `env`, `export -p`, `declare -x`, `.env` files: a secret-looking name, the rest of the line.
  {
    kind: 'secret-env',
    regex: new RegExp(
      String.raw`(^[ \t]*(?:export\s+|declare\s+-x\s+)?(${NAME})[ \t]*=[ \t]*)([^\n]+)`,
      'gm',
    ),
    secret: 3,
    when: (groups) => isSecretName(groups[2] ?? ''),
  },
  // The same inside other text: `"Env": ["DB_PASSWORD=x"]`, `PGPASSWORD=x psql`, `-e TOKEN=x`.
  {
    kind: 'secret-env',
    regex: new RegExp(String.raw`((?:^|[\s"'\[,{(;])(${NAME})=)("[^"\n]*"|'[^'\n]*'|[^\s"',;]+)`, 'g'),
    secret: 3,
    when: (groups) => isSecretName(groups[2] ?? ''),
  },
  // YAML and JSON: `password: x`, `"client_secret": "x"`, the value possibly on the next line.
  {
    kind: 'secret-value',
    regex: new RegExp(
      String.raw`((["']?)(${NAME})\2\s*:\s*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\$\{[^}\n]*\}|[^\s,}\]#][^\n,}\]#]*)`,
      'g',
    ),
    secret: 4,
    when: (groups) => isSecretName(groups[3] ?? '') && !/^[|>][-+]?$/.test(groups[4] ?? ''),
  },
];

/** The line opsmate's output collector puts between head and tail when it cuts the middle. */
const TRUNCATION_NOTICE = /\n\[\.\.\. \d+ bytes omitted \(\d+ in all\); [^\n]*\.\.\.\]\n/;

/** A head that stops right inside a secret's value: `PASSWORD=`, `Bearer `, a masked value. */
function endsInsideSecret(lastLine: string): boolean {
  const keyed = new RegExp(String.raw`(${NAME})\s*[=:]\s*["']?$`).exec(lastLine);
  if (keyed && isSecretName(keyed[1] ?? '')) return true;
  return /\b(?:Bearer|Basic|Token|Authorization:)\s*$|:\/\/[^\s:/@]*:$|\[REDACTED:[^\]]+\]["']?$/.test(
    lastLine,
  );
}

/** The start of a known token format, cut off at the end of a head. */
const PARTIAL_TOKEN_AT_END =
  /(^|[^A-Za-z0-9_])((?:AKIA|ASIA)[A-Z0-9]{0,15}|eyJ[A-Za-z0-9_.-]*|gh[pousr]_\w*|github_pat_\w*|glpat-[\w-]*|xox[abposr]-[\w-]*|sk-[\w-]{3,}|AIza[\w-]*|npm_\w*|hv[sb]\.[\w-]*)$/;

/** Names of env vars that hold opsmate's own credentials (LLM API keys and the like). */
const OWN_SECRET_ENV = /(?:API_KEY|TOKEN|SECRET|PASSWORD|PASSPHRASE)$/;
/** Shorter values are not masked where they appear: they would hit ordinary words. */
const MIN_OWN_SECRET_LENGTH = 8;

export interface SecretRedactorOptions {
  /** opsmate's environment: values of its secret-named variables are masked wherever they appear. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Masks secrets in text before it reaches the language model: private keys, cloud and SaaS keys,
 * bearer tokens and JWTs, passwords in URLs, connection strings and command flags, values of
 * secret-named variables and keys, and opsmate's own API keys. Hex digests, UUIDs and plain
 * base64 are left alone: only known formats and secret-named keys are masked.
 */
export class SecretRedactor {
  readonly #ownSecrets: Array<{ name: string; value: string }>;

  constructor(options: SecretRedactorOptions = {}) {
    this.#ownSecrets = Object.entries(options.env ?? {})
      .filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined && entry[1].length >= MIN_OWN_SECRET_LENGTH && OWN_SECRET_ENV.test(entry[0]),
      )
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => b.value.length - a.value.length);
  }

  /**
   * Masks the secrets in one text. With `keepLineCount`, a mask that swallows line breaks (a
   * private key) is followed by as many empty lines, so line numbers stay right.
   */
  redact(text: string, options: { keepLineCount?: boolean } = {}): Redaction {
    let count = 0;
    let result = text;
    for (const secret of this.#ownSecrets) {
      if (!result.includes(secret.value)) continue;
      const parts = result.split(secret.value);
      count += parts.length - 1;
      result = parts.join(mask(`env:${secret.name}`));
    }
    for (const pattern of PATTERNS) {
      pattern.regex.lastIndex = 0;
      result = result.replace(pattern.regex, (...match: unknown[]) => {
        const groups = match.slice(0, -2).map((group) => (typeof group === 'string' ? group : ''));
        const secret = groups[pattern.secret] ?? '';
        if (PLACEHOLDER.test(secret.trim()) || MASKED.test(secret)) return groups[0]!;
        if (pattern.when && !pattern.when(groups)) return groups[0]!;
        count++;
        const before = pattern.secret > 1 ? groups[1]! : '';
        const after = pattern.after === undefined ? '' : groups[pattern.after]!;
        const lineBreaks = options.keepLineCount ? secret.replace(/[^\n]/g, '') : '';
        return `${before}${mask(pattern.kind)}${lineBreaks}${after}`;
      });
    }
    return { text: result, count };
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
    let count = head.count + tail.count;
    let headText = head.text;
    const partial = PARTIAL_TOKEN_AT_END.exec(headText);
    if (partial) {
      headText = headText.slice(0, partial.index) + partial[1]! + mask('cut-secret');
      count++;
    }
    let tailText = tail.text;
    const lastLine = headText.slice(headText.lastIndexOf('\n') + 1);
    const fragment = /^[^\s"',;]+/.exec(tailText);
    if (fragment && endsInsideSecret(lastLine) && !MASKED.test(tailText)) {
      tailText = mask('cut-secret') + tailText.slice(fragment[0].length);
      count++;
    }
    return { text: headText + notice[0] + tailText, count };
  }
}
