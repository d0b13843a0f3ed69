/**
 * A database that takes a query and never answers (frozen, a network that drops packets)
 * is not ready: /healthz answers 503 within its 2 s bound, not when the query ends (never,
 * here), and 200 again once the database answers; API requests answer SERVICE_UNAVAILABLE
 * within DESKHOOKS_DATABASE_TIMEOUT, and what they began is not written. The database hangs
 * through a proxy (pg-proxy.ts) that holds back a chosen statement and all that follows it.
 */
import { afterEach, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { FxCreateTicketDocument, FxTicketDocument, FxUpdateTicketDocument } from '../generated/graphql.js';
import { createTicket, getTicket } from '../support/fixtures.js';

let db: TestDatabase | undefined;
let proxy: PgProxy | undefined;
let app: TestApp | undefined;

afterEach(async () => {
  proxy?.unstall();
  await app?.stop();
  await proxy?.close();
  await db?.drop();
});

it('a database that does not answer: /healthz says 503 within its bound, and 200 once it answers', async () => {
  db = await createTestDatabase();
  proxy = await startPgProxy(db.url);
  app = await startTestApp({}, { databaseUrl: proxy.urlFor(db.url) });
  const health = async () => {
    const started = performance.now();
    const res = await fetch(`${app!.url}/healthz`);
    return { status: res.status, ms: performance.now() - started };
  };
  expect((await health()).status).toBe(200);

  proxy.stall(['select 1']);
  const hung = await health();
  expect(hung.status).toBe(503);
  // the bound is 2 s; room for a loaded machine, far from "never"
  expect(hung.ms).toBeGreaterThanOrEqual(1_900);
  expect(hung.ms).toBeLessThan(8_000);

  proxy.unstall();
  await waitFor(async () => (await health()).status === 200, { what: '/healthz to answer 200 again', timeoutMs: 20_000 });
}, 60_000);

it('a database that stops answering mid-request: the request answers SERVICE_UNAVAILABLE within DESKHOOKS_DATABASE_TIMEOUT, nothing it began is written, and requests work once it answers', async () => {
  db = await createTestDatabase();
  proxy = await startPgProxy(db.url);
  app = await startTestApp({ DESKHOOKS_DATABASE_TIMEOUT: '1s' }, { databaseUrl: proxy.urlFor(db.url) });
  const ticket = await createTicket(app, 'before');
  const timed = async <T>(call: Promise<T>) => {
    const started = performance.now();
    const result = await call;
    return { result, ms: performance.now() - started };
  };
  const unavailable = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.map((e) => e.extensions?.code);

  // the update has read and locked the ticket in its transaction; its write never reaches the database
  proxy.stall(['update "tickets"']);
  const update = await timed(app.gql(FxUpdateTicketDocument, { id: ticket, input: { priority: 'URGENT' } }));
  expect(unavailable(update.result)).toEqual(['SERVICE_UNAVAILABLE']);
  // the bound is 1 s; room for a loaded machine, far from "never"
  expect(update.ms).toBeLessThan(5_000);
  // from there on the database answers nothing: a new request's first statement (its key) waits too
  const create = await timed(app.gql(FxCreateTicketDocument, { input: { title: 'frozen', description: 'd' } }));
  expect(unavailable(create.result)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(create.ms).toBeLessThan(5_000);
  const read = await timed(app.gql(FxTicketDocument, { id: ticket }));
  expect(unavailable(read.result)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(read.ms).toBeLessThan(5_000);
  const health = await timed(fetch(`${app.url}/healthz`));
  expect(health.result.status).toBe(503);
  expect(health.ms).toBeLessThan(5_000);

  // what was held back reaches the database now: the connections it was sent on are closed, so none of it runs
  proxy.unstall();
  await waitFor(async () => !(await app!.gql(FxTicketDocument, { id: ticket })).errors, { what: 'requests to work again', timeoutMs: 20_000 });
  expect((await getTicket(app, ticket)).priority).toBe('NORMAL');
  await createTicket(app, 'after');
  const titles = await app.services.orm.em.fork().getConnection().execute(`select title from tickets order by id`);
  expect(titles.map((t) => t.title)).toEqual(['before', 'after']);
  expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
}, 60_000);
