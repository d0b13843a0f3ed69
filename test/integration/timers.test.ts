/**
 * TIMER rules in real time, shortened through durations in seconds: the timers are planned
 * in PostgreSQL, fired by the timer loop of every app on the database, and handled by the
 * dispatcher like any event. Each scenario has apps and a database of its own, so they run
 * concurrently; "fired once" is read from the outbox and the timers' rows once everything
 * is processed, never by sleeping.
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { createTestDatabase, LOCK_WAITERS } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import {
  addComment, addReply, comments, createRule, createTicket, createUser, createWebhook, jsonHook, settled, test, updateTicket,
  type Receiver, type TestApp,
} from '../support/fixtures.js';
import { TimerLoop } from '../../src/dispatcher/index.js';
import { createLogger } from '../../src/log.js';
import { AuCreateUrgentTicketDocument, RlCreateRuleDocument, RlUpdateRuleDocument, type RuleInput, type TicketEvent } from '../generated/graphql.js';

const TIMER = 'TIMER' as TicketEvent;

const noReplyRule = (webhookId: string, after = '3s'): RuleInput => ({
  name: `No reply for ${after}`,
  events: [TIMER],
  conditions: [{ field: 'timeSinceLastReply', operator: 'GREATER_THAN', value: after }],
  actions: [
    { type: 'ADD_COMMENT', value: 'No reply for {{ ticket.id }} yet' },
    { type: 'SEND_WEBHOOK', webhookId },
  ],
});

async function query<T = any>(app: TestApp, sql: string, values: unknown[] = []): Promise<T[]> {
  return (await app.services.orm.em.fork().getConnection().execute(sql, values)) as T[];
}

/** The TIMER events raised for the ticket. */
const timerEvents = (app: TestApp, ticketId: string) =>
  query<{ rule_id: string; due_at: string }>(app, `select payload->>'ruleId' as rule_id, payload->>'dueAt' as due_at from ticket_events where type = 'TIMER' and ticket_id = ? order by id`, [ticketId]);

/** A row's time in ms (timestamps come back as text from the ORM's connection). */
const msOf = async (app: TestApp, sql: string, values: unknown[]) => Number((await query<{ ms: number }>(app, sql.replace('$time', '(extract(epoch from created_at) * 1000)::float8 as ms'), values))[0]!.ms);
const postTime = (app: TestApp, postId: string) => msOf(app, `select $time from posts where id = ?`, [postId]);
const ticketTime = (app: TestApp, ticketId: string) => msOf(app, `select $time from tickets where id = ?`, [ticketId]);

/** Waits for the ticket's n-th internal comment; returns its time (ms). */
async function nthComment(app: TestApp, ticketId: string, n: number, timeoutMs = 12_000): Promise<number> {
  const found = await waitFor(async () => (await comments(app, ticketId)).length >= n, { timeoutMs, what: `comment ${n} on ticket ${ticketId}` });
  expect(found).toBe(true);
  const rows = await query<{ ms: number }>(app, `select (extract(epoch from created_at) * 1000)::float8 as ms from posts where ticket_id = ? and kind = 'COMMENT' order by id`, [ticketId]);
  return Number(rows[n - 1]!.ms);
}

const hooksFor = (rx: Receiver, ticketId: string) => rx.requests.filter((r) => JSON.parse(r.body).t === ticketId);

