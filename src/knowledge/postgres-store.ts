import pg from 'pg';
import { ConfigError, OpsmateError, errorMessage } from '../errors/opsmate-error.js';
import type { SqlStore } from './sql-store.js';

/** The URL without its password, for messages and `kb stats`. */
export function safeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * Opens the team's knowledge base on a PostgreSQL server (`OPSMATE_DB_URL`). Several opsmate
 * processes share it safely: PostgreSQL serialises their transactions, and an ingest takes an
 * advisory lock on its source while it writes. Vector search needs the server's pgvector
 * extension; without it the store is full-text only and says so.
 */
export async function openPostgresStore(options: { url: string; signal?: AbortSignal }): Promise<SqlStore> {
  if (!/^postgres(ql)?:\/\//.test(options.url)) {
    throw new ConfigError(`OPSMATE_DB_URL must be a postgres:// URL, got ${safeDatabaseUrl(options.url)}`, {
      hint: 'e.g. OPSMATE_DB_URL=postgres://opsmate:PASSWORD@db.internal:5432/opsmate',
    });
  }
  const pool = new pg.Pool({ connectionString: options.url, max: 2, connectionTimeoutMillis: 15_000 });
  pool.on('error', () => undefined);
  const location = safeDatabaseUrl(options.url);
  try {
    options.signal?.throwIfAborted();
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new OpsmateError(`cannot connect to the knowledge base at ${location}: ${errorMessage(error)}`, {
      hint: 'check OPSMATE_DB_URL and that the server is reachable',
      cause: error,
    });
  }
  let vectorReady: boolean | undefined;
  return {
    kind: 'postgres',
    location,
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      return (await pool.query(sql, [...params])).rows as Row[];
    },
    async exec(sql: string): Promise<void> {
      await pool.query(sql);
    },
    async transaction<T>(work: (store: Pick<SqlStore, 'query'>) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client has no pool listener: a connection the server drops (a restart,
      // pg_terminate_backend) emits 'error' here, which unheard would be an uncaught exception.
      let lost: Error | undefined;
      const onError = (error: Error) => {
        lost ??= error;
      };
      client.on('error', onError);
      try {
        await client.query('begin');
        const result = await work({
          query: async <Row>(sql: string, params: readonly unknown[] = []) =>
            (await client.query(sql, [...params])).rows as Row[],
        });
        await client.query('commit');
        return result;
      } catch (error) {
        if (lost === undefined) await client.query('rollback').catch(() => undefined);
        if (lost !== undefined && !(error instanceof DOMException && error.name === 'AbortError')) {
          throw new OpsmateError(
            `the connection to the knowledge base at ${location} was lost: ${errorMessage(lost)}`,
            {
              hint: 'nothing of this transaction was stored; run the command again when the server is back',
              cause: error,
            },
          );
        }
        throw error;
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    },
    async hasVector(): Promise<boolean> {
      if (vectorReady === undefined) {
        // Installed already: no DDL (every opsmate process opens the store).
        const installed = await pool.query("select 1 from pg_extension where extname = 'vector'");
        const available = installed.rowCount
          ? installed
          : await pool.query("select 1 from pg_available_extensions where name = 'vector'");
        vectorReady = Boolean(installed.rowCount);
        if (!vectorReady && available.rowCount) {
          try {
            await pool.query('create extension if not exists vector');
            vectorReady = true;
          } catch {
            vectorReady = false;
          }
        }
      }
      return vectorReady;
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
