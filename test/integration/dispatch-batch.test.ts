/**
 * The dispatcher's set-based batch (src/dispatcher/batch.ts) on a real database: events
 * recorded while the app's own dispatcher is paused are handed to a dispatcher of the
 * test's in one batch, so what the batch guarantees is seen on purpose, not by timing:
 * each ticket's events in order (and seeing the changes of the ones before), a failing
 * event not holding back the others, definitions edited while a batch runs, the same
 * delivery ids when a batch a database crash took back is handled again.
 */
import { describe, expect } from 'vitest';
import pg from 'pg';
import { poolTransactions, prepareStatementsOf, reportConnectionErrors, sqlOf, statementCanceller } from '../../src/db/index.js';
import { batchEventHandler, createDefinitionCache, Dispatcher, MAX_TRIES, outboxStore, type EventHandler } from '../../src/dispatcher/index.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../src/log.js';
import { testClock, type TestClock } from '../support/clock.js';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.js';
import { TICKET_LOCK_WAITERS } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { addReply, comments, createRule, createTicket, createWebhook, getTicket, jsonHook, test, updateTicket, type TestApp } from '../support/fixtures.js';
import { RlUpdateRuleDocument } from '../generated/graphql.js';

/** the apps of this file: their own dispatcher is stopped by each test (never handed to another file) */
const PAUSED = { DESKHOOKS_SWEEP_INTERVAL: '1h' };

interface ManualDispatcher {
  dispatcher: Dispatcher;
  /** the size of each batch handed to the handler */
  batches: number[];
  errors: string[];
  /** transactions committed on the plain connection (the rest ran through the ORM) */
  plainCommits: () => number;
  /** with `behindProxy`: the proxy between the handler's transactions and the database */
  proxy: PgProxy | null;
  /** the entities a batch's EntityManager (the ORM path) holds at each of its flushes: what each flush compares */
  managedAtFlush: number[];
  /** claims sent on their own (not with a batch's commit) */
  claims: () => number;
  /** how often the handler told that deliveries were (or may have been) committed: the wake-up of the process's worker */
  queuedCalls: () => number;
  /** the statements each plain transaction's work sent itself (besides those sent with begin and commit) */
  workStatements: string[][];
  stop(): Promise<void>;
}

interface PauseOptions {
  /** the handler's transactions go through a TCP proxy (pg-proxy.ts), on a pool that waits this long for a connection */
  behindProxy?: { connectTimeoutMs: number };
  /** how soon the dispatcher drains again on its own (processor.ts) */
  retryWaitingMs?: number;
  /** a stop cancels the statement a batch runs, as the app's dispatcher does */
  cancelAtStop?: boolean;
  /** events per batch at most (100) */
  batchSize?: number;
  /** drains side by side (processor.ts; 1) */
  lanes?: number;
}

