/**
 * The console's session and its connections: leaving the explorer or signing out closes every
 * websocket of the session (nothing arrives after it) and clears what the tab kept; a key
 * rotated while signed in ends the session with a clear message, whichever answer notices it
 * first (the websocket's close, a query, the check at reload); the live feeds say when the
 * connection is lost and resume by themselves once the server is reachable again.
 */
import net from 'node:net';
import type { Page, WebSocket } from 'playwright-core';
import { expect, failOperations, focusedId, runAxe, signIn, test } from '../support/browser.js';
import { bearer, type TestApp } from '../support/app.js';
import { createRule, createTicket, createUser, createWebhook, deliveryReaches, jsonHook, testWebhook } from '../support/fixtures.js';
import { collect, wsClient } from '../support/ws.js';
import { waitFor } from '../support/wait.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 120_000;

const KEY_REFUSED = 'Your API key is no longer accepted (it was rotated or revoked). Sign in again with a current key.';

interface Socket {
  ws: WebSocket;
  sent: string[];
  received: string[];
}

/** Every websocket the page opens, with the text frames it sent and received. */
function recordSockets(page: Page): Socket[] {
  const sockets: Socket[] = [];
  page.on('websocket', (ws) => {
    const s: Socket = { ws, sent: [], received: [] };
    sockets.push(s);
    ws.on('framesent', (f) => s.sent.push(String(f.payload)));
    ws.on('framereceived', (f) => s.received.push(String(f.payload)));
  });
  return sockets;
}

const subscribed = (sockets: Socket[], text: string) => sockets.filter((s) => s.sent.some((f) => f.includes('"type":"subscribe"') && f.includes(text)));
const received = (sockets: Socket[]) => sockets.reduce((n, s) => n + s.received.length, 0);

/** Types `query` into GraphiQL's editor and runs it (Ctrl+Enter). */
async function runInExplorer(page: Page, query: string): Promise<void> {
  const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
  await editor.waitFor({ timeout: 30_000 });
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(query);
  // GraphiQL parses the edit (telling a subscription from a query) when it stores it, a moment later
  const stored = () =>
    page.evaluate(() => {
      const storage = (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage;
      return Object.keys(storage).filter((k) => k.endsWith(':query')).map((k) => storage.getItem(k));
    });
  await expect.poll(stored).toEqual([query]);
  await page.keyboard.press('Control+Enter');
}

/**
 * A delivery that finished, its SUCCEEDED seen by a subscriber of the test's own: by then
 * a socket of the page still subscribed would have had it too (a count taken after this
 * one compares like with like).
 */
async function deliver(app: TestApp, webhookId: string, ticketId: string): Promise<void> {
  const before = app.services.deliveryEvents.subscriberCount;
  const client = wsClient(app.url, app.adminAuth);
  const feed = collect<{ deliveryEvents: { type: string; delivery: { id: string } } }>(client, 'subscription { deliveryEvents { type delivery { id } } }');
  try {
    await waitFor(() => app.services.deliveryEvents.subscriberCount > before, { what: "the test's own subscription" });
    const id = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, id, 'SUCCEEDED');
    await waitFor(() => feed.events.some((e) => e.deliveryEvents.type === 'SUCCEEDED' && e.deliveryEvents.delivery.id === id), { what: `SUCCEEDED of ${id} on the test's feed` });
  } finally {
    feed.dispose();
    await client.dispose();
  }
}

const storedKeys = (page: Page) => page.evaluate(() => Object.keys((globalThis as unknown as { sessionStorage: object }).sessionStorage));

