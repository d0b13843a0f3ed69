/**
 * Words of the console as its users know them: the webhook body format FORM is offered as
 * "Form (x-www-form-urlencoded)", while the API is sent FORM as before.
 */
import { expect, runAxe, signIn, test } from '../support/browser.js';
import { createWebhook, jsonHook } from '../support/fixtures.js';

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
