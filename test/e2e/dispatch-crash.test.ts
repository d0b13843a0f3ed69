/**
 * A dispatcher process killed in the middle of a batch (SIGKILL while the batch waits on a
 * ticket row): nothing of the batch stays, and the process that takes its events over
 * once their lease has run out runs every rule exactly once — none lost, none twice. A
 * SIGTERM in the same place stops at once: the blocked statement is cancelled.
 */
import { afterAll, expect, it } from 'vitest';
import pg from 'pg';
import { freePort } from '../../src/db/embedded.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startChild, startCli, type Child } from '../support/child.js';
import { createTestDatabase, TICKET_LOCK_WAITERS, type TestDatabase } from '../support/db.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { comments, createRule, createTicket, createWebhook, getTicket, jsonHook, settled } from '../support/fixtures.js';

const SECRET_KEY = 'crash-test-secret-key-0123456789';
const LEASE_MS = 60_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

it('a process killed mid-batch: its work is rolled back, taken over after the lease, and each rule runs once', { timeout: 120_000 }, async () => {
  const db: TestDatabase = await createTestDatabase();
  cleanups.push(() => db.drop());
  const receiver: Receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const first: TestApp = await startTestApp({ DESKHOOKS_SECRET_KEY: SECRET_KEY }, { databaseUrl: db.url });
  cleanups.push(() => first.stop());

  const webhook = await createWebhook(first, jsonHook('crm', `${receiver.url}/crm`));
  await createRule(first, {
    name: 'triage',
    events: ['TICKET_CREATED'],
    actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }, { type: 'SEND_WEBHOOK', webhookId: webhook }, { type: 'ADD_COMMENT', value: 'triaged' }],
  });
  // the events wait in the outbox for the process about to be killed
  await first.dispatcher!.stop();
  const tickets = [await createTicket(first, 'one'), await createTicket(first, 'two'), await createTicket(first, 'three')];

  const blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
  cleanups.push(() => blocker.end());
  await blocker.query('begin');
  await blocker.query('select id from tickets where id = $1 for update', [tickets[1]]);

  const dataDir = tempDir('crash');
  cleanups.push(async () => dataDir.remove());
  const child: Child = startChild({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir.path,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DESKHOOKS_ROLE: 'api',
    DESKHOOKS_SECRET_KEY: SECRET_KEY,
    DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
  });
  cleanups.push(async () => {
    child.proc.kill('SIGKILL');
    await child.exited;
  });
  // the child's batch has handled the first ticket's event and waits on the second ticket
  // (read outside the blocker's transaction: a transaction sees one snapshot of pg_stat_activity;
  // in this test's database only: other test files share the PostgreSQL server)
  const observer = new pg.Client({ connectionString: db.url });
  await observer.connect();
  cleanups.push(() => observer.end());
  const waiting = async () =>
    Number((await observer.query(TICKET_LOCK_WAITERS)).rows[0].n);
  await waitFor(async () => (await waiting()) > 0, { what: 'the child’s batch to wait on the locked ticket', timeoutMs: 60_000 }).catch((err) => {
    throw new Error(`${err.message}\n${child.output()}`);
  });
  child.proc.kill('SIGKILL');
  await child.exited;
  await blocker.query('commit');

  const claimed = await blocker.query(`select count(*)::int as n from ticket_events where processed_at is null and locked_until > now()`);
  expect(claimed.rows[0].n).toBe(3); // leased by the dead process, nothing of its batch committed
  expect(await comments(first, tickets[0]!)).toEqual([]);

  // another process, its clock past the dead one's lease, takes the events over
  const taker = await startTestApp({ DESKHOOKS_SECRET_KEY: SECRET_KEY }, { databaseUrl: db.url, clock: () => new Date(Date.now() + LEASE_MS + 1_000) });
  cleanups.push(() => taker.stop());
  await receiver.waitForRequests(3, 30_000);
  await settled(taker);
  expect(receiver.requests.map((r) => JSON.parse(r.body).t).sort()).toEqual([...tickets].sort());
  for (const id of tickets) {
    expect((await comments(taker, id)).map((c) => c.text)).toEqual(['triaged']);
    expect((await getTicket(taker, id)).priority).toBe('HIGH');
  }
  const deliveries = await blocker.query(`select ticket_id::text as t, count(*)::int as n from deliveries group by ticket_id`);
  expect(deliveries.rows.map((r) => r.n)).toEqual([1, 1, 1]);
});

it('a SIGTERM while the batch waits on a lock: the stop cancels its statement, gives its events back untried and exits 0 at once', { timeout: 60_000 }, async () => {
  const db: TestDatabase = await createTestDatabase();
  cleanups.push(() => db.drop());
  const first: TestApp = await startTestApp({ DESKHOOKS_SECRET_KEY: SECRET_KEY }, { databaseUrl: db.url });
  cleanups.push(() => first.stop());
  await createRule(first, { name: 'triage', events: ['TICKET_CREATED'], actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }] });
  await first.dispatcher!.stop();
  const ticket = await createTicket(first, 'locked');
  const blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
  cleanups.push(() => blocker.end());
  await blocker.query('begin');
  await blocker.query('select id from tickets where id = $1 for update', [ticket]);

  const dataDir = tempDir('stuck-stop');
  cleanups.push(async () => dataDir.remove());
  const child = startCli({ DATABASE_URL: db.url, DATA_DIR: dataDir.path, PORT: String(await freePort()), HOST: '127.0.0.1', DESKHOOKS_ROLE: 'api', DESKHOOKS_SECRET_KEY: SECRET_KEY });
  cleanups.push(async () => {
    child.proc.kill('SIGKILL');
    await child.exited;
  });
  await child.url();
  const sql = first.services.orm.em.fork().getConnection();
  const waiting = async () => Number((await sql.execute(TICKET_LOCK_WAITERS))[0].n);
  await waitFor(async () => (await waiting()) > 0, { what: 'the child’s batch to wait on the locked ticket', timeoutMs: 30_000 });
  const since = Date.now();
  child.proc.kill('SIGTERM');
  const exited = await child.exited;
  // the stop deadline is 9 s: this stop waited on nothing
  expect(Date.now() - since, child.output()).toBeLessThan(4_000);
  expect(exited.code, child.output()).toBe(0);
  expect(child.output()).toMatch(/stopping: cancelling the statement of the dispatcher's batch \(PostgreSQL session \d+\); unless its commit is already under way, the batch rolls back and its 1 ticket events are given back/);
  expect(child.output()).not.toMatch(/did not stop within|failed/);
  // the lock is still held: nothing of the batch was written, and the event is claimable at once with no try counted
  const [event] = await sql.execute(`select processed_at, locked_until, tries from ticket_events where ticket_id = ?`, [ticket]);
  expect(event).toEqual({ processed_at: null, locked_until: null, tries: 0 });
  await blocker.query('rollback');
  expect((await getTicket(first, ticket)).priority).not.toBe('HIGH');
});
