/**
 * Deliveries in the browser: a ticket created through the API shows up in "Live deliveries"
 * within 2 s without a reload and goes on to Succeeded; its page shows the request with the
 * credentials redacted and the attempts; "Redeliver" sends it again; "Cancel delivery" asks
 * for "Confirm"; the log filters; the ticket page lists its posts and deliveries.
 */
import type { Locator, Page, WebSocket } from 'playwright-core';
import { expect, hasFocus, painted, recordAnnouncements, runAxe, signIn, test } from '../support/browser.js';
import { addComment, addReply, createCustomFields, createRule, createTicket, createWebhook, deliveryReaches, jsonHook, retryUntilFinal, testWebhook } from '../support/fixtures.js';
import type { TestApp } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

/** Resolves once the page has sent a graphql-ws subscribe message (the live feed is listening); rejects after 20 s. */
function subscribed(page: Page): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the page opened no subscription within 20 s')), 20_000);
    const watch = (ws: WebSocket) =>
      ws.on('framesent', (f) => {
        if (typeof f.payload === 'string' && f.payload.includes('"type":"subscribe"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    page.on('websocket', watch);
  });
}

/**
 * Signs in with `key` on /deliveries (the page's clock installed first with `pageClock`, for
 * the tests that move it) and waits until its live feed listens. `received`: every frame the
 * feed hands the page from then on.
 */
async function openLiveDeliveries(page: Page, url: string, key: string, opts: { pageClock?: boolean } = {}): Promise<{ live: Locator; received: string[] }> {
  const listening = subscribed(page);
  listening.catch(() => undefined); // awaited below, after the sign-in
  const received: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => received.push(String(f.payload))));
  if (opts.pageClock) await page.clock.install();
  await signIn(page, url, key, '/deliveries');
  await page.getByRole('heading', { level: 1, name: 'Deliveries' }).waitFor();
  await listening;
  return { live: page.getByRole('region', { name: 'Live deliveries' }), received };
}

/**
 * Presses "Pause live updates" by keyboard (then pressed), and has a delivery of a new ticket
 * reach SUCCEEDED while paused: resolves once the live feed has handed that SUCCEEDED to the
 * page (`received`, from openLiveDeliveries). The button and the paused ticket.
 */
async function deliverWhilePaused(page: Page, app: TestApp, live: Locator, received: readonly string[], webhookId: string): Promise<{ pause: Locator; second: string }> {
  const pause = live.getByRole('button', { name: 'Pause live updates' });
  await pause.focus();
  await page.keyboard.press('Enter');
  expect(await pause.getAttribute('aria-pressed')).toBe('true');
  const second = await createTicket(app, 'During the pause');
  const secondDelivery = await testWebhook(app, webhookId, second);
  await deliveryReaches(app, secondDelivery, 'SUCCEEDED');
  await expect.poll(() => received.some((f) => f.includes(secondDelivery) && f.includes('"status":"SUCCEEDED"'))).toBe(true);
  return { pause, second };
}

