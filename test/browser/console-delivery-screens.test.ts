/**
 * The delivery page and the delivery log, in detail: the request and response panes show the
 * bodies as sent and received (re-indenting changes whitespace only; HTML is shown as it came);
 * Redeliver and Confirm send one request however often they are pressed, with focus and
 * announcements a keyboard user can follow; the log's position text, page and filter controls
 * follow the address through Back, Forward and reload, and a bad filter is shown at its field.
 */
import type { Page, Request } from 'playwright-core';
import { expect, failOperations, focusedId, hasFocus, painted, recordAnnouncements, runAxe, signIn, test, holdConnectionAcks, holdOperation } from '../support/browser.js';
import { createTicket, createWebhook, deliveryReaches, jsonHook, testWebhook, type TestApp } from '../support/fixtures.js';
import { collect, wsClient } from '../support/ws.js';
import { waitFor } from '../support/wait.js';

/** How long the console takes a subscription to need on a connected socket to reach the server (web/src/client.ts SUBSCRIBE_SETTLE_MS). */
const SUBSCRIBE_SETTLE_MS = 1_000;

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

/** JSON text without the whitespace outside its strings (the strings, escapes included, as written). */
function squeezeJson(text: string): string {
  return text.replace(/("(?:[^"\\]|\\.)*")|\s+/g, (_m, str: string | undefined) => str ?? '');
}

/** The page's globals these tests use (typed here by hand: this file compiles for Node). */
interface PageNode {
  nodeType: number;
  tagName: string;
  id: string;
  textContent: string | null;
  matches(selector: string): boolean;
  querySelectorAll(selector: string): ArrayLike<PageNode>;
}
interface PageGlobals {
  document: { activeElement: PageNode | null; body: PageNode };
  getComputedStyle(e: PageNode): { display: string };
  MutationObserver: new (callback: (records: { addedNodes: ArrayLike<PageNode> }[]) => void) => { observe(target: PageNode, options: object): void };
  __firstStatus: WeakMap<PageNode, { text: string; display: string }>;
  __pwned?: unknown;
}

/** What has focus: its tag, its id and its text. */
function focused(page: Page) {
  return page.evaluate(() => {
    const e = (globalThis as unknown as PageGlobals).document.activeElement;
    return { tag: e?.tagName.toLowerCase() ?? '', id: e?.id ?? '', text: e?.textContent?.trim() ?? '' };
  });
}


const deliveryCount = async (app: { ok: (q: string) => Promise<any> }) => (await app.ok('{ deliveries(first: 1) { totalCount } }')).deliveries.totalCount as number;

