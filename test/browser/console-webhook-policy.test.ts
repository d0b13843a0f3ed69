/**
 * The webhook editor's delivery policy, signing secret, re-enable and delete in the browser:
 * the policy saved with the definition (and a bad value refused next to its field, nothing
 * stored), a rotated secret shown once, a webhook the system switched off (410 Gone) shown
 * with its reason and enabled again, and a delete refused while a rule sends the webhook.
 */
import type { Locator, Page } from 'playwright-core';
import { expect, runAxe, signIn, test, description, holdOperation, painted } from '../support/browser.js';
import { createRule, createTicket, createWebhook, deliveryReaches, jsonHook, testWebhook } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';

/** How often a webhook's page reads its health again (web/src/components/health.tsx HEALTH_POLL_MS). */
const HEALTH_POLL_MS = 10_000;

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 60_000;

/** The browser's globals inside page.evaluate (this file is compiled without the DOM library). */
type Dom = { document: any };

/** The focused element's accessible name as the tests name controls (aria-label, else its text), or its id. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = (globalThis as unknown as Dom).document.activeElement;
    return el?.getAttribute('aria-label') ?? (el?.tagName === 'INPUT' ? `#${el.id}` : (el?.textContent ?? ''));
  });


/** The page's updateWebhook requests from now on. */
function sentSaves(page: Page): string[] {
  const sent: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/graphql') && /mutation ConsoleUpdateWebhook\b/.test(r.postData() ?? '')) sent.push(r.postData()!);
  });
  return sent;
}

const POLICY = `query ($id: ID!) {
  webhook(id: $id) {
    enabled
    signing { enabled secretSet previousSecretValidUntil }
    successRule { statuses path operator value onFailure }
    ordering maxConcurrency rateLimitPerSecond
    health { disabledReason }
  }
}`;

