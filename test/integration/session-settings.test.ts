/**
 * src/db/session-settings.ts: the sessions deskhooks opens for its work end when idle in a
 * transaction for 60 s, so that a frozen process's row locks do not hold the other
 * processes' claims for good. Both pools carry the setting: the pg pool (given
 * SESSION_SETTINGS in src/main.ts) and the ORM's. The dispatcher's commits do not wait
 * for the disk; every other session's do, the delivery worker's claims above all (a
 * delivery is sent only once its claim, and with it the batch that queued it, is durable).
 */
import { expect, it } from 'vitest';
import pg from 'pg';
import { DELIVERY_SESSION_SETTINGS, DISPATCH_SESSION_SETTINGS, openOrm, SESSION_SETTINGS } from '../../src/db/index.js';
import { createTestDatabase } from '../support/db.js';

it('a pool given SESSION_SETTINGS and the ORM’s connections have idle_in_transaction_session_timeout = 1 min', async () => {
  const db = await createTestDatabase({ empty: true });
  const pool = new pg.Pool({ connectionString: db.url, max: 1, ...SESSION_SETTINGS });
  const orm = await openOrm(db.url);
  try {
    expect((await pool.query('show idle_in_transaction_session_timeout')).rows[0]).toEqual({ idle_in_transaction_session_timeout: '1min' });
    const [viaOrm] = await orm.em.fork().getConnection().execute('show idle_in_transaction_session_timeout');
    expect(viaOrm).toEqual({ idle_in_transaction_session_timeout: '1min' });
  } finally {
    await pool.end();
    await orm.close();
    await db.drop();
  }
});

it('a pool given DELIVERY_SESSION_SETTINGS (a process part that only delivers) runs generic plans, with the same idle timeout', async () => {
  const db = await createTestDatabase({ empty: true });
  const pool = new pg.Pool({ connectionString: db.url, max: 1, ...DELIVERY_SESSION_SETTINGS });
  try {
    expect((await pool.query('show plan_cache_mode')).rows[0]).toEqual({ plan_cache_mode: 'force_generic_plan' });
    expect((await pool.query('show idle_in_transaction_session_timeout')).rows[0]).toEqual({ idle_in_transaction_session_timeout: '1min' });
  } finally {
    await pool.end();
    await db.drop();
  }
});

it('the dispatcher’s sessions (DISPATCH_SESSION_SETTINGS) commit without waiting for the disk; the others, the delivery worker’s included, wait', async () => {
  const db = await createTestDatabase({ empty: true });
  const pools = [SESSION_SETTINGS, DELIVERY_SESSION_SETTINGS, DISPATCH_SESSION_SETTINGS].map((settings) => new pg.Pool({ connectionString: db.url, max: 1, ...settings }));
  const orm = await openOrm(db.url);
  try {
    const shown = await Promise.all(pools.map(async (pool) => (await pool.query('show synchronous_commit')).rows[0].synchronous_commit));
    expect(shown).toEqual(['on', 'on', 'off']);
    const [viaOrm] = await orm.em.fork().getConnection().execute('show synchronous_commit');
    expect(viaOrm).toEqual({ synchronous_commit: 'on' });
    expect((await pools[2]!.query('show idle_in_transaction_session_timeout')).rows[0]).toEqual({ idle_in_transaction_session_timeout: '1min' });
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
    await orm.close();
    await db.drop();
  }
});