test(
  'the request and response panes change no value: big numbers, decimals, escapes, duplicate keys as sent; HTML as received',
  async ({ page, app, keys, startReceiver }) => {
    const HTML = '<script>window.__pwned = 1</script><b>hi</b>\n  <p>two</p>';
    // /echo answers JSON with the request's own body, /html answers HTML
    const receiver = await startReceiver((req) =>
      req.url === '/html'
        ? { status: 200, body: HTML, headers: { 'content-type': 'text/html' } }
        : { status: 200, body: req.body, headers: { 'content-type': 'application/json' } },
    );
    const jsonBody = '{"order": 12345678901234567890, "price": 1.10, "big": 1e3, "name": "caf\\u00e9 \\"x\\"", "dup": 1, "dup": 2, "list": [-0.0, 2.50, {}], "t": "{{ ticket.id }}"}';
    const exactJsonHook = await createWebhook(app, { name: 'Exact JSON', method: 'POST', url: `${receiver.url}/echo`, format: 'JSON', body: jsonBody });
    const xmlHook = await createWebhook(app, {
      name: 'XML in, HTML back',
      method: 'POST',
      url: `${receiver.url}/html`,
      format: 'XML',
      body: '<?xml version="1.0"?><order id="a&gt;b"><n>12345678901234567890</n><price>1.10</price><note><![CDATA[<x> & y]]></note></order>',
    });
    const ticket = await createTicket(app, 'Exact bodies');
    const jsonDelivery = await testWebhook(app, exactJsonHook, ticket);
    const xmlDelivery = await testWebhook(app, xmlHook, ticket);
    await deliveryReaches(app, jsonDelivery, 'SUCCEEDED');
    await deliveryReaches(app, xmlDelivery, 'SUCCEEDED');
    const sent = (path: string) => receiver.requests.find((r) => r.url === path)!.body;

    await signIn(page, app.url, keys.admin, `/deliveries/${jsonDelivery}`);
    const requestPane = page.getByLabel('Request as sent');
    const responsePane = page.getByLabel('Response body of attempt 1');
    await responsePane.waitFor();
    const shownRequest = (await requestPane.textContent())!.split('\n\n').slice(1).join('\n\n');
    expect(sent('/echo')).toContain('12345678901234567890');
    // the pane, with its layout whitespace gone, is the body the receiver got, with its whitespace outside strings gone
    expect(squeezeJson(shownRequest)).toBe(squeezeJson(sent('/echo')));
    expect(shownRequest).toContain('"order": 12345678901234567890');
    expect(shownRequest).toContain('"price": 1.10');
    expect(shownRequest).toContain('"big": 1e3');
    expect(shownRequest).toContain('"name": "caf\\u00e9 \\"x\\""');
    expect(shownRequest.match(/"dup"/g)).toHaveLength(2);
    expect(squeezeJson((await responsePane.textContent())!)).toBe(squeezeJson(sent('/echo')));
    expect(await responsePane.textContent()).toContain('"list": [\n    -0.0,\n    2.50,\n    {}\n  ]');

    // XML sent (content type application/xml): re-indented, every tag, value and entity as written; the HTML answer exactly as it came
    await page.goto(`/deliveries/${xmlDelivery}`);
    await responsePane.waitFor();
    const shownXml = (await requestPane.textContent())!.split('\n\n').slice(1).join('\n\n');
    expect(shownXml.replace(/\s+/g, '')).toBe(sent('/html').replace(/\s+/g, ''));
    expect(shownXml).toContain('\n  <n>12345678901234567890</n>');
    expect(shownXml).toContain('<note><![CDATA[<x> & y]]></note>');
    expect(await responsePane.textContent()).toBe(HTML);
    expect(await page.evaluate(() => '__pwned' in globalThis)).toBe(false);
  },
  BROWSER_TEST_MS,
);

