/**
 * src/db/sql.ts's reportConnectionErrors: a connection whose session ends while a caller
 * holds it between two statements (a database restart, a terminated backend) reports its
 * error instead of throwing it with no listener (which would end the process), and the
 * holder's next statement fails as usual. The ORM (src/db/orm.ts) says what it finds of
 * such a connection in the process's log.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions, poolEnd, reportConnectionErrors } from '../../src/db/index.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
});

afterAll(async () => {
  await db?.drop();
});

describe('connection errors of a pool', () => {
  it('a held connection whose session is terminated reports the error; its next statement fails; the pool goes on', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const reported: string[] = [];
    reportConnectionErrors(pool, (err) => reported.push(err.message));
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    let held: pg.PoolClient | null = null;
    try {
      held = await pool.connect();
      const pid = (await held.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      // the caller holds it, idle between statements, when its session is ended
      await admin.query('select pg_terminate_backend($1)', [pid]);
      expect(await waitFor(() => reported.length > 0, { what: 'the error reported' })).toBe(true);
      expect(reported[0]).toMatch(/terminating connection/);
      await expect(held.query('select 1')).rejects.toThrow();
      held.release(true);
      held = null;
      expect((await pool.query('select 2 as n')).rows).toEqual([{ n: 2 }]);
    } finally {
      held?.release(true);
      await admin.end();
      await pool.end();
    }
  });

  it('poolEnd resolves once every connection of the pool has closed, not when they were only asked to (a database stopped right after would terminate them: an error each)', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    const end = poolEnd(pool);
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    let closed = 0;
    for (const c of clients) c.once('end', () => closed++);
    for (const c of clients) c.release();
    await end();
    expect(closed).toBe(3);
  });

  it("the ORM's message about a connection ended under it (a database restart) goes to the process's log, not as a bare line on stdout", async () => {
    const lines: string[] = [];
    const log = createLogger('info', 'deskhooks', { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    const stdout = vi.spyOn(console, 'log');
    const orm = await MikroORM.init(ormOptions(db.url, { pool: { min: 0, max: 1 } }, log));
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const connection = orm.em.getConnection();
      const pid = (await connection.execute('select pg_backend_pid() as pid'))[0].pid as number;
      await admin.query('select pg_terminate_backend($1)', [pid]);
      // the pool finds the ended connection when it is next taken, says so and opens another
      expect(
        await waitFor(async () => (await admin.query('select count(*)::int as n from pg_stat_activity where pid = $1', [pid])).rows[0].n === 0, { what: 'the session ended' }),
      ).toBe(true);
      // and this process has read the end (a query sent before that goes out on the closed socket: EPIPE)
      const pool = (connection as unknown as { getKnex(): { client: { pool: { free: { resource: { __knex__disposed?: unknown } }[] } } } }).getKnex().client.pool;
      await waitFor(() => pool.free.some((f) => f.resource.__knex__disposed), { what: 'the pool to see its connection ended' });
      expect(await connection.execute('select 2 as n')).toEqual([{ n: 2 }]);
      expect(lines.join('\n')).toMatch(/ error database \(ORM\): Connection Error: \S/);
      expect(stdout.mock.calls.flat().join('\n')).not.toMatch(/Connection Error/);
    } finally {
      stdout.mockRestore();
      await admin.end();
      await orm.close();
    }
  });
});
