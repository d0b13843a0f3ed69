/**
 * The Webhooks, Rules and Tickets lists whose reading fails (the server answering 503): the
 * error as an alert and "Try again", reached with the keyboard, which reads the list again
 * without a reload of the page; a reading that fails again is a new alert (announced again),
 * one that succeeds shows the list with focus on the page’s heading. The same for the
 * deliveries section of a ticket, on its own heading.
 */
import type { Locator, Page } from 'playwright-core';
import { expect, failOperations, focusedId, runAxe, signIn, test } from '../support/browser.js';
import { createRule, createTicket, createWebhook, jsonHook } from '../support/fixtures.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

/** The browser's globals inside page.evaluate (this file is compiled without the DOM library). */
type Dom = { document: any };

/** The focused element's text (a button's name). */
const focusedText = (page: Page) => page.evaluate(() => ((globalThis as unknown as Dom).document.activeElement?.textContent as string | undefined) ?? '');

/**
 * What a reading that failed offers, in `scope` (the page's main, or a section): "Try
 * again" reached by Tab from `heading` (whose id is `headingId`); pressed while the server
 * still fails, a new alert (said again) and focus waiting on the heading; pressed once it
 * answers (`read.failing` false), what was read (`shown`), no error, focus on the heading,
 * and no reload of the page.
 */
async function tryAgainTwice(page: Page, read: { failing: boolean }, { scope, heading, headingId, shown }: { scope: Locator; heading: Locator; headingId: string; shown: Locator }) {
  let loads = 0;
  const counted = () => void loads++;
  page.on('load', counted);
  const alert = scope.getByRole('alert').filter({ hasText: /HTTP 503|could not be reached/ });
  await alert.waitFor();

  await heading.focus();
  for (let i = 0; i < 6 && (await focusedText(page)) !== 'Try again'; i++) await page.keyboard.press('Tab');
  expect(await focusedText(page)).toBe('Try again');
  expect(await runAxe(page)).toEqual([]);

  // still failing: the alert goes while it is read and comes back as a new node (said again)
  await alert.evaluate((e) => e.setAttribute('data-said', ''));
  await page.keyboard.press('Enter');
  await expect.poll(() => scope.locator('[role="alert"]:not([data-said])').filter({ hasText: /HTTP 503|could not be reached/ }).count()).toBe(1);
  expect(await scope.locator('[role="alert"][data-said]').count()).toBe(0);
  await expect.poll(() => focusedId(page)).toBe(headingId);

  // the server back: what was read, its error and "Try again" gone, focus on the heading
  read.failing = false;
  await scope.getByRole('button', { name: 'Try again' }).press('Enter');
  await shown.waitFor();
  expect(await alert.count()).toBe(0);
  expect(await scope.getByRole('button', { name: 'Try again' }).count()).toBe(0);
  await expect.poll(() => focusedId(page)).toBe(headingId);
  page.off('load', counted);
  expect(loads).toBe(0);
  expect(await runAxe(page)).toEqual([]);
}

test(
  'a list that could not be read (Webhooks, Rules, Tickets): the error announced and "Try again" reached by Tab; failing again is a new alert; then the list, focus on its heading, no reload',
  async ({ page, app, keys }) => {
    await createWebhook(app, jsonHook('Listed hook', 'http://127.0.0.1:9/l'));
    await createRule(app, { name: 'Listed rule', events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    await createTicket(app, 'Listed ticket');
    const read = await failOperations(page, ['ConsoleWebhooks', 'ConsoleRules', 'ConsoleTickets']);
    for (const [path, title, item] of [
      ['/webhooks', 'Webhooks', 'Listed hook'],
      ['/rules', 'Rules', 'Listed rule'],
      ['/tickets', 'Tickets', 'Listed ticket'],
    ] as const) {
      read.failing = true;
      if (path === '/webhooks') await signIn(page, app.url, keys.admin, path);
      else await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: title, exact: true }).click();
      const heading = page.getByRole('heading', { level: 1, name: title });
      await heading.waitFor();
      const main = page.getByRole('main');
      await tryAgainTwice(page, read, { scope: main, heading, headingId: 'page-title', shown: main.getByText(item).first() });
    }
  },
  BROWSER_TEST_MS,
);

test(
  'a ticket whose deliveries could not be read: the error in its Deliveries section and "Try again" by Tab; failing again is a new alert; then the deliveries, focus on the section’s heading, no reload',
  async ({ page, app, keys }) => {
    const ticketId = await createTicket(app, 'Ticket with unread deliveries');
    const read = await failOperations(page, ['ConsoleTicketDeliveries']);
    await signIn(page, app.url, keys.admin, `/tickets/${ticketId}`);
    await page.getByRole('heading', { level: 1, name: /Ticket with unread deliveries/ }).waitFor();
    const section = page.getByRole('region', { name: 'Deliveries' });
    // the ticket itself is shown: only its deliveries could not be read
    await page.getByRole('main').getByText('Ticket with unread deliveries').first().waitFor();
    // the page reads its deliveries again once its live feed is connected (useLiveFeed): that
    // reading done (failed too), no reading of the page's own comes between the test's steps
    await expect.poll(() => read.failed, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await tryAgainTwice(page, read, {
      scope: section,
      heading: section.getByRole('heading', { level: 2, name: 'Deliveries' }),
      headingId: 'ticket-deliveries-heading',
      shown: section.getByText('No deliveries for this ticket.'),
    });
  },
  BROWSER_TEST_MS,
);
