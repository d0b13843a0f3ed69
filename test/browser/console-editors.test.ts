/**
 * The editors and definition lists under pressure: a double-clicked "Send test" (one delivery,
 * its outcome shown live), a ticket older than the newest 50 picked by number, an auth type
 * switched away from a stored secret, the tag catalogue as one Tab stop, focus after removing
 * a row, moving a rule or switching it (keyboard only), health wording that does not
 * contradict itself, names with bidi controls isolated, and a 390 px wide window with long data.
 */
import type { Page } from 'playwright-core';
import { answerDialogs, expect, failOperations, runAxe, signIn, test, description, focusedId, hasFocus, holdOperation, painted } from '../support/browser.js';
import { createCustomFields, createRule, createTicket, createWebhook, deliveryReaches, jsonHook, testWebhook } from '../support/fixtures.js';

/** The browser's globals inside page.evaluate (this file is compiled without the DOM library). */
type Dom = { document: any; getComputedStyle(el: unknown): { unicodeBidi: string } };

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 120_000;

/** The focused element's accessible name as the tests name controls (aria-label, else its text). */
const focused = (page: Page) => page.evaluate(() => (globalThis as unknown as Dom).document.activeElement?.getAttribute('aria-label') ?? (globalThis as unknown as Dom).document.activeElement?.textContent ?? '');

/**
 * With two rows of `noun` (header, condition…), Enter on "Remove <noun> 1" twice: focus goes
 * to the remaining row's remove button, then to "Add <noun>".
 */
async function removeTwoRowsByKeyboard(page: Page, noun: string): Promise<void> {
  const removeButtons = page.getByRole('button', { name: new RegExp(`^Remove ${noun}`) });
  await page.getByRole('button', { name: `Remove ${noun} 1` }).focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => removeButtons.count()).toBe(1);
  await expect.poll(() => focused(page)).toBe(`Remove ${noun} 1`);
  await page.keyboard.press('Enter');
  await expect.poll(() => removeButtons.count()).toBe(0);
  await expect.poll(() => focused(page)).toBe(`Add ${noun}`);
}

/** The page's width as laid out: more than the window means the page scrolls sideways. */
const pageWidth = (page: Page) => page.evaluate(() => (globalThis as unknown as Dom).document.scrollingElement!.scrollWidth);


test(
  'webhook editor: a double-clicked Send test sends once and shows its outcome, any ticket by number, auth switch, one Tab stop for the tags, focus after removing a header',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver((req) => (req.url.startsWith('/fail') ? { status: 500, body: 'no' } : undefined));
    const oldest = await createTicket(app, 'The oldest ticket');
    for (let i = 0; i < 50; i++) await createTicket(app, `Newer ticket ${i}`);
    const newest = await createTicket(app, `A very long title ${'with many words '.repeat(20)}end`);
    const hook = await createWebhook(app, {
      ...jsonHook('Token hook', `${receiver.url}/ok`),
      body: '{"title": "{{ ticket.title }}"}',
      auth: { type: 'BEARER', secret: 'stored-token' },
    });

    await signIn(page, app.url, keys.admin, `/webhooks/${hook}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Token hook' }).waitFor();
    const ticket = page.getByLabel('Ticket', { exact: true });
    const preview = page.getByRole('region', { name: 'Preview' });
    await expect.poll(() => ticket.inputValue()).toBe(newest);

    // #5: a ticket older than the newest 50, by its number; the newest are suggestions
    expect(await page.locator('#preview-ticket-suggestions option').count()).toBe(50);
    await ticket.fill('abc');
    await expect.poll(() => ticket.getAttribute('aria-invalid')).toBe('true');
    expect(await description(page.getByLabel('Ticket', { exact: true }))).toMatch(/ticket number/);
    expect(await page.getByRole('button', { name: 'Send test' }).isDisabled()).toBe(true);
    await ticket.fill(oldest);
    await expect.poll(() => preview.textContent()).toContain('{"title": "The oldest ticket"}');
    expect(await ticket.getAttribute('aria-invalid')).toBeNull();
    expect(await description(page.getByLabel('Ticket', { exact: true }))).toContain(`#${oldest} The oldest ticket`);

    // #4 and #7: a double click is one test delivery; the status line follows it to Succeeded
    await page.getByRole('button', { name: 'Send test' }).dblclick();
    const status = page.getByRole('status').filter({ hasText: 'Test delivery queued.' });
    await status.getByRole('link', { name: 'Open the test delivery' }).waitFor();
    await expect.poll(() => status.locator('.badge').textContent(), { timeout: 20_000 }).toBe('Succeeded');
    const sent = await app.ok('query ($w: ID) { deliveries(filter: { webhookId: $w }) { totalCount } }', { w: hook });
    expect(sent.deliveries.totalCount).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.body).toBe('{"title": "The oldest ticket"}');
    expect(await page.getByRole('button', { name: 'Send test' }).isEnabled()).toBe(true);

    // #8: the stored token is kept only while its type stays selected
    const authType = page.getByLabel('Auth type', { exact: true });
    expect(await description(page.getByLabel('Token', { exact: true }))).toContain('leave empty to keep it');
    await authType.selectOption('BASIC');
    await page.getByLabel('Username', { exact: true }).fill('user');
    expect(await description(page.getByLabel('Password', { exact: true }))).not.toMatch(/leave empty|keep it/);
    expect(await description(page.getByLabel('Password', { exact: true }))).toMatch(/required/);
    await authType.selectOption('BEARER');
    expect(await description(page.getByLabel('Token', { exact: true }))).toContain('leave empty to keep it');

    // #12: the tag catalogue is one Tab stop; arrows, Home and End move in it
    const tags = page.getByRole('list', { name: 'Tags' });
    await tags.getByRole('button').first().waitFor();
    const tagCount = await tags.getByRole('button').count();
    expect(tagCount).toBeGreaterThan(3);
    await page.getByLabel('Search tags').focus();
    await page.keyboard.press('Tab');
    const first = await focused(page);
    expect(await tags.getByRole('button').first().textContent()).toBe(first);
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toBe(await tags.getByRole('button').nth(1).textContent());
    await page.keyboard.press('End');
    expect(await focused(page)).toBe(await tags.getByRole('button').last().textContent());
    await page.keyboard.press('Home');
    expect(await focused(page)).toBe(first);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as Dom).document.activeElement?.closest('ul')?.getAttribute('aria-label') ?? null)).toBeNull();
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toBe(first);

    // #11: removing a row moves focus to the next row's remove button, the previous one's, then "Add header"
    const addHeader = page.getByRole('button', { name: 'Add header' });
    await addHeader.click();
    await addHeader.click();
    await removeTwoRowsByKeyboard(page, 'header');
    expect(await runAxe(page)).toEqual([]);

    // #13: at 390 px the editor fits the window, with a long ticket title among the suggestions
    await page.setViewportSize({ width: 390, height: 844 });
    await ticket.fill(newest);
    await expect.poll(() => preview.textContent()).toContain('with many words');
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    const save = await page.getByRole('button', { name: 'Save' }).boundingBox();
    expect(save!.x + save!.width).toBeLessThanOrEqual(390);
  },
  BROWSER_TEST_MS,
);

