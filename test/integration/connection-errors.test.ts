/**
 * src/db/sql.ts's reportConnectionErrors: a connection whose session ends while a caller
 * holds it between two statements (a database restart, a terminated backend) reports its
 * error instead of throwing it with no listener (which would end the process), and the
 * holder's next statement fails as usual.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { poolEnd, reportConnectionErrors } from '../../src/db/index.js';
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
});