/** Stops the app's dispatcher (events stay in the outbox) and gives one the test wakes. */
async function pauseDispatching(app: TestApp, clock: TestClock = testClock(), opts: PauseOptions = {}): Promise<ManualDispatcher> {
  await app.dispatcher!.stop();
  const proxy = opts.behindProxy ? await startPgProxy(app.databaseUrl) : null;
  const { orm, deliveries } = app.services;
  const errors: string[] = [];
  const log: Logger = { info: () => {}, debug: () => {}, error: (m) => void errors.push(m) };
  // as the app runs it: plain transactions on a pool of pipelining connections and prepared statements
  const pool = new pg.Pool({ connectionString: proxy?.urlFor(app.databaseUrl) ?? app.databaseUrl, max: 2 * (opts.lanes ?? 1), pipeline: true, connectionTimeoutMillis: opts.behindProxy?.connectTimeoutMs });
  // as the app does: a connection lost while a batch holds it is reported, not thrown
  reportConnectionErrors(pool, () => {});
  prepareStatementsOf(pool);
  const plain = poolTransactions(pool);
  let plainCommits = 0;
  const workStatements: string[][] = [];
  const transactions: typeof plain = async (work, options) => {
    const sent: string[] = [];
    const result = await plain((db, begun, session) => work({ query: (text, values) => (sent.push(text), db.query(text, values)) }, begun, session), options);
    plainCommits++;
    workStatements.push(sent);
    return result;
  };
  const managedAtFlush: number[] = [];
  const watched = {
    em: {
      fork: () => {
        const fork = orm.em.fork();
        const transactional = fork.transactional.bind(fork);
        fork.transactional = ((work: (em: EntityManager) => Promise<unknown>) =>
          transactional(async (em) => {
            const flush = em.flush.bind(em);
            em.flush = async () => {
              await flush();
              managedAtFlush.push(em.getUnitOfWork().getIdentityMap().values().length);
            };
            return work(em);
          })) as typeof fork.transactional;
        return fork;
      },
    },
  } as unknown as typeof orm;
  let queuedCalls = 0;
  const handler = batchEventHandler({
    orm: watched,
    transactions,
    cancelStatement: opts.cancelAtStop ? statementCanceller(app.databaseUrl) : undefined,
    deliveries,
    definitions: createDefinitionCache((w) => deliveries.webhookDef(w)),
    log,
    clock: clock.now,
    deliveriesQueued: () => void queuedCalls++,
  });
  const batches: number[] = [];
  const counting: EventHandler = { handle: (events, signal, next) => (batches.push(events.length), handler.handle(events, signal, next)) };
  const outbox = outboxStore(sqlOf(orm.em.fork()));
  let claims = 0;
  const counted: typeof outbox = { ...outbox, claim: (...args) => (claims++, outbox.claim(...args)) };
  const dispatcher = new Dispatcher({ outbox: counted, events: counting, log, clock: clock.now, batchSize: opts.batchSize ?? 100, retryWaitingMs: opts.retryWaitingMs, lanes: opts.lanes });
  return {
    dispatcher,
    batches,
    errors,
    plainCommits: () => plainCommits,
    proxy,
    managedAtFlush,
    claims: () => claims,
    queuedCalls: () => queuedCalls,
    workStatements,
    stop: async () => {
      proxy?.release();
      await dispatcher.stop();
      await pool.end();
      await proxy?.close();
    },
  };
}

const sql = async (app: TestApp, text: string, values: unknown[] = []) => sqlOf(app.services.orm.em.fork()).query(text, values);
const unprocessedEvents = async (app: TestApp): Promise<number> => (await sql(app, `select count(*)::int as n from ticket_events where processed_at is null`)).rows[0].n;
const texts = async (app: TestApp, id: string) => (await comments(app, id)).map((c) => c.text);

/** A session of the test's own that holds a ticket's row (FOR UPDATE) until `release` ends its transaction. */
async function ticketLocker(app: TestApp) {
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  return {
    async lock(ticketId: string): Promise<void> {
      await client.query('begin');
      await client.query('select id from tickets where id = $1 for update', [ticketId]);
    },
    release: () => client.query('rollback'),
    end: () => client.end(),
  };
}

