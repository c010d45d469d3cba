/**
 * The SQL side of the policy: splits a command written in SQL into statements (comments, quoted
 * strings, quoted identifiers and dollar-quoted bodies handled, so `-- don't` is a comment and a
 * `;` inside a string is not a separator), and judges each statement.
 */

export interface SqlStatement {
  /** The statement's words: keywords and identifiers upper-cased, literals left out. */
  words: string[];
  /** The statement as written, trimmed, for messages. */
  text: string;
}

export interface SqlAnalysis {
  statements: SqlStatement[];
  problems: string[];
}

/**
 * How a server reads the text. PostgreSQL: `--` always starts a comment, block comments nest, `\` is a
 * plain character in `'...'` (it escapes only in `E'...'`). MySQL: `--` needs a space after it,
 * `#` starts a comment, comments do not nest, `\` escapes in every string.
 */
interface SqlDialect {
  backslashEscapes: boolean;
  nestedComments: boolean;
  dashCommentNeedsSpace: boolean;
}

const POSTGRES: SqlDialect = { backslashEscapes: false, nestedComments: true, dashCommentNeedsSpace: false };
const MYSQL: SqlDialect = { backslashEscapes: true, nestedComments: false, dashCommentNeedsSpace: true };

/**
 * Splits SQL into statements. A psql meta-command (`\d users`) is a statement of its own. The
 * runtime's server is not known here, so the text is read as PostgreSQL and as MySQL read it; when
 * the two readings differ (`select '\'; drop table t; --'` is one statement in MySQL and two in
 * PostgreSQL), that is a problem and the command asks.
 */
export function splitSql(source: string): SqlAnalysis {
  const postgres = splitSqlAs(source, POSTGRES);
  const mysql = splitSqlAs(source, MYSQL);
  const same = (a: SqlAnalysis, b: SqlAnalysis): boolean =>
    a.statements.length === b.statements.length &&
    a.statements.every(
      (statement, index) => statement.words.join(' ') === b.statements[index]!.words.join(' '),
    );
  if (same(postgres, mysql) || postgres.problems.length > 0 || mysql.problems.length > 0) {
    const problems = [...new Set([...postgres.problems, ...mysql.problems])];
    const longer = mysql.statements.length > postgres.statements.length ? mysql : postgres;
    return { statements: longer.statements, problems };
  }
  // Judge every statement either reading finds.
  return {
    statements: [...postgres.statements, ...mysql.statements],
    problems: [
      'the quoting or comments read differently in PostgreSQL and MySQL, so the statements cannot be told apart',
    ],
  };
}

