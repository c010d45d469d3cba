/**
 * A real PostgreSQL server for tests: the cluster Debian's `postgresql` package runs on loopback
 * (`.ci/run` installs and starts it). Each test makes its own role and database through the
 * `postgres` superuser's Unix socket (peer auth via runuser) and connects over TCP with a
 * password, as a user would.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface TestDatabase {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** Drops the database and the role. */
  drop(): void;
}

interface Cluster {
  port: number;
}

function onlineCluster(): Cluster | string {
  let listing: string;
  try {
    listing = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' });
  } catch {
    return 'pg_lsclusters not found (apt-get install postgresql)';
  }
  const online = listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[3] === 'online');
  if (!online) return 'no PostgreSQL cluster is online (pg_ctlcluster 15 main start)';
  return { port: Number(online[2]) };
}

/** Why no server can be used, or undefined when one can. */
export function postgresMissingReason(): string | undefined {
  const cluster = onlineCluster();
  if (typeof cluster === 'string') return cluster;
  try {
    superuserSql(cluster.port, 'select 1');
  } catch (error) {
    return `cannot reach the cluster as the postgres superuser: ${(error as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

function superuserSql(port: number, sql: string): string {
  return execFileSync(
    'runuser',
    [
      '-u',
      'postgres',
      '--',
      'psql',
      '-X',
      '-q',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      '-p',
      String(port),
      '-c',
      sql,
    ],
    { encoding: 'utf8', cwd: '/' },
  );
}

let counter = 0;

/** A fresh role (with a password) owning a fresh database. */
export function createTestDatabase(prefix = 'opsmate'): TestDatabase {
  const cluster = onlineCluster();
  if (typeof cluster === 'string') throw new Error(cluster);
  const name = `${prefix}_t${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  superuserSql(cluster.port, `create role ${name} login password '${password}'`);
  superuserSql(cluster.port, `create database ${name} owner ${name}`);
  return {
    host: '127.0.0.1',
    port: cluster.port,
    database: name,
    user: name,
    password,
    drop: () => {
      superuserSql(cluster.port, `drop database if exists ${name} with (force)`);
      superuserSql(cluster.port, `drop role if exists ${name}`);
    },
  };
}
