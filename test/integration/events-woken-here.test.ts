/**
 * A ticket created through the API is handed to the dispatcher of the process that
 * created it, without the `deskhooks_ticket_events` notification (one per ticket would
 * queue the commits on the notification lock and wake every listening connection). Other
 * writers of ticket events still notify, and so does createTicket once that dispatcher
 * stops: then another process dispatches the ticket.
 *
 * The apps sweep once an hour, so only a wake-up can dispatch a ticket during a test. What
 * was notified is read with a marker notification: notifications arrive in commit order.
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { startTestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { addReply, createRule, createTicket, createWebhook, jsonHook, test, type Receiver, type TestApp } from '../support/fixtures.js';
import type { TicketEvent } from '../generated/graphql.js';

const NO_SWEEP = { DESKHOOKS_SWEEP_INTERVAL: '1h' };

/** Listens on deskhooks_ticket_events; `during(fn)` tells how often it was notified by what fn committed. */
async function ticketEventsListener(databaseUrl: string) {
  const listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  const heard: string[] = [];
  listener.on('notification', (n) => heard.push(n.channel === 'deskhooks_ticket_events' ? 'ticket_events' : n.payload!));
  await listener.query('listen deskhooks_ticket_events; listen deskhooks_test_mark');
  let marks = 0;
  return {
    async during<T>(fn: () => Promise<T>): Promise<{ value: T; notified: string[] }> {
      const from = heard.length;
      const value = await fn();
      const mark = `mark ${++marks}`;
      await listener.query(`select pg_notify('deskhooks_test_mark', $1)`, [mark]);
      await waitFor(() => heard.includes(mark), { what: mark });
      return { value, notified: heard.slice(from, heard.indexOf(mark)) };
    },
    end: () => listener.end(),
  };
}

async function watchNewTickets(app: TestApp, watch: Receiver): Promise<void> {
  const hook = await createWebhook(app, jsonHook('watch', watch.url));
  await createRule(app, { name: 'new tickets', events: ['TICKET_CREATED' as TicketEvent], conditions: [], actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }] });
}

const arrived = (watch: Receiver, ticketId: string) =>
  waitFor(() => watch.requests.some((r) => JSON.parse(r.body).t === ticketId), { what: `ticket ${ticketId}'s request at the receiver` });

