/**
 * The console's doors: sign-in (mouse and keyboard only), a refused key, a CLIENT key, the
 * navigation each role gets, sign-out, and the explorer running a query with the signed-in key.
 */
import { description, expect, hasFocus, holdOperation, runAxe, signIn, test } from '../support/browser.js';
import { ADMIN_EMAIL } from '../support/app.js';
import { createRule, createTicket, createWebhook, deliveryReaches, jsonHook } from '../support/fixtures.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

test(
  'sign in: "Signing in…" while the key is checked, focus kept, one check however often pressed; a wrong key is an alert, a CLIENT key is told the console is for staff, an ADMIN gets every screen; the key lasts the tab; sign out',
  async ({ page, app, keys, offHost }) => {
    await page.goto('/');
    const key = page.getByLabel('API key');
    await key.fill('not-a-key');
    // pressed by keyboard: while the key is checked the button says so and keeps the focus; pressed again, nothing more is sent
    const check = holdOperation(page, 'ConsoleWhoAmI');
    const button = page.getByRole('button', { name: /^Sign(ing)? in/ });
    await button.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => button.textContent()).toBe('Signing in…');
    expect(await button.getAttribute('aria-disabled')).toBe('true');
    expect(await hasFocus(button)).toBe(true);
    await page.keyboard.press('Enter');
    check.release();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not accepted/);
    expect(check.seen).toHaveLength(1);
    expect(await button.textContent()).toBe('Sign in');
    await expect.poll(() => hasFocus(key)).toBe(true);
    expect(await key.getAttribute('aria-invalid')).toBe('true');
    expect(await runAxe(page)).toEqual([]);

    await key.fill(keys.client);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/console is for staff/);
    expect(await page.getByRole('navigation').count()).toBe(0);

    await key.fill(keys.admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const nav = page.getByRole('navigation', { name: 'Console' });
    for (const name of ['Webhooks', 'Rules', 'Deliveries', 'Tickets', 'Explorer']) await nav.getByRole('link', { name, exact: true }).waitFor();
    // an ADMIN lands on the webhooks
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    expect(await page.getByRole('main').count()).toBe(1);
    expect(await page.getByText(ADMIN_EMAIL).count()).toBe(1);

    // the key is kept for the tab: a reload stays signed in
    await page.reload();
    await nav.getByRole('link', { name: 'Rules', exact: true }).waitFor();
    expect(await page.evaluate(() => Object.keys((globalThis as unknown as { localStorage: object }).localStorage).length)).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('deskhooks.apiKey'),
      ),
    ).toBeNull();
    await page.reload();
    await page.getByLabel('API key').waitFor();
    expect(offHost).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  "keyboard only: Tab to the field, type the key, Enter signs in (at / or at a screen's address) with focus on the screen's heading; the navigation is reachable with Tab",
  async ({ page, app, keys }) => {
    await page.goto('/');
    await page.getByLabel('API key').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe(
      'api-key',
    );
    await page.keyboard.type(keys.admin);
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Deliveries', exact: true }).waitFor();
    // focus lands on the first screen's heading; Tab goes on into the screen, Shift+Tab back to the navigation
    const focused = async () =>
      page.evaluate(() => {
        const el = (globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string | null } | null } }).document.activeElement;
        return `${el?.tagName.toLowerCase()}:${el?.textContent?.trim()}`;
      });
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await expect.poll(focused).toBe('h1:Webhooks');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('a:New webhook');
    const back: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Shift+Tab');
      back.push(await focused());
    }
    expect(back).toEqual(['button:Sign out', 'a:Explorer', 'a:Tickets']);
    // Enter on a focused link opens the screen and moves focus to its heading
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    await expect.poll(focused).toBe('h1:Tickets');
    // signed out and in again at this screen's address (no redirect): focus lands on its heading too
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(keys.admin);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    await expect.poll(focused).toBe('h1:Tickets');
  },
  BROWSER_TEST_MS,
);