function splitSqlAs(source: string, dialect: SqlDialect): SqlAnalysis {
  const statements: SqlStatement[] = [];
  const problems: string[] = [];
  let words: string[] = [];
  let start = 0;
  let index = 0;
  const finish = (end: number): void => {
    const text = source.slice(start, end).trim();
    if (words.length > 0) statements.push({ words, text });
    words = [];
  };
  while (index < source.length) {
    const char = source[index]!;
    const next = source[index + 1];
    if (
      char === '-' &&
      next === '-' &&
      (!dialect.dashCommentNeedsSpace || index + 2 >= source.length || /\s/.test(source[index + 2]!))
    ) {
      const end = source.indexOf('\n', index);
      index = end < 0 ? source.length : end + 1;
      continue;
    }
    if (char === '#' && dialect.backslashEscapes) {
      // MySQL: `#` starts a comment anywhere.
      const end = source.indexOf('\n', index);
      index = end < 0 ? source.length : end + 1;
      continue;
    }
    if (char === '/' && next === '*') {
      let depth = 1;
      let at = index + 2;
      while (depth > 0 && at < source.length) {
        if (source.startsWith('*/', at)) {
          depth--;
          at += 2;
        } else if (dialect.nestedComments && source.startsWith('/*', at)) {
          depth++;
          at += 2;
        } else at++;
      }
      if (depth > 0) {
        problems.push('a /* comment is never closed');
        break;
      }
      index = at;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') {
      // A backslash escapes the next character (exactly one) in E'...' and, in MySQL, in any string.
      const escapes =
        char !== '`' &&
        (dialect.backslashEscapes ||
          (char === "'" && /(?:^|[^A-Za-z0-9_])[eE]$/.test(source.slice(Math.max(0, index - 2), index))));
      let end = -1;
      for (let at = index + 1; at < source.length; at++) {
        const current = source[at];
        if (escapes && current === '\\') {
          at++;
          continue;
        }
        if (current !== char) continue;
        if (source[at + 1] === char) {
          at++;
          continue;
        }
        end = at;
        break;
      }
      if (end < 0) {
        problems.push(`a ${char} quote is never closed`);
        break;
      }
      if (char !== "'") {
        const body = source.slice(index + 1, end);
        // `U&"\0070g_terminate_backend"`: a name written with Unicode escapes.
        const unicode =
          char === '"' && /(?:^|[^A-Za-z0-9_])[uU]&$/.test(source.slice(Math.max(0, index - 3), index));
        words.push((unicode ? decodeUnicodeEscapes(body, source.slice(end + 1)) : body).toUpperCase());
      } else words.push("'");
      index = end + 1;
      continue;
    }
    if (char === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(source.slice(index));
      if (tag) {
        const end = source.indexOf(tag[0], index + tag[0].length);
        if (end < 0) {
          problems.push(`a ${tag[0]} quoted body is never closed`);
          break;
        }
        words.push('$BODY$');
        index = end + tag[0].length;
        continue;
      }
    }
    if (char === '\\' && words.length === 0) {
      // psql meta-command: up to the end of the line.
      const end = source.indexOf('\n', index);
      const stop = end < 0 ? source.length : end;
      const line = source.slice(index, stop).trim();
      statements.push({ words: ['\\' + (/^\\([A-Za-z!?]+|\S)/.exec(line)?.[1] ?? '')], text: line });
      index = stop + 1;
      start = index;
      continue;
    }
    if (char === ';') {
      finish(index);
      index++;
      start = index;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(source.slice(index, index + 128));
    if (word) {
      words.push(word[0].toUpperCase());
      index += word[0].length;
      continue;
    }
    if ('(),.=*'.includes(char)) words.push(char);
    index++;
  }
  finish(source.length);
  return { statements, problems };
}

/** The text of a `U&"..."` identifier: `\XXXX`, `\+XXXXXX` (or another escape set by `UESCAPE 'c'`). */
function decodeUnicodeEscapes(body: string, after: string): string {
  const custom = /^\s*UESCAPE\s*'(.)'/i.exec(after)?.[1];
  const escape = (custom ?? '\\').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return body.replace(
    new RegExp(`${escape}(?:\\+([0-9A-Fa-f]{6})|([0-9A-Fa-f]{4})|(${escape}))`, 'g'),
    (_match, long: string | undefined, short: string | undefined, literal: string | undefined) =>
      literal ?? String.fromCodePoint(Number.parseInt(long ?? short ?? '0', 16)),
  );
}

const READ_STATEMENTS = new Set([
  'SELECT',
  'SHOW',
  'EXPLAIN',
  'DESCRIBE',
  'DESC',
  'VALUES',
  'TABLE',
  'WITH',
  'HELP',
  'USE',
]);
const TRANSACTION = new Set(['BEGIN', 'COMMIT', 'ROLLBACK', 'START', 'END', 'ABORT', 'SAVEPOINT', 'RELEASE']);
const WRITE_KEYWORDS = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'UPSERT',
  'REPLACE',
  'TRUNCATE',
  'DROP',
  'ALTER',
  'CREATE',
  'GRANT',
  'REVOKE',
  'COPY',
  'CALL',
  'DO',
  'EXECUTE',
  'LOCK',
]);
/** Statements the ask-destructive profile asks about (the rest of the writes run). */
const DESTRUCTIVE = new Set([
  'DROP',
  'DELETE',
  'UPDATE',
  'TRUNCATE',
  'ALTER',
  'GRANT',
  'REVOKE',
  'MERGE',
  'REPLACE',
  'RENAME',
  'COPY',
  'CALL',
  'DO',
  'EXECUTE',
  'LOAD',
  'SHUTDOWN',
  'KILL',
  'PURGE',
  'RESET',
  'FLUSH',
  'DISCARD',
  'VACUUM',
  'CLUSTER',
  'REINDEX',
  'REASSIGN',
  'SECURITY',
  'IMPORT',
  'UNINSTALL',
  'INSTALL',
]);
/** Functions that change the server while looking like a read (`SELECT pg_terminate_backend(...)`). */
const SIDE_EFFECT_FUNCTIONS = new Set([
  'PG_TERMINATE_BACKEND',
  'PG_STAT_RESET',
  'PG_STAT_RESET_SHARED',
  'PG_STAT_RESET_SINGLE_TABLE_COUNTERS',
  'PG_STAT_RESET_SLRU',
  'PG_STAT_STATEMENTS_RESET',
  'PG_WAL_REPLAY_PAUSE',
  'PG_BACKUP_START',
  'PG_REPLICATION_SLOT_ADVANCE',
  'PG_CANCEL_BACKEND',
  'PG_RELOAD_CONF',
  'PG_ROTATE_LOGFILE',
  'PG_SWITCH_WAL',
  'PG_PROMOTE',
  'PG_CREATE_RESTORE_POINT',
  'PG_DROP_REPLICATION_SLOT',
  'PG_CREATE_LOGICAL_REPLICATION_SLOT',
  'PG_CREATE_PHYSICAL_REPLICATION_SLOT',
  'PG_LOGICAL_EMIT_MESSAGE',
  'PG_FILE_WRITE',
  'PG_FILE_UNLINK',
  'PG_FILE_RENAME',
  'PG_READ_FILE',
  'PG_READ_BINARY_FILE',
  'LO_EXPORT',
  'LO_IMPORT',
  'LO_UNLINK',
  'LO_FROM_BYTEA',
  'LO_PUT',
  'DBLINK',
  'DBLINK_EXEC',
  'SETVAL',
  'NEXTVAL',
  'SET_CONFIG',
  'PG_ADVISORY_LOCK',
  'PG_ADVISORY_XACT_LOCK',
  'PG_SLEEP',
  'SYS_EXEC',
  'SYS_EVAL',
  'LOAD_FILE',
  'QUERY_TO_XML',
  'TXID_CURRENT',
]);
/**
 * Functions the read-only profile lets a query call: aggregates, window, string, math, date,
 * JSON and array functions, casts, and the server's information functions. Any other function
 * (`pg_stat_reset()`, `lo_create()`, a user's `public.cleanup()`) asks: a SELECT can change the
 * server through a function call.
 */