test(
  'live deliveries, the delivery page, Redeliver and Cancel delivery, the log and the ticket page',
  async ({ page, app, keys, startReceiver, offHost }) => {
    const receiver = await startReceiver();
    const SECRET = 'tok-never-shown-0123';
    const webhookId = await createWebhook(app, {
      name: 'Helpdesk CRM',
      method: 'POST',
      url: `${receiver.url}/in`,
      format: 'JSON',
      body: '{"ticket": "{{ ticket.id }}"}',
      auth: { type: 'BEARER', secret: SECRET },
    });
    await createRule(app, { name: 'To CRM', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId }] });
    receiver.fallback = { status: 200, body: '{"crm":{"id":77,"ok":true}}', headers: { 'content-type': 'application/json' } };

    const { live } = await openLiveDeliveries(page, app.url, keys.admin);
    // before the first delivery: the waiting text, and no empty list beside it
    await live.getByText('Waiting for deliveries…').waitFor();
    expect(await live.getByRole('list').count()).toBe(0);

    const created = Date.now();
    const ticketId = await createTicket(app, 'Live one');
    const entry = live.getByRole('link').filter({ hasText: `#${ticketId}` });
    // pushed by the live feed: seconds at most on a loaded machine, where nothing polls
    await entry.waitFor({ timeout: 5_000 });
    expect(Date.now() - created).toBeLessThan(5_000);
    expect(await entry.textContent()).toContain('Helpdesk CRM');
    // its status in words, as a screen reader reads it
    await expect.poll(() => entry.locator('.badge').textContent(), { timeout: 15_000 }).toBe('Succeeded');
    expect(await runAxe(page)).toEqual([]);

    // the delivery page: request with the credentials redacted, the attempt with its pretty-printed JSON answer
    await entry.click();
    await page.getByRole('heading', { level: 1, name: /^Delivery / }).waitFor();
    const firstId = new URL(page.url()).pathname.split('/').pop()!;
    const request = page.getByRole('region', { name: 'Request' });
    await expect.poll(() => request.textContent()).toContain('Authorization: Bearer ***');
    expect(await request.textContent()).toContain(`"ticket": "${ticketId}"`);
    expect(await page.content()).not.toContain(SECRET);
    const attempts = page.getByRole('region', { name: 'Attempts' });
    expect(await attempts.getByRole('heading', { name: 'Attempt 1' }).count()).toBe(1);
    expect(await attempts.textContent()).toContain('200');
    expect(await attempts.getByLabel('Response body of attempt 1').textContent()).toBe('{\n  "crm": {\n    "id": 77,\n    "ok": true\n  }\n}');
    expect(await page.getByRole('button', { name: 'Cancel delivery' }).count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);

    // Redeliver: no confirmation, a new delivery of the same request
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/deliveries/') && !u.pathname.endsWith(firstId));
    const secondId = new URL(page.url()).pathname.split('/').pop()!;
    await deliveryReaches(app, secondId, 'SUCCEEDED');
    await receiver.waitForRequests(2);
    expect(receiver.requests[1]!.body).toBe(receiver.requests[0]!.body);
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/Redelivered/);

    // a delivery still being retried can be cancelled, after "Confirm"
    receiver.fallback = { status: 503 };
    const failingTicket = await createTicket(app, 'Will be cancelled');
    const pending = await waitFor(async () => {
      const d = (await app.ok('query ($t: ID) { deliveries(filter: { ticketId: $t }) { nodes { id status } } }', { t: failingTicket })).deliveries.nodes[0];
      return d?.status === 'RETRYING' && d;
    });
    await page.goto(`/deliveries/${pending.id}`);
    await page.getByRole('button', { name: 'Cancel delivery' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await deliveryReaches(app, pending.id, 'CANCELLED');
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Delivery cancelled.');
    await expect.poll(() => page.getByRole('button', { name: 'Cancel delivery' }).count()).toBe(0);
    expect(await page.locator('dd .badge').textContent()).toBe('Cancelled');

    // the log, filtered by status (the filters live in the address)
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Deliveries', exact: true }).click();
    // the statuses offered in words; the address and the API get the enum value
    const statusFilter = page.getByLabel('Status', { exact: true });
    expect(await statusFilter.locator('option').allTextContents()).toEqual(['Any status', 'Pending', 'Retrying', 'Succeeded', 'Failed', 'Cancelled']);
    await statusFilter.selectOption({ label: 'Cancelled' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.search === '?status=CANCELLED');
    const log = page.getByRole('table');
    await expect.poll(() => log.getByRole('row').count()).toBe(2);
    expect(await log.textContent()).toContain(`#${failingTicket}`);
    expect(await log.getByRole('cell', { name: 'Cancelled', exact: true }).count()).toBe(1);

    // tickets: the list, then the ticket page with its posts and its deliveries
    await addComment(app, ticketId, 'Checked by the console test');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Tickets', exact: true }).click();
    await page.getByRole('link', { name: `#${ticketId} Live one` }).click();
    await page.getByRole('heading', { level: 1, name: `#${ticketId} Live one` }).waitFor();
    await expect.poll(() => page.getByRole('region', { name: 'Posts' }).textContent()).toContain('Checked by the console test');
    const ticketDeliveries = page.getByRole('region', { name: 'Deliveries' });
    await expect.poll(() => ticketDeliveries.getByRole('link').count()).toBe(2);
    expect(await runAxe(page)).toEqual([]);
    await page.goto('/tickets');
    await page.getByRole('link', { name: `#${ticketId} Live one` }).waitFor();
    expect(await runAxe(page)).toEqual([]);
    expect(offHost).toEqual([]);
  },
  BROWSER_TEST_MS,
);

/** The browser's globals these checks use (this file compiles for Node). */
interface NarrowDom {
  document: { scrollingElement: { scrollWidth: number }; createRange(): { selectNodeContents(n: unknown): void; setStart(n: unknown, o: number): void; setEnd(n: unknown, o: number): void; getClientRects(): Iterable<{ top: number; width: number }> }; createTreeWalker(root: unknown, what: number): { nextNode(): { textContent: string | null } | null } };
}

/** The words of `region`'s table that are laid out in more than one piece (broken inside the word), with the cell's text. */
function brokenWords(page: Page, region: string) {
  return page.getByRole('region', { name: region }).evaluate((root) => {
    const doc = (globalThis as unknown as NarrowDom).document;
    const walker = doc.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
    const broken: string[] = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? '';
      for (const m of text.matchAll(/\S+/g)) {
        const range = doc.createRange();
        range.setStart(node, m.index!);
        range.setEnd(node, m.index! + m[0].length);
        // on more than one line (a word of mixed direction may be in several pieces on one line)
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
    return broken;
  });
}

test(
  'at 360 px the webhooks, tickets and deliveries tables scroll sideways in their own labelled region; no word or status badge is broken; a ticket\'s long pasted link, a custom field\'s long name and value and a rule\'s long webhook name stay within the window; a check box\'s long label wraps beside it; a long answer scrolls in its own box on the delivery page',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Local OK', `${receiver.url}/ok`));
    const rtl = await createTicket(app, 'مرحبا بالعالم <img src=x> تذكرة طويلة');
    const plain = await createTicket(app, 'Printer on fire');
    for (const t of [rtl, plain]) await deliveryReaches(app, await testWebhook(app, hook, t), 'SUCCEEDED');

    await page.setViewportSize({ width: 360, height: 800 });
    await signIn(page, app.url, keys.admin, '/webhooks');
    const pageWidth = () => page.evaluate(() => (globalThis as unknown as NarrowDom).document.scrollingElement.scrollWidth);
    for (const [path, region, shown] of [
      ['/webhooks', 'Webhooks table', 'Local OK'],
      ['/tickets', 'Tickets table', 'Printer on fire'],
      ['/deliveries', 'Deliveries table', 'Succeeded'],
    ] as const) {
      await page.goto(path);
      const table = page.getByRole('region', { name: region });
      await table.getByText(shown).first().waitFor();
      // the page does not scroll sideways; the table's region does, and the keyboard reaches it
      expect(await pageWidth()).toBeLessThanOrEqual(360);
      expect(await table.getAttribute('tabindex')).toBe('0');
      expect(await table.evaluate((e) => (e as unknown as { scrollWidth: number; clientWidth: number }).scrollWidth > (e as unknown as { clientWidth: number }).clientWidth)).toBe(true);
      expect(await brokenWords(page, region)).toEqual([]);
    }
    // the status badges are each on one line
    const badges = page.getByRole('region', { name: 'Deliveries table' }).locator('.badge');
    expect(await badges.count()).toBe(2);
    for (const badge of await badges.all()) expect(await badge.evaluate((e) => (e as unknown as { getClientRects(): { length: number } }).getClientRects().length)).toBe(1);
    expect(await runAxe(page)).toEqual([]);

    // a ticket's description and posts with a long unbroken text (a pasted link) wrap within the window,
    // and so do a custom field's long one-word name and value, on its page and in the new-ticket form
    const link = `https://example.com/${'a'.repeat(300)}`;
    const longName = 'Auftragsnummer_aus_dem_Warenwirtschaftssystem_des_Onlineshops';
    await createCustomFields(app, [{ key: 'order_ref', name: longName, type: 'TEXT' }]);
    const pasted = await createTicket(app, { title: 'Pasted link', description: link, customFields: { order_ref: `REF-${'7'.repeat(120)}` } });
    await addReply(app, pasted, link);
    await page.goto(`/tickets/${pasted}`);
    await page.getByRole('region', { name: 'Posts' }).getByText(link).waitFor();
    expect(await pageWidth()).toBeLessThanOrEqual(360);
    await page.goto('/tickets/new');
    await page.getByLabel(longName, { exact: true }).waitFor();
    expect(await pageWidth()).toBeLessThanOrEqual(360);

    // a rule's editor whose webhook picker shows a long name stays within the window
    const longHook = await createWebhook(app, jsonHook('A webhook with a rather long name that goes on and on', `${receiver.url}/ok`));
    const rule = await createRule(app, { name: 'Narrow rule', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: longHook }] });
    await page.goto(`/rules/${rule.id}`);
    await expect.poll(() => page.getByLabel('Webhook', { exact: true }).inputValue()).toBe(longHook);
    expect(await pageWidth()).toBeLessThanOrEqual(360);
    // a check box's long label wraps beside it, not onto a line of its own below it
    const box = (await page.getByRole('checkbox', { name: 'Continue with the next rules after a match' }).boundingBox())!;
    const label = (await page.locator('label', { hasText: 'Continue with the next rules after a match' }).boundingBox())!;
    expect(label.y).toBeLessThan(box.y + box.height);
    expect(label.x).toBeGreaterThan(box.x + box.width);

    // a long answer on the delivery page scrolls in its own box, not the page
    const talkative = await startReceiver(() => ({ status: 200, body: 'line of the answer\n'.repeat(3000) }));
    const answered = await testWebhook(app, await createWebhook(app, jsonHook('Talkative', `${talkative.url}/in`)), plain);
    await deliveryReaches(app, answered, 'SUCCEEDED');
    await page.goto(`/deliveries/${answered}`);
    const answer = page.getByLabel('Response body of attempt 1', { exact: true });
    await answer.waitFor();
    const size = await answer.evaluate((e) => ({ scroll: (e as unknown as { scrollHeight: number }).scrollHeight, client: (e as unknown as { clientHeight: number }).clientHeight }));
    expect(size.scroll).toBeGreaterThan(size.client);
    expect(size.client).toBeLessThan(800);
    expect(await answer.getAttribute('tabindex')).toBe('0');
  },
  BROWSER_TEST_MS,
);

