/**
 * Test databases on the run's PostgreSQL (test/support/global-setup.ts): each one a copy
 * of the run's migrated template, so a fresh database per test costs tens of
 * milliseconds. Whoever creates one drops it (startTestApp does it at stop); the run's
 * teardown drops whatever is left.
 */
import pg from 'pg';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';

export interface TestDatabase {
  url: string;
  name: string;
  /** drops the database, closing any connection still open to it */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A new database with the migrated schema (`empty: true`: a database with no table at all,
 * for tests of the migrations themselves).
 */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const prefix = inject('testDatabasePrefix');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database "${name}"${opts.empty ? '' : ` template "${prefix}_template"`}`));
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () => (dropped ??= admin(async (c) => void (await c.query(`drop database if exists "${name}" with (force)`)))),
  };
}

/**
 * The sessions on `database` other than `observer`'s own (a client connected straight to
 * the server), matching the SQL condition `where` on pg_stat_activity's columns.
 */
export async function sessionsOn(observer: pg.Client, database: string, where = 'true'): Promise<{ pid: number; query: string }[]> {
  const { rows } = await observer.query(`select pid, query from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and (${where})`, [database]);
  return rows;
}

/** A test database (createTestDatabase) and a client connected to it; `close()` ends the client and drops the database. */
export async function connectTestDatabase(opts: { empty?: boolean } = {}): Promise<{ db: TestDatabase; client: pg.Client; close(): Promise<void> }> {
  const db = await createTestDatabase(opts);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return {
    db,
    client,
    close: async () => {
      await client.end().catch(() => {});
      await db.drop();
    },
  };
}

/** SQL: how many sessions on this database wait for a lock (`n`). */
export const LOCK_WAITERS = `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
/** SQL: how many sessions on this database wait for a lock in a statement naming `tickets` (a dispatcher batch held up by a locked ticket). */
export const TICKET_LOCK_WAITERS = `${LOCK_WAITERS} and query like '%tickets%'`;