test(
  'delivery policy through the form: saved with the definition; a bad value is refused next to its field and nothing is stored',
  async ({ page, app, keys }) => {
    const id = await createWebhook(app, jsonHook('Policy hook', 'http://127.0.0.1:9/p'));
    const policy = async () => (await app.ok(POLICY, { id })).webhook;
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Policy hook' }).waitFor();
    const group = page.getByRole('group', { name: 'Delivery policy' });
    await group.waitFor();
    const maxConcurrency = group.getByLabel('Max concurrency', { exact: true });
    const rate = group.getByLabel('Rate limit per second', { exact: true });
    const statuses = group.getByLabel('Success statuses', { exact: true });
    // the stored defaults
    expect(await maxConcurrency.inputValue()).toBe('10');
    expect(await rate.inputValue()).toBe('');
    expect(await statuses.inputValue()).toBe('200-399');
    expect(await group.getByLabel('Ordering', { exact: true }).inputValue()).toBe('NONE');
    expect(await group.getByRole('checkbox', { name: 'Sign requests' }).isChecked()).toBe(false);

    await maxConcurrency.fill('3');
    await rate.fill('2.5');
    await group.getByLabel('Ordering', { exact: true }).selectOption({ label: 'One at a time per ticket' });
    await statuses.fill('200,201');
    await group.getByLabel('Response path', { exact: true }).fill('data.ok');
    await group.getByLabel('Operator', { exact: true }).selectOption('EQUALS');
    await group.getByLabel('Value', { exact: true }).fill('true');
    await group.getByLabel('On failure', { exact: true }).selectOption({ label: 'Fail' });
    await group.getByRole('checkbox', { name: 'Sign requests' }).check();
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(1);
    const stored = {
      enabled: true,
      signing: { enabled: true, secretSet: false, previousSecretValidUntil: null },
      successRule: { statuses: '200,201', path: 'data.ok', operator: 'EQUALS', value: 'true', onFailure: 'FAIL' },
      ordering: 'PER_TICKET',
      maxConcurrency: 3,
      rateLimitPerSecond: 2.5,
      health: { disabledReason: null },
    };
    expect(await policy()).toEqual(stored);

    // statuses that are no status codes: refused by the server, the message next to the field
    await statuses.fill('abc');
    await maxConcurrency.fill('5');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => statuses.getAttribute('aria-invalid')).toBe('true');
    expect(await description(statuses)).toMatch(/"abc" is not a status code/);
    expect(await statuses.evaluate((el) => el.nextElementSibling?.nextElementSibling?.id)).toBe((await statuses.getAttribute('aria-describedby'))?.split(' ')[0]);
    expect(await page.getByRole('alert').first().textContent()).toMatch(/not saved/);
    await expect.poll(() => focused(page)).toBe(`#${await statuses.getAttribute('id')}`);
    expect(await runAxe(page)).toEqual([]);
    expect(await policy()).toEqual(stored);

    // a concurrency of 0: refused, next to Max concurrency; the statuses' error is gone
    await statuses.fill('200-299');
    await maxConcurrency.fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => maxConcurrency.getAttribute('aria-invalid')).toBe('true');
    expect(await description(maxConcurrency)).toMatch(/whole number from 1 to 1000/);
    expect(await statuses.getAttribute('aria-invalid')).toBeNull();
    expect(await policy()).toEqual(stored);

    // an empty rate limit is no limit
    await maxConcurrency.fill('4');
    await rate.fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(1);
    expect(await maxConcurrency.getAttribute('aria-invalid')).toBeNull();
    const saved = await policy();
    expect(saved).toMatchObject({ maxConcurrency: 4, rateLimitPerSecond: null, successRule: { statuses: '200-299' } });

    // a fraction the API's Int cannot carry: refused before sending, next to Max concurrency
    await maxConcurrency.fill('1.5');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => maxConcurrency.getAttribute('aria-invalid')).toBe('true');
    expect(await description(maxConcurrency)).toMatch(/whole number/);
    expect(await page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(0);
    expect(await policy()).toEqual(saved);

    // numbers beyond the API's bounds (and beyond GraphQL's Int): refused before sending, next to their fields
    const sent = sentSaves(page);
    await maxConcurrency.fill('99999999999');
    await rate.fill('20000');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => rate.getAttribute('aria-invalid')).toBe('true');
    expect(await maxConcurrency.getAttribute('aria-invalid')).toBe('true');
    expect(await description(maxConcurrency)).toMatch(/from 1 to 1000/);
    expect(await description(rate)).toMatch(/from 0.01 to 10,000/);
    expect(await page.getByRole('alert').first().textContent()).toMatch(/2 fields need attention/);
    expect(sent).toEqual([]);

    // a check operator that compares, its Value left empty: the API's refusal next to Value, nothing stored
    await maxConcurrency.fill('4');
    await rate.fill('');
    const value = group.getByLabel('Value', { exact: true });
    await value.fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => value.getAttribute('aria-invalid')).toBe('true');
    expect(await description(value)).toMatch(/value/i);
    expect(sent).toHaveLength(1);
    expect(await policy()).toEqual(saved);
  },
  BROWSER_TEST_MS,
);

