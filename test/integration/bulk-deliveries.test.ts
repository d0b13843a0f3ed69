/**
 * The delivery log's filter (ruleId, since, until, search), redeliverMany and cancelMany,
 * and Ticket.deliveries, through the public API against real receivers on 127.0.0.1.
 * Bulk runs whose size matters more than their sending (10,001 deliveries) are set up by
 * SQL; everything else is made by the API.
 *
 * Every test has a deskhooks and a database of its own, so the tests run concurrently.
 */
import { describe, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { waitFor } from '../support/wait.js';
import { collect, wsClient } from '../support/ws.js';
import { createRule, createTicket, createUser, createWebhook, deliveryReaches, drainWorker, jsonHook, settled, test, testWebhook, type TestApp } from '../support/fixtures.js';
import {
  BkCancelManyDocument, BkDeliveriesDocument, BkRedeliverManyDefaultDocument, BkRedeliverManyDocument, BkTicketDeliveriesDocument,
  BkTicketsDeliveriesDocument, type DeliveryFilter, type WebhookInput,
} from '../generated/graphql.js';

const it = test;

/** Plain SQL on the app's database (what the API does not show: redelivery_of, request equality; bulk set-up). */
async function withDb<T>(app: TestApp, run: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
  try {
    return await run(db);
  } finally {
    await db.end();
  }
}

const count = async (app: TestApp, filter: DeliveryFilter) => (await app.ok(BkDeliveriesDocument, { filter, first: 1 })).deliveries.totalCount;
const ids = async (app: TestApp, filter: DeliveryFilter) => (await app.ok(BkDeliveriesDocument, { filter, first: 200 })).deliveries.nodes.map((n) => n.id).sort();
const problem = (r: { errors?: { message: string; extensions?: { code?: string; field?: string } }[] }) =>
  r.errors?.map((e) => ({ code: e.extensions?.code, field: e.extensions?.field, message: e.message }))[0];

/** Runs `tasks` `width` at a time. */
async function inParallel<T>(tasks: (() => Promise<T>)[], width = 20): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < tasks.length; i += width) out.push(...(await Promise.all(tasks.slice(i, i + width).map((t) => t()))));
  return out;
}

