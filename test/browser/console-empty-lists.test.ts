/**
 * Lists that are empty: the text that says so stands alone, with no empty list beside it that a
 * screen reader would announce as "list, 0 items".
 */
import { expect, runAxe, signIn, test } from '../support/browser.js';
import { createTicket } from '../support/fixtures.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

test(
  'no rules yet, a ticket without posts: the text says so and no empty list stands beside it; the first post makes the list',
  async ({ page, app, keys }) => {
    const ticket = await createTicket(app, 'Quiet ticket');

    await signIn(page, app.url, keys.admin, '/rules');
    await page.getByText('No rules yet.').waitFor();
    expect(await page.getByRole('main').getByRole('list').count()).toBe(0);

    await page.goto(`${app.url}/tickets/${ticket}`);
    const posts = page.getByRole('region', { name: 'Posts' });
    await posts.getByText('No replies or comments yet.').waitFor();
    expect(await posts.getByRole('list').count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);

    await page.getByLabel('Reply or internal comment', { exact: true }).fill('First answer');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect.poll(() => posts.getByRole('listitem').count()).toBe(1);
    expect(await posts.getByText('No replies or comments yet.').count()).toBe(0);
  },
  BROWSER_TEST_MS,
);
