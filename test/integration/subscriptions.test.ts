/** The live delivery feed over graphql-ws: order, filters, authentication and roles. */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { feedLoader, indexDeliveryTexts } from '../../src/delivery/index.js';
import { matchesLoaded } from '../../src/delivery/events.js';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_EMAIL, bearer } from '../support/app.js';
import { collect, wsClient } from '../support/ws.js';
import { waitFor } from '../support/wait.js';
import { createRule, createTicket, createUser, createWebhook, deliveryReaches, jsonHook, retryUntilFinal, test, testWebhook, type Receiver, type TestApp } from '../support/fixtures.js';

const SUBSCRIPTION = `subscription Feed($filter: DeliveryFilter) {
  deliveryEvents(filter: $filter) {
    type at
    delivery { id status webhook { id } }
    attempt { number statusCode }
  }
}`;

interface FeedEvent {
  deliveryEvents: { type: string; delivery: { id: string; status: string; webhook: { id: string } | null }; attempt: { number: number; statusCode: number | null } | null };
}

const hook = (app: TestApp, receiver: Receiver, name: string, path: string) =>
  createWebhook(app, { name, method: 'POST', url: `${receiver.url}${path}`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });

/** a receiver that answers /b… with 200 and everything else by its script */
const it = test.extend<{ receiver: Receiver }>({
  receiver: async ({ startReceiver }, use) => use(await startReceiver((req) => (req.url.startsWith('/b') ? { status: 200 } : undefined))),
});