describe.concurrent('bulk operations on the delivery log', () => {
  it('after an outage: 200 FAILED deliveries; a dry run says 200; the run queues 200 that succeed, on the live feed; the originals stay FAILED', async ({ app, startReceiver }) => {
    let down = true;
    const receiver = await startReceiver(() => (down ? { status: 500, body: 'maintenance' } : { status: 200, body: '{"ok":true}' }));
    const hook = await createWebhook(app, { ...jsonHook('CRM', `${receiver.url}/in`), successRule: { statuses: '200-299', onFailure: 'FAIL' } });
    await createRule(app, { name: 'To the CRM', events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }] });
    // the outage: 8 tickets' deliveries fail through the API (fewer than the 10 attempts that
    // open a breaker, which would hold the redeliveries until its probe); the day's other 192
    // are copies of them (rows and attempts), set up by SQL so that the test does not send 200 failures
    await inParallel(Array.from({ length: 8 }, (_, i) => () => createTicket(app, `order ${i}`)));
    await waitFor(async () => (await count(app, { status: 'FAILED' })) === 8, { timeoutMs: 60_000, what: '8 deliveries to fail' });
    await withDb(app, async (db) => {
      await db.query(`create temp table copies as
        select gen_random_uuid() as id, d.id as of from deliveries d cross join generate_series(1, 24) where d.status = 'FAILED'`);
      await db.query(`insert into deliveries (id, webhook_id, webhook_name, ticket_id, rule_id, event, status, request, auth_sealed, attempt_count,
                        next_attempt_at, first_attempt_at, locked_until, response_data, notes, last_error, continuation, processing, redelivery_of, created_at, completed_at)
                      select c.id, d.webhook_id, d.webhook_name, d.ticket_id, d.rule_id, d.event, d.status, d.request, d.auth_sealed, d.attempt_count,
                             d.next_attempt_at, d.first_attempt_at, d.locked_until, d.response_data, d.notes, d.last_error, d.continuation, d.processing, null, d.created_at, d.completed_at
                        from copies c join deliveries d on d.id = c.of`);
      await db.query(`insert into delivery_attempts (delivery_id, number, started_at, duration_ms, status_code, error, response_body)
                      select c.id, a.number, a.started_at, a.duration_ms, a.status_code, a.error, a.response_body
                        from copies c join delivery_attempts a on a.delivery_id = c.of`);
    });
    expect(await count(app, { status: 'FAILED' })).toBe(200);
    const originals = await ids(app, { status: 'FAILED' });
    expect(receiver.requests).toHaveLength(8);
    down = false;

    const feed = collect<{ deliveryEvents: { type: string; delivery: { id: string } } }>(
      wsClient(app.url, app.adminAuth),
      `subscription { deliveryEvents { type delivery { id } } }`,
    );
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the subscription' });

    const filter: DeliveryFilter = { status: 'FAILED' };
    expect((await app.ok(BkRedeliverManyDefaultDocument, { filter })).redeliverMany).toEqual({ matched: 200, queued: 0 });
    expect(await count(app, {})).toBe(200);
    expect((await app.ok(BkRedeliverManyDocument, { filter, dryRun: false })).redeliverMany).toEqual({ matched: 200, queued: 200 });
    await waitFor(async () => {
      await drainWorker(app);
      return (await count(app, { status: 'SUCCEEDED' })) === 200;
    }, { timeoutMs: 60_000, what: 'the 200 redeliveries to succeed' });
    expect(receiver.requests.length).toBe(208);
    expect(await ids(app, { status: 'FAILED' })).toEqual(originals);

    // each original once, with its webhook, ticket, rule, event and rendered request
    const pairs = await withDb(app, async (db) => (await db.query(
      `select count(distinct o.id)::int as originals, count(*)::int as copies,
              count(*) filter (where n.request = o.request and n.webhook_id = o.webhook_id and n.ticket_id = o.ticket_id
                                 and n.rule_id is not distinct from o.rule_id and n.event is not distinct from o.event and n.auth_sealed is not distinct from o.auth_sealed)::int as same
         from deliveries n join deliveries o on o.id = n.redelivery_of`,
    )).rows[0]);
    expect(pairs).toEqual({ originals: 200, copies: 200, same: 200 });

    const copies = new Set(await withDb(app, async (db) => (await db.query(`select id from deliveries where redelivery_of is not null`)).rows.map((r) => r.id)));
    await waitFor(() => {
      const seen = (type: string) => new Set(feed.events.filter((e) => e.deliveryEvents.type === type && copies.has(e.deliveryEvents.delivery.id)).map((e) => e.deliveryEvents.delivery.id)).size;
      return seen('QUEUED') === 200 && seen('SUCCEEDED') === 200;
    }, { what: 'QUEUED and SUCCEEDED of the 200 redeliveries on the feed' });
    feed.dispose();
    // 208 deliveries beside the file's other tests (describe.concurrent): the test's bound exceeds each of its waits (60 s)
  }, 90_000);

  it('cancelMany: counts open deliveries in a dry run, cancels them (on the feed) in a run; final ones are not eligible; ADMIN only', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    // one attempt starts per 100 s: the first goes, the others wait PENDING
    const hook = await createWebhook(app, { ...jsonHook('Slow lane', `${receiver.url}/slow`), rateLimitPerSecond: 0.01 });
    const other = await createWebhook(app, jsonHook('Other lane', `${receiver.url}/other`));
    const ticket = await createTicket(app, 'cancel me');
    const first = await testWebhook(app, hook, ticket);
    await deliveryReaches(app, first, 'SUCCEEDED');
    const waiting = await inParallel(Array.from({ length: 5 }, () => () => testWebhook(app, hook, ticket)));
    await deliveryReaches(app, await testWebhook(app, other, ticket), 'SUCCEEDED');

    const feed = collect<{ deliveryEvents: { type: string; delivery: { id: string; status: string } } }>(
      wsClient(app.url, app.adminAuth),
      `subscription { deliveryEvents { type delivery { id status } } }`,
    );
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the subscription' });

    const agent = await createUser(app, { name: 'Agent', email: 'agent@example.com', role: 'AGENT' });
    expect(problem(await app.gql(BkCancelManyDocument, { filter: { webhookId: hook } }, agent.auth))?.code).toBe('FORBIDDEN');
    expect(problem(await app.gql(BkRedeliverManyDocument, { filter: { webhookId: hook } }, agent.auth))?.code).toBe('FORBIDDEN');

    expect((await app.ok(BkCancelManyDocument, { filter: { ticketId: ticket } })).cancelMany).toEqual({ matched: 5, queued: 0 });
    expect(await count(app, { webhookId: hook, status: 'PENDING' })).toBe(5);
    expect((await app.ok(BkCancelManyDocument, { filter: { ticketId: ticket, status: 'SUCCEEDED' }, dryRun: false })).cancelMany).toEqual({ matched: 0, queued: 0 });
    expect((await app.ok(BkCancelManyDocument, { filter: { ticketId: ticket }, dryRun: false })).cancelMany).toEqual({ matched: 5, queued: 5 });
    expect(await ids(app, { status: 'CANCELLED' })).toEqual([...waiting].sort());
    expect(await count(app, { status: 'SUCCEEDED' })).toBe(2);
    expect((await app.ok(BkCancelManyDocument, { filter: { ticketId: ticket }, dryRun: false })).cancelMany).toEqual({ matched: 0, queued: 0 });
    await waitFor(() => {
      const cancelled = feed.events.filter((e) => e.deliveryEvents.type === 'CANCELLED').map((e) => e.deliveryEvents.delivery);
      return cancelled.length === 5 && cancelled.every((d) => waiting.includes(d.id) && d.status === 'CANCELLED');
    }, { what: 'five CANCELLED on the feed' });
    feed.dispose();
  }, 60_000);

  it('more than 10,000 eligible: BAD_USER_INPUT with the count, nothing done; 10,000 are cancelled by one run', async ({ app }) => {
    const base = Date.parse('2030-06-01T00:00:00Z');
    // 10,001 FAILED and 10,001 PENDING (due in a year) deliveries of a webhook, one a second
    const hook = await createWebhook(app, { name: 'Many', method: 'POST', url: 'http://127.0.0.1:9/x', format: 'JSON', body: '{}' });
    await withDb(app, (db) => db.query(
      `insert into deliveries (id, webhook_id, webhook_name, status, request, attempt_count, next_attempt_at, notes, processing, created_at)
       select gen_random_uuid(), $2::bigint, 'Many', s.status, '{"method":"POST","url":"http://127.0.0.1:9/x","headers":{},"body":"{}"}', s.n,
              case when s.status = 'PENDING' then now() + interval '1 year' end, '[]',
              '{"responseMappings":[],"successComment":"","context":{}}', $1::timestamptz + g * interval '1 second'
         from generate_series(1, 10001) g, (values ('FAILED', 1), ('PENDING', 0)) as s(status, n)`,
      [new Date(base), hook],
    ));
    const before = await count(app, {});
    for (const dryRun of [true, false]) {
      const r = problem(await app.gql(BkRedeliverManyDocument, { filter: { status: 'FAILED' }, dryRun }));
      expect(r).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' });
      expect(r?.message).toMatch(/10,001 final deliveries.*at most 10,000/);
      const c = problem(await app.gql(BkCancelManyDocument, { filter: {}, dryRun }));
      expect(c).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' });
      expect(c?.message).toMatch(/10,001 PENDING or RETRYING deliveries/);
    }
    expect(await count(app, {})).toBe(before);
    expect(await count(app, { status: 'PENDING' })).toBe(10_001);

    // the first 10,000 seconds: exactly the limit
    const until = new Date(base + 10_001_000).toISOString();
    expect((await app.ok(BkRedeliverManyDocument, { filter: { until } })).redeliverMany).toEqual({ matched: 10_000, queued: 0 });
    expect((await app.ok(BkCancelManyDocument, { filter: { until }, dryRun: false })).cancelMany).toEqual({ matched: 10_000, queued: 10_000 });
    expect(await count(app, { status: 'PENDING' })).toBe(1);
    expect(await count(app, { status: 'CANCELLED' })).toBe(10_000);
  }, 60_000);

  it('filters by ruleId, since/until and search (case-insensitive, literal % and _, over URL, body and the last answer); pages; redeliverMany by rule carries rule and event', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver((req) => (req.url.startsWith('/hooks/beta') ? { status: 200, body: 'Receipt-XYZ77 accepted' } : undefined));
    const alpha = await createWebhook(app, { name: 'Alpha', method: 'POST', url: `${receiver.url}/Hooks/Alpha?x=1`, format: 'JSON', body: '{"note": "Hello PERCENT 100%_done {{ ticket.id }}"}' });
    const beta = await createWebhook(app, { name: 'Beta', method: 'POST', url: `${receiver.url}/hooks/beta`, format: 'JSON', body: '{"note": "percent 1000done {{ ticket.id }}"}' });
    const rule = await createRule(app, { name: 'Alpha on new tickets', events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'CONTAINS', value: '[alpha]' }], actions: [{ type: 'SEND_WEBHOOK', webhookId: alpha }] });

    const t0 = Date.now() + 3_600_000;
    clock.set(t0);
    const ruled = await createTicket(app, '[alpha] first');
    const fromRule = await waitFor(async () => (await ids(app, { ticketId: ruled }))[0], { what: 'the rule delivery' });
    clock.set(t0 + 60_000);
    const t = await createTicket(app, 'plain');
    const a1 = await testWebhook(app, alpha, t);
    clock.set(t0 + 120_000);
    const b1 = await testWebhook(app, beta, t);
    for (const id of [fromRule, a1, b1]) await deliveryReaches(app, id, 'SUCCEEDED');
    await settled(app); // searchable once the indexer has written their texts and answers

    expect(await ids(app, { ruleId: rule.id })).toEqual([fromRule]);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(await ids(app, { since: iso(t0 + 60_000) })).toEqual([a1, b1].sort());
    expect(await ids(app, { since: iso(t0), until: iso(t0 + 60_000) })).toEqual([fromRule]);
    expect(await ids(app, { until: iso(t0 + 120_000) })).toEqual([fromRule, a1].sort());
    expect(problem(await app.gql(BkDeliveriesDocument, { filter: { since: iso(t0), until: iso(t0) } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.until' });

    expect(await ids(app, { search: 'hooks/ALPHA?X' })).toEqual([fromRule, a1].sort()); // URL
    expect(await ids(app, { search: 'percent 100%_DONE' })).toEqual([fromRule, a1].sort()); // body; % and _ are literal (beta's "1000done" would match them as wildcards)
    expect(await ids(app, { search: 'receipt-xyz77' })).toEqual([b1]); // the answer
    expect(await ids(app, { search: `1000DONE ${t}` })).toEqual([b1]);
    expect(await ids(app, { search: 'no such text' })).toEqual([]);
    expect(await ids(app, { search: 'hooks', ticketId: t, webhookId: beta })).toEqual([b1]);
    for (const search of ['ab', 'a-b-c', '://']) {
      expect(problem(await app.gql(BkDeliveriesDocument, { filter: { search } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.search' });
    }
    expect(problem(await app.gql(BkDeliveriesDocument, { filter: { ruleId: 'x' } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.ruleId' });

    // pages newest first through a search
    const p1 = (await app.ok(BkDeliveriesDocument, { filter: { search: 'HOOKS/' }, first: 2 })).deliveries;
    const p2 = (await app.ok(BkDeliveriesDocument, { filter: { search: 'HOOKS/' }, first: 2, after: p1.pageInfo.endCursor })).deliveries;
    expect([p1.totalCount, p1.pageInfo.hasNextPage, p2.pageInfo.hasNextPage]).toEqual([3, true, false]);
    expect([...p1.nodes, ...p2.nodes].map((n) => n.id)).toEqual([b1, a1, fromRule]);

    // a redelivery by rule: the rule's and the event's, found by the same filter
    expect((await app.ok(BkRedeliverManyDocument, { filter: { ruleId: rule.id }, dryRun: false })).redeliverMany).toEqual({ matched: 1, queued: 1 });
    const both = (await app.ok(BkDeliveriesDocument, { filter: { ruleId: rule.id } })).deliveries.nodes;
    expect(both.map((d) => [d.rule?.id, d.ticket?.id])).toEqual([[rule.id, ruled], [rule.id, ruled]]);
    const events = await withDb(app, async (db) => (await db.query(`select distinct event from deliveries where rule_id = $1`, [rule.id])).rows.map((r) => r.event));
    expect(events).toEqual(['TICKET_CREATED']);
  });

  it('deliveries of a switched-off webhook are refused by name, dry run included; nothing is queued', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    const input = (name: string): WebhookInput => jsonHook(name, `${receiver.url}/${name}`);
    const on = await createWebhook(app, input('on'));
    const off = await createWebhook(app, input('Paused CRM'));
    const ticket = await createTicket(app, 'switched off');
    for (const hook of [on, off]) await deliveryReaches(app, await testWebhook(app, hook, ticket), 'SUCCEEDED');
    await app.ok(`mutation ($id: ID!, $input: WebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`, { id: off, input: { ...input('Paused CRM'), enabled: false } });

    for (const dryRun of [true, false]) {
      const r = problem(await app.gql(BkRedeliverManyDocument, { filter: { ticketId: ticket }, dryRun }));
      expect(r).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' });
      expect(r?.message).toContain(`webhook "Paused CRM" is disabled (id ${off})`);
    }
    expect(await count(app, {})).toBe(2);
    expect((await app.ok(BkRedeliverManyDocument, { filter: { webhookId: on }, dryRun: false })).redeliverMany).toEqual({ matched: 1, queued: 1 });
    expect(await count(app, {})).toBe(3);
  });

  it('a run reports the deliveries it acted on, not an earlier count: one finished or switched off while the run waited is neither cancelled, redelivered nor counted', async ({ app }) => {
    const hook = await createWebhook(app, jsonHook('Drift', 'http://127.0.0.1:9/drift'));
    const paused = await createWebhook(app, jsonHook('Drift paused', 'http://127.0.0.1:9/paused'));
    // 3 PENDING deliveries (due in a year) and 3 FAILED ones (2 of hook, 1 of paused), by SQL
    const made = await withDb(app, async (db) => (await db.query(
      `insert into deliveries (id, webhook_id, webhook_name, status, request, attempt_count, next_attempt_at, first_attempt_at, notes, processing, created_at)
       select gen_random_uuid(), s.hook, 'Drift', s.status, '{"method":"POST","url":"http://127.0.0.1:9/drift","headers":{},"body":"{}"}', s.n,
              case when s.status = 'PENDING' then now() + interval '1 year' end, case when s.n > 0 then now() end, '[]',
              '{"responseMappings":[],"successComment":"","context":{}}', now() - g * interval '1 second'
         from generate_series(1, 3) g, (values ('PENDING', 0, $1::bigint), ('FAILED', 1, $1::bigint)) as s(status, n, hook)
       returning id, status`,
      [hook],
    )).rows as { id: string; status: string }[]);
    const [finishing] = made.filter((d) => d.status === 'PENDING');
    const [switchedOff] = made.filter((d) => d.status === 'FAILED');
    await withDb(app, (db) => db.query(`update deliveries set webhook_id = $2 where id = $1`, [switchedOff!.id, paused]));

    type Sql = [string, unknown[]];
    /** Runs `run` while another transaction holds what `hold` takes; `change` is made and committed once the run (a query like `waits`) waits for it. */
    const racing = async <T>(hold: Sql, change: Sql, run: () => Promise<T>, waits: string): Promise<T> => {
      const other = new pg.Client({ connectionString: app.databaseUrl });
      await other.connect();
      try {
        await other.query('begin');
        await other.query(...hold);
        const result = run();
        await withDb(app, (db) => waitFor(async () => (await db.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike $1`, [waits])).rows[0].n > 0, { what: 'the run to wait' }));
        await other.query(...change);
        await other.query('commit');
        return await result;
      } finally {
        await other.end();
      }
    };

    // the PENDING delivery is being recorded as SUCCEEDED by a worker while the run cancels
    const cancelled = await racing(
      [`select 1 from deliveries where id = $1 for update`, [finishing!.id]],
      [`update deliveries set status = 'SUCCEEDED', next_attempt_at = null, completed_at = now() where id = $1`, [finishing!.id]],
      () => app.ok(BkCancelManyDocument, { filter: { webhookId: hook }, dryRun: false }),
      '%CANCELLED%',
    );
    expect(cancelled.cancelMany).toEqual({ matched: 2, queued: 2 });
    expect(await count(app, { status: 'CANCELLED' })).toBe(2);

    // the paused webhook is switched off after the run counted its delivery
    const redelivered = await racing(
      [`lock table deliveries in share mode`, []],
      [`update webhooks set enabled = false where id = $1`, [paused]],
      () => app.ok(BkRedeliverManyDocument, { filter: { status: 'FAILED' }, dryRun: false }),
      '%redelivery_of%',
    );
    expect(redelivered.redeliverMany).toEqual({ matched: 2, queued: 2 });
    expect(await withDb(app, async (db) => (await db.query(`select count(*)::int as n from deliveries where redelivery_of is not null`)).rows[0].n)).toBe(2);
  });

  it('a deleted webhook calls no one again: its retrying delivery is cancelled with a note, never retried, and not redelivered, alone or in bulk', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver(() => ({ status: 500, body: 'down' }));
    const hook = await createWebhook(app, { ...jsonHook('Leaked', `${receiver.url}/leaked`), auth: { type: 'BEARER', secret: 'leaked-token-0123' } });
    const kept = await createWebhook(app, jsonHook('Kept', `${receiver.url}/kept`));
    const ticket = await createTicket(app, 'compromised endpoint');
    const retrying = await testWebhook(app, hook, ticket);
    await deliveryReaches(app, retrying, 'RETRYING');
    await deliveryReaches(app, await testWebhook(app, kept, ticket), 'RETRYING');
    expect(await app.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook })).toEqual({ deleteWebhook: true });
    const d = (await app.ok(`query ($id: ID!) { delivery(id: $id) { status notes webhook { id } } }`, { id: retrying })).delivery;
    expect(d).toEqual({ status: 'CANCELLED', notes: ['cancelled: its webhook "Leaked" was deleted'], webhook: null });
    // the retry time comes: only the other webhook's delivery is attempted again
    clock.advance(61_000); // the test apps retry every minute (fixtures.ts CLOCK_DRIVEN)
    await drainWorker(app);
    await waitFor(() => receiver.requests.filter((r) => r.url === '/kept').length === 2, { what: 'the kept webhook retried' });
    expect(receiver.requests.filter((r) => r.url === '/leaked')).toHaveLength(1);
    const refused = problem(await app.gql(`mutation ($id: ID!) { redeliver(deliveryId: $id) { id } }`, { id: retrying }));
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'deliveryId' });
    expect(refused?.message).toMatch(/webhook "Leaked" was deleted/);
    expect((await app.ok(BkRedeliverManyDocument, { filter: { ticketId: ticket, status: 'CANCELLED' }, dryRun: true })).redeliverMany).toEqual({ matched: 0, queued: 0 });
    expect(receiver.requests.filter((r) => r.url === '/leaked')).toHaveLength(1);
  });

  it('a delivery being inserted while its webhook is deleted is cancelled with the others, never left open without its webhook', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Racing', `${receiver.url}/racing`));
    const id = randomUUID();
    const inserting = new pg.Client({ connectionString: app.databaseUrl });
    await inserting.connect();
    try {
      // an insert not yet committed (a redelivery, a rule's batch): its foreign key check holds the webhook row
      await inserting.query('begin');
      await inserting.query(
        `insert into deliveries (id, webhook_id, webhook_name, status, request, next_attempt_at, notes, processing, created_at)
         values ($1, $2, 'Racing', 'PENDING', '{"method":"POST","url":"http://127.0.0.1:9/x","headers":{},"body":"{}"}', now() + interval '1 hour', '[]', '{"responseMappings":[],"successComment":"","context":null}', now())`,
        [id, hook],
      );
      const deleting = app.ok(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook });
      await withDb(app, (db) => waitFor(async () => (await db.query(`select count(*)::int as n from pg_locks where not granted`)).rows[0].n > 0, { what: 'the delete to wait for the insert' }));
      await inserting.query('commit');
      expect(await deleting).toEqual({ deleteWebhook: true });
    } finally {
      await inserting.end();
    }
    const [row] = await withDb(app, async (db) => (await db.query(`select status, notes, webhook_id from deliveries where id = $1`, [id])).rows);
    expect(row).toEqual({ status: 'CANCELLED', notes: ['cancelled: its webhook "Racing" was deleted'], webhook_id: null });
  });

  it('a delivery whose first try went out but was never recorded, FAILED when its window passed, is redelivered alone and in bulk: it had a request', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('CRM', `${receiver.url}/in`));
    const sent = await testWebhook(app, hook, await createTicket(app, 'outcome lost'));
    await deliveryReaches(app, sent, 'SUCCEEDED');
    // as a crash during its first attempt leaves a delivery: claimed (its window started 10 minutes
    // ago, past the fixture's 4), its attempt sent but not recorded, its claim expired
    await withDb(app, async (db) => {
      await db.query(`delete from delivery_attempts where delivery_id = $1`, [sent]);
      await db.query(
        `update deliveries set status = 'PENDING', attempt_count = 0, completed_at = null, next_attempt_at = now(), first_attempt_at = now() - interval '10 minutes', locked_until = null where id = $1`,
        [sent],
      );
    });
    await drainWorker(app);
    // its lost try is on the record as an attempt of unknown outcome
    expect(await deliveryReaches(app, sent, 'FAILED')).toMatchObject({ attemptCount: 1 });
    expect(receiver.requests).toHaveLength(1);

    expect(await app.ok(BkRedeliverManyDocument, { filter: { webhookId: hook }, dryRun: true })).toEqual({ redeliverMany: { matched: 1, queued: 0 } });
    const again = await app.gql(`mutation ($id: ID!) { redeliver(deliveryId: $id) { id } }`, { id: sent });
    expect(again.errors).toBeUndefined();
    await deliveryReaches(app, again.data.redeliver.id, 'SUCCEEDED');
    expect(receiver.requests.map((r) => r.body)).toEqual([receiver.requests[0]!.body, receiver.requests[0]!.body]);
  });

  it('Ticket.deliveries: newest first with paging for ADMIN and AGENT, batched over a list of tickets; an empty page for a CLIENT; first: null is the default page (the log\'s too)', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Log', `${receiver.url}/log`));
    const client = await createUser(app, { name: 'Client', email: 'client@example.com', role: 'CLIENT' });
    const agent = await createUser(app, { name: 'Agent', email: 'agent2@example.com', role: 'AGENT' });
    const mine = await createTicket(app, 'mine', client.auth);
    const other = await createTicket(app, 'other');
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      made.push(await testWebhook(app, hook, mine));
    }
    await testWebhook(app, hook, other);

    for (const auth of [app.adminAuth, agent.auth]) {
      const p1 = (await app.ok(BkTicketDeliveriesDocument, { id: mine, first: 2 }, auth)).ticket!.deliveries;
      expect([p1.totalCount, p1.pageInfo.hasNextPage, p1.nodes.map((n) => n.id)]).toEqual([3, true, [made[2], made[1]]]);
      const p2 = (await app.ok(BkTicketDeliveriesDocument, { id: mine, first: 2, after: p1.pageInfo.endCursor }, auth)).ticket!.deliveries;
      expect([p2.pageInfo.hasNextPage, p2.nodes.map((n) => n.id)]).toEqual([false, [made[0]]]);
    }
    const list = (await app.ok(BkTicketsDeliveriesDocument, {})).tickets;
    expect(Object.fromEntries(list.map((t) => [t.id, [t.deliveries.totalCount, t.deliveries.nodes.length]]))).toEqual({ [mine]: [3, 2], [other]: [1, 1] });

    // an explicit null is the default page, as for tickets(first: null)
    expect((await app.ok(BkTicketDeliveriesDocument, { id: mine, first: null })).ticket!.deliveries.nodes.map((n) => n.id)).toEqual([...made].reverse());
    const log = (await app.ok(BkDeliveriesDocument, { first: null })).deliveries;
    expect([log.totalCount, log.nodes.length, log.pageInfo.hasNextPage]).toEqual([4, 4, false]);

    const asClient = (await app.ok(BkTicketDeliveriesDocument, { id: mine }, client.auth)).ticket!.deliveries;
    expect(asClient).toEqual({ totalCount: 0, pageInfo: { endCursor: null, hasNextPage: false }, nodes: [] });
  });
});