const READ_ONLY_FUNCTIONS = new Set(
  `COUNT SUM AVG MIN MAX STRING_AGG ARRAY_AGG JSON_AGG JSONB_AGG JSON_OBJECT_AGG JSONB_OBJECT_AGG BOOL_AND BOOL_OR EVERY
  STDDEV STDDEV_POP STDDEV_SAMP VARIANCE VAR_POP VAR_SAMP PERCENTILE_CONT PERCENTILE_DISC MODE GROUP_CONCAT BIT_AND BIT_OR
  BIT_XOR CORR COVAR_POP COVAR_SAMP REGR_SLOPE ROW_NUMBER RANK DENSE_RANK LAG LEAD FIRST_VALUE LAST_VALUE NTILE NTH_VALUE
  CUME_DIST PERCENT_RANK LOWER UPPER LENGTH CHAR_LENGTH CHARACTER_LENGTH OCTET_LENGTH BIT_LENGTH SUBSTRING SUBSTR TRIM LTRIM
  RTRIM BTRIM CONCAT CONCAT_WS REPLACE POSITION STRPOS SPLIT_PART LEFT RIGHT LPAD RPAD REGEXP_REPLACE REGEXP_MATCHES
  REGEXP_MATCH REGEXP_SUBSTR REGEXP_LIKE REGEXP_SPLIT_TO_TABLE REGEXP_SPLIT_TO_ARRAY REGEXP_COUNT INITCAP MD5 SHA1 SHA2
  SHA224 SHA256 SHA384 SHA512 ENCODE DECODE FORMAT TO_CHAR TO_NUMBER TO_DATE TO_TIMESTAMP QUOTE_IDENT QUOTE_LITERAL
  QUOTE_NULLABLE REVERSE REPEAT TRANSLATE ASCII CHR STARTS_WITH LOCATE INSTR HEX UNHEX ABS ROUND CEIL CEILING FLOOR TRUNC
  TRUNCATE MOD POWER POW SQRT CBRT EXP LN LOG LOG10 LOG2 GREATEST LEAST RANDOM RAND SIGN DIV PI DEGREES RADIANS WIDTH_BUCKET
  COALESCE NULLIF IFNULL NVL ISNULL IF IIF NOW CURRENT_TIMESTAMP CURRENT_DATE CURRENT_TIME LOCALTIMESTAMP LOCALTIME
  DATE_TRUNC DATE_PART DATE_BIN EXTRACT AGE MAKE_DATE MAKE_TIME MAKE_TIMESTAMP MAKE_TIMESTAMPTZ MAKE_INTERVAL CLOCK_TIMESTAMP
  STATEMENT_TIMESTAMP TRANSACTION_TIMESTAMP TIMEOFDAY JUSTIFY_INTERVAL JUSTIFY_DAYS JUSTIFY_HOURS ISFINITE GENERATE_SERIES
  DATE_ADD DATE_SUB ADDDATE SUBDATE DATEDIFF TIMESTAMPDIFF TIMESTAMPADD UNIX_TIMESTAMP FROM_UNIXTIME CURDATE CURTIME
  SYSDATE UTC_TIMESTAMP UTC_DATE DATE_FORMAT STR_TO_DATE DATE TIME YEAR MONTH DAY DAYOFWEEK DAYOFYEAR WEEK HOUR MINUTE
  SECOND LAST_DAY JSON_BUILD_OBJECT JSONB_BUILD_OBJECT JSON_BUILD_ARRAY JSONB_BUILD_ARRAY JSON_EXTRACT_PATH
  JSONB_EXTRACT_PATH JSON_EXTRACT_PATH_TEXT JSONB_EXTRACT_PATH_TEXT JSONB_PRETTY JSONB_ARRAY_LENGTH JSON_ARRAY_LENGTH
  JSONB_EACH JSON_EACH JSONB_EACH_TEXT JSON_EACH_TEXT JSONB_OBJECT_KEYS JSON_OBJECT_KEYS JSONB_ARRAY_ELEMENTS
  JSON_ARRAY_ELEMENTS JSONB_ARRAY_ELEMENTS_TEXT JSON_ARRAY_ELEMENTS_TEXT JSONB_TYPEOF JSON_TYPEOF JSONB_PATH_QUERY
  JSONB_PATH_EXISTS TO_JSON TO_JSONB ROW_TO_JSON ARRAY_TO_JSON JSON_EXTRACT JSON_UNQUOTE JSON_OBJECT JSON_ARRAY
  JSON_KEYS JSON_LENGTH JSON_CONTAINS JSON_VALUE JSON_QUERY ARRAY_LENGTH ARRAY_UPPER ARRAY_LOWER ARRAY_POSITION
  ARRAY_REMOVE ARRAY_APPEND ARRAY_CAT UNNEST CARDINALITY ARRAY_TO_STRING STRING_TO_ARRAY ARRAY ANY ALL SOME EXISTS IN
  CAST CONVERT TRY_CAST VARCHAR CHAR CHARACTER NUMERIC DECIMAL TIMESTAMP TIMESTAMPTZ INTERVAL INT INTEGER BIGINT SMALLINT
  FLOAT REAL DOUBLE BIT VARBIT TIMETZ VERSION CURRENT_USER SESSION_USER CURRENT_ROLE CURRENT_DATABASE CURRENT_CATALOG
  CURRENT_SCHEMA CURRENT_SCHEMAS CURRENT_SETTING DATABASE USER SYSTEM_USER SCHEMA CONNECTION_ID INET_SERVER_ADDR
  INET_SERVER_PORT INET_CLIENT_ADDR INET_CLIENT_PORT FORMAT_TYPE OBJ_DESCRIPTION COL_DESCRIPTION SHOBJ_DESCRIPTION
  HAS_TABLE_PRIVILEGE HAS_DATABASE_PRIVILEGE HAS_SCHEMA_PRIVILEGE HAS_COLUMN_PRIVILEGE HAS_FUNCTION_PRIVILEGE
  PG_SIZE_PRETTY PG_DATABASE_SIZE PG_RELATION_SIZE PG_TOTAL_RELATION_SIZE PG_TABLE_SIZE PG_INDEXES_SIZE
  PG_TABLESPACE_SIZE PG_COLUMN_SIZE PG_SIZE_BYTES PG_IS_IN_RECOVERY PG_IS_WAL_REPLAY_PAUSED PG_LAST_XACT_REPLAY_TIMESTAMP
  PG_LAST_WAL_RECEIVE_LSN PG_LAST_WAL_REPLAY_LSN PG_CURRENT_WAL_LSN PG_CURRENT_WAL_INSERT_LSN PG_CURRENT_WAL_FLUSH_LSN
  PG_WAL_LSN_DIFF PG_WALFILE_NAME PG_POSTMASTER_START_TIME PG_CONF_LOAD_TIME PG_BACKEND_PID PG_BLOCKING_PIDS
  PG_SAFE_SNAPSHOT_BLOCKING_PIDS PG_TYPEOF PG_GET_VIEWDEF PG_GET_INDEXDEF PG_GET_CONSTRAINTDEF PG_GET_FUNCTIONDEF
  PG_GET_FUNCTION_ARGUMENTS PG_GET_FUNCTION_RESULT PG_GET_TRIGGERDEF PG_GET_RULEDEF PG_GET_USERBYID PG_GET_EXPR
  PG_GET_SERIAL_SEQUENCE PG_GET_KEYWORDS PG_TABLE_IS_VISIBLE PG_FUNCTION_IS_VISIBLE PG_TYPE_IS_VISIBLE PG_HAS_ROLE
  PG_ENCODING_TO_CHAR PG_CHAR_TO_ENCODING PG_XACT_COMMIT_TIMESTAMP PG_CURRENT_LOGFILE PG_LISTENING_CHANNELS
  PG_NOTIFICATION_QUEUE_USAGE PG_TRIGGER_DEPTH PG_CURRENT_SNAPSHOT PG_SNAPSHOT_XMIN PG_SNAPSHOT_XMAX TXID_CURRENT_SNAPSHOT
  TXID_SNAPSHOT_XMIN TXID_SNAPSHOT_XMAX PG_TABLESPACE_LOCATION PG_INDEX_COLUMN_HAS_PROPERTY PG_INDEXAM_HAS_PROPERTY
  PG_RELATION_FILENODE PG_RELATION_FILEPATH PG_STAT_GET_ACTIVITY PG_STAT_GET_BACKEND_PID PG_JIT_AVAILABLE
  PG_CONTROL_CHECKPOINT PG_CONTROL_SYSTEM PG_CONTROL_RECOVERY PG_CONTROL_INIT TO_REGCLASS TO_REGPROC TO_REGTYPE
  TO_REGNAMESPACE TO_REGROLE QUOTE FOUND_ROWS ROW_COUNT LAST_INSERT_ID UUID GEN_RANDOM_UUID HOST HOSTMASK NETWORK MASKLEN
  FAMILY BROADCAST INET CIDR INET_ATON INET_NTOA`.split(/\s+/),
);
/** Words that stand before `(` without being a call. */
const NOT_CALLS = new Set(
  `AS OVER FILTER GROUP WITHIN FROM JOIN ON USING WHERE AND OR NOT SELECT VALUES LATERAL CASE WHEN THEN ELSE BY INTO
  WITH TABLE ROWS RANGE WINDOW PARTITION ORDER HAVING UNION INTERSECT EXCEPT RETURNING LIMIT OFFSET IS DISTINCT LIKE
  ILIKE SIMILAR BETWEEN ROW KEY PRIMARY UNIQUE CHECK DEFAULT INDEX TUPLE`.split(/\s+/),
);
/** Session settings the read-only profile may change (they change nothing but this session's display and limits). */
const READ_ONLY_SETTINGS = new Set(
  `STATEMENT_TIMEOUT LOCK_TIMEOUT IDLE_IN_TRANSACTION_SESSION_TIMEOUT TIMEZONE TIME DATESTYLE INTERVALSTYLE CLIENT_ENCODING
  NAMES APPLICATION_NAME EXTRA_FLOAT_DIGITS BYTEA_OUTPUT CLIENT_MIN_MESSAGES WORK_MEM ENABLE_SEQSCAN ENABLE_INDEXSCAN
  ENABLE_BITMAPSCAN ENABLE_HASHJOIN ENABLE_MERGEJOIN ENABLE_NESTLOOP JIT MAX_EXECUTION_TIME SQL_SELECT_LIMIT
  CHARACTER_SET_RESULTS PROFILING`.split(/\s+/),
);