test(
  'Redeliver and Confirm: one request per action however often pressed; Escape, focus and the announced outcome by keyboard',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver((req) => (req.url === '/down' ? { status: 503 } : undefined));
    const ok = await createWebhook(app, { name: 'Answers', method: 'POST', url: `${receiver.url}/ok`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' });
    const down = await createWebhook(app, { name: 'Down', method: 'POST', url: `${receiver.url}/down`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' });
    const ticket = await createTicket(app, 'Actions');
    const done = await testWebhook(app, ok, ticket);
    const open = await testWebhook(app, down, ticket);
    await deliveryReaches(app, done, 'SUCCEEDED');
    await deliveryReaches(app, open, 'RETRYING');

    await signIn(page, app.url, keys.admin, `/deliveries/${done}`);
    await page.getByRole('heading', { level: 1, name: `Delivery ${done.slice(0, 8)}` }).waitFor();
    // the content and display each status region had when it came into the page (a region inserted with its text, or hidden, is not announced)
    await page.evaluate(() => {
      const win = globalThis as unknown as PageGlobals;
      const first = (win.__firstStatus = new WeakMap());
      new win.MutationObserver((records) => {
        for (const r of Array.from(records))
          for (const n of Array.from(r.addedNodes)) {
            if (n.nodeType !== 1) continue;
            for (const e of [n, ...Array.from(n.querySelectorAll('[role=status]'))]) {
              if (e.matches('[role=status]') && !first.has(e)) first.set(e, { text: e.textContent ?? '', display: win.getComputedStyle(e).display });
            }
          }
      }).observe(win.document.body, { childList: true, subtree: true });
    });

    // a double click on Redeliver: one request (the button says it is running and refuses the second), one new delivery
    const before = await deliveryCount(app);
    const redeliver = holdOperation(page, 'ConsoleRedeliver');
    await page.getByRole('button', { name: 'Redeliver' }).dblclick();
    const running = page.getByRole('button', { name: 'Redelivering…' });
    await expect.poll(() => running.getAttribute('aria-disabled')).toBe('true');
    redeliver.release();
    await page.waitForURL((u) => u.pathname.startsWith('/deliveries/') && !u.pathname.endsWith(done));
    const copy = new URL(page.url()).pathname.split('/').pop()!;
    expect(redeliver.seen).toHaveLength(1);
    expect(await deliveryCount(app)).toBe(before + 1);

    // the new page: its heading takes focus once it renders; the flash goes into a status region that was there (empty) before
    await expect.poll(() => focused(page)).toEqual({ tag: 'h1', id: 'page-title', text: `Delivery ${copy.slice(0, 8)}` });
    const status = page.getByRole('status').filter({ hasText: 'Redelivered' });
    await expect.poll(() => status.textContent()).toMatch(/^Redelivered as a new delivery of delivery /);
    const arrived = await status.evaluate((e) => (globalThis as unknown as PageGlobals).__firstStatus.get(e as unknown as PageNode));
    expect(arrived?.text).toBe('');
    // a hidden region (display: none) is not in the accessibility tree: it must be shown while empty
    expect(arrived?.display).not.toBe('none');

    // Cancel delivery by keyboard: Enter opens the confirmation on Confirm, Escape closes it back onto "Cancel delivery"
    await page.goto(`/deliveries/${open}`);
    const cancelButton = page.getByRole('button', { name: 'Cancel delivery' });
    await cancelButton.focus();
    await page.keyboard.press('Enter');
    const confirmGroup = page.getByRole('group', { name: 'Cancel this delivery?' });
    await confirmGroup.waitFor();
    await expect.poll(async () => (await focused(page)).text).toBe('Confirm');
    await page.keyboard.press('Escape');
    await confirmGroup.waitFor({ state: 'detached' });
    await expect.poll(async () => (await focused(page)).text).toBe('Cancel delivery');

    // Enter twice on Confirm: one request; it says "Cancelling…" and keeps focus meanwhile; then focus is on the status, now Cancelled
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).text).toBe('Confirm');
    const cancel = holdOperation(page, 'ConsoleCancelDelivery');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).text).toBe('Cancelling…');
    await page.keyboard.press('Enter');
    cancel.release();
    await deliveryReaches(app, open, 'CANCELLED');
    await expect.poll(() => focused(page)).toEqual({ tag: 'dd', id: '', text: 'Cancelled' });
    expect(cancel.seen).toHaveLength(1);
    expect(await page.getByRole('status').filter({ hasText: 'Delivery cancelled.' }).count()).toBe(1);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'the log: position text and page follow the address through Back, Forward and reload; the paging button pressed keeps focus, and at the first or last page says so; Refresh says what it found; filter controls follow it; a bad or too large ticket number is shown at its field',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, { name: 'Paged', method: 'POST', url: `${receiver.url}/in`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' });
    const ticket = await createTicket(app, 'Many deliveries');
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) sent.push(await testWebhook(app, hook, ticket));
    // all settled before the page reads the log (its status filter below counts SUCCEEDED ones)
    for (const id of sent) await deliveryReaches(app, id, 'SUCCEEDED');

    await signIn(page, app.url, keys.admin, '/deliveries');
    const log = page.getByRole('region', { name: 'Log' });
    const position = log.getByRole('status');
    const rows = () => log.getByRole('row').count();
    await expect.poll(() => position.textContent()).toBe('Showing 1–25 of 30 deliveries, newest first.');
    const firstPage = await log.getByRole('rowheader').allTextContents();

    // Refresh by keyboard: focus stays, and what it found is said though the list is as it was
    const refreshed = await recordAnnouncements(page, 'log-refreshed');
    const refresh = log.getByRole('button', { name: 'Refresh' });
    await refresh.focus();
    await page.keyboard.press('Enter');
    await expect.poll(refreshed).toEqual(['Log refreshed: 30 deliveries match.']);
    expect(await hasFocus(refresh)).toBe(true);
    expect(await position.textContent()).toBe('Showing 1–25 of 30 deliveries, newest first.');

    // while the next page loads, the last page's rows are not shown under its position
    const next = holdOperation(page, 'ConsoleDeliveries');
    await log.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => position.textContent()).toBe('Loading deliveries…');
    expect(await rows()).toBe(0);
    next.release();
    await expect.poll(() => position.textContent()).toBe('Showing 26–30 of 30 deliveries, newest first.');
    expect(await rows()).toBe(6);
    expect(new URL(page.url()).searchParams.get('from')).toBe('26');
    await page.goBack();
    await expect.poll(() => position.textContent()).toBe('Showing 1–25 of 30 deliveries, newest first.');
    expect(await log.getByRole('rowheader').allTextContents()).toEqual(firstPage);
    await page.goForward();
    await expect.poll(() => position.textContent()).toBe('Showing 26–30 of 30 deliveries, newest first.');
    await page.reload();
    await expect.poll(() => position.textContent()).toBe('Showing 26–30 of 30 deliveries, newest first.');
    expect(await rows()).toBe(6);
    await log.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => position.textContent()).toBe('Showing 1–25 of 30 deliveries, newest first.');
    expect(await log.getByRole('rowheader').allTextContents()).toEqual(firstPage);
    expect(await log.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);

    // by keyboard: the paging button pressed keeps the focus while the page loads and after it (the new position is announced by the status)
    const pageEnd = await recordAnnouncements(page, 'log-page-end');
    await log.getByRole('button', { name: 'Next page' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => position.textContent()).toBe('Showing 26–30 of 30 deliveries, newest first.');
    expect((await focused(page)).text).toBe('Next page');
    expect(await log.getByRole('button', { name: 'Next page' }).getAttribute('aria-disabled')).toBe('true');
    // the last page: pressed, it stays and says so, politely, the focus kept
    await page.keyboard.press('Enter');
    await expect.poll(pageEnd).toEqual(['This is the last page.']);
    expect((await focused(page)).text).toBe('Next page');
    expect(new URL(page.url()).searchParams.get('from')).toBe('26');
    await page.keyboard.press('Shift+Tab');
    expect((await focused(page)).text).toBe('Previous page');
    await page.keyboard.press('Enter');
    await expect.poll(() => position.textContent()).toBe('Showing 1–25 of 30 deliveries, newest first.');
    expect((await focused(page)).text).toBe('Previous page');
    expect(new URL(page.url()).searchParams.get('from')).toBe(null);
    await page.keyboard.press('Enter');
    await expect.poll(pageEnd).toEqual(['This is the last page.', 'This is the first page.']);
    expect((await focused(page)).text).toBe('Previous page');

    // the Status select shows the address's filter after Back, not the value applied since
    await page.goto('/deliveries?status=SUCCEEDED');
    const statusSelect = page.getByLabel('Status', { exact: true });
    await expect.poll(() => statusSelect.inputValue()).toBe('SUCCEEDED');
    await statusSelect.selectOption('FAILED');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.search === '?status=FAILED');
    await expect.poll(() => position.textContent()).toBe('No deliveries match.');
    await page.goBack();
    await page.waitForURL((u) => u.search === '?status=SUCCEEDED');
    await expect.poll(() => statusSelect.inputValue()).toBe('SUCCEEDED');
    await expect.poll(() => position.textContent()).toMatch(/^Showing 1–\d+ of \d+ deliveries/);

    // a ticket number that is not one: the message at the field, the field invalid and focused; no API wording, nothing sent
    const ticketField = page.getByLabel('Ticket number');
    await ticketField.fill('abc');
    await ticketField.press('Enter');
    await expect.poll(() => ticketField.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await ticketField.getAttribute('aria-describedby'))!;
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toBe('Ticket number must be a whole number, such as 42.');
    expect((await focused(page)).id).toBe('filter-ticket');
    expect(new URL(page.url()).search).toBe('?status=SUCCEEDED');
    expect(await page.getByRole('alert').count()).toBe(0);
    await ticketField.fill(`#${ticket}`);
    await ticketField.press('Enter');
    await page.waitForURL((u) => u.searchParams.get('ticket') === ticket);
    expect(await ticketField.getAttribute('aria-invalid')).toBe(null);

    // a number longer than any id (the API takes at most 18 digits): refused before it is applied, in words that are true
    const tooLarge = 'Ticket number is too large: no ticket has it (ticket numbers have at most 18 digits).';
    await ticketField.fill('99999999999999999999');
    await ticketField.press('Enter');
    await expect.poll(() => ticketField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(`[id="${(await ticketField.getAttribute('aria-describedby'))!}"]`).textContent()).toBe(tooLarge);
    expect((await focused(page)).id).toBe('filter-ticket');
    expect(new URL(page.url()).searchParams.get('ticket')).toBe(ticket);
    await page.goto('/deliveries?ticket=99999999999999999999');
    await expect.poll(() => ticketField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByText(tooLarge).count()).toBe(1);
    expect(await page.getByText('Ticket number must be a whole number, such as 42.').count()).toBe(0);
    // 18 digits and leading zeros are numbers the API takes: applied (no ticket has it, so none match)
    await page.goto('/deliveries');
    await ticketField.fill('000999999999999999999');
    await ticketField.press('Enter');
    await page.waitForURL((u) => u.searchParams.get('ticket') === '999999999999999999');
    await expect.poll(() => position.textContent()).toBe('No deliveries match.');
    expect(await ticketField.getAttribute('aria-invalid')).toBe(null);

    // the same from the address, and the API's own field error (a webhook id that is not one) at its control in plain words
    await page.goto('/deliveries?ticket=abc');
    await expect.poll(() => ticketField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByText('Ticket number must be a whole number, such as 42.').count()).toBe(1);
    await page.goto('/deliveries?webhook=abc');
    const webhookSelect = page.getByLabel('Webhook', { exact: true });
    await expect.poll(() => webhookSelect.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByText('Choose a webhook from the list.').count()).toBe(1);
    expect(await page.content()).not.toContain('is not an id');
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'the tickets list says what it shows in a status region: a status filter or a page changed by keyboard is announced, an empty result too; Previous or Next pressed at the first or last page says so, focus kept',
  async ({ page, app, keys }) => {
    for (let i = 0; i < 52; i++) await createTicket(app, `Listed ${i}`);
    await signIn(page, app.url, keys.agent, '/tickets');
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    const shown = page.getByRole('status');
    await expect.poll(() => shown.textContent()).toBe('Showing tickets 1–50.');
    // a ticket's status and priority in words, in the table and in the filter's options
    const firstRow = page.getByRole('row').nth(1);
    expect(await firstRow.getByRole('cell').allTextContents()).toEqual(expect.arrayContaining(['Open', 'Normal']));
    expect(await page.getByLabel('Status').getByRole('option', { name: 'In progress', exact: true }).getAttribute('value')).toBe('IN_PROGRESS');

    const pageEnd = await recordAnnouncements(page, 'ticket-page-end');
    await page.getByRole('button', { name: 'Next page' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => shown.textContent()).toBe('Showing tickets 51–52.');
    expect((await focused(page)).text).toBe('Next page');
    // pressed at the last page and at the first: each says so, politely, the focus kept
    await page.keyboard.press('Enter');
    await expect.poll(pageEnd).toEqual(['This is the last page.']);
    expect((await focused(page)).text).toBe('Next page');
    expect(await shown.textContent()).toBe('Showing tickets 51–52.');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => shown.textContent()).toBe('Showing tickets 1–50.');
    await page.keyboard.press('Enter');
    await expect.poll(pageEnd).toEqual(['This is the last page.', 'This is the first page.']);
    expect((await focused(page)).text).toBe('Previous page');
    expect(new URL(page.url()).search).toBe('');

    await page.getByLabel('Status').focus();
    await page.keyboard.press('End');
    await expect.poll(() => page.getByLabel('Status').inputValue()).toBe('CLOSED');
    await expect.poll(() => shown.textContent()).toBe('No tickets with status Closed.');
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'the tickets list with no tickets yet says how to make one; opened at an address with a status that is none it says so in words and lists every status, not the API\'s variable error',
  async ({ page, app, keys }) => {
    await signIn(page, app.url, keys.agent, '/tickets');
    await expect.poll(() => page.getByRole('status').textContent()).toBe('No tickets yet. Create one with “New ticket”.');
    const ticketId = await createTicket(app, 'Any status');
    await page.goto('/tickets?status=BOGUS');
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('The address names no ticket status “BOGUS”: showing tickets of any status.');
    await page.getByRole('link', { name: `#${ticketId} Any status` }).waitFor();
    expect(await page.locator('main').textContent()).not.toMatch(/Variable|\$status/);
    expect(await page.getByLabel('Status').inputValue()).toBe('');
  },
  BROWSER_TEST_MS,
);