test(
  '"Pause live updates" (WCAG 2.2.2): by keyboard it stops the live list moving and keeps focus; pressed again it shows what came meanwhile',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('Paused hook', `${receiver.url}/in`));
    // received: what the live feed hands the page, while the list is paused too
    const { live, received } = await openLiveDeliveries(page, app.url, keys.agent);
    const first = await createTicket(app, 'Before the pause');
    await deliveryReaches(app, await testWebhook(app, webhookId, first), 'SUCCEEDED');
    await expect.poll(() => live.getByRole('link').filter({ hasText: `#${first}` }).textContent()).toContain('Succeeded');

    expect(await live.getByRole('button', { name: 'Pause live updates' }).getAttribute('aria-pressed')).toBe('false');
    const { pause, second } = await deliverWhilePaused(page, app, live, received, webhookId);
    // the page has rendered since it was handed the delivery's SUCCEEDED
    await painted(page);
    expect(await live.getByRole('link').filter({ hasText: `#${second}` }).count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);

    await page.keyboard.press('Enter');
    expect(await pause.getAttribute('aria-pressed')).toBe('false');
    await expect.poll(() => live.getByRole('link').filter({ hasText: `#${second}` }).textContent()).toContain('Succeeded');
    expect(await hasFocus(pause)).toBe(true);
  },
  BROWSER_TEST_MS,
);

