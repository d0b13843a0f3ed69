/**
 * A PostgreSQL restart does not kill deskhooks: /healthz reports 503 while the database
 * is away and 200 again after, calls meanwhile are told the database is unavailable
 * (GraphQL SERVICE_UNAVAILABLE, REST 503), the API answers after, and the live feed's LISTEN connection
 * comes back (a delivery made after the restart wakes the worker and succeeds). An attempt
 * in flight while it restarts is not lost: its outcome could not be recorded, the log says
 * so and what follows, and the delivery is sent again once its claim has expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { freePort, startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/embedded.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { collect, wsClient } from '../support/ws.js';
import { testClock } from '../support/clock.js';
import type { Logger } from '../../src/log.js';
import { createTicket, createWebhook, deliveryStatus, jsonHook, testWebhook } from '../support/fixtures.js';

let dir: string;
let port: number;
let pg: EmbeddedServer;
let app: TestApp;
let receiver: Receiver;
/** the first request to /held is answered when the test calls this; any other as scripted */
let answerHeld: ((r: { status: number }) => void) | null = null;
const clock = testClock();
const logged: string[] = [];
const log: Logger = { info: () => {}, debug: () => {}, error: (m, err) => void logged.push(`${m}${err instanceof Error ? `: ${err.message}` : ''}`) };

beforeAll(async () => {
  dir = tempDir('restart').path;
  port = await freePort();
  pg = await startEmbeddedPostgres({ dataDir: dir, port });
  // an attempt gets 10 s: the held one outlasts the database's stop
  app = await startTestApp({ DESKHOOKS_REQUEST_TIMEOUT: '10s', DESKHOOKS_RETRY_WINDOW: '1h' }, { databaseUrl: pg.url, clock: clock.now, log });
  receiver = await startReceiver((req) => (req.url === '/held' && answerHeld === null ? new Promise((resolve) => (answerHeld = resolve)) : undefined));
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await pg?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

const health = () => fetch(`${app.url}/healthz`).then((r) => r.status);

describe('PostgreSQL restart', () => {
  it('the process survives, reports unavailable meanwhile, and works again after', async () => {
    const ticketId = await createTicket(app, 'before');
    const webhookId = await createWebhook(app, jsonHook('r', `${receiver.url}/r`));
    expect(await health()).toBe(200);

    await pg.stop();
    await waitFor(async () => (await health()) === 503, { what: '/healthz to report 503', timeoutMs: 20_000 });
    // every caller is told the database is away (nothing done, try again), not an internal error
    const unavailable = { message: 'the database is unavailable (stopped, restarting or out of reach); try again shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } };
    expect((await app.gql(`{ me { id } }`)).errors).toEqual([expect.objectContaining(unavailable)]);
    expect((await app.gql(`mutation { createTicket(input: { title: "during", description: "d" }) { id } }`)).errors).toEqual([expect.objectContaining(unavailable)]);
    const rest = await fetch(`${app.url}/api/v2/tickets/${ticketId}/`, { headers: { authorization: app.adminAuth } });
    expect(rest.status).toBe(503);
    expect(await rest.json()).toEqual({ errors: [{ code: 'SERVICE_UNAVAILABLE', message: unavailable.message, field: null }] });

    pg = await startEmbeddedPostgres({ dataDir: dir, port });
    await waitFor(async () => (await health()) === 200, { what: '/healthz to report 200 again', timeoutMs: 30_000 });
    await waitFor(async () => !(await app.gql(`{ me { id } }`)).errors, { what: 'the API to answer again', timeoutMs: 30_000 });

    // the live feed's LISTEN connection is back: a subscriber sees the new delivery succeed
    const client = wsClient(app.url, app.adminAuth);
    const feed = collect<{ deliveryEvents: { type: string; delivery: { id: string } } }>(client, `subscription { deliveryEvents { type delivery { id } } }`);
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the subscription' });
    const id = await testWebhook(app, webhookId, ticketId);
    await waitFor(() => feed.events.some((e) => e.deliveryEvents.delivery.id === id && e.deliveryEvents.type === 'SUCCEEDED'), {
      what: `SUCCEEDED on the feed after the restart (feed: ${JSON.stringify(feed.events)} errors: ${JSON.stringify(feed.errors)})`,
      timeoutMs: 20_000,
    });
    feed.dispose();
    await client.dispose();
    expect((await deliveryStatus(app, id)).status).toBe('SUCCEEDED');
    expect(receiver.requests.at(-1)?.headers['x-deskhooks-delivery']).toBe(id);
  }, 120_000);

  it('an attempt in flight while it restarts: the answer cannot be recorded, the log says the delivery is sent again, and it is, once its claim has expired', async () => {
    const ticketId = await createTicket(app, 'in flight');
    const webhookId = await createWebhook(app, jsonHook('held', `${receiver.url}/held`));
    const before = receiver.requests.length;
    const id = await testWebhook(app, webhookId, ticketId);
    await receiver.waitForRequests(before + 1);
    await waitFor(() => answerHeld !== null, { what: 'the attempt to wait for its answer' });

    await pg.stop();
    answerHeld!({ status: 200 });
    const lost = () => logged.find((l) => l.includes(`deliveries ${id} are sent again once their claims expire`));
    await waitFor(lost, { what: `the lost outcome to be logged (log: ${JSON.stringify(logged)})`, timeoutMs: 20_000 });
    pg = await startEmbeddedPostgres({ dataDir: dir, port });
    await waitFor(async () => (await health()) === 200, { what: '/healthz to report 200 again', timeoutMs: 30_000 });

    // past the claim's lease (2 × 10 s + 5 s): the sweep takes the delivery over and sends it again, the same delivery
    clock.advance(26_000);
    await waitFor(async () => (await deliveryStatus(app, id)).status === 'SUCCEEDED', { what: 'the delivery to be sent again and succeed', timeoutMs: 30_000 });
    const sent = receiver.requests.slice(before).map((r) => r.headers['x-deskhooks-delivery']);
    expect(sent).toEqual([id, id]);
    // the attempt whose answer was lost is not in the log; the one after is
    expect((await deliveryStatus(app, id)).attemptCount).toBe(1);
    expect(lost()).toMatch(/^recording the outcomes of 1 delivery attempts failed, so they are not in the delivery log: deliveries \S+ are sent again once their claims expire \(within 25 s\)/);
  }, 120_000);

  it("runs with the queue tables' upkeep: autovacuum every 5 s, and the tables' own thresholds", async () => {
    const rows = async (sql: string) => (await app.services.orm.em.fork().getConnection().execute(sql)) as Record<string, unknown>[];
    expect(await rows(`select current_setting('autovacuum_naptime') as naptime`)).toEqual([{ naptime: '5s' }]);
    const options = await rows(`select relname, reloptions from pg_class where relname in ('deliveries', 'delivery_texts', 'ticket_events', 'rule_timers') order by relname`);
    expect(options.map((r) => r.relname)).toEqual(['deliveries', 'delivery_texts', 'rule_timers', 'ticket_events']);
    for (const r of options) expect(r.reloptions).toEqual(expect.arrayContaining(['autovacuum_vacuum_scale_factor=0.01', 'autovacuum_analyze_scale_factor=0.02']));
  });
});
