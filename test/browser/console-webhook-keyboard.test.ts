/**
 * The webhook editor by keyboard and screen reader: the preview of a long request is a box the
 * keyboard can scroll, named; "Add header" and "Add mapping" take focus to the row they add; a
 * tag chosen after the header value it was meant for was removed goes into Body; a tag search
 * that finds nothing says so, to the eye too.
 */
import type { Page } from 'playwright-core';
import { expect, focusedId, runAxe, signIn, test, type Keys } from '../support/browser.js';
import { createTicket, createWebhook, type TestApp } from '../support/fixtures.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

/** The browser's globals inside page.evaluate (this file is compiled without the DOM library). */
type Dom = { document: { activeElement: { getAttribute(name: string): string | null } | null } };

/** A webhook `name` with `body` made, its editor opened by the admin, once its heading and its tags are shown. */
async function openNewWebhook(page: Page, app: TestApp, keys: Keys, name: string, body: string): Promise<void> {
  const hook = await createWebhook(app, { name, method: 'POST', url: 'https://example.com/hook', format: 'JSON', body });
  await signIn(page, app.url, keys.admin, `/webhooks/${hook}`);
  await page.getByRole('heading', { level: 1, name: `Webhook: ${name}` }).waitFor();
  await page.getByRole('list', { name: 'Tags' }).getByRole('button').first().waitFor();
}

test(
  'webhook editor: a long preview scrolls in its own box, which Tab reaches by its name (“Request preview”) and axe finds nothing to fault',
  async ({ page, app, keys }) => {
    await createTicket(app, 'Preview me');
    const body = `{${Array.from({ length: 60 }, (_, i) => `"k${i}": "{{ ticket.title }}"`).join(', ')}}`;
    const hook = await createWebhook(app, { name: 'Long body', method: 'POST', url: 'https://example.com/hook', format: 'JSON', body });

    await signIn(page, app.url, keys.admin, `/webhooks/${hook}`);
    const box = page.getByRole('region', { name: 'Preview' }).locator('pre');
    await expect.poll(() => box.textContent()).toContain('"k59": "Preview me"');
    // it is taller than its box: it scrolls
    expect(await box.evaluate((e) => (e as unknown as { scrollHeight: number; clientHeight: number }).scrollHeight > (e as unknown as { clientHeight: number }).clientHeight)).toBe(true);

    await page.getByLabel('Ticket', { exact: true }).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as Dom).document.activeElement?.getAttribute('aria-label') ?? null)).toBe('Request preview');
    expect(await runAxe(page, '.preview')).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'webhook editor: Enter on “Add header” or “Add mapping” puts focus in the new row’s first field, where typing goes',
  async ({ page, app, keys }) => {
    await openNewWebhook(page, app, keys, 'Rows', '{}');

    await page.getByRole('button', { name: 'Add header' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => focusedId(page)).toBe('webhook-headers-0-name');
    await page.getByRole('button', { name: 'Add header' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => focusedId(page)).toBe('webhook-headers-1-name');
    await page.keyboard.type('X-Second');
    expect(await page.getByLabel('Header 2 name', { exact: true }).inputValue()).toBe('X-Second');

    await page.getByRole('button', { name: 'Add mapping' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => focusedId(page)).toBe('webhook-responseMappings-0-path');
    await page.keyboard.type('data.id');
    expect(await page.getByLabel('Mapping 1 response path', { exact: true }).inputValue()).toBe('data.id');
  },
  BROWSER_TEST_MS,
);

test(
  'webhook editor: a tag chosen after the header whose value had the caret was removed goes into Body, which the catalogue names and which takes focus',
  async ({ page, app, keys }) => {
    await openNewWebhook(page, app, keys, 'Tags', '');
    const catalogue = page.getByRole('region', { name: 'Template tags' });

    const addHeader = page.getByRole('button', { name: 'Add header' });
    await addHeader.click();
    await addHeader.click();
    await page.getByLabel('Header 2 value', { exact: true }).focus();
    expect(await catalogue.locator('strong').textContent()).toBe('Header 2 value');
    await page.getByRole('button', { name: 'Remove header 2' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('button', { name: /^Remove header/ }).count()).toBe(1);
    expect(await catalogue.locator('strong').textContent()).toBe('Body');

    await catalogue.getByRole('button', { name: 'ticket.title' }).focus();
    await page.keyboard.press('Enter');
    const body = page.getByLabel('Body', { exact: true });
    await expect.poll(() => body.inputValue()).toBe('{{ ticket.title }}');
    await expect.poll(() => focusedId(page)).toBe('webhook-body');
    expect(await page.getByLabel('Header 1 value', { exact: true }).inputValue()).toBe('');
  },
  BROWSER_TEST_MS,
);

test(
  'tag catalogue: a search that finds no tag says so on the page and to a screen reader, with no empty list; one that finds some says how many',
  async ({ page, app, keys }) => {
    await openNewWebhook(page, app, keys, 'Search', '{}');
    const catalogue = page.getByRole('region', { name: 'Template tags' });
    const list = catalogue.getByRole('list', { name: 'Tags' });
    const found = catalogue.getByRole('status');

    await page.getByLabel('Search tags').fill('zzqx');
    await expect.poll(() => found.textContent()).toBe('No tag matches “zzqx”.');
    expect(await found.isVisible()).toBe(true);
    expect(await list.count()).toBe(0);

    await page.getByLabel('Search tags').fill('ticket.title');
    await expect.poll(() => found.textContent()).toBe('1 tag matches.');
    expect(await list.getByRole('button').allTextContents()).toEqual(['ticket.title']);
  },
  BROWSER_TEST_MS,
);