/** The pace of the live list's sentences (web/src/screens/Deliveries.tsx LIVE_PACE): a burst gathered this long… */
const GATHER_MS = 1_000;
/** …and at least this long from one sentence to the next. */
const GAP_MS = 5_000;

/** Stops the page's clock (installed before the page loaded), a second on: its timers fire only as the test moves it (page.clock.runFor). */
async function stopClock(page: Page): Promise<void> {
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1_000);
}

/** The status badge of a delivery in "Live deliveries" ('' while it is not shown there). */
const liveStatus = async (live: Locator, deliveryId: string) => {
  const entry = live.locator(`a[href="/deliveries/${deliveryId}"]`);
  return (await entry.count()) ? ((await entry.locator('.badge').textContent()) ?? '') : '';
};

test(
  '"Live deliveries" is no live region: a burst is said as one counted sentence, later changes as others, at most one per few seconds; the same sentence again is said again',
  async ({ page, app, keys, startReceiver, clock }) => {
    let flaky = 0;
    // /rejects: 422, FAILED at once (its success rule says FAIL); /flaky: 500 the first time (RETRYING until the test moves the app's clock), then 200
    const receiver = await startReceiver((req) => (req.url === '/rejects' ? { status: 422 } : req.url === '/flaky' && flaky++ === 0 ? { status: 500, body: 'down' } : undefined));
    const ok = await createWebhook(app, jsonHook('Burst OK', `${receiver.url}/ok`));
    const rejects = await createWebhook(app, { ...jsonHook('Burst refused', `${receiver.url}/rejects`), successRule: { statuses: '200-299', onFailure: 'FAIL' } });
    const flakyHook = await createWebhook(app, jsonHook('Flaky hook', `${receiver.url}/flaky`));
    // the page's clock, which paces the sentences, moves only when the test says so
    const { live } = await openLiveDeliveries(page, app.url, keys.admin, { pageClock: true });
    // the list is not read out entry by entry: one polite region says what changed
    const region = live.locator('#live-delivery-changes');
    expect(await region.getAttribute('aria-live')).toBe('polite');
    expect(await region.textContent()).toBe('');
    await stopClock(page);
    const announced = await recordAnnouncements(page, 'live-delivery-changes');

    // a burst of three: once the list shows them all, one sentence counts them
    const tickets = [await createTicket(app, 'Burst one'), await createTicket(app, 'Burst two'), await createTicket(app, 'Burst three')];
    const burst = [await testWebhook(app, ok, tickets[0]!), await testWebhook(app, ok, tickets[1]!), await testWebhook(app, rejects, tickets[2]!)];
    await expect.poll(() => Promise.all(burst.map((id) => liveStatus(live, id)))).toEqual(['Succeeded', 'Succeeded', 'Failed']);
    expect(await live.getByRole('list').getAttribute('aria-live')).toBe(null);
    expect(await announced()).toEqual([]);
    await page.clock.runFor(GATHER_MS);
    await expect.poll(() => region.textContent()).toBe('3 new deliveries: 2 succeeded, 1 failed.');

    // a later delivery: said once the gap since that sentence has passed, not before
    const watched = await createTicket(app, 'Watched');
    const retried = await testWebhook(app, flakyHook, watched);
    await expect.poll(() => liveStatus(live, retried)).toBe('Retrying');
    await page.clock.runFor(GATHER_MS);
    expect(await announced()).toEqual(['3 new deliveries: 2 succeeded, 1 failed.']);
    await page.clock.runFor(GAP_MS - GATHER_MS);
    await expect.poll(() => region.textContent()).toBe(`1 new delivery: retrying (Flaky hook, ticket #${watched}).`);

    // its change of status
    expect((await retryUntilFinal(app, clock, retried)).status).toBe('SUCCEEDED');
    await expect.poll(() => liveStatus(live, retried)).toBe('Succeeded');
    await page.clock.runFor(GAP_MS);
    await expect.poll(() => region.textContent()).toBe(`1 delivery now succeeded (Flaky hook, ticket #${watched}).`);

    // two deliveries alike, one after the other: the same sentence is said again
    const again = `1 new delivery: succeeded (Burst OK, ticket #${watched}).`;
    for (const n of [1, 2]) {
      const id = await testWebhook(app, ok, watched);
      await expect.poll(() => liveStatus(live, id)).toBe('Succeeded');
      await page.clock.runFor(GAP_MS);
      await expect.poll(async () => (await announced()).filter((t) => t === again).length).toBe(n);
    }
    expect(await announced()).toEqual([
      '3 new deliveries: 2 succeeded, 1 failed.',
      `1 new delivery: retrying (Flaky hook, ticket #${watched}).`,
      `1 delivery now succeeded (Flaky hook, ticket #${watched}).`,
      again,
      again,
    ]);
    await page.clock.resume();
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  '"Pause live updates": nothing is said while paused; on resume one sentence says what came meanwhile',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('Paused hook', `${receiver.url}/in`));
    const { live, received } = await openLiveDeliveries(page, app.url, keys.agent, { pageClock: true });
    const region = live.locator('#live-delivery-changes');
    await stopClock(page);
    const announced = await recordAnnouncements(page, 'live-delivery-changes');
    const first = await createTicket(app, 'Before the pause');
    const firstDelivery = await testWebhook(app, webhookId, first);
    await expect.poll(() => liveStatus(live, firstDelivery)).toBe('Succeeded');
    await page.clock.runFor(GATHER_MS);
    // an agent, who does not see webhooks, hears the receiver's host
    const host = new URL(receiver.url).host;
    const before = `1 new delivery: succeeded (${host}, ticket #${first}).`;
    await expect.poll(() => region.textContent()).toBe(before);

    const { pause, second } = await deliverWhilePaused(page, app, live, received, webhookId);
    // the page has rendered since it was handed the delivery's SUCCEEDED; then its clock passes any sentence's time
    await page.clock.resume();
    await painted(page);
    await page.clock.fastForward(2 * GAP_MS);
    await painted(page);
    expect(await announced()).toEqual([before]);

    await page.keyboard.press('Enter');
    expect(await pause.getAttribute('aria-pressed')).toBe('false');
    const resumed = `Resumed. 1 new delivery: succeeded (${host}, ticket #${second}).`;
    await expect.poll(() => region.textContent()).toBe(resumed);
    expect(await announced()).toEqual([before, resumed]);
    expect(await hasFocus(pause)).toBe(true);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

/**
 * `test` whose app gives an attempt 30 s (the test apps' 2 s would end an attempt the
 * receiver holds while a loaded machine signs the page in and subscribes it).
 */
const heldAttemptTest = test.extend<{ app: TestApp }>({ app: async ({ startApp, clock }, use) => use(await startApp({ DESKHOOKS_REQUEST_TIMEOUT: '30s' }, { clock: clock.now })) });

heldAttemptTest(
  "the delivery page announces politely what changes while it is open: a new attempt's outcome and the status it leads to, not the first reading",
  async ({ page, app, keys, startReceiver, clock }) => {
    let answers = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // the first attempt is answered (500) once the page is open; the next succeeds (the test app retries after 1 s)
    const receiver = await startReceiver(async () => {
      if (answers++ > 0) return undefined;
      await gate;
      return { status: 500, body: 'down' };
    });
    const webhookId = await createWebhook(app, jsonHook('Flaky hook', `${receiver.url}/in`));
    const ticketId = await createTicket(app, 'Watched delivery');
    const id = await testWebhook(app, webhookId, ticketId);

    const subscribed = app.services.deliveryEvents.subscriberCount;
    await signIn(page, app.url, keys.agent, `/deliveries/${id}`);
    await page.getByRole('heading', { level: 1, name: `Delivery ${id.slice(0, 8)}` }).waitFor();
    const said = page.locator('p[aria-live="polite"].visually-hidden');
    expect(await said.textContent()).toBe('');
    // the attempt is answered once the page's live feed is subscribed: a change published before that the page never hears
    await waitFor(() => app.services.deliveryEvents.subscriberCount > subscribed, { what: "the delivery page's subscription" });
    release();
    await expect.poll(() => said.textContent(), { timeout: 15_000 }).toBe('Now retrying. Attempt 1: HTTP 500 Internal Server Error.');
    // the retry, served by the app's clock
    expect((await retryUntilFinal(app, clock, id)).status).toBe('SUCCEEDED');
    await expect.poll(() => said.textContent(), { timeout: 15_000 }).toBe('Now succeeded. Attempt 2: HTTP 200.');
  },
  BROWSER_TEST_MS,
);

test(
  '"Live deliveries" by keyboard: a link after "Pause live updates" skips the list (up to 50 links) to the log, whose heading takes focus and whose filters come next',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('Skipped CRM', `${receiver.url}/in`));
    const { live } = await openLiveDeliveries(page, app.url, keys.admin);
    // no list yet: nothing to skip
    expect(await live.getByRole('link', { name: 'Skip the live list to the log' }).count()).toBe(0);
    const tickets = [await createTicket(app, 'One'), await createTicket(app, 'Two'), await createTicket(app, 'Three')];
    for (const t of tickets) await testWebhook(app, webhookId, t);
    await expect.poll(() => live.getByRole('listitem').count()).toBe(3);

    await live.getByRole('button', { name: 'Pause live updates' }).focus();
    await page.keyboard.press('Tab');
    const skip = live.getByRole('link', { name: 'Skip the live list to the log' });
    expect(await hasFocus(skip)).toBe(true);
    // in sight while focused
    expect((await skip.boundingBox())!.width).toBeGreaterThan(20);
    await page.keyboard.press('Enter');
    expect(await hasFocus(page.getByRole('heading', { level: 2, name: 'Log' }))).toBe(true);
    await page.keyboard.press('Tab');
    expect(await hasFocus(page.getByLabel('Webhook', { exact: true }))).toBe(true);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  '"Live deliveries": the links to two deliveries alike (same webhook, ticket and status) have names of their own, each ending with its delivery\'s short id',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('Twin CRM', `${receiver.url}/in`));
    const ticket = await createTicket(app, 'Twice');
    const { live } = await openLiveDeliveries(page, app.url, keys.admin);
    const made = [await testWebhook(app, webhookId, ticket), await testWebhook(app, webhookId, ticket)];
    for (const id of made) await deliveryReaches(app, id, 'SUCCEEDED');
    await expect.poll(() => live.getByRole('link', { name: /Succeeded/ }).count()).toBe(2);
    for (const id of made) {
      expect(await live.getByRole('link', { name: `Twin CRM #${ticket} Succeeded (delivery ${id.slice(0, 8)})`, exact: true }).count()).toBe(1);
    }
  },
  BROWSER_TEST_MS,
);