test(
  'a success check EQUALS "" (empty text): shown as "Empty text" ticked, saved as "" and not as no value; an empty Value unticked is still refused',
  async ({ page, app, keys }) => {
    const id = await createWebhook(app, { ...jsonHook('Empty check', 'http://127.0.0.1:9/e'), successRule: { path: 'error', operator: 'EQUALS', value: '' } });
    const rule = async () => (await app.ok(POLICY, { id })).webhook.successRule;
    const stored = { statuses: '200-399', path: 'error', operator: 'EQUALS', value: '', onFailure: 'RETRY' };
    expect(await rule()).toEqual(stored);
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Empty check' }).waitFor();
    const group = page.getByRole('group', { name: 'Delivery policy' });
    const operator = group.getByLabel('Operator', { exact: true });
    const value = group.getByLabel('Value', { exact: true });
    const empty = group.getByRole('checkbox', { name: 'Empty text (“”)' });
    expect(await operator.inputValue()).toBe('EQUALS');
    expect(await value.inputValue()).toBe('');

    // a save of another field keeps the check as it is: "" is sent, not dropped to no value (which the API refuses)
    const sent = sentSaves(page);
    await group.getByLabel('Success statuses', { exact: true }).fill('200');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => sent.length).toBe(1);
    expect(JSON.parse(sent[0]!).variables.input.successRule).toMatchObject({ operator: 'EQUALS', value: '' });
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(1);
    expect(await rule()).toEqual({ ...stored, statuses: '200' });

    // the stored "" shown as it is: "Empty text" ticked, the Value field holding nothing and out of use
    expect(await empty.isChecked()).toBe(true);
    expect(await value.inputValue()).toBe('');
    expect(await value.isDisabled()).toBe(true);
    expect(await description(empty)).toMatch(/empty text/);
    expect(await runAxe(page)).toEqual([]);

    // unticked with an empty Value: no value, refused next to Value, nothing stored
    await empty.press('Space');
    expect(await empty.isChecked()).toBe(false);
    expect(await value.isDisabled()).toBe(false);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => value.getAttribute('aria-invalid')).toBe('true');
    expect(await description(value)).toMatch(/needs a value/);
    expect(await rule()).toEqual({ ...stored, statuses: '200' });

    // a value typed, then "Empty text" ticked: the field shows "", and the typed value comes back when it is unticked
    await value.fill('none');
    await empty.check();
    expect(await value.inputValue()).toBe('');
    await empty.uncheck();
    expect(await value.inputValue()).toBe('none');
    // ticked again: "" is saved
    await empty.check();
    await operator.selectOption('NOT_EQUALS');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await rule()).operator).toBe('NOT_EQUALS');
    expect(await rule()).toEqual({ ...stored, statuses: '200', operator: 'NOT_EQUALS' });

    // a number check offers no empty text (the API compares numbers there)
    await operator.selectOption('GREATER_THAN');
    expect(await empty.count()).toBe(0);
    await operator.selectOption('NOT_EQUALS');
    await empty.check();

    // after a reload: as stored
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Webhook: Empty check' }).waitFor();
    expect(await operator.inputValue()).toBe('NOT_EQUALS');
    expect(await empty.isChecked()).toBe(true);
    expect(await value.inputValue()).toBe('');
  },
  BROWSER_TEST_MS,
);

test(
  'rotate signing secret: confirmed (Escape cancels), the whsec_ secret shown once with Copy, after a reload only "Secret set"',
  async ({ page, app, keys }) => {
    const id = await createWebhook(app, jsonHook('Signed hook', 'http://127.0.0.1:9/s'));
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Signed hook' }).waitFor();
    const rotateButton = page.getByRole('button', { name: 'Rotate signing secret' });
    expect(await page.locator('#signing-secret-state').textContent()).toMatch(/No secret yet/);

    // Escape in the confirmation: nothing rotated, focus back on the button
    await rotateButton.click();
    const confirm = page.getByRole('group', { name: /Create a signing secret/ });
    await expect.poll(() => focused(page)).toBe('Confirm');
    await page.keyboard.press('Escape');
    await expect.poll(() => confirm.count()).toBe(0);
    await expect.poll(() => focused(page)).toBe('Rotate signing secret');
    expect((await app.ok(POLICY, { id })).webhook.signing.secretSet).toBe(false);

    await rotateButton.click();
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    const secretField = page.getByRole('textbox', { name: 'New signing secret' });
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(await secretField.getAttribute('readonly')).not.toBeNull();
    await expect.poll(() => focused(page)).toBe('#signing-secret-new');
    expect(await description(secretField)).toMatch(/will not be shown again/);
    expect(await page.getByRole('status').filter({ hasText: 'A new signing secret was created' }).count()).toBe(1);
    expect(await page.locator('#signing-secret-state').textContent()).toMatch(/Secret set/);
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: /copied|copy it with the keyboard/ }).count()).toBe(1);
    expect(await runAxe(page)).toEqual([]);

    // a second rotation: the previous secret keeps signing until the time shown
    await rotateButton.click();
    await page.getByRole('group', { name: /Create a new signing secret/ }).getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => secretField.inputValue()).not.toBe(secret);
    const second = await secretField.inputValue();
    expect(second).toMatch(/^whsec_/);
    expect(await description(secretField)).toMatch(/previous secret keeps signing too until/);
    const stored = (await app.ok(POLICY, { id })).webhook.signing;
    expect(stored.secretSet).toBe(true);
    expect(stored.previousSecretValidUntil).not.toBeNull();

    // never again: not after a reload, nowhere in the page
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Webhook: Signed hook' }).waitFor();
    await expect.poll(() => page.locator('#signing-secret-state').textContent()).toMatch(/Secret set/);
    expect(await secretField.count()).toBe(0);
    const html = await page.content();
    expect(html).not.toContain(second);
    expect(html).not.toContain('whsec_');
  },
  BROWSER_TEST_MS,
);

