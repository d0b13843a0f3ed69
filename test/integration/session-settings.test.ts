/**
 * src/db/session-settings.ts: the sessions deskhooks opens for its work end when idle in a
 * transaction for a claim's lease (60 s), so that a frozen process's row locks do not hold
 * the other processes' claims for good. Both pools carry the setting: the pg pool (given
 * SESSION_SETTINGS in src/main.ts) and the ORM's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openOrm, SESSION_SETTINGS } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
});

afterAll(async () => {
  await db?.drop();
});

describe('session settings', () => {
  it('a pool given SESSION_SETTINGS and the ORM’s connections have idle_in_transaction_session_timeout = 1 min', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1, ...SESSION_SETTINGS });
    const orm = await openOrm(db.url);
    try {
      expect((await pool.query('show idle_in_transaction_session_timeout')).rows[0]).toEqual({ idle_in_transaction_session_timeout: '1min' });
      const [viaOrm] = await orm.em.fork().getConnection().execute('show idle_in_transaction_session_timeout');
      expect(viaOrm).toEqual({ idle_in_transaction_session_timeout: '1min' });
    } finally {
      await pool.end();
      await orm.close();
    }
  });

  it('a session idle in its transaction past the timeout is ended by the server, and its row locks with it', async () => {
    // the setting as SESSION_SETTINGS names it, 300 ms instead of a minute
    const frozen = new pg.Client({ connectionString: db.url, ...SESSION_SETTINGS, idle_in_transaction_session_timeout: 300 });
    frozen.on('error', () => {}); // the server ends the session
    const other = new pg.Client({ connectionString: db.url, statement_timeout: 10_000 });
    await frozen.connect();
    await other.connect();
    try {
      await other.query('create table frozen_locks (id int primary key); insert into frozen_locks values (1)');
      await frozen.query('begin');
      await frozen.query('select 1 from frozen_locks where id = 1 for update');
      // the lock goes with the session: the other transaction's lock waits, then is granted
      await other.query('begin');
      const locked = await other.query('select id from frozen_locks where id = 1 for update');
      expect(locked.rows).toEqual([{ id: 1 }]);
      await other.query('commit');
      await waitFor(async () => (await frozen.query('select 1').then(() => false, () => true)), { timeoutMs: 5_000, what: 'the frozen session ended' });
    } finally {
      await frozen.end().catch(() => {});
      await other.end();
    }
  });
});