test(
  "the explorer's websocket closes when it is left and at sign-out; sign-out clears the tab and focuses the key field",
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('Explorer hook', `${receiver.url}/in`));
    const ticketId = await createTicket(app, 'Watched');
    const sockets = recordSockets(page);
    const SUBSCRIPTION = 'subscription { deliveryEvents { type delivery { id status } } }';

    await signIn(page, app.url, keys.admin, '/explorer');
    await runInExplorer(page, SUBSCRIPTION);
    await expect.poll(() => subscribed(sockets, 'deliveryEvents').length, { timeout: 20_000 }).toBe(1);
    const first = subscribed(sockets, 'deliveryEvents')[0]!;
    await deliver(app, webhookId, ticketId);
    await expect.poll(() => first.received.some((f) => f.includes('"type":"next"'))).toBe(true);

    // left for another screen: the explorer's socket closes, and nothing more arrives on any
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Tickets', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    await expect.poll(() => first.ws.isClosed()).toBe(true);
    const afterLeaving = received(sockets);
    await deliver(app, webhookId, ticketId);
    expect(received(sockets)).toBe(afterLeaving);
    expect(sockets.filter((s) => !s.ws.isClosed())).toEqual([]);

    // back in the explorer, then signed out while the subscription runs
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Explorer', exact: true }).click();
    await runInExplorer(page, SUBSCRIPTION);
    await expect.poll(() => subscribed(sockets, 'deliveryEvents').length, { timeout: 20_000 }).toBe(2);
    const second = subscribed(sockets, 'deliveryEvents')[1]!;
    await deliver(app, webhookId, ticketId);
    await expect.poll(() => second.received.some((f) => f.includes('"type":"next"'))).toBe(true);
    expect(await storedKeys(page)).toContain('deskhooks.apiKey');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    await expect.poll(() => second.ws.isClosed()).toBe(true);
    const afterSignOut = received(sockets);
    await deliver(app, webhookId, ticketId);
    expect(received(sockets)).toBe(afterSignOut);
    expect(sockets.filter((s) => !s.ws.isClosed())).toEqual([]);
    // the key and the explorer's tabs and history are gone; focus waits in the key field
    expect((await storedKeys(page)).filter((k) => k.startsWith('deskhooks.'))).toEqual([]);
    expect(await focusedId(page)).toBe('api-key');
    expect(await page.getByRole('status').textContent()).toMatch(/signed out/);
    expect(await page.getByRole('navigation').count()).toBe(0);
  },
  BROWSER_TEST_MS,
);

test(
  "a key rotated while signed in: back to sign-in with a clear message, whether the feed's websocket, a query or a reload notices it",
  async ({ page, app }) => {
    const agent = await createUser(app, { name: 'Agent', email: 'rotated@example.com', role: 'AGENT' });
    const ticketId = await createTicket(app, 'A ticket to open');
    const rotate = async () =>
      (await app.ok<{ rotateApiKey: { apiKey: string } }>('mutation ($u: ID) { rotateApiKey(userId: $u) { apiKey } }', { u: agent.id })).rotateApiKey.apiKey;
    const sockets = recordSockets(page);
    const signedOutWithMessage = async () => {
      await page.getByLabel('API key').waitFor();
      await expect.poll(() => page.getByRole('alert').textContent()).toBe(KEY_REFUSED);
      expect(await focusedId(page)).toBe('api-key');
      expect(await page.getByRole('navigation').count()).toBe(0);
      expect(await page.getByText(agent.email).count()).toBe(0);
      expect(await page.locator('body').textContent()).not.toMatch(/invalid credentials/);
      expect((await storedKeys(page)).filter((k) => k.startsWith('deskhooks.'))).toEqual([]);
    };

    // on Deliveries: the server closes the live feed's websocket (4403), which ends the session
    await signIn(page, app.url, agent.key, '/deliveries');
    await expect.poll(() => subscribed(sockets, 'ConsoleLiveDeliveries').length).toBe(1);
    let key = await rotate();
    await signedOutWithMessage();
    expect(await runAxe(page)).toEqual([]);
    expect(sockets.filter((s) => !s.ws.isClosed())).toEqual([]);

    // on Tickets (no websocket): the next query's UNAUTHENTICATED answer ends it
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Tickets', exact: true }).click();
    const link = page.getByRole('link', { name: `#${ticketId} A ticket to open` });
    await link.waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    const unauthenticated = page.waitForResponse(async (r) => r.url().endsWith('/graphql') && (await r.text()).includes('UNAUTHENTICATED'));
    key = await rotate();
    await link.click();
    await unauthenticated;
    await signedOutWithMessage();

    // a reload with a key rotated meanwhile: the same message, not an empty form
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Tickets', exact: true }).click();
    await link.waitFor();
    key = await rotate();
    await page.reload();
    await signedOutWithMessage();

    // the new key signs in
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    expect(await app.ok('{ me { id } }', {}, bearer(key))).toEqual({ me: { id: agent.id } });
  },
  BROWSER_TEST_MS,
);