/** Function calls in a statement: a name followed by `(` that is not a keyword. */
function calledFunctions(words: string[]): string[] {
  return words.filter(
    (word, index) => words[index + 1] === '(' && /^[A-Z_][A-Z0-9_$]*$/.test(word) && !NOT_CALLS.has(word),
  );
}

/** psql meta-commands that only show things. */
const READ_META =
  /^\\(?:d[a-zA-Z+]*|l\+?|list|dn|du|dp|z|x|timing|conninfo|encoding|pset|a|H|t|T|C|f|\?|h|help|sf\+?|sv\+?|echo|qecho|q|quit|lo_list)$/;

export type SqlProfile = 'read-only' | 'ask-destructive';

/** `SET name = value` in the read-only profile: only settings that change this session's display and limits. */
function setProblem(words: string[]): string | undefined {
  let index = 1;
  if (words[index] === 'SESSION' || words[index] === 'LOCAL') index++;
  if (words[index] === 'TRANSACTION' || words[index] === 'CHARACTERISTICS')
    return words.includes('WRITE') ? 'READ WRITE turns off the read-only transaction' : undefined;
  const name = words[index] ?? '';
  if (words[0] === 'RESET' && name === 'ALL') return 'RESET ALL can turn off a read-only default';
  if (READ_ONLY_SETTINGS.has(name)) return undefined;
  return `SET ${name || 'the setting'} is not a setting the read-only profile changes (it can change rights, the search path or the server)`;
}