test(
  'a ticket or a delivery whose read fails (the server answering 503) is not called "not found": the error, "Try again" by keyboard opens the page with focus on its heading',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const ticket = await createTicket(app, 'Unread ticket');
    const hook = await createWebhook(app, jsonHook('Unread hook', `${receiver.url}/ok`));
    const delivery = await testWebhook(app, hook, ticket);
    await deliveryReaches(app, delivery, 'SUCCEEDED');
    // the page's read answered by a proxy whose upstream is restarting, while failing
    const read = await failOperations(page, ['ConsoleTicket', 'ConsoleDelivery']);

    for (const [path, title, heading] of [
      [`/tickets/${ticket}`, `Ticket ${ticket}`, `#${ticket} Unread ticket`],
      [`/deliveries/${delivery}`, `Delivery ${delivery}`, `Delivery ${delivery.slice(0, 8)}`],
    ] as const) {
      read.failing = true;
      if (path.startsWith('/tickets')) await signIn(page, app.url, keys.agent, path);
      else await page.goto(`${app.url}${path}`);
      await page.getByRole('alert').filter({ hasText: /HTTP 503|could not be reached/ }).waitFor();
      const main = page.getByRole('main');
      expect(await main.textContent()).not.toMatch(/not found|There is no/);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      expect(await main.textContent()).toContain('could not be read');

      read.failing = false;
      await page.getByRole('button', { name: 'Try again' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await expect.poll(() => focusedId(page)).toBe('page-title');
      expect(await runAxe(page)).toEqual([]);
    }
  },
  BROWSER_TEST_MS,
);

test(
  'a delivery cancelled while the reading of its page again fails (the server restarting) stays on its page: Cancelled shown and focused, not "could not be read"',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver(() => ({ status: 503 }));
    const ticket = await createTicket(app, 'Cancelled meanwhile');
    const down = await createWebhook(app, jsonHook('Down', `${receiver.url}/down`));
    const delivery = await testWebhook(app, down, ticket);
    await deliveryReaches(app, delivery, 'RETRYING');

    await signIn(page, app.url, keys.admin, `/deliveries/${delivery}`);
    const heading = `Delivery ${delivery.slice(0, 8)}`;
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    const read = await failOperations(page, ['ConsoleDelivery']);
    const reread = page.waitForResponse((r) => /query ConsoleDelivery\b/.test(r.request().postData() ?? '') && r.status() === 503);
    await page.getByRole('button', { name: 'Cancel delivery' }).click();
    await page.getByRole('group', { name: 'Cancel this delivery?' }).getByRole('button', { name: 'Confirm' }).click();
    await reread;
    await expect.poll(() => focused(page)).toEqual({ tag: 'dd', id: '', text: 'Cancelled' });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(heading);
    expect(await page.getByRole('status').filter({ hasText: 'Delivery cancelled.' }).count()).toBe(1);
    expect(await page.getByRole('main').textContent()).not.toContain('could not be read');
    await deliveryReaches(app, delivery, 'CANCELLED');
  },
  BROWSER_TEST_MS,
);