test(
  'an AGENT sees deliveries, tickets and the explorer, and no webhook or rule editor; a rule hidden from agents is not called none',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Created hook', `${receiver.url}/created`));
    await createRule(app, { name: 'On creation', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }] });
    const ticket = await createTicket(app, 'Ruled ticket');
    let ruled: string | undefined;
    await expect
      .poll(async () => (ruled = (await app.ok('query ($t: ID) { deliveries(filter: { ticketId: $t }) { nodes { id } } }', { t: ticket })).deliveries.nodes[0]?.id), { timeout: 20_000 })
      .toBeTruthy();
    await deliveryReaches(app, ruled!, 'SUCCEEDED');

    await signIn(page, app.url, keys.agent);
    const nav = page.getByRole('navigation', { name: 'Console' });
    await page.getByRole('heading', { level: 1, name: 'Deliveries' }).waitFor();
    const links = await nav.getByRole('link').allTextContents();
    expect(links).toEqual(['Deliveries', 'Tickets', 'Explorer']);
    expect(await runAxe(page)).toEqual([]);

    // the editors' addresses do not open an editor either
    await page.goto('/webhooks/new');
    await page.getByRole('heading', { level: 1, name: 'Admins only' }).waitFor();
    expect(await page.getByLabel('Body').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
    await page.goto('/rules/new');
    await page.getByRole('heading', { level: 1, name: 'Admins only' }).waitFor();
    expect(await page.getByRole('button', { name: 'Add condition' }).count()).toBe(0);

    // an address that names nothing says so and leads back to its list
    await page.goto('/tickets/999999999');
    await page.getByRole('heading', { level: 1, name: 'Ticket not found' }).waitFor();
    await page.getByRole('link', { name: 'Back to tickets' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    await page.goto('/deliveries/00000000-0000-4000-8000-000000000000');
    await page.getByRole('heading', { level: 1, name: 'Delivery not found' }).waitFor();
    expect(await page.getByText('There is no delivery 00000000-0000-4000-8000-000000000000.').count()).toBe(1);

    // the API hides Delivery.rule from agents: the page does not say the delivery had none
    await page.goto(`/deliveries/${ruled}`);
    await page.getByRole('heading', { level: 1, name: `Delivery ${ruled!.slice(0, 8)}` }).waitFor();
    const facts = page.locator('dl.facts').first();
    await expect.poll(() => facts.textContent()).toContain('Rulenot shown to agents');
    expect(await facts.textContent()).not.toContain('none (a test or a redelivery)');
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  "the explorer runs { me { email } } with the signed-in key, from the console's own assets",
  async ({ page, app, keys, offHost }) => {
    await signIn(page, app.url, keys.admin);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Explorer', exact: true }).click();
    const editor = page.locator('.graphiql-query-editor .monaco-editor textarea').first();
    await editor.waitFor({ state: 'attached', timeout: 20_000 });
    await page.locator('.graphiql-query-editor .view-lines').first().click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ me { email } }');
    await page.getByRole('button', { name: /Execute query/ }).click();
    const result = page.locator('.graphiql-response .view-lines');
    await expect.poll(async () => (await result.textContent())?.replace(/\s+/g, ' '), { timeout: 10_000 }).toContain(`"email": "${ADMIN_EMAIL}"`);
    expect(await runAxe(page)).toEqual([]);
    expect(offHost).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  "the explorer's editors keep Tab for indenting: how to leave them by keyboard (Ctrl+M) is on the page and describes each editor, and it works",
  async ({ page, app, keys }) => {
    await signIn(page, app.url, keys.agent, '/explorer');
    const query = page.locator('.graphiql-query-editor .monaco-editor textarea').first();
    await query.waitFor({ state: 'attached', timeout: 30_000 });
    await expect.poll(() => description(query)).toMatch(/Tab indents: press Ctrl\+M to have Tab move the focus out of it/);
    expect(await page.locator('#explorer-keys-hint').isVisible()).toBe(true);

    await page.locator('.graphiql-query-editor .monaco-editor').first().click();
    await page.keyboard.press('Tab');
    expect(await hasFocus(query)).toBe(true);
    await page.keyboard.press('Control+m');
    await page.keyboard.press('Tab');
    expect(await hasFocus(query)).toBe(false);
    expect(await runAxe(page)).toEqual([]);
  },
  120_000,
);
