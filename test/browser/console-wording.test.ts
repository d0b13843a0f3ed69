/**
 * Words of the console as its users know them: the webhook body format FORM is offered as
 * "Form (x-www-form-urlencoded)", while the API is sent FORM as before; the ticket's one text
 * box, which "Send reply" sends as a reply and "Add internal comment" adds as a comment, is
 * named for both.
 */
import { expect, runAxe, signIn, test } from '../support/browser.js';
import { createTicket, createWebhook, jsonHook } from '../support/fixtures.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

test(
  'webhook editor: the body format FORM reads "Form (x-www-form-urlencoded)"; chosen by that name it is saved as FORM and shown by that name again',
  async ({ page, app, keys }) => {
    const id = await createWebhook(app, jsonHook('Form hook', 'http://127.0.0.1:9/f'));
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Form hook' }).waitFor();
    const format = page.getByLabel('Format', { exact: true });
    const options = format.getByRole('option');
    expect(await options.allTextContents()).toEqual(['JSON', 'XML', 'Form (x-www-form-urlencoded)']);
    expect(await options.evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(['JSON', 'XML', 'FORM']);

    await format.selectOption({ label: 'Form (x-www-form-urlencoded)' });
    await page.getByLabel('Body', { exact: true }).fill('ticket={{ ticket.id }}');
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(1);
    expect((await app.ok('query ($id: ID!) { webhook(id: $id) { format body } }', { id })).webhook).toEqual({ format: 'FORM', body: 'ticket={{ ticket.id }}' });

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Webhook: Form hook' }).waitFor();
    expect(await format.inputValue()).toBe('FORM');
    expect(await format.evaluate((s) => (s as unknown as { selectedOptions: { text: string }[] }).selectedOptions[0]!.text)).toBe('Form (x-www-form-urlencoded)');
  },
  BROWSER_TEST_MS,
);

test(
  'ticket page: the text box that a reply and an internal comment are both written in is named for both, "Reply or internal comment", not "Reply"',
  async ({ page, app, keys }) => {
    const ticket = await createTicket(app, 'Named box');
    await signIn(page, app.url, keys.agent, `/tickets/${ticket}`);
    await page.getByRole('heading', { level: 1, name: `#${ticket} Named box` }).waitFor();
    const section = page.getByRole('region', { name: 'Reply or comment' });
    const box = section.getByRole('textbox');
    expect(await box.count()).toBe(1);
    expect(await section.getByRole('textbox', { name: 'Reply or internal comment', exact: true }).count()).toBe(1);
    expect(await section.getByRole('button').allTextContents()).toEqual(['Send reply', 'Add internal comment']);
    expect(await page.getByLabel('Reply', { exact: true }).count()).toBe(0);

    // the same box writes the comment
    await box.fill('Staff only');
    await section.getByRole('button', { name: 'Add internal comment' }).click();
    await section.getByText('Internal comment added: only staff can see it.').waitFor();
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);
