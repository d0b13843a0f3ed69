/**
 * The process's LISTEN connection (src/db/listener.ts) leaves no session open when it
 * cannot listen, or when it is stopped while it reconnects; a channel added while it is
 * connected is listened on when on() resolves. (Its reconnects after a
 * restart: db-restart.test.ts, lost-listen.test.ts.)
 */
import pg from 'pg';
import { expect, it } from 'vitest';
import { createListener } from '../../src/db/listener.js';
import { createTestDatabase, sessionsOn } from '../support/db.js';
import { startPgProxy } from '../support/pg-proxy.js';
import { waitFor } from '../support/wait.js';

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
    const others = async () => (await sessionsOn(observer, db.name)).length;
    await waitFor(async () => (await others()) === 0, { what: 'no session left (the server notices a closed one a moment later)', timeoutMs: 2_000 });
    expect(await others()).toBe(0);
  } finally {
    await observer.end();
    await db.drop();
  }
});

it('stopped while it reconnects: the connection it was opening is closed once it opens', async () => {
  const db = await createTestDatabase();
  const proxy = await startPgProxy(db.url);
  const observer = new pg.Client({ connectionString: db.url });
  await observer.connect();
  const sessions = async () => (await sessionsOn(observer, db.name)).length;
  try {
    const listener = createListener(proxy.urlFor(db.url), quiet, 20);
    listener.on('somewhere', () => {});
    await listener.start();
    // the server ends its session; the connection that replaces it waits at the proxy
    proxy.hold();
    await observer.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [db.name]);
    await waitFor(() => !listener.connected, { what: 'the listener to notice' });
    await waitFor(() => proxy.waiting > 0, { what: 'its new connection to reach the proxy' });
    await listener.stop();
    const listens = proxy.count('listen "');
    proxy.release();
    // the connection opens and listens, then sees the stop and closes
    await waitFor(() => listens() === 1, { what: 'the held connection to listen' });
    await waitFor(async () => (await sessions()) === 0, { what: 'no session left (the server notices a closed one a moment later)', timeoutMs: 5_000 });
    expect(listener.connected).toBe(false);
  } finally {
    await observer.end();
    await proxy.close();
    await db.drop();
  }
});

it('a channel added while connected: on() resolves once the server listens on it, and a notification sent then is heard, with the session that sent it', async () => {
  const db = await createTestDatabase();
  const proxy = await startPgProxy(db.url);
  const notifier = new pg.Client({ connectionString: db.url });
  await notifier.connect();
  const listener = createListener(proxy.urlFor(db.url), quiet);
  try {
    await listener.start();
    const heard: string[] = [];
    // the LISTEN waits at the proxy: on() must not have resolved meanwhile
    proxy.stall(['listen "later"']);
    const sent = proxy.count('listen "later"');
    let listening = false;
    const sessions: number[] = [];
    const added = listener.on('later', (p, session) => (heard.push(p), sessions.push(session))).then(() => (listening = true));
    await waitFor(() => sent() === 1, { what: 'the LISTEN to reach the proxy' });
    expect(listening).toBe(false);
    proxy.unstall();
    await added;
    await notifier.query(`select pg_notify('later', 'after on()')`);
    await waitFor(() => heard.length === 1, { what: 'the notification sent after on() resolved' });
    expect(heard).toEqual(['after on()']);
    expect(sessions).toEqual([(await notifier.query('select pg_backend_pid() as pid')).rows[0].pid]);
  } finally {
    await listener.stop();
    await notifier.end();
    await proxy.close();
    await db.drop();
  }
});
