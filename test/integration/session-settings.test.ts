/**
 * src/db/session-settings.ts: the sessions deskhooks opens for its work end when idle in a
 * transaction for 60 s, so that a frozen process's row locks do not hold the other
 * processes' claims for good. Both pools carry the setting: the pg pool (given
 * SESSION_SETTINGS in src/main.ts) and the ORM's. The dispatcher's commits and the delivery
 * worker's claims do not wait for the disk; every other commit does — those that raise
 * ticket events above all (the API's, the ORM's), and the recording of outcomes.
 */
import { expect, it } from 'vitest';
import pg from 'pg';
import { DELIVERY_SESSION_SETTINGS, DISPATCH_SESSION_SETTINGS, openOrm, SESSION_SETTINGS } from '../../src/db/index.js';
import { createTestDatabase } from '../support/db.js';
import { createTicket, createWebhook, jsonHook, test, testWebhook } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';

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

it('the dispatcher’s sessions (DISPATCH_SESSION_SETTINGS) commit without waiting for the disk; the others wait', async () => {
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

test('a delivery’s way: queued by the API with a commit that waits for the disk, claimed by the worker with one that does not, its outcome recorded with one that waits', async ({ startApp, startReceiver }) => {
  const app = await startApp();
  const receiver = await startReceiver();
  const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 1 });
  // what each write of a delivery row ran with, seen from inside its transaction
  await pool.query(`create table test_commit_seen (seq serial, status text, claimed boolean, synchronous_commit text);
    create function test_commit_seen() returns trigger language plpgsql as $$
    begin
      insert into test_commit_seen (status, claimed, synchronous_commit) values (new.status, new.locked_until is not null, current_setting('synchronous_commit'));
      return new;
    end $$;
    create trigger test_commit_seen after insert or update on deliveries for each row execute function test_commit_seen()`);
  try {
    const id = await testWebhook(app, await createWebhook(app, jsonHook('r', `${receiver.url}/r`)), await createTicket(app, 't'));
    await receiver.waitForRequests(1);
    const seen = async () => (await pool.query(`select status, claimed, synchronous_commit from test_commit_seen order by seq`)).rows;
    await waitFor(async () => (await seen()).some((r) => r.status === 'SUCCEEDED'), { what: `delivery ${id} to be recorded` });
    expect(await seen()).toEqual([
      { status: 'PENDING', claimed: false, synchronous_commit: 'on' },
      { status: 'PENDING', claimed: true, synchronous_commit: 'off' },
      { status: 'SUCCEEDED', claimed: false, synchronous_commit: 'on' },
    ]);
  } finally {
    await pool.query(`drop trigger test_commit_seen on deliveries; drop function test_commit_seen(); drop table test_commit_seen`);
    await pool.end();
  }
});
