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

/** Splits SQL into statements. A psql meta-command (`\d users`) is a statement of its own. */
export function splitSql(source: string): SqlAnalysis {
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
    if (char === '-' && next === '-') {
      const end = source.indexOf('\n', index);
      index = end < 0 ? source.length : end + 1;
      continue;
    }
    if (char === '#' && words.length === 0 && /^#\s/.test(source.slice(index, index + 2))) {
      // MySQL comment at the start of a statement.
      const end = source.indexOf('\n', index);
      index = end < 0 ? source.length : end + 1;
      continue;
    }
    if (char === '/' && next === '*') {
      const end = source.indexOf('*/', index + 2);
      if (end < 0) {
        problems.push('a /* comment is never closed');
        break;
      }
      index = end + 2;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') {
      let end = index + 1;
      for (;;) {
        end = source.indexOf(char, end);
        if (end < 0) break;
        if (source[end + 1] === char) {
          end += 2;
          continue;
        }
        if (
          char === "'" &&
          source[end - 1] === '\\' &&
          /[eE]$/.test(source.slice(Math.max(0, index - 1), index))
        ) {
          end++;
          continue;
        }
        break;
      }
      if (end < 0) {
        problems.push(`a ${char} quote is never closed`);
        break;
      }
      if (char !== "'") words.push(source.slice(index + 1, end).toUpperCase());
      else words.push("'");
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
/** psql meta-commands that only show things. */
const READ_META =
  /^\\(?:d[a-zA-Z+]*|l\+?|list|dn|du|dp|z|x|timing|conninfo|encoding|pset|a|H|t|T|C|f|\?|h|help|sf\+?|sv\+?|echo|qecho|q|quit|lo_list)$/;

export type SqlProfile = 'read-only' | 'ask-destructive';

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
    return undefined;
  }
  if (TRANSACTION.has(first)) return undefined;
  if (first === 'SET' || first === 'RESET') {
    return ['GLOBAL', 'PERSIST', 'PERSIST_ONLY', 'ROLE', 'SESSION'].includes(statement.words[1] ?? '') &&
      statement.words[2] !== 'CHARACTERISTICS'
      ? `SET ${statement.words[1]} changes the server or the session's rights`
      : undefined;
  }
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