/**
 * Runs `change` and waits until its delivery event `type` has gone through the server's feed
 * (a subscriber of the test's own has it): a page subscribing after this never hears of it.
 */
async function changedUnheard(app: TestApp, type: string, change: () => Promise<string>): Promise<string> {
  const before = app.services.deliveryEvents.subscriberCount;
  const client = wsClient(app.url, app.adminAuth);
  const feed = collect<{ deliveryEvents: { type: string; delivery: { id: string } } }>(client, 'subscription { deliveryEvents { type delivery { id } } }');
  try {
    await waitFor(() => app.services.deliveryEvents.subscriberCount > before, { what: "the test's own subscription" });
    const id = await change();
    await waitFor(() => feed.events.some((e) => e.deliveryEvents.type === type && e.deliveryEvents.delivery.id === id), { what: `${type} of ${id} on the test's feed` });
    return id;
  } finally {
    feed.dispose();
    await client.dispose();
  }
}

test(
  'the delivery page, the ticket page and the deliveries log show a change made after their first read but before their live feed reached the server, without a reload, said once; the log while paused only on resume',
  async ({ page, app, keys, startReceiver }) => {
    // 500: each delivery retries, an hour away on the app's clock, and stays RETRYING until cancelled
    const receiver = await startReceiver(() => ({ status: 500, body: 'down' }));
    const webhookId = await createWebhook(app, jsonHook('Failing hook', `${receiver.url}/fail`));
    const ticketId = await createTicket(app, 'Watched ticket');
    const first = await testWebhook(app, webhookId, ticketId);
    const second = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, first, 'RETRYING');
    await deliveryReaches(app, second, 'RETRYING');
    const cancel = (id: string) => changedUnheard(app, 'CANCELLED', async () => {
      await app.ok('mutation ($id: ID!) { cancelDelivery(id: $id) { id } }', { id });
      return id;
    });
    const acks = await holdConnectionAcks(page);

    // the delivery page has read the delivery; it is cancelled before the page's feed is subscribed
    let ack = acks.next();
    await signIn(page, app.url, keys.admin, `/deliveries/${first}`);
    await page.getByRole('heading', { level: 1, name: `Delivery ${first.slice(0, 8)}` }).waitFor();
    await ack.held;
    const status = page.locator('dl.facts dd').first();
    expect(await status.textContent()).toContain('Retrying');
    await cancel(first);
    ack.release();
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toContain('Cancelled');
    await expect.poll(() => page.locator('p[aria-live="polite"].visually-hidden').textContent()).toBe('Now cancelled.');

    // the ticket page has read its deliveries; one is cancelled before the page's feed is subscribed
    ack = acks.next();
    await page.goto(`/tickets/${ticketId}`);
    await page.getByRole('heading', { level: 1, name: `#${ticketId} Watched ticket` }).waitFor();
    const deliveries = page.getByRole('region', { name: 'Deliveries' });
    const cancelled = deliveries.getByRole('link', { name: /Cancelled/ });
    await expect.poll(() => deliveries.getByRole('link', { name: /Retrying/ }).count()).toBe(1);
    expect(await cancelled.count()).toBe(1);
    await ack.held;
    const announced = await recordAnnouncements(page, 'ticket-delivery-changes');
    await cancel(second);
    ack.release();
    await expect.poll(() => cancelled.count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(announced).toHaveLength(1);
    expect((await announced())[0]).toMatch(/^Delivery to Failing hook.* is now cancelled\.$/);

    // the deliveries log has been read; a delivery is made (and attempted: no later event) before the page's feed is subscribed
    const made = () => changedUnheard(app, 'ATTEMPTED', () => testWebhook(app, webhookId, ticketId));
    const log = page.getByRole('region', { name: 'Log' });
    const shown = log.getByRole('status');
    const listed = (id: string) => log.getByRole('link', { name: `Delivery ${id.slice(0, 8)}` });
    ack = acks.next();
    await page.goto('/deliveries');
    await expect.poll(() => shown.textContent()).toBe('Showing 1–2 of 2 deliveries, newest first.');
    await ack.held;
    const third = await made();
    ack.release();
    await expect.poll(() => listed(third).count(), { timeout: 10_000 }).toBe(1);
    expect(await shown.textContent()).toBe('Showing 1–3 of 3 deliveries, newest first.');

    // the same with "Pause live updates" pressed: the page's clock moves only as the test says; the log stays as it is, read once resumed
    const feedsOnServer = (n: number) => waitFor(() => app.services.deliveryEvents.subscriberCount === n, { what: `${n} live feeds on the server` });
    await page.clock.install();
    ack = acks.next();
    await page.goto('/deliveries');
    await expect.poll(() => shown.textContent()).toBe('Showing 1–3 of 3 deliveries, newest first.');
    const pause = page.getByRole('button', { name: 'Pause live updates' });
    await pause.click();
    expect(await pause.getAttribute('aria-pressed')).toBe('true');
    await ack.held;
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1_000);
    const fourth = await made();
    const reads: string[] = [];
    page.on('request', (r) => void (/query ConsoleDeliveries\b/.test(r.postData() ?? '') && reads.push(r.url())));
    await feedsOnServer(0);
    ack.release();
    await feedsOnServer(1);
    await page.clock.runFor(SUBSCRIBE_SETTLE_MS);
    await page.clock.resume();
    await painted(page);
    expect(reads).toEqual([]);
    expect(await listed(fourth).count()).toBe(0);
    expect(await shown.textContent()).toBe('Showing 1–3 of 3 deliveries, newest first.');
    await pause.click();
    await expect.poll(() => listed(fourth).count(), { timeout: 10_000 }).toBe(1);
    expect(await shown.textContent()).toBe('Showing 1–4 of 4 deliveries, newest first.');
  },
  BROWSER_TEST_MS,
);