test(
  'a webhook switched off by the system (410 Gone): the reason in the list and the editor, "Enable webhook" switches it back on',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.script({ status: 410 });
    const id = await createWebhook(app, jsonHook('Gone hook', `${receiver.url}/gone`));
    const ticketId = await createTicket(app, 'gone');
    await deliveryReaches(app, await testWebhook(app, id, ticketId), 'FAILED');
    const reason = await waitFor(async () => (await app.ok(POLICY, { id })).webhook.health.disabledReason as string | null, { what: 'the webhook to be switched off' });
    expect(reason).toMatch(/410 Gone/);

    await signIn(page, app.url, keys.admin, '/webhooks');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Gone hook' }) });
    await row.waitFor();
    const stateColumn = (await page.getByRole('columnheader').allTextContents()).indexOf('State');
    expect(await row.getByRole('cell').nth(stateColumn - 1).textContent()).toBe(`Disabled by deskhooks: ${reason}`);

    await row.getByRole('link', { name: 'Gone hook' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhook: Gone hook' }).waitFor();
    const enableButton = page.getByRole('button', { name: 'Enable webhook' });
    await enableButton.waitFor();
    expect(await description(enableButton)).toContain(reason!);
    expect(await page.getByRole('checkbox', { name: 'Enabled', exact: true }).isChecked()).toBe(false);
    // Send test says what switches it back on: the button above, not a save
    const sendTest = page.getByRole('button', { name: 'Send test' });
    expect(await sendTest.isDisabled()).toBe(true);
    expect(await description(sendTest)).toMatch(/switched the webhook off.*Enable webhook \(above\)/);
    expect(await runAxe(page)).toEqual([]);

    // a double press: one request ("Enabling…" meanwhile)
    const enabling = holdOperation(page, 'ConsoleEnableWebhook');
    await enableButton.dblclick();
    await page.getByRole('button', { name: 'Enabling…' }).waitFor();
    enabling.release();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook enabled' }).count()).toBe(1);
    expect(enabling.seen).toHaveLength(1);
    expect(await enableButton.count()).toBe(0);
    expect(await page.getByRole('checkbox', { name: 'Enabled', exact: true }).isChecked()).toBe(true);
    await expect.poll(() => focused(page)).toBe('#webhook-enabled');
    expect((await app.ok(POLICY, { id })).webhook).toMatchObject({ enabled: true, health: { disabledReason: null } });

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Webhooks', exact: true }).click();
    await expect.poll(async () => row.getByRole('cell').nth(stateColumn - 1).textContent()).toBe('Enabled');
  },
  BROWSER_TEST_MS,
);

test(
  'delete webhook: Escape cancels; refused while a rule sends it (the alert names the rule, nothing deleted); after the rule is gone, deleted and back to the list',
  async ({ page, app, keys }) => {
    const id = await createWebhook(app, jsonHook('Doomed hook', 'http://127.0.0.1:9/d'));
    const rule = await createRule(app, { name: 'Sends the doomed hook', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: id }] });
    const stored = async () => (await app.ok('query ($id: ID!) { webhook(id: $id) { id } }', { id })).webhook;
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Doomed hook' }).waitFor();
    const deleteButton = page.getByRole('button', { name: 'Delete webhook' });
    const confirm = page.getByRole('group', { name: /Delete this webhook/ });

    await deleteButton.click();
    await expect.poll(() => focused(page)).toBe('Confirm');
    await page.keyboard.press('Escape');
    await expect.poll(() => confirm.count()).toBe(0);
    await expect.poll(() => focused(page)).toBe('Delete webhook');

    await deleteButton.click();
    expect(await runAxe(page)).toEqual([]);
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'not deleted' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('"Sends the doomed hook"');
    await expect.poll(() => focused(page)).toBe('Delete webhook');
    expect(await stored()).toEqual({ id });
    expect(new URL(page.url()).pathname).toBe(`/webhooks/${id}`);

    await app.ok('mutation ($id: ID!) { deleteRule(id: $id) }', { id: rule.id });
    await deleteButton.click();
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/webhooks');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook “Doomed hook” deleted.' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Doomed hook' }).count()).toBe(0);
    expect(await stored()).toBeNull();
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'a stale editor: a save that leaves Enabled alone keeps the webhook switched off as it is now; a delete answered after the user left leaves them where they went',
  async ({ page, app, keys }) => {
    const id = await createWebhook(app, jsonHook('Stale hook', 'http://127.0.0.1:9/st'));
    const input = jsonHook('Stale hook', 'http://127.0.0.1:9/st');
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Stale hook' }).waitFor();
    expect(await page.getByLabel('Enabled', { exact: true }).isChecked()).toBe(true);
    // switched off elsewhere (another admin, or the system) while this editor is open
    await app.ok('mutation ($id: ID!, $input: WebhookInput!) { updateWebhook(id: $id, input: $input) { id } }', { id, input: { ...input, enabled: false } });
    await page.getByLabel('Name', { exact: true }).fill('Stale hook, renamed');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(1);
    expect((await app.ok('query ($id: ID!) { webhook(id: $id) { name enabled } }', { id })).webhook).toEqual({ name: 'Stale hook, renamed', enabled: false });
    expect(await page.getByLabel('Enabled', { exact: true }).isChecked()).toBe(false);

    // a refusal that names no field (the webhook is gone meanwhile): the API's words, no count of fields
    const other = await createWebhook(app, jsonHook('Gone meanwhile', 'http://127.0.0.1:9/gm'));
    await page.goto(`${app.url}/webhooks/${other}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Gone meanwhile' }).waitFor();
    await app.ok('mutation ($id: ID!) { deleteWebhook(id: $id) }', { id: other });
    await page.getByRole('button', { name: 'Save' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'not saved' });
    await refused.waitFor();
    expect(await refused.textContent()).toBe(`The webhook was not saved: webhook ${other} not found`);
    await page.goto(`${app.url}/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Stale hook, renamed' }).waitFor();

    // Delete confirmed, then the user goes to the deliveries before the answer comes
    const held = holdOperation(page, 'ConsoleDeleteWebhook');
    await page.getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByRole('group', { name: /Delete this webhook/ }).getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => held.seen.length).toBe(1);
    await page.getByRole('navigation').getByRole('link', { name: 'Deliveries', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Deliveries' }).waitFor();
    held.release();
    await (await held.seen[0]!.response())!.finished();
    // the page has read the answer and painted after it
    await painted(page);
    expect((await app.ok('query ($id: ID!) { webhook(id: $id) { id } }', { id })).webhook).toBeNull();
    expect(new URL(page.url()).pathname).toBe('/deliveries');
    expect(await page.getByRole('heading', { level: 1, name: 'Deliveries' }).count()).toBe(1);
  },
  BROWSER_TEST_MS,
);

test(
  "a webhook's page shows its health: an open breaker (sending paused) and the recent failures; its closing is announced without a reload",
  async ({ page, app, keys, startReceiver }) => {
    let failing = true;
    const receiver = await startReceiver(() => (failing ? { status: 500, body: 'down' } : undefined));
    const id = await createWebhook(app, jsonHook('Tripped hook', `${receiver.url}/hook`));
    const ticketId = await createTicket(app, 'trips the breaker');
    for (let i = 0; i < 10; i++) await testWebhook(app, id, ticketId);
    const HEALTH = 'query ($id: ID!) { webhook(id: $id) { health { breaker } } }';
    await waitFor(async () => (await app.ok(HEALTH, { id })).webhook.health.breaker === 'OPEN', { what: 'the breaker to open', timeoutMs: 30_000 });

    // the page's clock: its next health reading comes when the test moves it on
    await page.clock.install();
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Tripped hook' }).waitFor();
    const breaker = page.getByRole('status').filter({ hasText: /^Breaker/ });
    await expect.poll(() => breaker.textContent()).toMatch(/^Breaker (open \(sending paused\)|half-open \(trying again\)) since /);
    expect(await page.locator('.webhook-health').textContent()).toMatch(/^Health: Breaker .* · \d+% of \d+ attempts in the last 5 min failed$/);
    expect(await runAxe(page)).toEqual([]);

    // the receiver recovers and an admin elsewhere closes the breaker: the page follows and announces it
    failing = false;
    await app.ok('mutation ($id: ID!) { enableWebhook(id: $id) { id } }', { id });
    await page.clock.fastForward(HEALTH_POLL_MS);
    await expect.poll(() => breaker.textContent()).toBe('Breaker closed');
  },
  BROWSER_TEST_MS,
);

test(
  "a webhook's health whose reading again fails (the server restarting) keeps its last reading: the breaker's status region does not empty",
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const id = await createWebhook(app, jsonHook('Steady hook', `${receiver.url}/hook`));
    await page.clock.install();
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Steady hook' }).waitFor();
    const breaker = page.getByRole('status').filter({ hasText: /^Breaker/ });
    await expect.poll(() => breaker.count()).toBe(1);
    const reads: string[] = [];
    const failed = page.waitForEvent('requestfailed', { predicate: (r) => /query ConsoleWebhookHealth\b/.test(r.postData() ?? '') });
    await page.route('**/graphql', (route) => {
      if (!/query ConsoleWebhookHealth\b/.test(route.request().postData() ?? '')) return route.fallback();
      reads.push('failed');
      return route.abort('connectionrefused');
    });
    await page.clock.fastForward(HEALTH_POLL_MS);
    await expect.poll(() => reads.length).toBeGreaterThan(0);
    // the failed read's outcome has rendered
    await failed;
    await painted(page);
    expect(await page.locator('.webhook-health [role="status"]').textContent()).toBe('Breaker closed');
    expect(await page.locator('.webhook-health').textContent()).toBe('Health: Breaker closed · no attempts in the last 5 min');
  },
  BROWSER_TEST_MS,
);

test(
  'a disabled webhook is offered no "Send test" (the API sends nothing for it): the button is disabled and says why until Enabled is saved, then it sends',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const id = await createWebhook(app, { ...jsonHook('Off hook', `${receiver.url}/ok`), enabled: false });
    const ticketId = await createTicket(app, 'off');
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Off hook' }).waitFor();
    await expect.poll(() => page.getByLabel('Ticket', { exact: true }).inputValue()).toBe(ticketId);
    const sendTest = page.getByRole('button', { name: 'Send test' });
    expect(await sendTest.isDisabled()).toBe(true);
    expect(await description(sendTest)).toMatch(/disabled.*enable it and save/);

    // checked, not saved yet: the stored webhook is still disabled
    const enabled = page.getByRole('checkbox', { name: 'Enabled', exact: true });
    await enabled.check();
    expect(await sendTest.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Webhook saved.' }).count()).toBe(1);
    await expect.poll(() => sendTest.isEnabled()).toBe(true);
    expect(await sendTest.getAttribute('aria-describedby')).toBeNull();
    expect(await runAxe(page)).toEqual([]);

    await sendTest.click();
    await page.getByRole('status').filter({ hasText: 'Test delivery queued.' }).waitFor();
    await receiver.waitForRequests(1);
    expect(await page.getByRole('alert').filter({ hasText: /not sent/ }).count()).toBe(0);
  },
  BROWSER_TEST_MS,
);

test(
  '"Send test" without a ticket to send it with (none typed, or none made yet) is disabled and says why beside it; a ticket number typed takes the reason away',
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const id = await createWebhook(app, jsonHook('Lonely hook', `${receiver.url}/ok`));
    await signIn(page, app.url, keys.admin, `/webhooks/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Webhook: Lonely hook' }).waitFor();
    const sendTest = page.getByRole('button', { name: 'Send test' });
    // no ticket yet
    await expect.poll(() => description(sendTest)).toBe('Create a ticket to send a test with it.');
    expect(await sendTest.isDisabled()).toBe(true);

    const ticketId = await createTicket(app, 'Now there is one');
    await page.reload();
    const ticket = page.getByLabel('Ticket', { exact: true });
    await expect.poll(() => ticket.inputValue()).toBe(ticketId);
    expect(await sendTest.getAttribute('aria-describedby')).toBeNull();
    await ticket.fill('');
    expect(await sendTest.isDisabled()).toBe(true);
    expect(await description(sendTest)).toBe('Enter a ticket number under Ticket to send a test with that ticket.');
    expect(await runAxe(page)).toEqual([]);
    await ticket.fill(ticketId);
    await expect.poll(() => sendTest.isEnabled()).toBe(true);
    expect(await sendTest.getAttribute('aria-describedby')).toBeNull();
  },
  BROWSER_TEST_MS,
);