/**
 * A TCP proxy on 127.0.0.1 in front of the app that can be cut: open connections are dropped
 * and new ones closed as soon as they arrive, counting the websocket upgrades refused.
 */
async function startCutProxy(target: string) {
  const upstream = new URL(target);
  const open = new Set<net.Socket>();
  let cut = false;
  let refusedUpgrades = 0;
  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (cut) {
      client.once('data', (chunk) => {
        if (/upgrade: websocket/i.test(chunk.toString('latin1'))) refusedUpgrades++;
        client.destroy();
      });
      return;
    }
    const app = net.connect(Number(upstream.port), upstream.hostname);
    app.on('error', () => {});
    for (const s of [client, app]) {
      open.add(s);
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        app.destroy();
      });
    }
    client.pipe(app);
    app.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get refusedUpgrades() {
      return refusedUpgrades;
    },
    cut() {
      cut = true;
      refusedUpgrades = 0;
      for (const s of open) s.destroy();
    },
    restore() {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test(
  'the live feeds say when the connection is lost, reconnect by themselves once the server is back and fetch what they missed',
  async ({ browser, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('Feed hook', `${receiver.url}/in`));
    await createRule(app, { name: 'Every ticket', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId }] });
    const proxy = await startCutProxy(app.url);
    const context = await browser.newContext({ baseURL: proxy.url });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const sockets = recordSockets(page);
      await signIn(page, proxy.url, keys.admin, '/deliveries');
      await expect.poll(() => subscribed(sockets, 'ConsoleLiveDeliveries').length).toBe(1);
      const live = page.getByRole('region', { name: 'Live deliveries' });
      const state = live.locator('.live-state');
      const before = await createTicket(app, 'Before the cut');
      await live.getByRole('link').filter({ hasText: `#${before}` }).waitFor();

      // cut until the console's reconnection has been refused at least once
      proxy.cut();
      await expect.poll(() => state.textContent()).toMatch(/connection to the server was lost\. Reconnecting/);
      expect(await state.getAttribute('aria-live')).toBe('polite');
      const missed = await createTicket(app, 'Missed by the feed');
      await expect.poll(() => proxy.refusedUpgrades, { timeout: 20_000 }).toBeGreaterThan(0);
      expect(await live.textContent()).not.toMatch(/undefined|\[Network\]/);

      proxy.restore();
      await expect.poll(() => state.textContent(), { timeout: 30_000 }).toMatch(/Reconnected/);
      // what the feed missed is in the log, fetched again
      await page.getByRole('table').getByRole('link', { name: `#${missed}` }).waitFor();
      const after = await createTicket(app, 'After the cut');
      const entry = live.getByRole('link').filter({ hasText: `#${after}` });
      await entry.waitFor();

      // the delivery page's live updates too
      await entry.click();
      await page.getByRole('heading', { level: 1, name: /^Delivery / }).waitFor();
      await expect.poll(() => subscribed(sockets, 'ConsoleDeliveryChanges').length).toBeGreaterThan(0);
      const pageState = page.locator('.live-state');
      expect(await pageState.textContent()).toBe('');
      proxy.cut();
      await expect.poll(() => pageState.textContent()).toMatch(/connection to the server was lost\. Reconnecting/);
      await expect.poll(() => proxy.refusedUpgrades, { timeout: 20_000 }).toBeGreaterThan(0);
      proxy.restore();
      await expect.poll(() => pageState.textContent(), { timeout: 30_000 }).toMatch(/Reconnected/);

      // a connection that stays away: the retries end (the page's clock runs them through), the
      // feed says so and offers Reconnect, which, the server back, resumes it
      await page.clock.install();
      const feeds = subscribed(sockets, 'ConsoleLiveDeliveries').length;
      await page.goto('/deliveries');
      await expect.poll(() => subscribed(sockets, 'ConsoleLiveDeliveries').length).toBe(feeds + 1);
      proxy.cut();
      const reconnect = live.getByRole('button', { name: 'Reconnect' });
      await expect
        .poll(
          async () => {
            await page.clock.fastForward(20_000);
            return reconnect.count();
          },
          { timeout: 60_000 },
        )
        .toBe(1);
      expect(await state.getAttribute('class')).toMatch(/error/);
      expect(await runAxe(page)).toEqual([]);
      expect(await state.textContent()).toMatch(/^Live updates stopped: the connection to the server was lost and could not be restored\. .*press Reconnect/);
      const whileStopped = await createTicket(app, 'While stopped');
      proxy.restore();
      await reconnect.click();
      await expect.poll(() => subscribed(sockets, 'ConsoleLiveDeliveries').length).toBe(feeds + 2);
      await expect.poll(() => state.textContent()).toMatch(/Reconnected/);
      expect(await reconnect.count()).toBe(0);
      await page.getByRole('table').getByRole('link', { name: `#${whileStopped}` }).waitFor();
      const resumed = await createTicket(app, 'Resumed');
      await live.getByRole('link').filter({ hasText: `#${resumed}` }).waitFor();
    } finally {
      await context.close();
      await proxy.close();
    }
  },
  BROWSER_TEST_MS,
);