test(
  "a time on the page says its time zone (the browser's), in its text, and is an ISO instant in its <time datetime>: the delivery page and the log",
  async ({ browser, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Zoned', `${receiver.url}/in`));
    const id = await testWebhook(app, hook, await createTicket(app, 'Zoned ticket'));
    await deliveryReaches(app, id, 'SUCCEEDED');
    // India is UTC+5:30 all year (no daylight saving time)
    const india = await browser.newContext({ baseURL: app.url, timezoneId: 'Asia/Kolkata', locale: 'en-US' });
    try {
      const page = await india.newPage();
      await signIn(page, app.url, keys.admin, `/deliveries/${id}`);
      await page.getByRole('heading', { level: 1, name: `Delivery ${id.slice(0, 8)}` }).waitFor();
      const created = page.locator('dt:text-is("Created") + dd time');
      expect(await created.textContent()).toMatch(/GMT\+5:30$/);
      expect(new Date((await created.getAttribute('datetime'))!).toISOString()).toBe(await created.getAttribute('datetime'));
      await page.getByRole('link', { name: 'All deliveries' }).click();
      const row = page.getByRole('region', { name: 'Log' }).getByRole('row').filter({ hasText: `Delivery ${id.slice(0, 8)}` });
      expect(await row.locator('time').textContent()).toMatch(/GMT\+5:30$/);
    } finally {
      await india.close();
    }
  },
  BROWSER_TEST_MS,
);

test(
  'a delivery made final elsewhere while "Cancel delivery" or its Confirm has the focus: the button goes and focus goes to the status, which says Cancelled (not to the page\'s body)',
  async ({ page, app, keys, startReceiver }) => {
    // 500: each delivery retries, an hour away on the app's clock, and stays RETRYING until cancelled
    const receiver = await startReceiver(() => ({ status: 500, body: 'down' }));
    const webhookId = await createWebhook(app, jsonHook('Failing hook', `${receiver.url}/fail`));
    const ticketId = await createTicket(app, 'Watched ticket');
    const made = [await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId)];
    for (const id of made) await deliveryReaches(app, id, 'RETRYING');
    const cancelElsewhere = (id: string) => app.ok('mutation ($id: ID!) { cancelDelivery(id: $id) { id } }', { id });
    // the id of each ConsoleDelivery read the page sends: a page's first, then its reading again once its feed is live
    const reads: string[] = [];
    page.on('request', (r) => {
      const sent = r.postData() ?? '';
      if (/query ConsoleDelivery\(/.test(sent)) reads.push((JSON.parse(sent) as { variables: { id: string } }).variables.id);
    });

    for (const [i, id] of made.entries()) {
      if (i === 0) await signIn(page, app.url, keys.admin, `/deliveries/${id}`);
      else await page.goto(`/deliveries/${id}`);
      await page.getByRole('heading', { level: 1, name: `Delivery ${id.slice(0, 8)}` }).waitFor();
      const status = page.locator('dl.facts dd').first();
      const cancelButton = page.getByRole('button', { name: 'Cancel delivery' });
      await cancelButton.focus();
      // the first with the button focused, the second with its confirmation open (Confirm focused)
      if (i === 1) {
        await page.keyboard.press('Enter');
        await expect.poll(() => hasFocus(page.getByRole('button', { name: 'Confirm' }))).toBe(true);
      }
      // the page's feed is live (it has read the delivery again, as it does SUBSCRIBE_SETTLE_MS after its socket connects): the feed brings the change
      await expect.poll(() => reads.filter((r) => r === id).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      await cancelElsewhere(id);
      await expect.poll(() => status.textContent(), { timeout: 10_000 }).toContain('Cancelled');
      expect(await page.getByRole('button', { name: /Cancel delivery|Confirm/ }).count()).toBe(0);
      await expect.poll(() => hasFocus(status)).toBe(true);
    }
  },
  BROWSER_TEST_MS,
);
