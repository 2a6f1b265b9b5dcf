/**
 * Connections to MySQL/MariaDB through knex + mysql2.
 *
 * - Dates: DATETIME(3) columns come back as JS Date. The session time zone is UTC and mysql2 is
 *   told the same (`timezone: 'Z'`), so JS Dates and CURRENT_TIMESTAMP(3) agree whatever the
 *   server's or the host's zone.
 * - DECIMAL comes back as a string (mysql2's default): money stays exact.
 * - BIGINT: `supportBigNumbers` returns values above 2^53 as strings instead of wrong numbers.
 */
import knexPkg, { type Knex } from 'knex';

// knex is CommonJS without named ESM exports: take the factory off the default import.
const { knex } = knexPkg;

export interface DatabaseUrlParts {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Empty when the URL names no database. */
  database: string;
}

/** `mysql://user:pass@host:3306/db` (also `mariadb://`). User and password are URL-decoded. */
export function parseDatabaseUrl(url: string): DatabaseUrlParts {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`invalid database URL: ${redactUrl(url)}`);
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new TypeError(`database URL must start with mysql:// (got ${u.protocol}//)`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database !== '' && !/^[A-Za-z0-9_$]{1,64}$/.test(database)) {
    throw new TypeError(`invalid database name in URL: ${database}`);
  }
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
    database,
  };
}

/** The URL with its password replaced, for error messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

function connectionConfig(parts: DatabaseUrlParts, withDatabase: boolean): Knex.MySql2ConnectionConfig {
  return {
    host: parts.host,
    port: parts.port,
    user: parts.user,
    password: parts.password,
    ...(withDatabase && parts.database !== '' ? { database: parts.database } : {}),
    charset: 'utf8mb4',
    supportBigNumbers: true,
    timezone: 'Z',
  };
}

export interface CreateDbOptions {
  pool?: { min: number; max: number };
  /**
   * Where knex's own warnings go (e.g. "Can't take lock to run migrations"). Default: nowhere —
   * packages don't log; a service passes its logger.
   */
  log?: Knex.Logger;
}

const SILENT: Knex.Logger = { warn() {}, error() {}, debug() {}, deprecate() {} };

export function createDb(databaseUrl: string, opts: CreateDbOptions = {}): Knex {
  return makeKnex(parseDatabaseUrl(databaseUrl), true, opts.pool ?? { min: 0, max: 10 }, opts.log);
}

function makeKnex(
  parts: DatabaseUrlParts,
  withDatabase: boolean,
  pool: { min: number; max: number },
  log: Knex.Logger = SILENT,
): Knex {
  return knex({
    client: 'mysql2',
    log,
    connection: connectionConfig(parts, withDatabase),
    pool: {
      ...pool,
      afterCreate: (
        conn: { query: (sql: string, cb: (err: Error | null) => void) => void },
        done: (err: Error | null, conn: unknown) => void,
      ) => {
        conn.query("SET time_zone = '+00:00'", (err) => done(err, conn));
      },
    },
  });
}

/** Creates the URL's database if missing (utf8mb4). Connects without selecting a database. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const parts = parseDatabaseUrl(databaseUrl);
  if (parts.database === '') throw new TypeError('database URL names no database');
  const db = makeKnex(parts, false, { min: 0, max: 1 });
  try {
    await db.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [
      parts.database,
    ]);
  } finally {
    await db.destroy();
  }
}

/** Drops the URL's database if it exists (tests). */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const parts = parseDatabaseUrl(databaseUrl);
  if (parts.database === '') throw new TypeError('database URL names no database');
  const db = makeKnex(parts, false, { min: 0, max: 1 });
  try {
    await db.raw('DROP DATABASE IF EXISTS ??', [parts.database]);
  } finally {
    await db.destroy();
  }
}