/** Why a statement needs approval in the profile, or undefined when it runs without asking. */
export function sqlStatementProblem(statement: SqlStatement, profile: SqlProfile): string | undefined {
  const [first = ''] = statement.words;
  if (first.startsWith('\\')) {
    if (READ_META.test(first)) return undefined;
    return `psql ${first} runs shell commands, reads or writes files, or runs more SQL the policy cannot see`;
  }
  const functions = statement.words.filter(
    (word, index) => statement.words[index + 1] === '(' && SIDE_EFFECT_FUNCTIONS.has(word),
  );
  if (
    functions.length > 0 &&
    !(
      profile === 'ask-destructive' &&
      functions.every((name) =>
        [
          'PG_SLEEP',
          'TXID_CURRENT',
          'PG_READ_FILE',
          'PG_READ_BINARY_FILE',
          'LOAD_FILE',
          'QUERY_TO_XML',
          'NEXTVAL',
          'SETVAL',
          'PG_ADVISORY_LOCK',
          'PG_ADVISORY_XACT_LOCK',
        ].includes(name),
      )
    )
  )
    return `${functions[0]!.toLowerCase()}() changes the server or reads its files`;
  const intoFile = statement.words.some(
    (word, index) => word === 'INTO' && ['OUTFILE', 'DUMPFILE'].includes(statement.words[index + 1] ?? ''),
  );
  if (intoFile) return 'SELECT ... INTO OUTFILE writes a file on the server';
  if (profile === 'ask-destructive') {
    const hit = statement.words.find((word) => DESTRUCTIVE.has(word));
    if (hit && (hit === first || WRITE_KEYWORDS.has(hit) || first === 'WITH' || first === 'EXPLAIN'))
      return `${hit} changes or removes data, schema or permissions`;
    if (first === 'SET' && ['GLOBAL', 'PERSIST', 'PERSIST_ONLY'].includes(statement.words[1] ?? ''))
      return 'SET GLOBAL changes the server for everyone';
    if (first === 'CREATE' && statement.words[1] === 'OR' && statement.words[2] === 'REPLACE')
      return 'CREATE OR REPLACE replaces an existing object';
    if (
      (first === 'SET' &&
        /^(?:ROLE|SESSION)$/.test(statement.words[statement.words[1] === 'LOCAL' ? 2 : 1] ?? '') &&
        statement.words.includes('ROLE')) ||
      (first === 'SET' && statement.words.includes('AUTHORIZATION'))
    )
      return 'SET ROLE / SESSION AUTHORIZATION changes the rights later statements run with';
    if (first === 'REFRESH' || first === 'CHECKPOINT') return `${first} rewrites data or loads the server`;
    return undefined;
  }
  if (TRANSACTION.has(first))
    return statement.words.includes('WRITE')
      ? 'READ WRITE turns off the read-only transaction the server enforces'
      : undefined;
  if (first === 'SET' || first === 'RESET') return setProblem(statement.words);
  const unknown = calledFunctions(statement.words).find((name) => !READ_ONLY_FUNCTIONS.has(name));
  if (unknown)
    return `${unknown.toLowerCase()}() is not known to be read-only (a function can change the server)`;
  const lock = statement.words.findIndex(
    (word, index) => word === 'FOR' && /^(?:SHARE|KEY|NO|UPDATE)$/.test(statement.words[index + 1] ?? ''),
  );
  if (lock >= 0) return `FOR ${statement.words[lock + 1]} locks rows, which blocks writers`;
  if (!READ_STATEMENTS.has(first)) return `${first || 'the statement'} is not a read`;
  const write = statement.words.find((word) => WRITE_KEYWORDS.has(word));
  if (write && write !== 'REPLACE') return `${write} inside a ${first} changes data`;
  if (first === 'EXPLAIN' && statement.words.includes('ANALYZE')) {
    const inner = statement.words.find((word) => WRITE_KEYWORDS.has(word));
    if (inner) return 'EXPLAIN ANALYZE runs the statement';
  }
  if (first === 'SELECT' && statement.words.includes('INTO') && !statement.words.includes('FROM'))
    return undefined;
  if (
    first === 'SELECT' &&
    statement.words.some((word, index) => word === 'INTO' && statement.words[index - 1] !== 'INSERT')
  )
    return 'SELECT ... INTO creates a table';
  return undefined;
}
