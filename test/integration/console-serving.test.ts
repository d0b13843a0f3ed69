/**
 * The admin console's files as the api role serves them (src/http/console.ts), from a build
 * of the test's own (DESKHOOKS_CONSOLE_DIR): a 503 naming the build command while there is
 * none, then cache headers, the client-side routes' fallback to index.html, the explorer
 * redirect — and the API, websocket included, never shadowed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { test } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { wsClient } from '../support/ws.js';

const INDEX = '<!doctype html><html lang="en"><title>console</title><script type="module" src="/assets/index-Ab12Cd34.js"></script></html>\n';
const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

test('missing build: a 503 page; then the build: assets cached for good, pages revalidated, routes fall back to index.html, the API untouched', async ({ startApp }) => {
  const dir = tempDir('console').path;
  const app = await startApp({ DESKHOOKS_CONSOLE_DIR: dir });
  const get = (path: string, headers: Record<string, string> = { accept: HTML_ACCEPT }) => fetch(app.url + path, { headers, redirect: 'manual' });

  const notBuilt = await get('/webhooks');
  expect(notBuilt.status).toBe(503);
  expect(notBuilt.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await notBuilt.text()).toContain('npm run build:web');
  expect((await get('/assets/index-Ab12Cd34.js')).status).toBe(404);
  expect(await app.ok('{ me { email } }')).toEqual({ me: { email: 'admin@example.com' } });

  // the build appears while the server runs: served from the next request on
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-Ab12Cd34.js'), 'console.log("console");\n');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');

  const asset = await get('/assets/index-Ab12Cd34.js');
  expect(asset.status).toBe(200);
  expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(await asset.text()).toBe('console.log("console");\n');

  const icon = await get('/favicon.svg');
  expect([icon.status, icon.headers.get('cache-control'), icon.headers.get('content-type')]).toEqual([200, 'no-cache', 'image/svg+xml']);

  for (const path of ['/', '/webhooks', '/webhooks/new', '/rules/12', '/deliveries/4f1c', '/tickets/7', '/explorer', '/deliveries?status=FAILED']) {
    const page = await get(path);
    expect([path, page.status, page.headers.get('cache-control'), await page.text()]).toEqual([path, 200, 'no-cache', INDEX]);
  }
  // the page's policy: nothing from another host, never framed
  for (const path of ['/webhooks', '/index.html']) {
    const csp = (await get(path)).headers.get('content-security-policy') ?? '';
    expect(csp.split('; ')).toEqual(expect.arrayContaining(["default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]));
  }
  const head = await fetch(`${app.url}/tickets/7`, { method: 'HEAD' });
  expect([head.status, head.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);

  // never index.html: a missing asset or file, another method, the API's own paths
  for (const path of ['/assets/index-Zz99.js', '/assets/', '/robots.txt', '/api/v2/nothing-here', '/api', '/graphql/x', '/healthz/x']) {
    const res = await get(path);
    expect([path, res.status === 200 && (await res.text()) === INDEX]).toEqual([path, false]);
  }
  expect((await fetch(`${app.url}/webhooks`, { method: 'POST' })).status).toBe(404);
  const health = await get('/healthz');
  expect([health.status, await health.json()]).toEqual([200, { status: 'ok', role: 'all' }]);

  // /graphql: a browser's address bar → the explorer; queries over GET and POST as before
  const fromBrowser = await get('/graphql');
  expect([fromBrowser.status, fromBrowser.headers.get('location')]).toEqual([302, '/explorer']);
  const anyAccept = await get('/graphql', { accept: '*/*' });
  expect(anyAccept.status).not.toBe(302);
  const getQuery = await fetch(`${app.url}/graphql?query=${encodeURIComponent('{ me { email } }')}`, { headers: { accept: HTML_ACCEPT, authorization: app.adminAuth } });
  expect([getQuery.status, await getQuery.json()]).toEqual([200, { data: { me: { email: 'admin@example.com' } } }]);
  expect(await app.ok('{ me { email } }')).toEqual({ me: { email: 'admin@example.com' } });

  // the websocket on /graphql
  const ws = wsClient(app.url, app.adminAuth);
  try {
    const overWs = await new Promise((resolve, reject) => {
      ws.subscribe({ query: '{ me { email } }' }, { next: resolve, error: reject, complete: () => {} });
    });
    expect(overWs).toEqual({ data: { me: { email: 'admin@example.com' } } });
  } finally {
    await ws.dispose();
  }
});
