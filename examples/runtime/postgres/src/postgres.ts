import pg from 'pg';
import { CommandRuntime, defineRuntime, RuntimeError, z } from 'opsmate';
import type { CommandExecution, CommandOutcome, RuntimeContext } from 'opsmate';
import { formatResult, type StatementResult } from './format-result.js';

export const postgresConfigSchema = z.object({
  host: z.string().default('127.0.0.1').describe('Server host name or address, or a Unix socket folder'),
  port: z.int().min(1).max(65535).default(5432).describe('Server port'),
  database: z.string().default('postgres').describe('Database to connect to'),
  user: z.string().default('postgres').describe('Role to connect as'),
  password: z
    .string()
    .optional()
    .describe('Password of the role (or set PGPASSWORD, or use ~/.pgpass)')
    .meta({ secret: true }),
  connectTimeout: z.int().min(1).default(10).describe('Seconds to wait for the connection'),
  applicationName: z.string().default('opsmate').describe('application_name the session reports'),
});
export type PostgresConfig = z.output<typeof postgresConfigSchema>;

/** What the model is told to write. */
export const POSTGRES_LANGUAGE = {
  id: 'sql',
  description:
    'PostgreSQL SQL, one statement or several separated by ; (psql backslash commands such as \\d do not work: query information_schema and pg_catalog instead)',
} as const;

/**
 * Runs the model's SQL on a PostgreSQL server over one session, so SET, temporary tables and
 * transactions carry over between commands. A result prints as psql's aligned table; an error
 * goes to stderr with exit status 1. A timeout or cancel stops the statement with
 * pg_cancel_backend from a second connection; the session stays.
 */
export class PostgresRuntime extends CommandRuntime {
  readonly #config: PostgresConfig;
  #client: pg.Client | undefined;
  #serverVersion = '';

  constructor(config: PostgresConfig, context: RuntimeContext) {
    super({ name: 'postgres', context, language: POSTGRES_LANGUAGE });
    this.#config = config;
  }

  protected async open(signal?: AbortSignal): Promise<void> {
    const client = new pg.Client(this.#clientConfig());
    // A dropped connection must not crash opsmate; the next command reports it.
    client.on('error', () => undefined);
    const onAbort = (): void => void client.end().catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await client.connect();
      const version = await client.query<{ server_version: string }>('show server_version');
      this.#serverVersion = version.rows[0]?.server_version ?? '';
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new RuntimeError(
        `postgres runtime: cannot connect to ${this.#where()}: ${(error as Error).message}`,
        {
          hint: 'check --runtime-postgres-host, -port, -user, -database and the password (--runtime-postgres-password, PGPASSWORD or ~/.pgpass)',
        },
      );
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    this.#client = client;
  }

  protected async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  protected async execute(sql: string, execution: CommandExecution): Promise<CommandOutcome> {
    const client = this.#client;
    if (!client) throw new RuntimeError('postgres runtime: not connected');
    const notices: string[] = [];
    const onNotice = (notice: { severity?: string; message?: string }): void => {
      notices.push(`${notice.severity ?? 'NOTICE'}:  ${notice.message}\n`);
    };
    client.on('notice', onNotice);
    // processID is the server pid of the session; @types/pg does not declare it.
    const pid = (client as unknown as { processID?: number }).processID;
    const onAbort = (): void => void this.#cancel(pid);
    execution.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = (await client.query(sql)) as unknown as StatementResult | StatementResult[];
      for (const notice of notices.splice(0)) await execution.write('stderr', notice);
      const results = Array.isArray(reply) ? reply : [reply];
      for (const result of results) await execution.write('stdout', formatResult(result));
      return { exitCode: 0 };
    } catch (error) {
      for (const notice of notices.splice(0)) await execution.write('stderr', notice);
      const failure = error as pg.DatabaseError;
      if (failure.severity === undefined) {
        // Not an error of the statement: the connection is gone. The next command reconnects.
        await this.resetSession();
        await execution.write('stderr', `postgres runtime: the connection was lost: ${failure.message}\n`);
        return {
          exitCode: 2,
          notice: 'the connection to the server was lost; the next command opens a new one',
        };
      }
      await execution.write('stderr', describeError(failure));
      return { exitCode: 1 };
    } finally {
      execution.signal.removeEventListener('abort', onAbort);
      client.off('notice', onNotice);
    }
  }

  async whoami(): Promise<string> {
    const result = await this.run('select current_user', { timeoutMs: 15_000 });
    const user = /-\n (\S+)/.exec(result.stdout)?.[1];
    if (result.exitCode !== 0 || !user)
      throw new RuntimeError(result.stderr.trim() || result.notice || 'no answer');
    return user;
  }

  async runtimeInfo(): Promise<string> {
    const version = this.#serverVersion ? `PostgreSQL ${this.#serverVersion}` : 'PostgreSQL';
    return `Runtime: postgres. Commands are SQL statements run on ${version} at ${this.#where()}, database ${this.#config.database}, as role ${this.#config.user}, in one session (SET and temporary tables carry over).`;
  }

  target(): Record<string, string> {
    return {
      host: this.#config.host,
      port: String(this.#config.port),
      database: this.#config.database,
      user: this.#config.user,
    };
  }

  /** Stops the running statement from a second connection, the way psql's Ctrl-C does. */
  async #cancel(pid: number | undefined): Promise<void> {
    if (pid === undefined) return;
    const side = new pg.Client(this.#clientConfig());
    side.on('error', () => undefined);
    try {
      await side.connect();
      await side.query('select pg_cancel_backend($1)', [pid]);
    } catch {
      // If this fails, the statement's own end or the grace period settles the command.
    } finally {
      await side.end().catch(() => undefined);
    }
  }

  #clientConfig(): pg.ClientConfig {
    return {
      host: this.#config.host,
      port: this.#config.port,
      database: this.#config.database,
      user: this.#config.user,
      ...(this.#config.password !== undefined ? { password: this.#config.password } : {}),
      connectionTimeoutMillis: this.#config.connectTimeout * 1000,
      application_name: this.#config.applicationName,
    };
  }

  #where(): string {
    return `${this.#config.host}:${this.#config.port}`;
  }
}

/** psql's wording: `ERROR:  message`, then DETAIL and HINT lines when the server gives them. */
function describeError(error: pg.DatabaseError): string {
  const lines = [`${error.severity ?? 'ERROR'}:  ${error.message}`];
  if (error.detail) lines.push(`DETAIL:  ${error.detail}`);
  if (error.hint) lines.push(`HINT:  ${error.hint}`);
  if (error.position) lines.push(`(at character ${error.position})`);
  return `${lines.join('\n')}\n`;
}

export default defineRuntime({
  name: 'postgres',
  description:
    'Runs SQL on a PostgreSQL server, over one session (the model writes SQL, not shell commands).',
  configSchema: postgresConfigSchema,
  create: (config, context) => new PostgresRuntime(config, context),
});