test(
  'a request that gets no answer (the server unreachable) is said in words at the action, not as "[Network] Failed to fetch"; nothing is lost and the next try works',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Reachable hook', `${receiver.url}/ok`));
    const ticketId = await createTicket(app, 'Unreachable moments');
    // the API's requests of the named operations fail as a refused connection does, while failing
    const api = await failOperations(page, ['ConsoleUpdateWebhook', 'ConsoleAddReply', 'ConsoleTicket'], 'refused');
    const NO_ANSWER = 'the server could not be reached (it may be restarting, or the connection is down). Try again in a moment.';

    await signIn(page, app.url, keys.admin, `/webhooks/${hook}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Reachable hook' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Renamed hook');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'not saved' });
    await expect.poll(() => alert.textContent()).toBe(`The webhook was not saved: ${NO_ANSWER}`);
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Renamed hook');
    api.failing = false;
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(1);

    // a page whose query gets no answer says so as a sentence
    api.failing = true;
    await page.goto(`${app.url}/tickets/${ticketId}`);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toBe(`T${NO_ANSWER.slice(1)}`);
    expect(await page.locator('main').textContent()).not.toMatch(/\[Network\]|Failed to fetch/);
  },
  BROWSER_TEST_MS,
);

test(
  'a reload while the server answers with an error (a proxy 503, a database error) is not told the key was revoked: the key is kept and Sign in tries again',
  async ({ page, app, keys }) => {
    await signIn(page, app.url, keys.agent, '/deliveries');
    await page.getByRole('heading', { level: 1, name: 'Deliveries' }).waitFor();
    const kept = () => page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('deskhooks.apiKey'));

    // the key check ({ me }) answered by a proxy whose upstream is restarting
    let answer: { status: number; body: string } | null = { status: 503, body: '<html>Service Unavailable</html>' };
    await page.route('**/graphql', (route) =>
      answer && /\{\s*me\s*\{/.test(route.request().postData() ?? '') ? route.fulfill({ ...answer, contentType: answer.body.startsWith('{') ? 'application/json' : 'text/html' }) : route.fallback(),
    );
    await page.reload();
    const field = page.getByLabel('API key');
    await field.waitFor();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toBe('The server could not check the key (HTTP 503 Service Unavailable). Try again in a moment. Your key is kept: press Sign in to try again.');
    expect(await alert.textContent()).not.toContain(KEY_REFUSED);
    expect(await kept()).toBe(keys.agent);
    expect(await field.inputValue()).toBe(keys.agent);

    // a database error from the API itself: not a refusal either
    answer = { status: 200, body: JSON.stringify({ errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }], data: null }) };
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => alert.textContent()).toBe('The server could not check the key (an answer without the user). Try again in a moment.');

    // the server is back: Sign in with the kept key opens the console
    answer = null;
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Deliveries' }).waitFor();
  },
  BROWSER_TEST_MS,
);
