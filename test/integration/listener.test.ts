/**
 * The process's LISTEN connection (src/db/listener.ts) leaves no session open when it
 * cannot listen. (Its reconnects after a restart: db-restart.test.ts, lost-listen.test.ts.)
 */
import pg from 'pg';
import { expect, it } from 'vitest';
import { createListener } from '../../src/db/listener.js';
import { createTestDatabase } from '../support/db.js';

const quiet = { info: () => {}, debug: () => {}, error: () => {} };

it('a LISTEN the server refuses: start fails, and its connection is closed', async () => {
  const db = await createTestDatabase();
  const observer = new pg.Client({ connectionString: db.url });
  await observer.connect();
  try {
    const listener = createListener(db.url, quiet);
    // a channel name of quotes only becomes `listen ""`, which the server refuses
    listener.on('"', () => {});
    await expect(listener.start()).rejects.toThrow(/zero-length delimited identifier/);
    await listener.stop();
    const others = async () => (await observer.query(`select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [db.name])).rows[0].n;
    // the server notices a closed session a moment later
    for (let i = 0; i < 100 && (await others()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await others()).toBe(0);
  } finally {
    await observer.end();
    await db.drop();
  }
});
