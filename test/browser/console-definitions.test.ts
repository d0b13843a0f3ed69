/**
 * The admin's editors in the browser: a webhook built with the tag catalogue, its preview
 * following the body as it is typed, a save error next to the field it names, and a rule
 * (events, match, a condition from ruleFields, SEND_WEBHOOK with "Await response"),
 * reordered and switched off in the list.
 */
import type { Locator, Page } from 'playwright-core';
import { expect, runAxe, signIn, test, description } from '../support/browser.js';
import { createCustomFields, createRule, createTicket, createWebhook, jsonHook } from '../support/fixtures.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;


test(
  'a webhook through the form: tags inserted at the caret, the preview following the typing, a template error next to Body, then saved and tested',
  async ({ page, app, keys, startReceiver, offHost }) => {
    const receiver = await startReceiver();
    const ticketId = await createTicket(app, 'Console ticket');
    await signIn(page, app.url, keys.admin, '/webhooks');
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('link', { name: 'New webhook' }).click();
    await page.getByRole('heading', { level: 1, name: 'New webhook' }).waitFor();

    await page.getByLabel('Name', { exact: true }).fill('CRM');
    await page.getByLabel('Method', { exact: true }).selectOption('PUT');
    const url = page.getByLabel('URL', { exact: true });
    await url.fill(`${receiver.url}/tickets/`);
    const tags = page.getByRole('list', { name: 'Tags' });
    // the catalogue is searchable; a tag is a button named by its path
    await page.getByLabel('Search tags').fill('ticket.');
    await tags.getByRole('button', { name: 'ticket.id', exact: true }).click();
    expect(await url.inputValue()).toBe(`${receiver.url}/tickets/{{ ticket.id }}`);

    const body = page.getByLabel('Body', { exact: true });
    await body.click();
    await page.keyboard.type('{"title": "');
    await tags.getByRole('button', { name: 'ticket.title', exact: true }).click();
    // focus is back in Body, the caret after the tag
    await page.keyboard.type('"}');
    expect(await body.inputValue()).toBe('{"title": "{{ ticket.title }}"}');

    const ticket = page.getByLabel('Ticket', { exact: true });
    expect(await ticket.inputValue()).toBe(ticketId);
    const preview = page.getByRole('region', { name: 'Preview' });
    await expect.poll(() => preview.textContent()).toContain(`PUT ${receiver.url}/tickets/${ticketId}`);
    await expect.poll(() => preview.textContent()).toContain('{"title": "Console ticket"}');

    // typing on changes the preview, without saving
    await body.press('End');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(', "n": "typed"}');
    await expect.poll(() => preview.textContent()).toContain('{"title": "Console ticket", "n": "typed"}');

    // a tag the catalogue does not have: Save is refused, the error sits next to Body with its line:column
    await body.fill('{\n  "x": "{{ ticket.nope }}"\n}');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => body.getAttribute('aria-invalid')).toBe('true');
    const error = await description(body);
    expect(error).toMatch(/ticket\.nope/);
    expect(error).toMatch(/2:\d+/);
    // next to the field: in the same field group, right after it
    expect(await body.evaluate((el) => el.nextElementSibling?.id)).toBe((await body.getAttribute('aria-describedby'))?.split(' ')[0]);
    expect(await page.getByRole('alert').first().textContent()).toMatch(/not saved/);
    expect(await runAxe(page)).toEqual([]);

    await body.fill('');
    await body.click();
    await page.keyboard.type('{"id": "');
    await tags.getByRole('button', { name: 'ticket.id', exact: true }).click();
    await page.keyboard.type('"}');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook created.' }).count()).toBe(1);
    expect(await body.getAttribute('aria-invalid')).toBeNull();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const saved = (await app.ok('query ($id: ID!) { webhook(id: $id) { name method url body format } }', { id })).webhook;
    expect(saved).toEqual({ name: 'CRM', method: 'PUT', url: `${receiver.url}/tickets/{{ ticket.id }}`, body: '{"id": "{{ ticket.id }}"}', format: 'JSON' });

    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('link', { name: 'Open the test delivery' }).waitFor();
    const [sent] = await receiver.waitForRequests(1);
    expect(sent).toMatchObject({ method: 'PUT', url: `/tickets/${ticketId}`, body: `{"id": "${ticketId}"}` });
    expect(offHost).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'a rule through the form: events, match, a condition from ruleFields, SEND_WEBHOOK awaiting its response; reordered and switched off in the list',
  async ({ page, app, keys }) => {
    const webhookId = await createWebhook(app, jsonHook('Ticket sync', 'http://127.0.0.1:9/sync'));
    await createCustomFields(app, [{ key: 'vip', name: 'VIP', type: 'BOOLEAN' }]);
    const first = await createRule(app, {
      name: 'Existing rule',
      events: ['TICKET_UPDATED'],
      position: 1,
      actions: [{ type: 'ADD_COMMENT', value: 'updated' }],
    });
    await signIn(page, app.url, keys.admin, '/rules');
    await page.getByRole('heading', { level: 1, name: 'Rules' }).waitFor();
    await page.getByRole('link', { name: 'New rule' }).click();
    await page.getByRole('heading', { level: 1, name: 'New rule' }).waitFor();
    for (const name of ['Ticket created', 'Ticket updated', 'Reply added', 'Comment added']) await page.getByRole('checkbox', { name, exact: true }).waitFor();

    await page.getByLabel('Name', { exact: true }).fill('Urgent to CRM');
    await page.getByRole('checkbox', { name: 'Ticket created', exact: true }).check();
    await page.getByLabel('Match', { exact: true }).selectOption('ANY');
    await page.getByRole('button', { name: 'Add condition' }).click();
    const field = page.getByLabel('Field', { exact: true });
    // the pickers are fed by ruleFields: the value of an ENUM field is picked from its options
    expect(await field.evaluate((el) => el.tagName)).toBe('SELECT');
    await field.selectOption('priority');
    await page.getByLabel('Operator', { exact: true }).selectOption('EQUALS');
    // a status or priority in words; the value saved is the enum's
    const value = page.getByLabel('Value', { exact: true });
    expect(await value.getByRole('option').allTextContents()).toEqual(['Choose a value', 'Low', 'Normal', 'High', 'Urgent']);
    await value.selectOption({ label: 'Urgent' });
    // who wrote the newest reply, and a requester's role, in words too
    await page.getByRole('button', { name: 'Add condition' }).click();
    const second = page.getByRole('group', { name: 'Condition 2' });
    await second.getByLabel('Field', { exact: true }).selectOption('lastReplyAuthor');
    expect(await description(second.getByLabel('Field', { exact: true }))).toBe('Who wrote the newest reply: Client or Staff (empty: no replies).');
    expect(await second.getByLabel('Value', { exact: true }).getByRole('option').allTextContents()).toEqual(['Choose a value', 'Client', 'Staff']);
    await second.getByLabel('Field', { exact: true }).selectOption('requester.role');
    await second.getByLabel('Operator', { exact: true }).selectOption('EQUALS');
    const role = second.getByLabel('Value', { exact: true });
    expect(await role.getByRole('option').allTextContents()).toEqual(['Choose a value', 'Admin', 'Agent', 'Client']);
    await role.selectOption({ label: 'Agent' });
    // a yes-or-no custom field: Yes or No, saved as true or false
    await page.getByRole('button', { name: 'Add condition' }).click();
    const third = page.getByRole('group', { name: 'Condition 3' });
    await third.getByLabel('Field', { exact: true }).selectOption('custom.vip');
    expect(await description(third.getByLabel('Field', { exact: true }))).toBe('A custom field of the ticket; it holds yes or no.');
    const yesNo = third.getByLabel('Value', { exact: true });
    expect(await yesNo.getByRole('option').allTextContents()).toEqual(['Choose a value', 'Yes', 'No']);
    await yesNo.selectOption({ label: 'No' });
    await page.getByLabel('Action', { exact: true }).selectOption('SEND_WEBHOOK');
    await page.getByLabel('Webhook', { exact: true }).selectOption({ label: 'Ticket sync' });
    await page.getByRole('checkbox', { name: 'Await response' }).check();
    await page.getByRole('button', { name: 'Add action' }).click();
    await page.getByLabel('Action', { exact: true }).nth(1).selectOption('ADD_COMMENT');
    await page.getByLabel('Text', { exact: true }).fill('Sent to the CRM');
    await page.getByRole('button', { name: 'Add action' }).click();
    await page.getByLabel('Action', { exact: true }).nth(2).selectOption('SET_STATUS');
    await page.getByLabel('Status', { exact: true }).selectOption({ label: 'In progress' });
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Rule created.' }).count()).toBe(1);

    const rules = async () =>
      (
        await app.ok(
          '{ rules { id name enabled position events match conditions { field operator value } actions { type webhook { id } value awaitResponse } } }',
        )
      ).rules as any[];
    const created = (await rules()).find((r) => r.name === 'Urgent to CRM');
    expect(created).toMatchObject({
      enabled: true,
      position: 2,
      events: ['TICKET_CREATED'],
      match: 'ANY',
      conditions: [
        { field: 'priority', operator: 'EQUALS', value: 'URGENT' },
        { field: 'requester.role', operator: 'EQUALS', value: 'AGENT' },
        { field: 'custom.vip', operator: 'EQUALS', value: 'false' },
      ],
      actions: [
        { type: 'SEND_WEBHOOK', webhook: { id: webhookId }, awaitResponse: true },
        { type: 'ADD_COMMENT', value: 'Sent to the CRM', awaitResponse: false },
        { type: 'SET_STATUS', value: 'IN_PROGRESS' },
      ],
    });

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Rules', exact: true }).click();
    const list = page.getByRole('list', { name: 'Rules in order' });
    await expect.poll(() => list.getByRole('listitem').count()).toBe(2);
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Move Urgent to CRM up' }).click();
    await expect.poll(async () => (await rules()).map((r) => r.name)).toEqual(['Urgent to CRM', 'Existing rule']);
    await expect.poll(() => list.getByRole('link').allTextContents()).toEqual(['Urgent to CRM', 'Existing rule']);
    await page.getByRole('switch', { name: 'Existing rule enabled' }).click();
    await expect.poll(async () => (await rules()).find((r) => r.id === first.id)?.enabled).toBe(false);
    await expect.poll(() => page.getByRole('switch', { name: 'Existing rule enabled' }).isChecked()).toBe(false);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Existing rule disabled.');
  },
  BROWSER_TEST_MS,
);
