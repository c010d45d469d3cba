/**
 * The SQL the knowledge base runs on: PGlite in opsmate's home, or a PostgreSQL server for a
 * team (`OPSMATE_DB_URL`). Both speak PostgreSQL with `$1` parameters, so the schema and the
 * queries are the same; only opening, locking and closing differ.
 */
export interface SqlStore {
  /** `pglite` (the embedded store before SQLite, in opsmate's home) or `postgres` (a server). */
  readonly kind: 'pglite' | 'postgres';
  /** Where it is: the data folder, or the server's URL without its password. */
  readonly location: string;
  /** Runs one statement; resolves with its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs statements with no parameters, `;`-separated (the schema). */
  exec(sql: string): Promise<void>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(work: (store: SqlQueries) => Promise<T>): Promise<T>;
  /** Whether the pgvector extension could be loaded: vector search is possible. */
  hasVector(): Promise<boolean>;
  close(): Promise<void>;
}

/** What a transaction may do: queries on its own connection. */
export type SqlQueries = Pick<SqlStore, 'query'>;