describe.concurrent('TIMER rules', () => {
  test('ANY: a clock restarted by the rule\'s own action re-arms only its own condition, never the one already true (no loop)', async ({ app }) => {
    // fires at 2 s through timeSinceCreated; its comment restarts timeSinceLastComment, whose
    // condition is 100 minutes away: the rule's next due time, not the condition already true
    const rule = await createRule(app, {
      name: 'Either clock', match: 'ANY', events: [TIMER],
      conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '2s' }, { field: 'timeSinceLastComment', operator: 'GREATER_THAN', value: '100m' }],
      actions: [{ type: 'ADD_COMMENT', value: 'either clock ran out' }],
    });
    const ticket = await createTicket(app, 'one firing');
    await nthComment(app, ticket, 1);
    await settled(app);
    expect((await comments(app, ticket)).map((c) => c.text)).toEqual(['either clock ran out']);
    // the restarted clock's own condition is due 100 minutes after the comment (a rule due
    // again for the condition already true would be due in the past, and firing again)
    const [timer] = await query<{ due: number | null }>(app, `select (extract(epoch from due_at) * 1000)::float8 as due from rule_timers where rule_id = ? and ticket_id = ?`, [rule.id, ticket]);
    const [last] = await query<{ ms: number }>(app, `select (extract(epoch from max(created_at)) * 1000)::float8 as ms from posts where ticket_id = ? and kind = 'COMMENT'`, [ticket]);
    expect(timer!.due).toBe(Number(last!.ms) + 100 * 60_000);
  });

  test('no reply for 3 s → comment and webhook: once per reply, 3–8 s after it, re-armed by a new reply, never for a CLOSED ticket', async ({ app, startReceiver }) => {
    const rx = await startReceiver();
    const hook = await createWebhook(app, jsonHook('crm', rx.url));
    const closed = await createTicket(app, 'closed before its timer');
    await updateTicket(app, closed, { status: 'CLOSED' });
    const rule = await createRule(app, noReplyRule(hook));
    const ticket = await createTicket(app, 'waiting for an answer');
    const firstReply = await postTime(app, await addReply(app, ticket, 'hello?'));

    const firstFire = await nthComment(app, ticket, 1);
    expect(firstFire - firstReply).toBeGreaterThanOrEqual(3_000);
    expect(firstFire - firstReply).toBeLessThan(8_000);
    await rx.waitForRequests(1);
    expect(hooksFor(rx, ticket)).toHaveLength(1);

    // a new reply restarts the clock: the rule fires again, 3 s after it
    const secondReply = await postTime(app, await addReply(app, ticket, 'still there?'));
    const secondFire = await nthComment(app, ticket, 2);
    expect(secondFire - secondReply).toBeGreaterThanOrEqual(3_000);
    expect(secondFire - secondReply).toBeLessThan(8_000);
    await waitFor(() => hooksFor(rx, ticket).length === 2, { what: 'the second webhook' });

    await settled(app);
    // once per clock start: two TIMER events in all, the timer spent; none for the CLOSED ticket
    const events = await timerEvents(app, ticket);
    expect(events.map((e) => e.rule_id)).toEqual([rule.id, rule.id]);
    expect(await query(app, `select due_at, fired_start = clock_start as spent from rule_timers where ticket_id = ?`, [ticket])).toEqual([{ due_at: null, spent: true }]);
    expect(await timerEvents(app, closed)).toEqual([]);
    expect(await comments(app, closed)).toEqual([]);
    expect(hooksFor(rx, closed)).toEqual([]);
  });

  test('closing stops a timer and reopening plans it again (its clock as it was)', async ({ app }) => {
    // an hour: nothing fires during the test, the due times alone are read
    await createRule(app, { name: 'Open an hour', events: [TIMER], conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1h' }], actions: [{ type: 'ADD_COMMENT', value: 'open for an hour' }] });
    const ticket = await createTicket(app, 'closed, then reopened');
    const stays = await createTicket(app, 'closed for good');
    const created = await ticketTime(app, ticket);
    const dueOf = async (id: string) => (await query<{ due: number | null }>(app, `select (extract(epoch from due_at) * 1000)::float8 as due from rule_timers where ticket_id = ?`, [id]))[0]?.due ?? null;
    expect(await dueOf(ticket)).toBe(created + 3_600_000);
    for (const id of [ticket, stays]) await updateTicket(app, id, { status: 'CLOSED' });
    expect(await dueOf(ticket)).toBeNull();
    expect(await dueOf(stays)).toBeNull();
    await updateTicket(app, ticket, { status: 'OPEN' });
    expect(await dueOf(ticket)).toBe(created + 3_600_000);
    expect(await dueOf(stays)).toBeNull();
  });

  test('a rule saved when its condition already holds fires at the save; changing it re-plans, disabling it stops its timers', async ({ app }) => {
    const old = await createTicket(app, 'old enough');
    const created = await ticketTime(app, old);
    // 3 s: the ticket created below under this rule must still be waiting when the rule is changed (a loaded database's calls take seconds)
    await waitFor(() => Date.now() > created + 3_200, { what: 'the ticket to be older than 3 s' });
    const input: RuleInput = { name: 'Old', events: [TIMER], conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '3s' }], actions: [{ type: 'ADD_COMMENT', value: 'old' }] };
    const saved = Date.now();
    const rule = await createRule(app, input);
    expect(await nthComment(app, old, 1) - saved).toBeLessThan(5_000);

    // a longer duration re-plans the open tickets (a clock start fired for stays spent)
    const fresh = await createTicket(app, 'fresh');
    await app.ok(RlUpdateRuleDocument, { id: rule.id, input: { ...input, conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1h' }] } });
    const [row] = await query<{ ms: number }>(app, `select (extract(epoch from r.due_at - t.created_at) * 1000)::float8 as ms from rule_timers r join tickets t on t.id = r.ticket_id where r.ticket_id = ?`, [fresh]);
    expect(Number(row!.ms)).toBe(3_600_000);
    expect(await query(app, `select due_at from rule_timers where ticket_id = ?`, [old])).toEqual([{ due_at: null }]);

    await app.ok(RlUpdateRuleDocument, { id: rule.id, input: { ...input, enabled: false } });
    expect(await query(app, `select count(*)::int as n from rule_timers where due_at is not null`)).toEqual([{ n: 0 }]);
    await settled(app);
    expect(await timerEvents(app, old)).toHaveLength(1);
    expect(await timerEvents(app, fresh)).toHaveLength(0);
    // deleting the rule deletes its timers
    await app.ok(`mutation($id: ID!) { deleteRule(id: $id) }`, { id: rule.id });
    expect(await query(app, `select count(*)::int as n from rule_timers`)).toEqual([{ n: 0 }]);
  });

  test('a due time that passed while deskhooks was stopped fires at the next start', async ({ startApp, startReceiver }) => {
    const db = await createTestDatabase();
    try {
      const rx = await startReceiver();
      const first = await startApp({}, { databaseUrl: db.url });
      const hook = await createWebhook(first, jsonHook('crm', rx.url));
      await createRule(first, noReplyRule(hook, '2s'));
      const ticket = await createTicket(first, 'asked just before the stop');
      const reply = await postTime(first, await addReply(first, ticket, 'anyone?'));
      await first.stop();
      await waitFor(() => Date.now() > reply + 2_500, { what: 'the due time to pass while stopped' });

      const started = Date.now();
      const second = await startApp({}, { databaseUrl: db.url });
      const fired = await nthComment(second, ticket, 1);
      expect(fired - started).toBeLessThan(10_000);
      await waitFor(() => hooksFor(rx, ticket).length === 1, { what: 'the webhook' });
      await settled(second);
      expect(await timerEvents(second, ticket)).toHaveLength(1);
      await second.stop();
    } finally {
      await db.drop();
    }
  });

  test('with two processes on one database, each timer fires once', async ({ app, startApp, startReceiver }) => {
    const other = await startApp({}, { databaseUrl: app.databaseUrl });
    const rx = await startReceiver();
    const hook = await createWebhook(app, jsonHook('crm', rx.url));
    const rule = await createRule(app, {
      name: 'Created 2 s ago', events: [TIMER],
      conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '2s' }],
      actions: [{ type: 'ADD_COMMENT', value: 'two seconds' }, { type: 'SEND_WEBHOOK', webhookId: hook }],
    });
    const tickets = await Promise.all(Array.from({ length: 30 }, (_, i) => createTicket(i % 2 ? app : other, `t${i}`)));
    await rx.waitForRequests(tickets.length, 15_000);
    await settled(app);
    const rows = await query<{ ticket_id: string; n: number; comments: number }>(app,
      `select t.id::text as ticket_id,
              (select count(*) from ticket_events e where e.ticket_id = t.id and e.type = 'TIMER' and e.payload->>'ruleId' = ?)::int as n,
              (select count(*) from posts p where p.ticket_id = t.id and p.kind = 'COMMENT')::int as comments
         from tickets t order by t.id`, [rule.id]);
    expect(rows).toHaveLength(tickets.length);
    for (const r of rows) expect(r).toMatchObject({ n: 1, comments: 1 });
    expect(rx.requests).toHaveLength(tickets.length);
  });

  test('a TIMER fired by a process whose clock runs ahead is judged by another as of the firing, not before it: the rule runs', async ({ app }) => {
    await createRule(app, { name: 'An hour old', events: [TIMER], conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1h' }], actions: [{ type: 'ADD_COMMENT', value: 'an hour' }] });
    const ticket = await createTicket(app, 'on two hosts');
    // another api process on a host whose clock is an hour (and a second) ahead fires the timer; this app's dispatcher handles it
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 1 });
    const ahead = new TimerLoop({ db: pool, log: createLogger('silent'), clock: () => new Date(Date.now() + 3_601_000) });
    try {
      await ahead.wake();
    } finally {
      await ahead.stop();
      await pool.end();
    }
    expect(await timerEvents(app, ticket)).toHaveLength(1);
    await settled(app);
    expect((await comments(app, ticket)).map((c) => c.text)).toEqual(['an hour']);
  });

  test('a ticket created by the receiver of a delivery being attempted (no TICKET_CREATED) has its timers planned from its creation, as a person\'s has', async ({ app, startReceiver }) => {
    await createRule(app, { name: 'An hour old', events: [TIMER], conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1h' }], actions: [{ type: 'ADD_COMMENT', value: 'an hour' }] });
    const create = (title: string, headers: Record<string, string> = {}) => app.gql(AuCreateUrgentTicketDocument, { title }, app.adminAuth, headers);
    let fromReceiver: ReturnType<typeof create> | undefined;
    const rx = await startReceiver((r) => {
      fromReceiver = create('from a webhook', { 'X-Deskhooks-Delivery': String(r.headers['x-deskhooks-delivery']) });
      return fromReceiver.then(() => ({ status: 200 }));
    });
    const hook = await createWebhook(app, jsonHook('calls back', `${rx.url}/hook`));
    await app.ok(`mutation($w: ID!, $t: ID!) { testWebhook(id: $w, ticketId: $t) { id } }`, { w: hook, t: await createTicket(app, 'by a person') });
    const auto = (await waitFor(() => fromReceiver)).data!.createTicket.id;
    expect(await query(app, `select count(*)::int as n from ticket_events where ticket_id = ?`, [auto])).toEqual([{ n: 0 }]);
    const [row] = await query<{ ms: number }>(app, `select (extract(epoch from r.due_at - t.created_at) * 1000)::float8 as ms from rule_timers r join tickets t on t.id = r.ticket_id where r.ticket_id = ?`, [auto]);
    expect(Number(row?.ms)).toBe(3_600_000);
  });

  test("README's \"No answer for 2 hours\" (in seconds): fires for a client's new ticket nobody answered and for an unanswered client reply, never once staff answered", async ({ app }) => {
    // the example's conditions as the README writes them
    await createRule(app, {
      name: 'No answer for 2 s', events: [TIMER],
      conditions: [{ field: 'timeSinceLastClientReply', operator: 'GREATER_THAN', value: '2s' }, { field: 'lastReplyAuthor', operator: 'NOT_EQUALS', value: 'STAFF' }],
      actions: [{ type: 'ADD_COMMENT', value: 'Waiting for us' }],
    });
    const client = await createUser(app, { name: 'Client', email: 'waiting@example.com', role: 'CLIENT' });
    const opened = await createTicket(app, 'opened, never answered', client.auth);
    const replied = await createTicket(app, 'asked again', client.auth);
    await addReply(app, replied, 'anyone?', client.auth);
    const answered = await createTicket(app, 'answered', client.auth);
    await addReply(app, answered, 'on it');
    await nthComment(app, opened, 1);
    await nthComment(app, replied, 1);
    await settled(app);
    expect((await comments(app, opened)).map((c) => c.text)).toEqual(['Waiting for us']);
    expect((await comments(app, replied)).map((c) => c.text)).toEqual(['Waiting for us']);
    expect(await comments(app, answered)).toEqual([]);
  });

  /** Once a statement waits for `holder`'s lock, holds it longer than the app's 1 s DESKHOOKS_DATABASE_TIMEOUT. */
  const heldPastTimeout = async (holder: pg.Client) => {
    await waitFor(async () => (await holder.query(LOCK_WAITERS)).rows[0].n > 0, { what: 'a statement waiting for the lock' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  };

  test("saving a TIMER rule plans it over every open ticket, and deleting it deletes its timers, even when that takes longer than DESKHOOKS_DATABASE_TIMEOUT (a request's bound)", async ({ startApp }) => {
    const app = await startApp({ DESKHOOKS_DATABASE_TIMEOUT: '1s' });
    const ticket = await createTicket(app, 'open');
    // the plan held up for 2 s, as a plan over many open tickets takes: its statement waits for the lock
    const holder = new pg.Client({ connectionString: app.databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table rule_timers in share mode');
      const saving = app.gql(RlCreateRuleDocument, { input: { name: 'A day old', events: [TIMER], conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1d' }], actions: [{ type: 'ADD_COMMENT', value: 'a day' }] } });
      await heldPastTimeout(holder);
      await holder.query('commit');
      const saved = await saving;
      expect(saved.errors).toBeUndefined();
      const [row] = await query<{ ms: number }>(app, `select (extract(epoch from r.due_at - t.created_at) * 1000)::float8 as ms from rule_timers r join tickets t on t.id = r.ticket_id where r.ticket_id = ?`, [ticket]);
      expect(Number(row?.ms)).toBe(86_400_000);
      // deleting it deletes its timers, held up alike
      await holder.query('begin');
      await holder.query('lock table rule_timers in share mode');
      const deleting = app.gql(`mutation($id: ID!) { deleteRule(id: $id) }`, { id: saved.data!.createRule.id });
      await heldPastTimeout(holder);
      await holder.query('commit');
      expect((await deleting).errors).toBeUndefined();
      expect(await query(app, `select count(*)::int as n from rule_timers`)).toEqual([{ n: 0 }]);
      expect(await query(app, `select count(*)::int as n from rules`)).toEqual([{ n: 0 }]);
    } finally {
      await holder.end();
    }
  });

  test("a rule's own reply (no event) restarts the reply clock: the timer is re-planned in the post's transaction", async ({ app }) => {
    await createRule(app, { name: 'Nudge', events: [TIMER], conditions: [{ field: 'timeSinceLastReply', operator: 'GREATER_THAN', value: '1h' }], actions: [{ type: 'ADD_COMMENT', value: 'nudge' }] });
    await createRule(app, { name: 'Answer notes', events: ['COMMENT_ADDED'], actions: [{ type: 'ADD_REPLY', value: 'We are on it' }] });
    const ticket = await createTicket(app, 'noted');
    const clockStart = async () => (await query<{ ms: number }>(app, `select (extract(epoch from clock_start) * 1000)::float8 as ms from rule_timers where ticket_id = ?`, [ticket]))[0]?.ms;
    expect(Number(await clockStart())).toBe(await ticketTime(app, ticket));
    await addComment(app, ticket, 'a note');
    const reply = await waitFor(async () => (await query<{ id: string }>(app, `select id::text as id from posts where ticket_id = ? and kind = 'REPLY'`, [ticket]))[0], { what: "the rule's reply" });
    expect(Number(await clockStart())).toBe(await postTime(app, reply.id));
  });

  test('time conditions are validated at save and listed by ruleFields (ADMIN and AGENT)', async ({ app }) => {
    const bad = await app.gql(`mutation { createRule(input: { name: "x", events: [REPLY_ADDED], conditions: [{ field: "timeSinceLastReply", operator: GREATER_THAN, value: "1.5h" }], actions: [{ type: ADD_COMMENT, value: "y" }] }) { id } }`);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'conditions[0].value' });
    const noTime = await app.gql(`mutation { createRule(input: { name: "x", events: [TIMER], conditions: [{ field: "status", operator: EQUALS, value: "OPEN" }], actions: [{ type: ADD_COMMENT, value: "y" }] }) { id } }`);
    expect(noTime.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'conditions' });
    // a duration no timer could be planned for (past PostgreSQL's interval and timestamp range) is an input error, not a 500
    const huge = await app.gql(`mutation { createRule(input: { name: "x", events: [TIMER], conditions: [{ field: "timeSinceCreated", operator: GREATER_THAN, value: "999999999d" }], actions: [{ type: ADD_COMMENT, value: "y" }] }) { id } }`);
    expect(huge.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'conditions[0].value' });
    expect(huge.errors?.[0]?.message).toMatch(/36500d/);
    expect(await query(app, `select count(*)::int as n from rules`)).toEqual([{ n: 0 }]);

    const agent = await createUser(app, { name: 'Agent', email: 'agent@example.com', role: 'AGENT' });
    const client = await createUser(app, { name: 'Client', email: 'client@example.com', role: 'CLIENT' });
    const fieldsQuery = `{ ruleFields { name type description operators options } }`;
    const { ruleFields } = await app.ok<{ ruleFields: { name: string; type: string; operators: string[]; options: string[] }[] }>(fieldsQuery, {}, agent.auth);
    expect(ruleFields.find((f) => f.name === 'timeSinceLastReply')).toMatchObject({ type: 'DURATION', operators: ['GREATER_THAN', 'LESS_THAN'] });
    expect(ruleFields.find((f) => f.name === 'requester.role')).toMatchObject({ type: 'ROLE', options: ['ADMIN', 'AGENT', 'CLIENT'] });
    expect((await app.gql(fieldsQuery, {}, client.auth)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test('on other events, time conditions are judged as of the event', async ({ app }) => {
    await createRule(app, {
      name: 'Late answer', events: ['REPLY_ADDED'],
      conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1s' }],
      actions: [{ type: 'ADD_COMMENT', value: 'late' }],
    });
    const ticket = await createTicket(app, 'quick and slow');
    const created = await ticketTime(app, ticket);
    await waitFor(() => Date.now() > created + 1_200, { what: 'the ticket to be older than 1 s' });
    // a reply made 0.1 s after the creation whose event is handled only now (as under load): not late
    const early = new Date(created + 100);
    await query(app, `with p as (insert into posts (ticket_id, kind, text, author_id, created_at) values (?, 'REPLY', 'at once', null, ?) returning id)
                      insert into ticket_events (kind, ticket_id, type, payload, created_at)
                      select 'EVENT', ?, 'REPLY_ADDED', jsonb_build_object('changes', '[]'::jsonb, 'actorId', null, 'postId', p.id::text), ? from p`, [ticket, early, ticket, early]);
    await settled(app);
    expect(await comments(app, ticket)).toEqual([]);
    await addReply(app, ticket, 'later');
    await nthComment(app, ticket, 1);
    await settled(app);
    expect((await comments(app, ticket)).map((c) => c.text)).toEqual(['late']);
  });

  test('deskhooks_timers is notified when a due time is planned, never by a statement that sets none (a timer loop is not woken by its own firing)', async ({ app }) => {
    const listener = new pg.Client({ connectionString: app.databaseUrl });
    const writer = new pg.Client({ connectionString: app.databaseUrl });
    await Promise.all([listener.connect(), writer.connect()]);
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.channel === 'deskhooks_timers' ? 'timers' : n.payload!));
      await listener.query('listen deskhooks_timers; listen deskhooks_test_mark');
      // notifications arrive in commit order: whatever `sql` notified comes before its mark
      let marks = 0;
      const heardFor = async (sql: string): Promise<string[]> => {
        const from = heard.length;
        await writer.query(sql);
        const mark = `mark ${++marks}`;
        await writer.query(`select pg_notify('deskhooks_test_mark', $1)`, [mark]);
        expect(await waitFor(() => heard.includes(mark), { what: mark })).toBe(true);
        return heard.slice(from, heard.indexOf(mark));
      };
      // a timer of no rule and no ticket, due in an hour: no loop fires it during the test
      const due = `rule_id = 900000001 and ticket_id = 900000001`;
      expect(await heardFor(`insert into rule_timers (rule_id, ticket_id, due_at, clock_start) values (900000001, 900000001, now() + interval '1 hour', now())`)).toEqual(['timers']);
      expect(await heardFor(`update rule_timers set due_at = now() + interval '2 hours' where ${due}`)).toEqual(['timers']);
      // what the timer loop's firing does: clears due times (here none is due, as in most of its runs)
      expect(await heardFor(`update rule_timers set due_at = null where due_at < now() - interval '1 day'`)).toEqual([]);
      expect(await heardFor(`update rule_timers set due_at = null where ${due}`)).toEqual([]);
      expect(await heardFor(`insert into rule_timers (rule_id, ticket_id, due_at, clock_start) values (900000002, 900000002, null, now())`)).toEqual([]);
    } finally {
      await Promise.all([listener.end(), writer.end()]);
    }
  });
});