describe('ticket events woken in this process', () => {
  test('a ticket created here is dispatched here with no notification; a reply still notifies', async ({ startApp, startReceiver }) => {
    const app = await startApp(NO_SWEEP);
    const watch = await startReceiver();
    await watchNewTickets(app, watch);
    const events = await ticketEventsListener(app.databaseUrl);
    try {
      let ticket = '';
      // two in a row: the second is not the app's sweep at start
      for (const title of ['first', 'second']) {
        const created = await events.during(() => createTicket(app, title));
        expect(created.notified).toEqual([]);
        ticket = created.value;
        await arrived(watch, ticket);
      }
      expect((await events.during(() => addReply(app, ticket, 'a reply'))).notified).toEqual(['ticket_events']);
    } finally {
      await events.end();
    }
  });

  test("deliveries the dispatcher here commits wake the worker here once: their notification does not wake it again; another session's does", async ({ startApp, startReceiver }) => {
    const app = await startApp(NO_SWEEP);
    const watch = await startReceiver();
    await watchNewTickets(app, watch);
    // the first batch at a new version of the rules loads them through the ORM, on the app's
    // shared connections (src/dispatcher/batch.ts): its deliveries wake the worker by their notification
    await arrived(watch, await createTicket(app, 'rules loaded'));
    const worker = app.worker!;
    /** for each wake-up of the worker: whether a notification called it (src/db/listener.ts) */
    const byNotification: boolean[] = [];
    const wake = worker.wake.bind(worker);
    worker.wake = () => {
      byNotification.push(/[\\/]db[\\/]listener\.[tj]s/.test(new Error().stack ?? ''));
      return wake();
    };
    // the app's listener hands the notifications over in the order they were committed: once it
    // hands over this mark (on the live feed's channel), it has handed over all before it
    const feed = app.services.deliveryEvents;
    const receive = feed.receive.bind(feed);
    let marked = false;
    feed.receive = (payload) => (payload === '"mark"' ? ((marked = true), Promise.resolve()) : receive(payload));
    const other = new pg.Client({ connectionString: app.databaseUrl });
    await other.connect();
    try {
      const ticket = await createTicket(app, 'woken once');
      await arrived(watch, ticket);
      expect(byNotification.filter((n) => !n).length).toBeGreaterThan(0);
      // another session's notification on the same channel, after the dispatcher's; then the mark
      await other.query(`select pg_notify('deskhooks_deliveries', ''), pg_notify('deskhooks_delivery_events', '"mark"')`);
      await waitFor(() => marked, { what: 'the mark handed over by the listener' });
      expect(byNotification.filter((n) => n)).toHaveLength(1);
    } finally {
      delete (worker as { wake?: unknown }).wake;
      delete (feed as { receive?: unknown }).receive;
      await other.end();
    }
  });

  test("the sweep job wakes the dispatcher and ends: a drain held up (a long batch) keeps it running no longer, so the job engine neither holds nor cancels it", async ({ startApp }) => {
    // sweeping every second; the job engine picks up every 250 ms (a quarter of the retry interval)
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1s', DESKHOOKS_RETRY_INTERVAL: '1s' });
    const holder = new pg.Client({ connectionString: app.databaseUrl });
    await holder.connect();
    try {
      // the dispatcher's claim waits on this lock: its drain is held up as by a batch that takes long
      await holder.query('begin; lock table ticket_events in exclusive mode');
      const waiting = `select count(*)::int as n from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'ticket_events' and not l.granted`;
      await waitFor(async () => (await holder.query(waiting)).rows[0].n > 0, { what: "the dispatcher's claim to wait on the lock" });
      const heldSince = Date.now();
      const finishedSince = async () => {
        const { rows } = await holder.query(`select (extract(epoch from last_finished_at) * 1000)::float8 as ms from agenda_jobs where name = 'dispatcher.sweep'`);
        return Number(rows[0]?.ms ?? 0) > heldSince + 1_500;
      };
      // a run started after the drain was held up has ended (the job engine would cancel a run held past its lock, here 5.5 s, and log an error)
      expect(await waitFor(finishedSince, { what: 'a dispatcher.sweep run to end while the drain is held up', timeoutMs: 4_000 })).toBe(true);
      expect((await holder.query(waiting)).rows[0].n).toBeGreaterThan(0);
    } finally {
      await holder.query('rollback').catch(() => {});
      await holder.end();
    }
  });

  test('once its dispatcher stops, createTicket notifies and another process dispatches the ticket; a process that stops notifies once', async ({ startReceiver }) => {
    const database = await createTestDatabase();
    const apps: TestApp[] = [];
    let events: Awaited<ReturnType<typeof ticketEventsListener>> | null = null;
    try {
      const app = await startTestApp(NO_SWEEP, { databaseUrl: database.url });
      apps.push(app);
      apps.push(await startTestApp(NO_SWEEP, { databaseUrl: database.url }));
      const watch = await startReceiver();
      await watchNewTickets(app, watch);
      events = await ticketEventsListener(database.url);
      await app.dispatcher!.stop();
      const created = await events.during(() => createTicket(app, 'while stopping'));
      expect(created.notified).toEqual(['ticket_events']);
      await arrived(watch, created.value);
      // an event its dispatcher was woken for but had not claimed when it stopped is the others'
      expect((await events.during(() => app.stop())).notified).toEqual(['ticket_events']);
    } finally {
      await events?.end();
      for (const app of apps.reverse()) await app.stop();
      await database.drop();
    }
  });
});
