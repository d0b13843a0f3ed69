/**
 * The Webhooks, Rules and Tickets lists whose reading fails (the server answering 503): the
 * error as an alert and "Try again", reached with the keyboard, which reads the list again
 * without a reload of the page; a reading that fails again is a new alert (announced again),
 * one that succeeds shows the list with focus on the page’s heading. The same for the
 * deliveries section of a ticket, on its own heading.
 */
import type { Page } from 'playwright-core';
import { expect, failOperations, focusedId, runAxe, signIn, test } from '../support/browser.js';
import { createRule, createTicket, createWebhook, jsonHook } from '../support/fixtures.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

/** The browser's globals inside page.evaluate (this file is compiled without the DOM library). */
type Dom = { document: any };

/** The focused element's text (a button's name). */
const focusedText = (page: Page) => page.evaluate(() => ((globalThis as unknown as Dom).document.activeElement?.textContent as string | undefined) ?? '');

test(
  'a list that could not be read (Webhooks, Rules, Tickets): the error announced and "Try again" reached by Tab; failing again is a new alert; then the list, focus on its heading, no reload',
  async ({ page, app, keys }) => {
    await createWebhook(app, jsonHook('Listed hook', 'http://127.0.0.1:9/l'));
    await createRule(app, { name: 'Listed rule', events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    await createTicket(app, 'Listed ticket');
    const read = await failOperations(page, ['ConsoleWebhooks', 'ConsoleRules', 'ConsoleTickets']);
    let loads = 0;
    page.on('load', () => loads++);

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
      const alert = page.getByRole('alert').filter({ hasText: /HTTP 503|could not be reached/ });
      await alert.waitFor();
      const loadsBefore = loads;

      // "Try again" by the keyboard: Tab from the heading reaches it
      await heading.focus();
      for (let i = 0; i < 6 && (await focusedText(page)) !== 'Try again'; i++) await page.keyboard.press('Tab');
      expect(await focusedText(page)).toBe('Try again');
      expect(await runAxe(page)).toEqual([]);

      // still failing: the alert goes while the list is read and comes back as a new node (said again)
      await alert.evaluate((e) => e.setAttribute('data-said', ''));
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('[role="alert"]:not([data-said])').filter({ hasText: /HTTP 503|could not be reached/ }).count()).toBe(1);
      expect(await page.locator('[role="alert"][data-said]').count()).toBe(0);
      await expect.poll(() => focusedId(page)).toBe('page-title');

      // the server back: the list, its error and "Try again" gone, focus on the heading
      read.failing = false;
      await page.getByRole('button', { name: 'Try again' }).press('Enter');
      await page.getByRole('main').getByText(item).first().waitFor();
      expect(await alert.count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Try again' }).count()).toBe(0);
      await expect.poll(() => focusedId(page)).toBe('page-title');
      expect(loads).toBe(loadsBefore);
      expect(await runAxe(page)).toEqual([]);
    }
  },
  BROWSER_TEST_MS,
);

test(
  'a ticket whose deliveries could not be read: the error in its Deliveries section and "Try again" by Tab; failing again is a new alert; then the deliveries, focus on the section’s heading, no reload',
  async ({ page, app, keys }) => {
    const ticketId = await createTicket(app, 'Ticket with unread deliveries');
    const read = await failOperations(page, ['ConsoleTicketDeliveries']);
    let loads = 0;
    page.on('load', () => loads++);
    await signIn(page, app.url, keys.admin, `/tickets/${ticketId}`);
    await page.getByRole('heading', { level: 1, name: /Ticket with unread deliveries/ }).waitFor();
    const section = page.getByRole('region', { name: 'Deliveries' });
    const alert = section.getByRole('alert').filter({ hasText: /HTTP 503|could not be reached/ });
    await alert.waitFor();
    const loadsBefore = loads;

    // the ticket itself is shown: only its deliveries could not be read
    await page.getByRole('main').getByText('Ticket with unread deliveries').first().waitFor();
    const heading = section.getByRole('heading', { level: 2, name: 'Deliveries' });
    await heading.focus();
    for (let i = 0; i < 6 && (await focusedText(page)) !== 'Try again'; i++) await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Try again');
    expect(await runAxe(page)).toEqual([]);

    // still failing: a new alert (said again), focus waiting on the section's heading
    await alert.evaluate((e) => e.setAttribute('data-said', ''));
    await page.keyboard.press('Enter');
    await expect.poll(() => section.locator('[role="alert"]:not([data-said])').filter({ hasText: /HTTP 503|could not be reached/ }).count()).toBe(1);
    expect(await section.locator('[role="alert"][data-said]').count()).toBe(0);
    await expect.poll(() => focusedId(page)).toBe('ticket-deliveries-heading');

    // the server back: the deliveries (none yet), the error and "Try again" gone, focus on the heading
    read.failing = false;
    await section.getByRole('button', { name: 'Try again' }).press('Enter');
    await section.getByText('No deliveries for this ticket.').waitFor();
    expect(await alert.count()).toBe(0);
    expect(await section.getByRole('button', { name: 'Try again' }).count()).toBe(0);
    await expect.poll(() => focusedId(page)).toBe('ticket-deliveries-heading');
    expect(loads).toBe(loadsBefore);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);
