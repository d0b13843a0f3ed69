/**
 * A database that takes a query and never answers (frozen, a network that drops packets)
 * is not ready: /healthz answers 503 within its 2 s bound, not when the query ends (never,
 * here), and 200 again once the database answers. The database hangs through a proxy
 * (pg-proxy.ts) that holds back the health check's statement.
 */
import { afterEach, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';

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
