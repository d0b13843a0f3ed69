/**
 * The websocket while the database does not answer (a restart, a network cut): a
 * connection whose key cannot be checked is closed with 1013 (Try Again Later), which
 * clients, graphql-ws's included, answer by connecting again; a subscription whose user
 * cannot be read gets SERVICE_UNAVAILABLE, as over HTTP, and the connection's other
 * subscriptions go on. Never 4500, which graphql-ws's client takes as final: a console's
 * live list would stay dead after the database is back. The database stops answering
 * through a proxy (pg-proxy.ts) that holds back the chosen statements.
 */
import { afterEach, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.js';
import { ADMIN_KEY, bearer, startTestApp, type TestApp } from '../support/app.js';
import { openRawWs, type RawWs } from '../support/raw-ws.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase | undefined;
let proxy: PgProxy | undefined;
let app: TestApp | undefined;
const sockets: RawWs[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  proxy?.unstall();
  await app?.stop();
  await proxy?.close();
  await db?.drop();
});

const FEED = 'subscription { deliveryEvents { type } }';

it('a connection opened while the database does not answer is closed with 1013 (try again later), not 4500; once it answers, connecting works', async () => {
  db = await createTestDatabase();
  proxy = await startPgProxy(db.url);
  app = await startTestApp({ DESKHOOKS_DATABASE_TIMEOUT: '1s' }, { databaseUrl: proxy.urlFor(db.url) });

  // the key's lookup never reaches the database
  proxy.stall(['from users where api_key_hash']);
  const ws = await openRawWs(app.url);
  sockets.push(ws);
  ws.send({ type: 'connection_init', payload: { authorization: bearer(ADMIN_KEY) } });
  const closed = await ws.closed;
  expect(closed.code).toBe(1013);
  expect(closed.reason).toMatch(/the database is unavailable/);

  proxy.unstall();
  const again = await openRawWs(app.url);
  sockets.push(again);
  await again.init(bearer(ADMIN_KEY));
  again.send({ id: '1', type: 'subscribe', payload: { query: FEED } });
  await waitFor(() => app!.services.deliveryEvents.subscriberCount === 1, { what: 'the subscription on the new connection to start' });
}, 60_000);

it('a subscription started while the database does not answer gets SERVICE_UNAVAILABLE; the connection and its other subscriptions stay', async () => {
  db = await createTestDatabase();
  proxy = await startPgProxy(db.url);
  app = await startTestApp({ DESKHOOKS_DATABASE_TIMEOUT: '1s' }, { databaseUrl: proxy.urlFor(db.url) });
  const ws = await openRawWs(app.url);
  sockets.push(ws);
  await ws.init(bearer(ADMIN_KEY));
  ws.send({ id: 'before', type: 'subscribe', payload: { query: FEED } });
  await waitFor(() => app!.services.deliveryEvents.subscriberCount === 1, { what: 'the first subscription to start' });

  // the subscription's user, read as it starts, never comes
  proxy.stall(['from "users"']);
  ws.send({ id: 'during', type: 'subscribe', payload: { query: FEED } });
  const refused = await ws.next((m) => m.id === 'during' && m.type === 'error', 'the subscription refused', 30_000);
  expect(refused.payload.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(ws.socket.readyState).toBe(ws.socket.OPEN);
  proxy.unstall();
  await waitFor(async () => !(await app!.gql('{ me { id } }')).errors, { what: 'requests to work again', timeoutMs: 20_000 });

  // the first subscription still streams: a delivery's QUEUED reaches it
  ws.send({ id: 'after', type: 'subscribe', payload: { query: FEED } });
  const webhook = await app.ok(`mutation { createWebhook(input: { name: "w", method: POST, url: "http://127.0.0.1:9/x", format: JSON, body: "{}" }) { id } }`);
  const ticket = await app.ok(`mutation { createTicket(input: { title: "t", description: "d" }) { id } }`);
  await app.ok(`mutation($w: ID!, $t: ID!) { testWebhook(id: $w, ticketId: $t) { id } }`, { w: webhook.createWebhook.id, t: ticket.createTicket.id });
  await ws.next((m) => m.id === 'before' && m.type === 'next' && m.payload?.data?.deliveryEvents?.type === 'QUEUED', 'the first subscription to get QUEUED', 30_000);
  expect(ws.messages.some((m) => m.id === 'during' && m.type === 'next')).toBe(false);
}, 60_000);
