/**
 * The console as a browser gets it (src/http/console.ts), and the browser-test harness
 * (test/support/browser.ts) itself: client-side routes load the page and its hashed script,
 * /graphql in the address bar lands on /explorer, runAxe reports what axe-core finds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, runAxe, test } from '../support/browser.js';
import { tempDir } from '../support/temp.js';

/** a console build of two files: the page and its hashed script, which marks the page as run */
function fixtureConsole(): string {
  const dir = tempDir('console').path;
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fixture console</title>
<script type="module" src="/assets/index-Ab12Cd34.js"></script></head>
<body><main><h1>fixture</h1><p id="route"></p></main></body></html>
`,
  );
  writeFileSync(join(dir, 'assets', 'index-Ab12Cd34.js'), `document.getElementById('route').textContent = 'ran at ' + location.pathname;\n`);
  return dir;
}

test('client-side routes load the page and its hashed assets; /graphql from the address bar opens the explorer; runAxe reports violations', async ({
  browser,
  startApp,
}) => {
  const app = await startApp({ DESKHOOKS_CONSOLE_DIR: fixtureConsole() });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const assets: { url: string; cacheControl: string | undefined }[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/assets/')) assets.push({ url: new URL(r.url()).pathname, cacheControl: r.headers()['cache-control'] });
    });

    const deep = await page.goto(`${app.url}/deliveries/42`);
    expect(deep?.status()).toBe(200);
    expect(deep?.headers()['cache-control']).toBe('no-cache');
    await expect.poll(() => page.textContent('#route')).toBe('ran at /deliveries/42');
    expect(assets).toEqual([{ url: '/assets/index-Ab12Cd34.js', cacheControl: 'public, max-age=31536000, immutable' }]);
    expect(await runAxe(page)).toEqual([]);

    // an image without a text alternative: a critical violation, named with its element
    await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { createElement(t: string): { src: string }; body: { append(e: unknown): void } } }).document;
      const img = doc.createElement('img');
      img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
      doc.body.append(img);
    });
    expect(await runAxe(page)).toMatchObject([{ id: 'image-alt', impact: 'critical', nodes: [{ target: 'img' }] }]);

    await page.goto(`${app.url}/graphql`);
    expect(new URL(page.url()).pathname).toBe('/explorer');
    await expect.poll(() => page.textContent('#route')).toBe('ran at /explorer');
  } finally {
    await context.close();
  }
});

test('the built console: the sign-in screen, everything from the app itself, no serious axe violation', async ({ page, app, offHost }) => {
  const assets: string[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/assets/')) assets.push(r.headers()['cache-control'] ?? '');
  });
  await page.goto(app.url);
  await page.getByLabel('API key').waitFor();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  expect(assets.length).toBeGreaterThan(0);
  expect(new Set(assets)).toEqual(new Set(['public, max-age=31536000, immutable']));
  expect(await runAxe(page)).toEqual([]);
  expect(offHost).toEqual([]);
});

test("another host: the page's policy refuses a fetch; a navigation is aborted and listed in offHost", async ({ page, app, offHost }) => {
  await page.goto(app.url);
  await page.getByLabel('API key').waitFor();
  const refused = await page.evaluate(() =>
    fetch('http://192.0.2.1/beacon').then(
      () => 'fetched',
      (err: Error) => err.name,
    ),
  );
  expect(refused).toBe('TypeError');
  expect(offHost).toEqual([]);
  await expect(page.goto('http://192.0.2.1/elsewhere')).rejects.toThrow();
  expect(offHost).toEqual(['http://192.0.2.1/elsewhere']);
});
