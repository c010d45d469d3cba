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
  'SOCK',
  'SOCKET',
  'METHOD',
  'METHODS',
  'PROVIDER',
  'BACKEND',
  'PLUGIN',
  'SERVER',
  'HOST',
  'PORT',
  'USER',
  'USERNAME',
  'TIMEOUT',
  'INTERVAL',
  'DELAY',
  'STORE',
  'HELPER',
  'HELPERS',
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

const VERSION_WORD = /^(?:V?\d{1,4}|OLD|NEW|PREV|PREVIOUS|CURRENT|NEXT|PRIMARY|SECONDARY|BACKUP|ROTATED)$/;

const SECRET_WORD =
  /^(?:PASSWORD|PASSWD|PASS|PWD|PASSPHRASE|SECRET|SECRETS|TOKEN|APIKEY|CREDENTIALS?|CREDS|COOKIE|DSN|AUTHTOKEN|PRIVATEKEY|SECRETKEY|ACCESSKEY|KEYSTOREPASSWORD)$/;

/**
 * Variable and key names whose value is a secret: `DB_PASSWORD`, `apiKey`, `client-secret`,
 * `SECRET_KEY_BASE`, `aws_secret_access_key`, `_authToken`, `identitytoken`, `BASIC_AUTH`...
 * Compared as upper-case words after splitting camelCase and separators.
 */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((word) => word !== '');
  // A version or generation at the end names the same secret: `ENCRYPTION_KEY_V2`, `API_KEY_OLD`.
  while (words.length > 1 && VERSION_WORD.test(words.at(-1)!)) words.pop();
  if (words.length === 0) return false;
  const joined = words.join('_');
  if (joined === 'PWD' || joined === 'OLDPWD' || joined === 'PASS_MAX_DAYS') return false;
  // npmrc's `_auth` holds credentials; a bare `auth:` key is mostly a method (`auth: ldap`).
  if (joined === 'AUTH') return name.startsWith('_');
  if (joined === 'PRIVATE_KEY_ID') return true;
  const last = words.at(-1)!;
  if (NOT_SECRET_TOKENS.has(last)) return false;
  if (words.some((word) => SECRET_WORD.test(word))) return true;
  // Glued words: `identitytoken`, `dbpassword`, `clientsecret`.
  if (/(?:PASSWORD|PASSWD|SECRET|TOKEN|APIKEY|PASSPHRASE|CREDENTIALS?)$/.test(last)) return true;
  // `BASIC_AUTH`, `REDISCLI_AUTH`, `PROXY_AUTH`: the value is a credential.
  if (last === 'AUTH' && words.length > 1) return true;
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

const MAX_CACHED_NAMES = 4096;
const cache = new Map<string, boolean>();

/** {@link isSecretName}, remembered: the masker asks about the same names over and over. */
export function isSecretNameCached(name: string): boolean {
  let known = cache.get(name);
  if (known === undefined) {
    known = isSecretName(name);
    if (cache.size >= MAX_CACHED_NAMES) cache.clear();
    cache.set(name, known);
  }
  return known;
}