describe.concurrent('deliveryEvents', () => {
  it('streams QUEUED, ATTEMPTED(500), ATTEMPTED(200), SUCCEEDED in order for the filtered webhook only', async ({ app, clock, receiver }) => {
    const ticketId = await createTicket(app, 'feed');
    const a = await hook(app, receiver, 'A', '/a');
    const b = await hook(app, receiver, 'B', '/b');
    const client = wsClient(app.url, app.adminAuth);
    const feed = collect<FeedEvent>(client, SUBSCRIPTION, { filter: { webhookId: a } });
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the subscription to be registered' });

    receiver.script({ status: 500 }, { status: 200 });
    const da = await testWebhook(app, a, ticketId);
    const db = await testWebhook(app, b, ticketId);
    await retryUntilFinal(app, clock, da); // the clock moves to the retry after the 500

    await waitFor(() => feed.events.some((e) => e.deliveryEvents.type === 'SUCCEEDED'), { what: 'SUCCEEDED on the feed', timeoutMs: 15_000 });
    await deliveryReaches(app, db, 'SUCCEEDED');
    // B's events were published after its success; give the feed a marker that arrives after them
    const marker = await testWebhook(app, a, ticketId);
    await waitFor(() => feed.events.some((e) => e.deliveryEvents.delivery.id === marker && e.deliveryEvents.type === 'SUCCEEDED'), { what: 'the marker delivery on the feed' });
    feed.dispose();
    await client.dispose();

    expect(feed.errors).toEqual([]);
    const forA = feed.events.filter((e) => e.deliveryEvents.delivery.id === da).map((e) => e.deliveryEvents);
    expect(forA.map((e) => e.type)).toEqual(['QUEUED', 'ATTEMPTED', 'ATTEMPTED', 'SUCCEEDED']);
    expect(forA.filter((e) => e.type === 'ATTEMPTED').map((e) => [e.attempt?.number, e.attempt?.statusCode])).toEqual([[1, 500], [2, 200]]);
    expect(feed.events.every((e) => e.deliveryEvents.delivery.webhook?.id === a)).toBe(true);
    expect(feed.events.some((e) => e.deliveryEvents.delivery.id === db)).toBe(false);
  });

  it('without credentials the connection is refused and nothing arrives', async ({ app }) => {
    const client = wsClient(app.url, null);
    const feed = collect<FeedEvent>(client, SUBSCRIPTION);
    await waitFor(() => feed.errors.length > 0 || feed.completed, { what: 'the refusal' });
    expect(feed.events).toEqual([]);
    const closed = feed.errors[0] as { code?: number; reason?: string };
    expect(closed.code).toBe(4403);
    await client.dispose();
  });

  it('the key is read from connectionParams.authorization whatever the case of its name (Authorization, as the header is written)', async ({ app }) => {
    for (const name of ['authorization', 'Authorization', 'AUTHORIZATION']) {
      const client = createClient({ url: app.url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { [name]: app.adminAuth }, retryAttempts: 0, lazy: true });
      const me = collect<{ me: { email: string } }>(client, '{ me { email } }');
      await waitFor(() => me.events.length > 0 || me.errors.length > 0, { what: `the answer with ${name}` });
      expect(me.errors, name).toEqual([]);
      expect(me.events, name).toEqual([{ me: { email: ADMIN_EMAIL } }]);
      await client.dispose();
    }
  });

  it('a filter id no delivery can have is BAD_USER_INPUT naming the field, as for deliveries; no subscription is left', async ({ app }) => {
    const client = wsClient(app.url, app.adminAuth);
    for (const [filter, field] of [[{ webhookId: 'abc' }, 'filter.webhookId'], [{ ticketId: '0x5' }, 'filter.ticketId'], [{ webhookId: '1', ticketId: '-1' }, 'filter.ticketId']] as const) {
      const feed = collect<FeedEvent>(client, SUBSCRIPTION, { filter });
      await waitFor(() => feed.errors.length > 0 || feed.completed, { what: `the refusal of ${JSON.stringify(filter)}` });
      expect(feed.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field } }]);
      expect((await app.gql(`query($f: DeliveryFilter) { deliveries(filter: $f) { totalCount } }`, { f: filter })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(app.services.deliveryEvents.subscriberCount).toBe(0);
    await client.dispose();
  });

  it('takes the log\'s whole DeliveryFilter: ruleId, since/until and search (URL, body, last answer) pick the events of the deliveries they pick in the log', async ({ app, clock, receiver }) => {
    const alpha = await hook(app, receiver, 'Alpha', '/b/alpha');
    const plain = await hook(app, receiver, 'Plain', '/b/plain');
    const answering = await hook(app, receiver, 'Answering', '/x/answer');
    const rule = await createRule(app, { name: 'Ruled', events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'EQUALS', value: 'ruled' }], actions: [{ type: 'SEND_WEBHOOK', webhookId: plain }] });
    const ticketId = await createTicket(app, 'feed');
    const since = new Date(clock.now().getTime() + 3_600_000).toISOString();
    const client = wsClient(app.url, app.adminAuth);
    const feeds = {
      rule: collect<FeedEvent>(client, SUBSCRIPTION, { filter: { ruleId: rule.id } }),
      url: collect<FeedEvent>(client, SUBSCRIPTION, { filter: { search: 'ALPHA' } }),
      answer: collect<FeedEvent>(client, SUBSCRIPTION, { filter: { search: 'answer-xyz' } }),
      since: collect<FeedEvent>(client, SUBSCRIPTION, { filter: { since, until: new Date(clock.now().getTime() + 3 * 3_600_000).toISOString() } }),
    };
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 4, { what: 'the four subscriptions to be registered' });
    const refused = collect<FeedEvent>(client, SUBSCRIPTION, { filter: { since, until: since } });
    await waitFor(() => refused.errors.length > 0 || refused.completed, { what: 'the refusal of an empty time range' });
    expect(refused.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: 'filter.until' } }]);

    const ruled = async () => {
      const t = await createTicket(app, 'ruled');
      return waitFor(async () => (await app.ok(`query($f: DeliveryFilter) { deliveries(filter: $f) { nodes { id } } }`, { f: { ticketId: t } })).deliveries.nodes[0]?.id as string | undefined, { what: 'the rule\'s delivery' });
    };
    const answered = async () => {
      receiver.script({ status: 200, body: 'Answer-XYZ', headers: { 'content-type': 'text/plain' } });
      return testWebhook(app, answering, ticketId);
    };
    // before the time range: each delivery goes through and is final before the next is made
    const early = await testWebhook(app, plain, ticketId);
    await deliveryReaches(app, early, 'SUCCEEDED');
    clock.advance(2 * 3_600_000);
    const made = { url: [await testWebhook(app, alpha, ticketId)], answer: [] as string[], rule: [] as string[] };
    await deliveryReaches(app, made.url[0]!, 'SUCCEEDED');
    made.answer.push(await answered());
    await deliveryReaches(app, made.answer[0]!, 'SUCCEEDED');
    made.rule.push(await ruled());
    await deliveryReaches(app, made.rule[0]!, 'SUCCEEDED');
    // a last matching delivery per feed: once its SUCCEEDED is there, the feed has shown everything before it
    const finalOn = (feed: (typeof feeds)[keyof typeof feeds], id: string) =>
      waitFor(() => feed.events.some((e) => e.deliveryEvents.delivery.id === id && e.deliveryEvents.type === 'SUCCEEDED'), { what: `delivery ${id} SUCCEEDED on the feed` });
    made.rule.push(await ruled());
    await finalOn(feeds.rule, made.rule[1]!);
    made.answer.push(await answered());
    await finalOn(feeds.answer, made.answer[1]!);
    made.url.push(await testWebhook(app, alpha, ticketId));
    await finalOn(feeds.url, made.url[1]!);
    await finalOn(feeds.since, made.url[1]!);

    const shown = (feed: (typeof feeds)[keyof typeof feeds]) => [...new Set(feed.events.map((e) => e.deliveryEvents.delivery.id))].sort();
    for (const f of Object.values(feeds)) expect(f.errors).toEqual([]);
    expect(shown(feeds.rule)).toEqual([...made.rule].sort());
    expect(shown(feeds.url)).toEqual([...made.url].sort());
    expect(shown(feeds.answer)).toEqual([...made.answer].sort());
    // the answer search matches once the answer is there: every event from the attempt on
    expect(feeds.answer.events.filter((e) => e.deliveryEvents.delivery.id === made.answer[0]).map((e) => e.deliveryEvents.type)).toEqual(expect.arrayContaining(['ATTEMPTED', 'SUCCEEDED']));
    expect(shown(feeds.since)).toEqual([...made.url, ...made.answer, ...made.rule].sort());
    // the log's filter picks the same deliveries
    const logIds = async (f: Record<string, unknown>) => (await app.ok(`query($f: DeliveryFilter) { deliveries(filter: $f, first: 50) { nodes { id } } }`, { f })).deliveries.nodes.map((n: { id: string }) => n.id).sort();
    expect(await logIds({ ruleId: rule.id })).toEqual(shown(feeds.rule));
    expect(await logIds({ since, until: new Date(clock.now().getTime() + 3_600_000).toISOString() })).toEqual(shown(feeds.since));
    for (const f of [...Object.values(feeds), refused]) f.dispose();
    await client.dispose();
  });

  it('a search reads the last answer as the log does: an attempt that got none (no connection) keeps the answer before it', async ({ startApp }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0); // the test writes the attempts
    const webhookId = await createWebhook(app, jsonHook('Answered once', 'http://127.0.0.1:9/a'));
    const id = await testWebhook(app, webhookId, await createTicket(app, 'feed'));
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 1 });
    try {
      await pool.query(
        `insert into delivery_attempts (delivery_id, number, started_at, duration_ms, status_code, error, response_body, succeeded, webhook_id)
         values ($1, 1, now(), 5, 500, 'HTTP 500', 'Answer-XYZ', false, $2), ($1, 2, now(), 5, null, 'connection refused', null, false, $2)`,
        [id, webhookId],
      );
      await pool.query(`insert into delivery_text_queue (delivery_id) values ($1)`, [id]);
      await indexDeliveryTexts(pool, 10);
      const log = await app.ok<{ deliveries: { nodes: { id: string }[] } }>(`query { deliveries(filter: { search: "answer-xyz" }) { nodes { id } } }`);
      expect(log.deliveries.nodes.map((n) => n.id)).toEqual([id]);
      // the second attempt's event, loaded for a subscriber searching the answer
      const [item] = await feedLoader(pool)([{ t: 'ATTEMPTED', d: id, w: webhookId, k: null, s: 'RETRYING', n: 2, at: new Date().toISOString() }], { lastResponse: true });
      expect(item!.lastResponse).toBe('Answer-XYZ');
      expect(matchesLoaded({ search: 'answer-xyz' }, item!)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('an ATTEMPTED event loads the attempt it reports, not every attempt of its delivery with their answers', async ({ startApp }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0); // the test writes the attempts
    const webhookId = await createWebhook(app, jsonHook('Failing long', 'http://127.0.0.1:9/a'));
    const id = await testWebhook(app, webhookId, await createTicket(app, 'feed'));
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
    try {
      // 40 failed attempts, each with an answer of 64 KiB (an error page)
      await pool.query(
        `insert into delivery_attempts (delivery_id, number, started_at, duration_ms, status_code, error, response_body, succeeded, webhook_id)
         select $1, n, now(), 5, 500 + n, 'HTTP 5xx', repeat('x', 65536), false, $2 from generate_series(1, 40) n`,
        [id, webhookId],
      );
      const attemptRowsRead: number[] = [];
      const spy = {
        query: async (text: string, values: unknown[]) => {
          const result = await pool.query(text, values);
          if (/from delivery_attempts where/.test(text)) attemptRowsRead.push(result.rowCount ?? 0);
          return result;
        },
      } as unknown as pg.Pool;
      const at = new Date().toISOString();
      const items = await feedLoader(spy)([
        { t: 'ATTEMPTED', d: id, w: webhookId, k: null, s: 'RETRYING', n: 39, at },
        { t: 'ATTEMPTED', d: id, w: webhookId, k: null, s: 'RETRYING', n: 40, at },
      ]);
      expect(items.map((i) => (i.attempt as { statusCode: number } | null)?.statusCode)).toEqual([539, 540]);
      expect(attemptRowsRead).toEqual([2]);
    } finally {
      await pool.end();
    }
  });

  it('a CLIENT gets FORBIDDEN and no events; an AGENT is allowed', async ({ app, receiver }) => {
    const ticketId = await createTicket(app, 'feed');
    const clientKey = (await createUser(app, { name: 'CLIENT', email: 'feed-client@example.com', role: 'CLIENT' })).key;
    const agentKey = (await createUser(app, { name: 'AGENT', email: 'feed-agent@example.com', role: 'AGENT' })).key;

    const c = wsClient(app.url, bearer(clientKey));
    const forbidden = collect<FeedEvent>(c, SUBSCRIPTION);
    await waitFor(() => forbidden.errors.length > 0, { what: 'the FORBIDDEN error' });
    expect(JSON.stringify(forbidden.errors)).toContain('FORBIDDEN');

    const g = wsClient(app.url, bearer(agentKey));
    const allowed = collect<FeedEvent>(g, SUBSCRIPTION);
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the agent subscription' });
    const d = await testWebhook(app, await hook(app, receiver, 'C', '/b'), ticketId);
    await waitFor(() => allowed.events.some((e) => e.deliveryEvents.delivery.id === d && e.deliveryEvents.type === 'SUCCEEDED'), { what: 'the agent to see the delivery' });
    expect(forbidden.events).toEqual([]);
    allowed.dispose();
    await c.dispose();
    await g.dispose();
  });
});