describe('a batch of ticket events', () => {
  test('runs each ticket’s events in order, each seeing the changes made by the ones before', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app);
    try {
      // TICKET_UPDATED changes a field (through the helpdesk); the reply after it must see it
      await createRule(app, {
        name: 'on update',
        events: ['TICKET_UPDATED'],
        actions: [{ type: 'SET_STATUS', value: 'WAITING' }, { type: 'ADD_COMMENT', value: 'updated: {{ ticket.priority }} {{ ticket.status }}' }],
      });
      await createRule(app, {
        name: 'note',
        position: 1,
        events: ['TICKET_CREATED', 'REPLY_ADDED'],
        actions: [{ type: 'ADD_COMMENT', value: '{{ event.type }}: {{ ticket.status }} / {{ lastReply.text }} / {{ lastComment.text }}' }],
      });
      const tickets = [];
      for (let i = 1; i <= 3; i++) {
        const id = await createTicket(app, `ticket ${i}`);
        await updateTicket(app, id, { priority: 'HIGH' });
        await addReply(app, id, `reply ${i}`);
        tickets.push(id);
      }
      await manual.dispatcher.wake();
      expect(manual.batches).toEqual([9]);
      for (const [i, id] of tickets.entries()) {
        expect(await texts(app, id)).toEqual([
          // rendered as the ticket is when it runs; the reply already exists then
          `TICKET_CREATED: OPEN / reply ${i + 1} / `,
          'updated: HIGH WAITING',
          // judged and rendered as of its own post: the comments of the batch came after it
          `REPLY_ADDED: WAITING / reply ${i + 1} / `,
        ]);
      }
      expect(manual.errors).toEqual([]);
      // SET_STATUS runs through the helpdesk: the batch ran through the ORM
      expect(manual.plainCommits()).toBe(0);
    } finally {
      await manual.stop();
    }
  });

  test('an event whose actions fail, and an event that cannot be handled at all, do not hold back the others; its ticket’s next event waits for it', async ({ startApp, startReceiver }) => {
    const app = await startApp(PAUSED);
    const clock = testClock();
    const manual = await pauseDispatching(app, clock);
    try {
      const receiver = await startReceiver();
      const off = await createWebhook(app, { ...jsonHook('switched off', `${receiver.url}/off`), enabled: false });
      const on = await createWebhook(app, jsonHook('on', `${receiver.url}/on`));
      await createRule(app, {
        name: 'to the switched-off one',
        events: ['TICKET_CREATED'],
        conditions: [{ field: 'title', operator: 'CONTAINS', value: 'off' }],
        actions: [{ type: 'SEND_WEBHOOK', webhookId: off }, { type: 'ADD_COMMENT', value: 'went on after the failure' }],
      });
      await createRule(app, { name: 'to the live one', position: 1, events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: on }] });
      await createRule(app, { name: 'priority changed', position: 2, events: ['TICKET_UPDATED'], conditions: [{ field: 'priority', operator: 'CHANGED' }], actions: [{ type: 'ADD_COMMENT', value: 'changed' }] });
      await createRule(app, { name: 'replies', position: 3, events: ['REPLY_ADDED'], actions: [{ type: 'ADD_COMMENT', value: 'reply seen' }] });

      const failing = await createTicket(app, 'send off');
      // an event no rule can be judged on (its changes are not a list): evaluation throws
      const broken = await createTicket(app, 'broken');
      await sql(app, `update ticket_events set processed_at = now() where ticket_id = $1`, [broken]);
      const [{ id: poison }] = (await sql(app, `insert into ticket_events (kind, ticket_id, type, payload, created_at) values ('EVENT', $1, 'TICKET_UPDATED', '{"changes": 5}', now()) returning id::text as id`, [broken])).rows;
      // the broken ticket's next event waits for it, however long that takes
      await addReply(app, broken, 'after the broken event');
      const fine = await createTicket(app, 'fine');

      await manual.dispatcher.wake();
      expect(manual.batches).toEqual([4]);
      expect(await texts(app, failing)).toEqual([
        'Rule "to the switched-off one": action 1 (SEND_WEBHOOK) failed: webhook "switched off" is disabled',
        'went on after the failure',
      ]);
      const [request] = await receiver.waitForRequests(1);
      expect(JSON.parse(request!.body)).toEqual({ t: fine });
      const state = async () => (await sql(app, `select processed_at is not null as processed, tries from ticket_events where id = $1`, [poison])).rows[0];
      expect(await state()).toEqual({ processed: false, tries: 1 });
      expect((await unprocessedEvents(app))).toBe(2);
      expect(await texts(app, broken)).toEqual([]);
      expect(manual.errors.some((m) => m.includes(`ticket event ${poison} failed`))).toBe(true);

      // tried again each time its lease runs out, then given up (logged), and nothing else was repeated
      for (let i = 0; i < MAX_TRIES; i++) {
        clock.advance(61_000);
        await manual.dispatcher.wake();
      }
      expect(await state()).toEqual({ processed: true, tries: MAX_TRIES + 1 });
      expect(manual.errors.some((m) => m.includes(`ticket event ${poison} (TICKET_UPDATED on ticket ${broken}) failed ${MAX_TRIES} times; giving up`))).toBe(true);
      // then the event behind it ran, once (waiting was not counted as tries)
      expect(await texts(app, broken)).toEqual(['reply seen']);
      expect((await unprocessedEvents(app))).toBe(0);
      expect(await texts(app, failing)).toHaveLength(2);
      expect((await sql(app, `select count(*)::int as n from deliveries`)).rows[0].n).toBe(1);
      // its actions are all buffered: once the definitions were cached, batches ran on the plain connection
      expect(manual.plainCommits()).toBeGreaterThan(0);
    } finally {
      await manual.stop();
    }
  });

  test('a batch of events whose actions run through the helpdesk (SET_PRIORITY) costs each event the same: its EntityManager keeps nothing from one event to the next', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app);
    try {
      await createRule(app, { name: 'raise', events: ['TICKET_CREATED'], actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }] });
      const tickets = [];
      for (let i = 1; i <= 12; i++) tickets.push(await createTicket(app, `ticket ${i}`));
      await manual.dispatcher.wake();
      expect(manual.batches).toEqual([12]);
      for (const id of tickets) expect((await getTicket(app, id)).priority).toBe('HIGH');
      // a flush per event (and the commit's), each comparing what that event loaded, not all the batch did before it
      expect(manual.managedAtFlush.length).toBeGreaterThanOrEqual(12);
      expect(Math.max(...manual.managedAtFlush)).toBe(manual.managedAtFlush[0]);
      expect(manual.errors).toEqual([]);
    } finally {
      await manual.stop();
    }
  });

  test('with its definitions cached, a batch of buffered actions runs on a plain connection; one that needs the helpdesk rolls back and runs through the ORM, once', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app);
    try {
      await createRule(app, { name: 'note', position: 5, events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'seen {{ ticket.title }}' }] });
      const wakeFor = async (title: string) => {
        const id = await createTicket(app, title);
        await manual.dispatcher.wake();
        return id;
      };
      // the first batch at a version loads the definitions through the ORM
      const first = await wakeFor('first');
      expect(manual.plainCommits()).toBe(0);
      const second = await wakeFor('second');
      expect(manual.plainCommits()).toBe(1);

      await createRule(app, {
        name: 'raise',
        position: 1,
        continueAfterMatch: true,
        events: ['TICKET_CREATED'],
        conditions: [{ field: 'title', operator: 'CONTAINS', value: 'urgent' }],
        actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }, { type: 'ADD_COMMENT', value: 'raised' }],
      });
      const third = await wakeFor('calm'); // the new version, loaded through the ORM
      const plainBefore = manual.plainCommits();
      const urgent = await wakeFor('urgent');
      // began on the plain connection, met SET_PRIORITY, rolled back: nothing of that try is left
      expect(manual.plainCommits()).toBe(plainBefore);
      expect(await texts(app, urgent)).toEqual(['raised', 'seen urgent']);
      expect((await getTicket(app, urgent)).priority).toBe('HIGH');
      for (const [id, title] of [[first, 'first'], [second, 'second'], [third, 'calm']]) expect(await texts(app, id!)).toEqual([`seen ${title}`]);
      expect(manual.batches).toEqual([1, 1, 1, 1]);
      expect(manual.errors).toEqual([]);
    } finally {
      await manual.stop();
    }
  });

  test('on a plain connection a batch is two round trips: its tickets and its posts’ ids are read with its mark, and the next batch is claimed with its commit', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app, testClock(), { batchSize: 2 });
    try {
      await createRule(app, { name: 'note', events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'seen {{ ticket.title }}' }] });
      // the first batch at a version loads the definitions through the ORM
      await createTicket(app, 'first');
      await manual.dispatcher.wake();
      const titles = ['a', 'b', 'c', 'd', 'e'];
      const ids: string[] = [];
      for (const title of titles) ids.push(await createTicket(app, title));
      const claimsBefore = manual.claims();
      await manual.dispatcher.wake();

      // one claim of its own; each later batch (and the last, empty, claim) rode with a commit
      expect(manual.claims() - claimsBefore).toBe(1);
      expect(manual.batches).toEqual([1, 2, 2, 1]);
      for (const [i, id] of ids.entries()) expect(await texts(app, id)).toEqual([`seen ${titles[i]}`]);
      // what the work sent itself: the buffer's writes, with the commit — no load, no posts' ids, no claim
      for (const sent of manual.workStatements) expect(sent.map((t) => t.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual(['insert into posts', 'update tickets t']);
      expect(manual.workStatements).toHaveLength(3);
      expect(await unprocessedEvents(app)).toBe(0);
      expect(manual.errors).toEqual([]);
    } finally {
      await manual.stop();
    }
  });

  test('two lanes: an event committed while a batch is under way is taken at once by the other lane, which passes over the events behind that batch’s; the batch’s commit takes those next, in order, with no wait', async ({ startApp, startReceiver }) => {
    const app = await startApp(PAUSED);
    // a waiting event would come back only after a minute: the test would see it unprocessed
    const manual = await pauseDispatching(app, testClock(), { lanes: 2, retryWaitingMs: 60_000 });
    const receiver = await startReceiver();
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    try {
      const hook = await createWebhook(app, jsonHook('held', `${receiver.url}/held`));
      await createRule(app, { name: 'send', events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'EQUALS', value: 'held' }], actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }] });
      await createRule(app, { name: 'note', position: 1, events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'EQUALS', value: 'other' }], actions: [{ type: 'ADD_COMMENT', value: 'seen' }] });
      await createRule(app, { name: 'replies', position: 2, events: ['REPLY_ADDED'], actions: [{ type: 'ADD_COMMENT', value: 'reply seen' }] });
      // the first batch at a version loads the definitions through the ORM; the next run on the plain connection
      await createTicket(app, 'first');
      await manual.dispatcher.wake();
      const held = await createTicket(app, 'held');
      // the batch's delivery (its foreign key on the webhook) waits for this lock: that lane's batch stays under way
      await blocker.query('begin');
      await blocker.query('select id from webhooks where id = $1 for update', [hook]);
      const first = manual.dispatcher.wake();
      const deliveryWaiting = `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'insert into deliveries %'`;
      await waitFor(async () => (await sql(app, deliveryWaiting)).rows[0].n > 0, { what: 'the first lane’s batch to wait on the webhook' });
      // the held ticket's next event, and another ticket's
      await addReply(app, held, 'behind the held batch');
      const other = await createTicket(app, 'other');
      const second = manual.dispatcher.wake();
      await waitFor(async () => (await texts(app, other)).length === 1, { what: 'the other lane to handle the other ticket' });
      expect(await texts(app, held)).toEqual([]);
      expect(manual.batches).toEqual([1, 1, 1]);

      await blocker.query('rollback');
      await Promise.all([first, second]);
      await waitFor(async () => (await unprocessedEvents(app)) === 0, { what: 'the reply behind the held batch' });
      expect(await texts(app, held)).toEqual(['reply seen']);
      expect((await sql(app, `select count(*)::int as n from deliveries where ticket_id = $1`, [held])).rows[0].n).toBe(1);
      // each taken once and none made to wait (a wait gives its try back and leaves a lease)
      expect((await sql(app, `select tries, locked_until is null as free from ticket_events order by id`)).rows).toEqual(Array(4).fill({ tries: 1, free: true }));
      expect(manual.batches).toEqual([1, 1, 1, 1]);
      expect(manual.errors).toEqual([]);
    } finally {
      await blocker.end();
      await manual.stop();
    }
  });

  test('the database out of reach mid-batch: the batch fails as a whole (not one event at a time), and its events are taken again as soon as it answers', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app, testClock(), { behindProxy: { connectTimeoutMs: 5_000 }, retryWaitingMs: 50 });
    const proxy = manual.proxy!;
    try {
      await createRule(app, { name: 'note', events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'seen {{ ticket.title }}' }] });
      const ids = [await createTicket(app, 'a'), await createTicket(app, 'b'), await createTicket(app, 'c')];
      // the connection goes away as the batch's transaction begins
      proxy.dropOn(['begin'], 1);
      await manual.dispatcher.wake();
      expect(proxy.dropped).toBe(1);
      await waitFor(async () => (await unprocessedEvents(app)) === 0, { what: 'the events handled after the drop' });
      expect(manual.errors).toEqual(['a batch of 3 ticket events failed: the database is out of reach; they are taken again once it answers']);
      expect(manual.batches).toEqual([3, 3]);
      // claimed twice each (the tries count: an event that breaks the connection itself is given up)
      expect((await sql(app, `select tries from ticket_events order by id`)).rows.map((r) => r.tries)).toEqual([2, 2, 2]);
      for (const [i, id] of ids.entries()) expect(await texts(app, id)).toEqual([`seen ${'abc'[i]}`]);
    } finally {
      await manual.stop();
    }
  });

  test("the connection lost as a batch commits: the worker is woken all the same (the commit may have been made, and this process's worker hears no notification of it)", async ({ startApp, startReceiver }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app, testClock(), { behindProxy: { connectTimeoutMs: 5_000 }, retryWaitingMs: 50 });
    const proxy = manual.proxy!;
    try {
      const receiver = await startReceiver();
      const hook = await createWebhook(app, jsonHook('hook', receiver.url));
      await createRule(app, { name: 'send', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }] });
      // the first batch at a version loads the definitions through the ORM; the next runs on the proxied connection
      await createTicket(app, 'warm-up');
      await manual.dispatcher.wake();
      expect(manual.queuedCalls()).toBe(1);
      await createTicket(app, 'a');
      proxy.dropOn(['commit'], 1);
      await manual.dispatcher.wake();
      expect(proxy.dropped).toBe(1);
      await waitFor(async () => (await unprocessedEvents(app)) === 0, { what: 'the event handled after the drop' });
      // once more for the batch whose commit was lost, and once for the one that committed
      await waitFor(() => manual.queuedCalls() >= 3, { what: 'the wake-up after the committed batch', timeoutMs: 2_000 });
      expect(manual.queuedCalls()).toBe(3);
      expect((await sql(app, `select count(*)::int as n from deliveries`)).rows[0].n).toBe(2);
    } finally {
      await manual.stop();
    }
  });

  test('a database that does not answer: the batch waits for one connection, not one per event', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    // no drain soon after: the test looks at the one batch
    const manual = await pauseDispatching(app, testClock(), { behindProxy: { connectTimeoutMs: 1_000 }, retryWaitingMs: 60_000 });
    const proxy = manual.proxy!;
    try {
      for (const t of ['a', 'b', 'c', 'd']) await createTicket(app, t);
      proxy.hold();
      await manual.dispatcher.wake();
      expect(manual.errors).toEqual(['a batch of 4 ticket events failed: the database is out of reach; they are taken again once it answers']);
      // one connection asked for (and given up after the pool's timeout), not one more per event
      expect(proxy.waiting).toBe(1);
      proxy.release();
      await manual.dispatcher.wake();
      expect((await unprocessedEvents(app))).toBe(0);
    } finally {
      await manual.stop();
    }
  });

  test('a dispatcher stopping mid-batch gives the batch up after the event under way: nothing of it is kept, and its events are claimable at once (a stop stays within its deadline)', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app);
    const blocker = await ticketLocker(app);
    try {
      await createRule(app, { name: 'raise', events: ['TICKET_CREATED'], actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }, { type: 'ADD_COMMENT', value: 'raised' }] });
      const tickets = [];
      for (let i = 1; i <= 3; i++) tickets.push(await createTicket(app, `ticket ${i}`));
      // the batch's second event waits for this lock on its ticket: the batch is under way when the stop comes
      await blocker.lock(tickets[1]!);
      const running = manual.dispatcher.wake();
      await waitFor(async () => (await sql(app, TICKET_LOCK_WAITERS)).rows[0].n > 0, { what: 'the batch to wait on the second ticket' });
      const stopped = manual.dispatcher.stop();
      await blocker.release();
      await stopped;
      await running;

      expect(manual.batches).toEqual([3]);
      for (const id of tickets) {
        expect((await getTicket(app, id)).priority).not.toBe('HIGH');
        expect(await texts(app, id)).toEqual([]);
      }
      // claimable at once, and not a try of theirs (restarts during long batches never give an event up)
      const { rows } = await sql(app, `select count(*)::int as n from ticket_events where processed_at is null and (locked_until is null or locked_until < now()) and tries = 0`);
      expect(rows[0].n).toBe(3);
      // given up, not failed: no try one event at a time
      expect(manual.errors).toEqual([]);
    } finally {
      await blocker.end();
      await manual.stop();
    }
  });

  test('a stop while a batch on the plain connection waits on a lock cancels its statement: the stop does not wait for the lock, nothing of the batch is kept, and its events are given back untried', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app, testClock(), { cancelAtStop: true });
    const blocker = await ticketLocker(app);
    try {
      await createRule(app, { name: 'note', events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'seen' }] });
      // the first batch at a version loads the definitions through the ORM; the next runs on the plain connection
      await createTicket(app, 'first');
      await manual.dispatcher.wake();
      const second = await createTicket(app, 'second');
      // the batch's comment (its foreign key on the ticket) waits for this lock
      await blocker.lock(second);
      const running = manual.dispatcher.wake();
      const plainInsertWaiting = `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'insert into posts %'`;
      await waitFor(async () => (await sql(app, plainInsertWaiting)).rows[0].n > 0, { what: 'the plain batch to wait on the second ticket' });
      // resolves with the lock still held
      await manual.dispatcher.stop();
      await running;

      expect(manual.plainCommits()).toBe(0);
      const { rows } = await sql(app, `select processed_at, locked_until, tries from ticket_events where ticket_id = $1`, [second]);
      expect(rows).toEqual([{ processed_at: null, locked_until: null, tries: 0 }]);
      expect(manual.errors).toEqual([]);
      await blocker.release();
      expect(await texts(app, second)).toEqual([]);
    } finally {
      await blocker.end();
      await manual.stop();
    }
  });

  test('a stop as the last event of a batch on the plain connection is done: its writes are not sent, nothing of the batch is kept, and its events are given back untried', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app, testClock(), { behindProxy: { connectTimeoutMs: 5_000 } });
    try {
      // a webhook switched off: its action fails, and the comment saying so needs a post id the mark did not take
      const off = await createWebhook(app, { ...jsonHook('switched off', 'http://127.0.0.1:9/off'), enabled: false });
      await createRule(app, { name: 'send', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: off }] });
      // the first batch at a version loads the definitions through the ORM; the next runs on the plain connection
      await createTicket(app, 'first');
      await manual.dispatcher.wake();
      const plainBefore = manual.plainCommits();
      const ticket = await createTicket(app, 'second');
      // the id of the last event's comment is read then: held until the stop has begun (the
      // statement's text goes with its first use on the connection: this is the first plain batch)
      const reserve = "nextval('posts_id_seq')::text as id from generate_series(1, $1::int)";
      const reserved = manual.proxy!.count(reserve);
      manual.proxy!.stall([reserve]);
      const running = manual.dispatcher.wake();
      await waitFor(() => reserved() > 0, { what: 'the batch to ask for its posts’ ids' });
      const stopped = manual.dispatcher.stop();
      manual.proxy!.unstall();
      await stopped;
      await running;

      expect(manual.plainCommits()).toBe(plainBefore);
      const { rows } = await sql(app, `select processed_at, locked_until, tries from ticket_events where ticket_id = $1`, [ticket]);
      expect(rows).toEqual([{ processed_at: null, locked_until: null, tries: 0 }]);
      expect(await texts(app, ticket)).toEqual([]);
      expect(manual.errors).toEqual([]);
    } finally {
      await manual.stop();
    }
  });

  test('a rule edited while a batch runs: the batch keeps the definitions it started with, the next batch has the new ones', async ({ startApp }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app);
    const blocker = await ticketLocker(app);
    try {
      const rule = await createRule(app, {
        name: 'raise',
        events: ['TICKET_CREATED'],
        actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }, { type: 'ADD_COMMENT', value: 'version 1' }],
      });
      const first = await createTicket(app, 'first');
      // the batch's SET_PRIORITY waits for this lock on the ticket's row
      await blocker.lock(first);
      const running = manual.dispatcher.wake();
      await waitFor(async () => (await sql(app, TICKET_LOCK_WAITERS)).rows[0].n > 0, { what: 'the batch to wait on the ticket' });

      // the edit does not wait for the batch
      await app.ok(RlUpdateRuleDocument, {
        id: rule.id,
        input: { name: 'raise', events: ['TICKET_CREATED'], actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }, { type: 'ADD_COMMENT', value: 'version 2' }] },
      });
      const second = await createTicket(app, 'second');
      await blocker.release();
      await running;
      await manual.dispatcher.wake();

      expect(await texts(app, first)).toEqual(['version 1']);
      expect(await texts(app, second)).toEqual(['version 2']);
      expect(manual.batches).toEqual([1, 1]);
    } finally {
      await blocker.end();
      await manual.stop();
    }
  });

  test('an event handled again after a database crash took its batch back makes its deliveries again with the same ids, on the plain path and through the helpdesk: the receiver can recognise a request it had; an event id recorded anew (a restored database), or a rule sending elsewhere, gets other ids', async ({ startApp, startReceiver }) => {
    const app = await startApp(PAUSED);
    const manual = await pauseDispatching(app);
    try {
      const receiver = await startReceiver();
      const a = await createWebhook(app, jsonHook('a', `${receiver.url}/a`));
      const b = await createWebhook(app, jsonHook('b', `${receiver.url}/b`));
      const plainRule = { name: 'plain', events: ['TICKET_CREATED' as const], conditions: [{ field: 'title', operator: 'CONTAINS' as const, value: 'plain' }] };
      const { id: plainRuleId } = await createRule(app, { ...plainRule, actions: [{ type: 'SEND_WEBHOOK', webhookId: a }, { type: 'SEND_WEBHOOK', webhookId: b }] });
      await createRule(app, { name: 'helpdesk', position: 1, events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'CONTAINS', value: 'raise' }], actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }, { type: 'SEND_WEBHOOK', webhookId: a }] });
      // the first batch loads the definitions through the ORM; the next has them cached
      await createTicket(app, 'no rule matches');
      await manual.dispatcher.wake();
      const plain = [await createTicket(app, 'plain 1'), await createTicket(app, 'plain 2')];
      const plainBefore = manual.plainCommits();
      await manual.dispatcher.wake();
      // buffered actions only: the plain connection
      expect(manual.plainCommits()).toBe(plainBefore + 1);
      const raised = await createTicket(app, 'raise me');
      await manual.dispatcher.wake();
      const tickets = [...plain, raised];
      const made = async () =>
        (await sql(app, `select ticket_id::text as ticket, webhook_name as webhook, id from deliveries where ticket_id = any($1::bigint[]) order by ticket_id, webhook_name`, [tickets])).rows;
      const first = await made();
      expect(first.map((d) => `${d.ticket} ${d.webhook}`)).toEqual([`${plain[0]} a`, `${plain[0]} b`, `${plain[1]} a`, `${plain[1]} b`, `${raised} a`]);
      expect(new Set(first.map((d) => d.id)).size).toBe(5);
      // the deliveries' outcomes recorded, and their search texts written, before the test takes
      // them back (the search text indexer writing for a delivery the test deletes would deadlock with it)
      const allSucceeded = () =>
        waitFor(async () => {
          const { rows: [r] } = await sql(
            app,
            `select (select count(*) from deliveries where ticket_id = any($1::bigint[]) and status = 'SUCCEEDED')::int as n, (select count(*) from delivery_text_queue)::int as queued`,
            [tickets],
          );
          return r.n === 5 && r.queued === 0;
        }, { what: 'the five deliveries to succeed and their search texts to be written' });
      await receiver.waitForRequests(5);
      await allSucceeded();

      // the crash: the batches' writes and marks are gone (asynchronous commits), their requests went out
      await sql(app, `delete from deliveries where ticket_id = any($1::bigint[])`, [tickets]);
      await sql(app, `update ticket_events set processed_at = null, locked_until = null where ticket_id = any($1::bigint[])`, [tickets]);
      await manual.dispatcher.wake();
      // all three in one batch, through the helpdesk this time (the SET_PRIORITY)
      expect(manual.batches.at(-1)).toBe(3);
      expect(await made()).toEqual(first);
      const requests = await receiver.waitForRequests(10);
      const seen = new Map<string, number>();
      for (const r of requests) seen.set(String(r.headers['x-deskhooks-delivery']), (seen.get(String(r.headers['x-deskhooks-delivery'])) ?? 0) + 1);
      expect([...seen.keys()].sort()).toEqual(first.map((d) => d.id).sort());
      expect([...seen.values()]).toEqual([2, 2, 2, 2, 2]);

      // event ids that start over (a database restored from a backup, or emptied): other events, other ids
      await allSucceeded();
      await sql(app, `delete from deliveries where ticket_id = any($1::bigint[])`, [tickets]);
      await sql(app, `update ticket_events set processed_at = null, locked_until = null, created_at = created_at + interval '1 day' where ticket_id = any($1::bigint[])`, [tickets]);
      await manual.dispatcher.wake();
      const later = await made();
      expect(later.map((d) => `${d.ticket} ${d.webhook}`)).toEqual(first.map((d) => `${d.ticket} ${d.webhook}`));
      expect(later.filter((d) => first.some((f) => f.id === d.id))).toEqual([]);

      // a rule edited before its events are handled again (its webhooks swapped): other requests, other ids
      await allSucceeded();
      await app.ok(RlUpdateRuleDocument, { id: plainRuleId, input: { ...plainRule, actions: [{ type: 'SEND_WEBHOOK', webhookId: b }, { type: 'SEND_WEBHOOK', webhookId: a }] } });
      await sql(app, `delete from deliveries where ticket_id = any($1::bigint[])`, [plain]);
      await sql(app, `update ticket_events set processed_at = null, locked_until = null where ticket_id = any($1::bigint[])`, [plain]);
      await manual.dispatcher.wake();
      const swapped = (await made()).filter((d) => plain.includes(d.ticket));
      expect(swapped).toHaveLength(4);
      expect(swapped.filter((d) => later.some((l) => l.id === d.id))).toEqual([]);
      expect(manual.errors).toEqual([]);
    } finally {
      await manual.stop();
    }
  });
});