test(
  'webhook editor by keyboard: Save and Send test keep focus while busy and after; a refused save focuses its field and says its problem as a sentence about it; an unknown ticket is marked at Ticket, focused',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const ticketId = await createTicket(app, 'Keyboard ticket');
    const hook = await createWebhook(app, jsonHook('Keyboard hook', `${receiver.url}/ok`));
    await signIn(page, app.url, keys.admin, `/webhooks/${hook}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Keyboard hook' }).waitFor();
    const ticket = page.getByLabel('Ticket', { exact: true });
    await expect.poll(() => ticket.inputValue()).toBe(ticketId);
    const save = page.getByRole('button', { name: 'Save' });
    const status = page.getByRole('status').filter({ hasText: /saved|queued/ });

    // a successful save: focus stays on Save, busy (aria-disabled) while it runs; a second Enter sends nothing
    const updates = holdOperation(page, 'ConsoleUpdateWebhook');
    await save.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => updates.seen.length).toBe(1);
    expect(await save.getAttribute('aria-disabled')).toBe('true');
    expect(await focused(page)).toBe('Save');
    await page.keyboard.press('Enter');
    updates.release();
    await expect.poll(() => status.textContent()).toBe('Webhook saved.');
    expect(await focused(page)).toBe('Save');
    expect(updates.seen).toHaveLength(1);
    expect(await save.getAttribute('aria-disabled')).toBeNull();

    // a refused save: focus on the field the server names
    const name = page.getByLabel('Name', { exact: true });
    await name.fill(' ');
    await save.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => focusedId(page)).toBe('webhook-name');
    // the server's "must not be empty" as a sentence about the control
    expect(await description(name)).toBe('Name must not be empty.');
    await name.fill('Keyboard hook');

    // Send test: focus stays on the button ("Sending…" while busy), the outcome in the status region
    const sendTest = page.getByRole('button', { name: 'Send test' });
    const tests = holdOperation(page, 'ConsoleTestWebhook');
    await sendTest.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => tests.seen.length).toBe(1);
    await expect.poll(() => focused(page)).toBe('Sending…');
    tests.release();
    await expect.poll(() => status.textContent()).toContain('Test delivery queued.');
    await expect.poll(() => focused(page)).toBe('Send test');
    await receiver.waitForRequests(1);

    // a ticket that does not exist: Ticket is invalid, says why, and has focus; typing another ticket clears it
    await ticket.fill('99999');
    await sendTest.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => ticket.getAttribute('aria-invalid')).toBe('true');
    expect(await description(ticket)).toContain('Ticket 99999 not found.');
    await expect.poll(() => focusedId(page)).toBe('preview-ticket');
    expect(await page.getByRole('alert').first().textContent()).toMatch(/test was not sent/);
    await ticket.fill(ticketId);
    await expect.poll(() => description(ticket)).toContain(`#${ticketId} Keyboard ticket`);
    expect(await ticket.getAttribute('aria-invalid')).toBeNull();
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'rule editor: Save keeps focus; a TIMER rule without a time condition is told at Conditions and counted; a time condition’s Value says how a duration is written; a condition’s errors go when its field or operator changes, and follow it when a row before it is removed; with no webhook yet the Webhook picker says how to make one',
  async ({ page, app, keys }) => {
    await createCustomFields(app, [{ key: 'order_no', name: 'Order number', type: 'NUMBER' }]);
    const rule = await createRule(app, { name: 'Timer rule', events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    await signIn(page, app.url, keys.admin, `/rules/${rule.id}`);
    await page.getByRole('heading', { level: 1, name: 'Rule: Timer rule' }).waitFor();
    const save = page.getByRole('button', { name: 'Save' });
    const alert = page.getByRole('form', { name: 'Rule' }).getByRole('alert').first();

    // an existing rule saved by keyboard: focus stays on Save
    const updates = holdOperation(page, 'ConsoleUpdateRule');
    await save.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => updates.seen.length).toBe(1);
    expect(await focused(page)).toBe('Save');
    await page.keyboard.press('Enter');
    updates.release();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Rule saved.' }).count()).toBe(1);
    expect(await focused(page)).toBe('Save');
    expect(updates.seen).toHaveLength(1);

    // two problems: the value next to Value (focused), the TIMER one at the Conditions group
    await page.getByRole('checkbox', { name: 'Timer', exact: true }).check();
    await page.getByRole('button', { name: 'Add condition' }).click();
    const conditions = page.getByRole('group', { name: 'Conditions', exact: true });
    const condition = conditions.getByRole('group', { name: 'Condition 1' });
    // a custom field is offered by its label, among the custom fields
    const fieldPicker = condition.getByLabel('Field', { exact: true });
    expect(await fieldPicker.locator('optgroup[label="Custom fields"] option').allTextContents()).toEqual(['Order number']);
    await fieldPicker.selectOption('custom.order_no');
    expect(await fieldPicker.evaluate((el) => (el as unknown as { selectedOptions: { textContent: string }[] }).selectedOptions[0]!.textContent)).toBe('Order number');
    const value = condition.getByLabel('Value', { exact: true });
    await value.fill('abc');
    const comment = page.getByRole('group', { name: 'Action 1' }).getByLabel('Text', { exact: true });
    await comment.fill('');
    await save.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => alert.textContent()).toBe('The rule was not saved: 3 problems.');
    expect(await value.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => focusedId(page)).toBe('rule-conditions-0-value');
    // each problem in an admin's words, at its control: labels and the pickers' names, no API paths or enum names
    expect(await description(value)).toBe('“abc” is not a number: Order number takes a number such as 42 or 3.5.');
    expect(await description(conditions)).toBe(
      'A rule run by the Timer event needs a condition “is greater than” on a time field (Time since created, Time since updated, Time since the newest reply, Time since the client’s newest reply, Time since the staff’s newest reply, Time since the newest internal comment), such as “Time since the newest reply is greater than 2h”.',
    );
    expect(await comment.getAttribute('aria-invalid')).toBe('true');
    expect(await description(comment)).toBe('Write the comment to add.');
    expect(await page.getByRole('form', { name: 'Rule' }).innerText()).not.toMatch(/custom\.|conditions\[|actions\[|GREATER_THAN|TIMER|ADD_COMMENT/);
    expect(await runAxe(page)).toEqual([]);
    await comment.fill('x');

    // a value's error goes when the condition's field changes, and when its operator does
    await page.getByRole('checkbox', { name: 'Timer', exact: true }).uncheck();
    await value.fill('1e400');
    await save.click();
    await expect.poll(() => alert.textContent()).toBe('The rule was not saved: 1 problem.');
    await expect.poll(() => description(value)).toMatch(/\S/);
    expect(await value.getAttribute('aria-invalid')).toBe('true');
    await condition.getByLabel('Field', { exact: true }).selectOption('title');
    await expect.poll(() => value.getAttribute('aria-invalid')).toBeNull();
    expect(await value.getAttribute('aria-describedby')).toBeNull();
    // a time condition's Value says how a duration is written before any save is refused
    await condition.getByLabel('Field', { exact: true }).selectOption('timeSinceLastReply');
    expect(await description(value)).toMatch(/^A duration: .*\(45s, 30m, 2h, 3d\), or a bare number of minutes\.$/);
    expect(await value.getAttribute('aria-invalid')).toBeNull();
    await condition.getByLabel('Field', { exact: true }).selectOption('custom.order_no');
    await value.fill('1e400');
    await save.click();
    await expect.poll(() => value.getAttribute('aria-invalid')).toBe('true');
    await condition.getByLabel('Operator', { exact: true }).selectOption('LESS_THAN');
    await expect.poll(() => value.getAttribute('aria-invalid')).toBeNull();

    // a refused value on condition 2; condition 1 removed: the problem follows its condition, now the first
    await page.getByRole('button', { name: 'Add condition' }).click();
    const second = conditions.getByRole('group', { name: 'Condition 2' });
    await second.getByLabel('Field', { exact: true }).selectOption('custom.order_no');
    await second.getByLabel('Value', { exact: true }).fill('1e400');
    await value.fill('5');
    await save.click();
    await expect.poll(() => second.getByLabel('Value', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await value.getAttribute('aria-invalid')).toBeNull();
    await page.getByRole('button', { name: 'Remove condition 1' }).click();
    await expect.poll(() => conditions.getByRole('group', { name: /^Condition / }).count()).toBe(1);
    expect(await value.inputValue()).toBe('1e400');
    expect(await value.getAttribute('aria-invalid')).toBe('true');
    expect(await description(value)).toMatch(/1e400/);

    // no webhook made yet: the Webhook picker says so and links to making one
    await page.getByRole('button', { name: 'Add action' }).click();
    const sending = page.getByRole('group', { name: 'Action 2' });
    await sending.getByLabel('Action', { exact: true }).selectOption('SEND_WEBHOOK');
    expect(await description(sending.getByLabel('Webhook', { exact: true }))).toBe('No webhooks yet: create a webhook first, then choose it here.');
    expect(await sending.getByRole('link', { name: 'create a webhook' }).getAttribute('href')).toBe('/webhooks/new');
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'lists: health wording, bidi names isolated, long names within the window; rules moved and switched by keyboard keep focus; removing a condition moves focus',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver(() => ({ status: 500, body: 'down' }));
    const ticketId = await createTicket(app, 'For the failing hook');
    const failing = await createWebhook(app, jsonHook('Failing hook', `${receiver.url}/fail`));
    const delivery = await testWebhook(app, failing, ticketId);
    await deliveryReaches(app, delivery, 'RETRYING', 'FAILED');
    const longName = `Unbroken${'x'.repeat(160)}`;
    const longHook = await createWebhook(app, jsonHook(longName, `${receiver.url}/${'p'.repeat(200)}`));
    await testWebhook(app, longHook, ticketId);
    await createWebhook(app, jsonHook('Billing \u202Egnitset', `${receiver.url}/b`));
    for (const [position, name] of ['Rule A', 'Rule B', 'Rule C'].entries()) {
      await createRule(app, {
        name,
        position: position + 1,
        events: ['TICKET_CREATED'],
        conditions: [
          { field: 'priority', operator: 'EQUALS', value: 'URGENT' },
          { field: 'priority', operator: 'EQUALS', value: 'HIGH' },
        ],
        actions: [{ type: 'ADD_COMMENT', value: 'x' }],
      });
    }

    // #15: a closed breaker with failing attempts is not called healthy
    await signIn(page, app.url, keys.admin, '/webhooks');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Failing hook' }) });
    await row.waitFor();
    const health = row.getByRole('cell').nth(2);
    await expect.poll(() => health.textContent()).toMatch(/100% of 1 attempt .*failed/);
    expect(await health.textContent()).not.toMatch(/healthy/i);

    // #14: names are isolated (their bidi controls reorder nothing around them), the live feed's too
    const billing = page.getByRole('link', { name: /Billing/ });
    expect(await billing.evaluate((a) => (globalThis as unknown as Dom).getComputedStyle(a.querySelector('bdi') ?? a).unicodeBidi)).toBe('isolate');
    expect(
      await page.evaluate(() => {
        const span = (globalThis as unknown as Dom).document.createElement('span');
        span.className = 'live-webhook';
        (globalThis as unknown as Dom).document.body.append(span);
        const bidi = (globalThis as unknown as Dom).getComputedStyle(span).unicodeBidi;
        span.remove();
        return bidi;
      }),
    ).toBe('isolate');

    // #13: a long unbroken name stays within the window at 1280 and at 390 px (the table scrolls in its own region)
    expect(await pageWidth(page)).toBeLessThanOrEqual(1280);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    expect(await page.getByRole('region', { name: 'Webhooks table' }).getAttribute('tabindex')).toBe('0');
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('link', { name: longName }).click();
    await page.getByRole('heading', { level: 1, name: `Webhook: ${longName}` }).waitFor();
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Deliveries', exact: true }).click();
    await page.getByRole('table').getByRole('cell', { name: longName }).first().waitFor();
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Tickets', exact: true }).click();
    await page.getByRole('link', { name: `#${ticketId} For the failing hook` }).waitFor();
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });

    // #10: keyboard only; focus stays on the control used, or the moved rule's other move button
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Rules', exact: true }).click();
    const list = page.getByRole('list', { name: 'Rules in order' });
    await expect.poll(() => list.getByRole('link').allTextContents()).toEqual(['Rule A', 'Rule B', 'Rule C']);
    await page.getByRole('button', { name: 'Move Rule B down' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => list.getByRole('link').allTextContents()).toEqual(['Rule A', 'Rule C', 'Rule B']);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Rule B moved down');
    // Rule B is last now: its "down" is disabled, so its "up" has focus
    await expect.poll(() => focused(page)).toBe('Move Rule B up');
    await page.keyboard.press('Enter');
    await expect.poll(() => list.getByRole('link').allTextContents()).toEqual(['Rule A', 'Rule B', 'Rule C']);
    await expect.poll(() => page.getByRole('button', { name: 'Move Rule B up' }).isEnabled()).toBe(true);
    await expect.poll(() => focused(page)).toBe('Move Rule B up');
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toBe('Rule B enabled');
    await page.keyboard.press('Space');
    await expect.poll(() => page.getByRole('switch', { name: 'Rule B enabled' }).isChecked()).toBe(false);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Rule B disabled.');
    await expect.poll(() => page.getByRole('switch', { name: 'Rule B enabled' }).isEnabled()).toBe(true);
    await expect.poll(() => focused(page)).toBe('Rule B enabled');
    expect(await runAxe(page)).toEqual([]);
    await page.keyboard.press('Space');
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Rule B enabled.');
    await expect.poll(() => focused(page)).toBe('Rule B enabled');

    // #11: removing a condition moves focus to the next condition's remove button, then to "Add condition"
    await page.getByRole('link', { name: 'Rule A' }).click();
    await page.getByRole('heading', { level: 1, name: 'Rule: Rule A' }).waitFor();
    await removeTwoRowsByKeyboard(page, 'condition');
  },
  BROWSER_TEST_MS,
);

test(
  'unsaved changes: following a link or signing out from an edited webhook or rule asks first; Cancel keeps the edit, a saved form leaves freely',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, { ...jsonHook('Kept hook', `${receiver.url}/ok`), auth: { type: 'BEARER', secret: 'stored-token' } });
    const rule = await createRule(app, { name: 'Kept rule', events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    const dialogs = answerDialogs(page);
    const { questions } = dialogs;
    const nav = page.getByRole('navigation', { name: 'Console' });

    await signIn(page, app.url, keys.admin, `/webhooks/${hook}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Kept hook' }).waitFor();
    // nothing changed: the link is followed without a question
    await nav.getByRole('link', { name: 'Rules', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Rules' }).waitFor();
    expect(questions).toEqual([]);
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Webhook: Kept hook' }).waitFor();

    // an edit, then the navigation's link and Sign out by keyboard: asked, Cancel keeps page and edit
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('Kept hook, renamed');
    await nav.getByRole('link', { name: 'Deliveries', exact: true }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => questions).toEqual(['Leave this page? Your changes to this webhook are not saved.']);
    expect(new URL(page.url()).pathname).toBe(`/webhooks/${hook}`);
    expect(await name.inputValue()).toBe('Kept hook, renamed');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => questions.length).toBe(2);
    expect(await name.inputValue()).toBe('Kept hook, renamed');

    // saved (a secret typed too, which the save empties again): leaving asks nothing
    await page.getByLabel('Token', { exact: true }).fill('new-token');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(1);
    await page.getByRole('link', { name: 'All webhooks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    expect(questions.length).toBe(2);

    // the rule editor alike, after a save too (a save that changes nothing else in the form); OK leaves
    await page.goto(`${app.url}/rules/${rule.id}`);
    await page.getByRole('heading', { level: 1, name: 'Rule: Kept rule' }).waitFor();
    const ruleName = page.getByLabel('Name', { exact: true });
    await ruleName.fill('Kept rule, saved');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Rule saved.' }).count()).toBe(1);
    await ruleName.fill('Kept rule, renamed');
    dialogs.accept = true;
    await page.getByRole('link', { name: 'All rules' }).click();
    await page.getByRole('heading', { level: 1, name: 'Rules' }).waitFor();
    expect(questions.slice(2)).toEqual(['Leave this page? Your changes to this rule are not saved.']);
  },
  BROWSER_TEST_MS,
);

test(
  "unsaved changes: the browser's Back and Forward from an edited rule, webhook or a ticket's unsent reply or priority ask first; Cancel stays with the edit and the address kept, OK leaves",
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Back hook', `${receiver.url}/ok`));
    const rule = await createRule(app, { name: 'Back rule', events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    const ticket = await createTicket(app, 'Back ticket');
    const dialogs = answerDialogs(page);
    const { questions } = dialogs;
    const path = () => new URL(page.url()).pathname;
    const heading = (name: string) => page.getByRole('heading', { level: 1, name }).waitFor();

    await signIn(page, app.url, keys.admin, '/rules');
    await heading('Rules');
    // no edit: Back and Forward never ask
    await page.getByRole('link', { name: 'Back rule' }).click();
    await heading('Rule: Back rule');
    await page.goBack();
    await heading('Rules');
    await page.goForward();
    await heading('Rule: Back rule');
    expect(questions).toEqual([]);

    // an edited rule: Back asks; Cancel stays on the editor, its address and the edit kept
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('Back rule, renamed');
    await page.goBack();
    await expect.poll(() => questions).toEqual(['Leave this page? Your changes to this rule are not saved.']);
    await expect.poll(path).toBe(`/rules/${rule.id}`);
    await heading('Rule: Back rule');
    expect(await name.inputValue()).toBe('Back rule, renamed');
    // the skip link makes an entry of the same page: Back from it leaves nothing, asks nothing
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).hash).toBe('#main');
    await page.goBack();
    await expect.poll(() => new URL(page.url()).hash).toBe('');
    expect(questions.length).toBe(1);
    expect(await name.inputValue()).toBe('Back rule, renamed');
    // Back again, OK: the list; Forward then opens the rule as saved, without a question
    dialogs.accept = true;
    await page.goBack();
    await heading('Rules');
    await expect.poll(path).toBe('/rules');
    expect(questions.length).toBe(2);
    await page.goForward();
    await heading('Rule: Back rule');
    expect(path()).toBe(`/rules/${rule.id}`);
    expect(await name.inputValue()).toBe('Back rule');
    expect(questions.length).toBe(2);

    // an edited webhook alike, Forward too: Cancel keeps it, OK goes on
    dialogs.accept = false;
    await page.goto(`${app.url}/webhooks`);
    await heading('Webhooks');
    await page.getByRole('link', { name: 'Back hook' }).click();
    await heading('Webhook: Back hook');
    await page.getByRole('link', { name: 'All webhooks' }).click();
    await heading('Webhooks');
    await page.goBack();
    await heading('Webhook: Back hook');
    expect(questions.length).toBe(2);
    const hookName = page.getByLabel('Name', { exact: true });
    await hookName.fill('Back hook, renamed');
    await page.goForward();
    await expect.poll(() => questions.slice(2)).toEqual(['Leave this page? Your changes to this webhook are not saved.']);
    await expect.poll(path).toBe(`/webhooks/${hook}`);
    expect(await hookName.inputValue()).toBe('Back hook, renamed');
    await page.goBack();
    await expect.poll(() => questions.length).toBe(4);
    await expect.poll(path).toBe(`/webhooks/${hook}`);
    expect(await hookName.inputValue()).toBe('Back hook, renamed');
    dialogs.accept = true;
    await page.goForward();
    await heading('Webhooks');
    expect(path()).toBe('/webhooks');
    expect(questions.length).toBe(5);
    await page.goBack();
    await heading('Webhook: Back hook');
    expect(await hookName.inputValue()).toBe('Back hook');

    // a ticket's unsent reply: Back asks, Cancel keeps the text; without it (and the priority as it was) Back leaves freely
    dialogs.accept = false;
    await page.goto(`${app.url}/tickets`);
    await heading('Tickets');
    await page.getByRole('link', { name: 'Back ticket' }).click();
    await heading(`#${ticket} Back ticket`);
    await page.getByLabel('Reply or internal comment', { exact: true }).fill('Not sent yet');
    await page.goBack();
    await expect.poll(() => questions.slice(5)).toEqual(['Leave this page? Your reply or comment is not sent.']);
    await expect.poll(path).toBe(`/tickets/${ticket}`);
    expect(await page.getByLabel('Reply or internal comment', { exact: true }).inputValue()).toBe('Not sent yet');
    await page.getByLabel('Reply or internal comment', { exact: true }).fill('');
    // a priority chosen and not saved alike
    const priority = page.getByLabel('Priority', { exact: true });
    await priority.selectOption('URGENT');
    await page.goBack();
    await expect.poll(() => questions.slice(6)).toEqual(['Leave this page? The status and priority you chose are not saved.']);
    await expect.poll(path).toBe(`/tickets/${ticket}`);
    expect(await priority.inputValue()).toBe('URGENT');
    await priority.selectOption('NORMAL');
    await page.goBack();
    await heading('Tickets');
    expect(questions.length).toBe(7);
    await page.goForward();
    await heading(`#${ticket} Back ticket`);
    expect(questions.length).toBe(7);
  },
  BROWSER_TEST_MS,
);

test(
  'a webhook or rule that could not be read (the server answering 503) is no empty form whose Save would replace it: the error and "Try again", which opens the editor with focus on its heading; a reading again after a save that fails keeps the editor',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, { ...jsonHook('Unread hook', `${receiver.url}/ok`), headers: [{ name: 'X-Kept', value: 'kept' }] });
    const rule = await createRule(app, { name: 'Unread rule', events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    // the definition's read answered by a proxy whose upstream is restarting, while failing
    const read = await failOperations(page, ['ConsoleWebhook', 'ConsoleRule']);

    for (const [path, title, name] of [
      [`/webhooks/${hook}`, `Webhook ${hook}`, 'Webhook: Unread hook'],
      [`/rules/${rule.id}`, `Rule ${rule.id}`, 'Rule: Unread rule'],
    ] as const) {
      read.failing = true;
      if (path.startsWith('/webhooks')) await signIn(page, app.url, keys.admin, path);
      else await page.goto(`${app.url}${path}`);
      await page.getByRole('alert').filter({ hasText: /HTTP 503|could not be reached/ }).waitFor();
      expect(await page.getByRole('form').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();

      read.failing = false;
      const again = page.getByRole('button', { name: 'Try again' });
      await again.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name }).waitFor();
      expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(name.split(': ')[1]);
      await expect.poll(() => focusedId(page)).toBe('page-title');
      expect(await runAxe(page)).toEqual([]);

      // saved, and the reading again that follows a save fails: the editor stays, with what is typed in it
      read.failing = true;
      const reread = page.waitForResponse((r) => /query (?:ConsoleWebhook|ConsoleRule)\b/.test(r.request().postData() ?? '') && r.status() === 503);
      const typed = page.getByLabel(path.startsWith('/webhooks') ? 'Success comment' : 'Description', { exact: true });
      await typed.fill('Saved while the server restarts');
      await page.getByRole('button', { name: 'Save' }).click();
      await reread;
      await painted(page);
      expect(await page.getByRole('status').filter({ hasText: /saved/i }).count()).toBe(1);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(name);
      expect(await typed.inputValue()).toBe('Saved while the server restarts');
      await typed.fill('Typed after');
      expect(await typed.inputValue()).toBe('Typed after');
    }
    const stored = await app.ok('query ($id: ID!) { webhook(id: $id) { name successComment headers { name value } } }', { id: hook });
    expect(stored.webhook).toEqual({ name: 'Unread hook', successComment: 'Saved while the server restarts', headers: [{ name: 'X-Kept', value: 'kept' }] });
  },
  BROWSER_TEST_MS,
);

test(
  'a stored secret header: its hint follows the "secret" box and the name (the server keeps the value of a secret header of that name), and a save with the box ticked again keeps the stored value',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const ticket = await createTicket(app, 'For the secret header');
    const hook = await createWebhook(app, { ...jsonHook('Secret header hook', `${receiver.url}/ok`), headers: [{ name: 'X-Api-Key', value: 'stored-key', secret: true }] });

    await signIn(page, app.url, keys.admin, `/webhooks/${hook}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Secret header hook' }).waitFor();
    const value = page.getByLabel('Header 1 value', { exact: true });
    const secret = page.getByLabel('Header 1 is secret', { exact: true });
    expect(await value.inputValue()).toBe('');
    expect(await description(value)).toContain('stored — leave empty to keep it');

    // no longer secret and empty: it says the stored value is not kept
    await secret.uncheck();
    expect(await description(value)).toMatch(/no longer secret: the stored value is not kept/);
    // secret again: the stored value is kept, as the server matches it by name (case aside)
    await secret.check();
    expect(await description(value)).toContain('stored — leave empty to keep it');
    await page.getByLabel('Header 1 name', { exact: true }).fill('X-Other-Key');
    expect(await description(value)).not.toMatch(/stored|no longer secret/);
    await page.getByLabel('Header 1 name', { exact: true }).fill('x-api-key');
    expect(await description(value)).toContain('stored — leave empty to keep it');

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: /saved/i }).waitFor();
    expect(await description(value)).toContain('stored — leave empty to keep it');
    await deliveryReaches(app, await testWebhook(app, hook, ticket), 'SUCCEEDED');
    expect(receiver.requests.at(-1)!.headers['x-api-key']).toBe('stored-key');
  },
  BROWSER_TEST_MS,
);

test(
  "a rule whose editor could not read its lists (webhooks, staff, custom fields, condition fields) shows the stored choices, not the 'Choose …' placeholders, and a save keeps them; a yes-or-no value written by hand is refused in the words the server accepts",
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Listed hook', `${receiver.url}/ok`));
    await createCustomFields(app, [
      { key: 'order_no', name: 'Order', type: 'TEXT' },
      { key: 'vip', name: 'VIP', type: 'BOOLEAN' },
    ]);
    const agents = await app.ok('{ users { id role } }');
    const agent = agents.users.find((u: { role: string }) => u.role === 'AGENT')!.id as string;
    const rule = await createRule(app, {
      name: 'Stored choices',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'custom.vip', operator: 'EQUALS', value: 'yes' }],
      actions: [
        { type: 'SEND_WEBHOOK', webhookId: hook },
        { type: 'SET_ASSIGNEE', value: agent },
        { type: 'SET_CUSTOM_FIELD', field: 'order_no', value: 'x' },
      ],
    });
    await failOperations(page, ['ConsoleRuleEditorSupport', 'ConsoleRuleFields']);

    await signIn(page, app.url, keys.admin, `/rules/${rule.id}`);
    await page.getByRole('heading', { level: 1, name: 'Rule: Stored choices' }).waitFor();
    const shown = (label: string) => page.getByLabel(label, { exact: true }).evaluate((el) => (el as unknown as { selectedOptions: { textContent: string }[] }).selectedOptions[0]!.textContent);
    expect(await shown('Webhook')).toBe(`Webhook ${hook} (as stored)`);
    expect(await shown('Assignee')).toBe(`User ${agent} (as stored)`);
    expect(await shown('Custom field key')).toBe('order_no (as stored)');

    // without the condition fields' list the value is written by hand: a yes-or-no field's refusal says all it takes
    const value = page.getByRole('group', { name: 'Condition 1' }).getByLabel('Value', { exact: true });
    expect(await value.inputValue()).toBe('true');
    await value.fill('maybe');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => value.getAttribute('aria-invalid')).toBe('true');
    expect(await description(value)).toBe('“maybe” is not yes or no: custom field vip takes yes, no, true, false, 1 or 0, in any case.');
    await value.fill('NO');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: /saved/i }).waitFor();
    const stored = await app.ok('query ($id: ID!) { rule(id: $id) { conditions { field operator value } actions { type webhook { id } field value } } }', { id: rule.id });
    expect(stored.rule.conditions).toEqual([{ field: 'custom.vip', operator: 'EQUALS', value: 'false' }]);
    expect(stored.rule.actions).toEqual([
      { type: 'SEND_WEBHOOK', webhook: { id: hook }, field: null, value: null },
      { type: 'SET_ASSIGNEE', webhook: null, field: null, value: agent },
      { type: 'SET_CUSTOM_FIELD', webhook: null, field: 'order_no', value: 'x' },
    ]);
  },
  BROWSER_TEST_MS,
);

test(
  'a save over a change made elsewhere (another tab, another admin) is held and says so, nothing written; Save again replaces it; the tab’s own saves never count as such a change',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const input = jsonHook('Shared hook', `${receiver.url}/ok`);
    const hook = await createWebhook(app, input);
    const rule = await createRule(app, { name: 'Shared rule', events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'ADD_COMMENT', value: 'hi' }] });
    // the editor form's alert (empty while there is nothing to say)
    const alert = page.locator('form.editor > [role=alert]');
    const save = page.getByRole('button', { name: 'Save' });
    const saved = async () => {
      await save.click();
      await page.getByRole('status').filter({ hasText: /saved/i }).waitFor();
      expect(await alert.textContent()).toBe('');
    };

    await signIn(page, app.url, keys.admin, `/webhooks/${hook}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Shared hook' }).waitFor();
    // saved twice in this tab: the second save replaces the first, no question asked
    await page.getByLabel('Success comment').fill('sent');
    await saved();
    await page.getByLabel('Name', { exact: true }).fill('Shared hook, renamed here');
    await saved();

    // another tab changes the URL; this tab, still showing the old one, renames it again
    await app.ok('mutation ($id: ID!, $input: WebhookInput!) { updateWebhook(id: $id, input: $input) { id } }', {
      id: hook,
      input: { ...input, name: 'Shared hook, renamed here', url: `${receiver.url}/elsewhere`, successComment: 'sent' },
    });
    await page.getByLabel('Name', { exact: true }).fill('Shared hook, third name');
    await save.click();
    await expect.poll(() => alert.textContent()).toMatch(/changed elsewhere .* Press Save again to replace them/);
    expect(await hasFocus(save)).toBe(true);
    const kept = await app.ok('query ($id: ID!) { webhook(id: $id) { name url } }', { id: hook });
    expect(kept.webhook).toEqual({ name: 'Shared hook, renamed here', url: `${receiver.url}/elsewhere` });
    // told once: Save again replaces it with this form
    await saved();
    const replaced = await app.ok('query ($id: ID!) { webhook(id: $id) { name url } }', { id: hook });
    expect(replaced.webhook).toEqual({ name: 'Shared hook, third name', url: `${receiver.url}/ok` });

    // a rule switched off in another tab is not switched back on by a stale editor's save
    await page.goto(`/rules/${rule.id}`);
    await page.getByRole('heading', { level: 1, name: 'Rule: Shared rule' }).waitFor();
    await app.ok('mutation ($id: ID!, $input: RuleInput!) { updateRule(id: $id, input: $input) { id } }', {
      id: rule.id,
      input: { name: 'Shared rule', enabled: false, events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'ADD_COMMENT', value: 'hi' }] },
    });
    await page.getByLabel('Name', { exact: true }).fill('Shared rule, renamed');
    await save.click();
    await expect.poll(() => alert.textContent()).toMatch(/this rule was changed elsewhere/);
    const off = await app.ok('query ($id: ID!) { rule(id: $id) { name enabled } }', { id: rule.id });
    expect(off.rule).toEqual({ name: 'Shared rule', enabled: false });
  },
  BROWSER_TEST_MS,
);
