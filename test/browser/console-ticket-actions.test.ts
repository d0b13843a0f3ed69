/**
 * Acting from the console: deleting a rule from its editor (confirmed; Escape keeps it), and on
 * a ticket's page an agent's reply and internal comment (an empty text refused at its field,
 * nothing sent) and a status change whose rule's delivery then shows in the ticket's deliveries.
 */
import type { Page, Request } from 'playwright-core';
import { answerDialogs, expect, failOperations, hasFocus, runAxe, signIn, test, holdOperation, description, painted, recordAnnouncements } from '../support/browser.js';
import { addComment, addReply, createCustomFields, createRule, createTicket, createWebhook, deliveryReaches, getTicket, jsonHook, testWebhook, updateTicket } from '../support/fixtures.js';

/** How often a ticket's page reads the ticket again (web/src/screens/Ticket.tsx TICKET_POLL_MS). */
const TICKET_POLL_MS = 15_000;

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;

/** The browser's globals inside page.evaluate (this file is compiled without the DOM library). */
type Dom = { document: { activeElement: { tagName: string; id: string; textContent: string | null } | null } };

/** What has focus: its tag, its id and its text. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const e = (globalThis as unknown as Dom).document.activeElement;
    return { tag: e?.tagName.toLowerCase() ?? '', id: e?.id ?? '', text: e?.textContent?.trim() ?? '' };
  });


/** Every GraphQL operation the page sends, by name, from now on. */
function sentOperations(page: Page): string[] {
  const names: string[] = [];
  page.on('request', (r) => {
    if (!r.url().endsWith('/graphql') || r.method() !== 'POST') return;
    const name = /(?:query|mutation|subscription)\s+(\w+)/.exec(r.postData() ?? '')?.[1];
    if (name) names.push(name);
  });
  return names;
}

const ruleNames = async (app: { ok: (q: string) => Promise<any> }) => ((await app.ok('{ rules { name } }')).rules as { name: string }[]).map((r) => r.name);

test(
  'deleting a rule: the confirmation says what happens; Escape deletes nothing and gives focus back; Confirm deletes it once and the list says so',
  async ({ page, app, keys }) => {
    const rule = (name: string, position: number) =>
      createRule(app, { name, position, events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    await rule('Keep me', 1);
    const doomed = await rule('Delete me', 2);

    await signIn(page, app.url, keys.admin, `/rules/${doomed.id}`);
    await page.getByRole('heading', { level: 1, name: 'Rule: Delete me' }).waitFor();
    const deleteButton = page.getByRole('button', { name: 'Delete rule' });
    const confirmGroup = page.getByRole('group', { name: 'Delete this rule?' });

    // Enter opens the confirmation on Confirm; it tells what stays and what goes
    await deleteButton.focus();
    await page.keyboard.press('Enter');
    await confirmGroup.waitFor();
    await expect.poll(async () => (await focused(page)).text).toBe('Confirm');
    const said = (await confirmGroup.textContent())!;
    expect(said).toContain('waiting timers are dropped');
    expect(said).toContain('Deliveries it already made stay in the delivery log');
    expect(said).toContain('will not run');
    expect(await runAxe(page)).toEqual([]);

    // Escape: closed, focus back on "Delete rule", nothing deleted; "Keep it" the same
    await page.keyboard.press('Escape');
    await confirmGroup.waitFor({ state: 'detached' });
    await expect.poll(async () => (await focused(page)).text).toBe('Delete rule');
    await deleteButton.click();
    await confirmGroup.getByRole('button', { name: 'Keep it' }).click();
    await confirmGroup.waitFor({ state: 'detached' });
    await expect.poll(async () => (await focused(page)).text).toBe('Delete rule');
    expect(await ruleNames(app)).toEqual(['Keep me', 'Delete me']);

    // Enter three times on Confirm: one request ("Deleting…" meanwhile, focus kept), then the list, saying so
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).text).toBe('Confirm');
    const del = holdOperation(page, 'ConsoleDeleteRule');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).text).toBe('Deleting…');
    await page.keyboard.press('Enter');
    del.release();
    await page.waitForURL((u) => u.pathname === '/rules');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'deleted' }).textContent()).toBe('Rule “Delete me” deleted.');
    expect(del.seen).toHaveLength(1);
    const list = page.getByRole('list', { name: 'Rules in order' });
    await list.getByRole('link', { name: 'Keep me' }).waitFor();
    await expect.poll(() => list.getByRole('link', { name: 'Delete me' }).count()).toBe(0);
    expect(await ruleNames(app)).toEqual(['Keep me']);
    expect(await runAxe(page)).toEqual([]);

    // a delete answered after the user went elsewhere leaves them there
    const later = await rule('Delete me later', 2);
    await page.goto(`${app.url}/rules/${later.id}`);
    await page.getByRole('heading', { level: 1, name: 'Rule: Delete me later' }).waitFor();
    const held = holdOperation(page, 'ConsoleDeleteRule');
    await deleteButton.click();
    await confirmGroup.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => held.seen.length).toBe(1);
    await page.getByRole('navigation').getByRole('link', { name: 'Tickets', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    held.release();
    await (await held.seen[0]!.response())!.finished();
    // the page has read the answer and painted after it
    await painted(page);
    expect(await ruleNames(app)).toEqual(['Keep me']);
    expect(new URL(page.url()).pathname).toBe('/tickets');
  },
  BROWSER_TEST_MS,
);

test(
  'ticket page: an agent sends a reply and adds an internal comment, one request per press; an empty text is refused at its field and nothing is sent',
  async ({ page, app, keys }) => {
    const ticket = await createTicket(app, 'Printer on fire');
    await signIn(page, app.url, keys.agent, `/tickets/${ticket}`);
    await page.getByRole('heading', { level: 1, name: `#${ticket} Printer on fire` }).waitFor();
    const sent = sentOperations(page);
    const text = page.getByLabel('Reply or internal comment', { exact: true });
    const posts = page.getByRole('region', { name: 'Posts' }).getByRole('listitem');
    // which one the client sees is said at the field
    expect(await description(page.getByLabel('Reply or internal comment', { exact: true }))).toMatch(/requester sees it.*among staff/);

    // empty, then blank: the message at the field, the field invalid and focused; nothing sent
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect.poll(() => text.getAttribute('aria-invalid')).toBe('true');
    expect(await description(page.getByLabel('Reply or internal comment', { exact: true }))).toContain('Write the reply first: the text must not be empty.');
    expect((await focused(page)).id).toBe('post-text');
    await text.fill('   ');
    await page.getByRole('button', { name: 'Add internal comment' }).click();
    await expect.poll(() => description(page.getByLabel('Reply or internal comment', { exact: true }))).toContain('Write the internal comment first: the text must not be empty.');
    expect(await text.getAttribute('aria-invalid')).toBe('true');
    expect(sent.filter((n) => n === 'ConsoleAddReply' || n === 'ConsoleAddComment')).toEqual([]);
    expect((await getTicket(app, ticket)).posts).toEqual([]);
    expect(await runAxe(page)).toEqual([]);

    // a reply, the button double-clicked: one request, "Sending…" meanwhile; it shows as a reply
    await text.fill('We are on our way.');
    expect(await text.getAttribute('aria-invalid')).toBeNull();
    const reply = holdOperation(page, 'ConsoleAddReply');
    await page.getByRole('button', { name: 'Send reply' }).dblclick();
    const sending = page.getByRole('button', { name: 'Sending…' });
    await expect.poll(() => sending.getAttribute('aria-disabled')).toBe('true');
    // typed on while it is sent: kept when the answer comes
    await text.fill('We are on our way. And typed while it was sent.');
    reply.release();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Reply sent' }).textContent()).toBe('Reply sent: the client can see it.');
    expect(reply.seen).toHaveLength(1);
    await expect.poll(() => posts.count()).toBe(1);
    expect(await posts.nth(0).textContent()).toMatch(/Agent · reply · .*We are on our way\./);
    expect(await text.inputValue()).toBe('We are on our way. And typed while it was sent.');

    // an internal comment by Enter on its button
    await text.fill('Fire brigade called.');
    await page.getByRole('button', { name: 'Add internal comment' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'comment added' }).textContent()).toBe('Internal comment added: only staff can see it.');
    await expect.poll(() => posts.count()).toBe(2);
    expect(await posts.nth(1).textContent()).toMatch(/Agent · internal comment · .*Fire brigade called\./);
    // sent as it was: emptied for the next one
    expect(await text.inputValue()).toBe('');

    const stored = (await getTicket(app, ticket)).posts;
    expect(stored.map((p) => ({ kind: p.kind, text: p.text, by: p.author?.email }))).toEqual([
      { kind: 'REPLY', text: 'We are on our way.', by: 'agent@example.com' },
      { kind: 'COMMENT', text: 'Fire brigade called.', by: 'agent@example.com' },
    ]);
    expect(sent.filter((n) => n === 'ConsoleAddReply' || n === 'ConsoleAddComment')).toEqual(['ConsoleAddReply', 'ConsoleAddComment']);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  "ticket page: an agent's status change fires the TICKET_UPDATED rule, whose delivery appears in the ticket's deliveries",
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Resolved hook', `${receiver.url}/resolved`));
    await createRule(app, {
      name: 'Tell when resolved',
      events: ['TICKET_UPDATED'],
      conditions: [{ field: 'status', operator: 'CHANGED_TO', value: 'RESOLVED' }],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });
    const ticket = await createTicket(app, 'Broken login');

    await signIn(page, app.url, keys.agent, `/tickets/${ticket}`);
    const deliveries = page.getByRole('region', { name: 'Deliveries' });
    await deliveries.getByText('No deliveries for this ticket.').waitFor();
    const status = page.getByLabel('Status', { exact: true });
    const priority = page.getByLabel('Priority', { exact: true });
    expect(await status.inputValue()).toBe('OPEN');
    expect(await priority.inputValue()).toBe('NORMAL');
    // the pickers offer the words an agent reads (the options' accessible names too) and send the enum values
    expect(await status.getByRole('option').allTextContents()).toEqual(['Open', 'In progress', 'Waiting', 'Resolved', 'Closed']);
    expect(await priority.getByRole('option', { name: 'Urgent', exact: true }).getAttribute('value')).toBe('URGENT');

    // Save with nothing changed sends nothing
    const sent = sentOperations(page);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Nothing to save' }).waitFor();
    expect(sent).not.toContain('ConsoleUpdateTicket');

    // Resolved and High: saved, one request, the page's facts follow in words; the rule's delivery is listed, then Succeeded
    await status.selectOption({ label: 'Resolved' });
    await priority.selectOption({ label: 'High' });
    const save = holdOperation(page, 'ConsoleUpdateTicket');
    await page.getByRole('button', { name: 'Save' }).dblclick();
    await expect.poll(() => page.getByRole('button', { name: 'Saving…' }).getAttribute('aria-disabled')).toBe('true');
    save.release();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).textContent()).toBe('Saved: status Resolved, priority High.');
    expect(save.seen).toHaveLength(1);
    const facts = page.locator('dl.facts');
    await expect.poll(() => facts.textContent()).toMatch(/StatusResolvedPriorityHigh/);
    expect(await getTicket(app, ticket)).toMatchObject({ status: 'RESOLVED', priority: 'HIGH' });

    // an agent is not shown webhook definitions: the delivery is named by its URL's host
    const listed = deliveries.getByRole('link', { name: new RegExp(`^${new URL(receiver.url).host.replace(/\./g, '\\.')}`) });
    await listed.waitFor({ timeout: 20_000 });
    await expect.poll(() => listed.locator('.badge').textContent(), { timeout: 20_000 }).toBe('Succeeded');
    expect(receiver.requests.map((r) => r.url)).toEqual(['/resolved']);
    expect(await deliveries.getByRole('link').count()).toBe(1);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  "ticket page: a burst of the ticket's deliveries reloads its list at most once per 300 ms, and the list ends complete",
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Burst hook', `${receiver.url}/burst`));
    const ticket = await createTicket(app, 'Busy ticket');
    await signIn(page, app.url, keys.admin, `/tickets/${ticket}`);
    const deliveries = page.getByRole('region', { name: 'Deliveries' });
    await deliveries.getByText('No deliveries for this ticket.').waitFor();
    // when the page sent each reload, by the browser's clock (the test's own would see the
    // requests as late as a loaded machine hands them over, closer together than sent)
    const reloads: number[] = [];
    page.on('requestfinished', (r) => {
      if (r.url().endsWith('/graphql') && /query ConsoleTicketDeliveries\b/.test(r.postData() ?? '')) reloads.push(r.timing().startTime);
    });
    const made: string[] = [];
    for (let i = 0; i < 12; i++) made.push(await testWebhook(app, hook, ticket));
    for (const id of made) await deliveryReaches(app, id, 'SUCCEEDED');
    await expect.poll(() => deliveries.getByText('Succeeded', { exact: true }).count(), { timeout: 20_000 }).toBe(12);
    // 12 deliveries, 3 events each (queued, attempted, succeeded): reloads a window apart, not
    // one per event (those would go out milliseconds apart). The window's timers are 300 ms
    // apart; a request goes out once the page has rendered after its timer, which a loaded
    // machine delays, so a gap is judged with half the window as slack
    expect(reloads.length).toBeGreaterThan(0);
    reloads.sort((a, b) => a - b);
    const gaps = reloads.slice(1).map((t, i) => t - reloads[i]!);
    expect(gaps.filter((g) => g < 150)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'rules list: switching a rule deleted in another tab says so in words, reloads the list and puts focus on the rule now in its place; switching one changed in another tab keeps that change',
  async ({ page, app, keys }) => {
    const made: string[] = [];
    for (const [position, name] of ['Rule A', 'Rule B', 'Rule C'].entries()) {
      made.push((await createRule(app, { name, position: position + 1, events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'x' }] })).id);
    }
    await signIn(page, app.url, keys.admin, '/rules');
    const list = page.getByRole('list', { name: 'Rules in order' });
    await expect.poll(() => list.getByRole('link').allTextContents()).toEqual(['Rule A', 'Rule B', 'Rule C']);

    // Rule B goes (another tab, another admin); here it is still listed, and its switch is used by keyboard
    await app.ok('mutation ($id: ID!) { deleteRule(id: $id) }', { id: made[1] });
    await page.getByRole('switch', { name: 'Rule B enabled' }).focus();
    await page.keyboard.press('Space');
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Rule “Rule B” no longer exists (it was deleted elsewhere); the list was reloaded.');
    await expect.poll(() => list.getByRole('link').allTextContents()).toEqual(['Rule A', 'Rule C']);
    await expect.poll(async () => (await focused(page)).id).toBe(`enabled-${made[2]}`);
    expect(await page.content()).not.toMatch(/not found/);
    expect(await ruleNames(app)).toEqual(['Rule A', 'Rule C']);

    // the last rule moved by keyboard after it is gone: focus on the rule before it
    await app.ok('mutation ($id: ID!) { deleteRule(id: $id) }', { id: made[2] });
    await page.getByRole('button', { name: 'Move Rule C up' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Rule “Rule C” no longer exists (it was deleted elsewhere); the list was reloaded.');
    await expect.poll(() => list.getByRole('link').allTextContents()).toEqual(['Rule A']);
    // Rule A is alone: both its move buttons are disabled, so its switch has focus
    await expect.poll(async () => (await focused(page)).id).toBe(`enabled-${made[0]}`);
    expect(await runAxe(page)).toEqual([]);

    // Rule A's action changed elsewhere after the list was read: switching it here keeps that change
    await app.ok('mutation ($id: ID!, $input: RuleInput!) { updateRule(id: $id, input: $input) { id } }', {
      id: made[0],
      input: { name: 'Rule A', position: 1, events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'changed elsewhere' }] },
    });
    await page.keyboard.press('Space');
    await page.getByRole('status').filter({ hasText: 'Rule A disabled.' }).waitFor();
    const stored = await app.ok('query ($id: ID!) { rule(id: $id) { enabled actions { value } } }', { id: made[0] });
    expect(stored.rule).toEqual({ enabled: false, actions: [{ value: 'changed elsewhere' }] });
  },
  BROWSER_TEST_MS,
);

test(
  "ticket page: changes of the ticket's deliveries (a new one, its status) are announced politely, not the whole list; the same sentence again is announced again",
  async ({ page, app, keys, startReceiver }) => {
    // each request is held until the test answers it
    const held: (() => void)[] = [];
    const receiver = await startReceiver(() => new Promise((resolve) => held.push(() => resolve({ status: 200, body: 'ok' }))));
    const hook = await createWebhook(app, jsonHook('Slow hook', `${receiver.url}/slow`));
    const ticket = await createTicket(app, 'Watched ticket');
    await signIn(page, app.url, keys.admin, `/tickets/${ticket}`);
    const deliveries = page.getByRole('region', { name: 'Deliveries' });
    await deliveries.getByText('No deliveries for this ticket.').waitFor();
    const changes = deliveries.locator('#ticket-delivery-changes');
    expect(await changes.getAttribute('aria-live')).toBe('polite');
    expect(await changes.textContent()).toBe('');
    // every text the live region is given, in order (what a screen reader is handed)
    const announced = await recordAnnouncements(page, 'ticket-delivery-changes');

    // a new delivery (its request held at the receiver): announced as new, while the list is no live region
    const first = await testWebhook(app, hook, ticket);
    await receiver.waitForRequests(1);
    await expect.poll(() => changes.textContent(), { timeout: 20_000 }).toMatch(/^New delivery to Slow hook: (pending|retrying)\.$/);
    expect(await deliveries.getByRole('list').getAttribute('aria-live')).toBe(null);
    const second = await testWebhook(app, hook, ticket);
    await receiver.waitForRequests(2);
    await expect.poll(async () => (await announced()).filter((t) => t.startsWith('New delivery')).length, { timeout: 20_000 }).toBe(2);
    // answered one after the other: each new status is announced, only its, though the sentences are the same
    for (const id of [first, second]) {
      held.shift()!();
      await deliveryReaches(app, id, 'SUCCEEDED');
      await expect.poll(() => changes.textContent(), { timeout: 20_000 }).toBe('Delivery to Slow hook is now succeeded.');
    }
    await expect.poll(async () => (await announced()).filter((t) => t === 'Delivery to Slow hook is now succeeded.').length, { timeout: 20_000 }).toBe(2);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  "ticket page: a reply written and not sent, or a priority chosen and not saved, is not lost to a link: leaving asks first, Cancel keeps it; once sent or saved the page leaves freely",
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const ticketId = await createTicket(app, 'Draft kept');
    const hook = await createWebhook(app, jsonHook('Draft hook', `${receiver.url}/ok`));
    await deliveryReaches(app, await testWebhook(app, hook, ticketId), 'SUCCEEDED');
    // every question is answered Cancel
    const { questions } = answerDialogs(page);

    await signIn(page, app.url, keys.agent, `/tickets/${ticketId}`);
    await page.getByRole('heading', { level: 1, name: `#${ticketId} Draft kept` }).waitFor();
    const text = page.getByLabel('Reply or internal comment', { exact: true });
    await text.fill('A long answer, half written');
    // a delivery of the ticket, opened by keyboard: asked, and Cancel stays with the text
    const deliveryLink = page.getByRole('region', { name: 'Deliveries' }).getByRole('link').first();
    await deliveryLink.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => questions).toEqual(['Leave this page? Your reply or comment is not sent.']);
    expect(new URL(page.url()).pathname).toBe(`/tickets/${ticketId}`);
    expect(await text.inputValue()).toBe('A long answer, half written');

    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Reply sent' }).count()).toBe(1);

    // a priority chosen and not saved: asked too; saved, the page leaves freely
    await page.getByLabel('Priority', { exact: true }).selectOption({ label: 'Urgent' });
    await page.getByRole('link', { name: 'All tickets' }).click();
    await expect.poll(() => questions.length).toBe(2);
    expect(questions[1]).toBe('Leave this page? The status and priority you chose are not saved.');
    expect(await page.getByLabel('Priority', { exact: true }).inputValue()).toBe('URGENT');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved: status Open, priority Urgent.' }).count()).toBe(1);

    await page.getByRole('link', { name: 'All tickets' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    expect(questions).toHaveLength(2);
  },
  BROWSER_TEST_MS,
);

test(
  "ticket page: a custom field is shown by its definition's name (bidi isolated), not by its key; a yes-or-no one as Yes or No",
  async ({ page, app, keys }) => {
    await createCustomFields(app, [
      { key: 'order_no', name: 'Order number', type: 'NUMBER' },
      { key: 'vip', name: 'VIP customer', type: 'BOOLEAN' },
    ]);
    const ticket = await createTicket(app, { title: 'Custom ticket', customFields: { order_no: 1042, vip: true } });
    await signIn(page, app.url, keys.agent, `/tickets/${ticket}`);
    await page.getByRole('heading', { level: 1, name: `#${ticket} Custom ticket` }).waitFor();
    const facts = page.locator('dl.facts');
    const term = (name: string) => facts.getByRole('term').filter({ hasText: new RegExp(`^${name}$`) });
    await term('Order number').waitFor();
    expect(await term('Order number').locator('xpath=following-sibling::dd[1]').textContent()).toBe('1042');
    // a yes-or-no field in the words the new-ticket form offers it in
    expect(await term('VIP customer').locator('xpath=following-sibling::dd[1]').textContent()).toBe('Yes');
    // the admin's name for it is isolated, so that a right-to-left name cannot reorder the text around it
    expect(await term('Order number').locator('bdi').textContent()).toBe('Order number');
    expect(await facts.getByRole('term').allTextContents()).not.toContain('order_no');
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  "ticket page: what others write on the ticket while it is open (another agent's reply, a comment, a status) shows without a reload and new posts are said politely; a reading that fails keeps the page and the reply being written",
  async ({ page, app, keys }) => {
    const ticket = await createTicket(app, 'Busy ticket');
    // the page's clock: its next reading of the ticket comes when the test moves it on
    await page.clock.install();
    await signIn(page, app.url, keys.agent, `/tickets/${ticket}`);
    await page.getByRole('heading', { level: 1, name: `#${ticket} Busy ticket` }).waitFor();
    const posts = page.getByRole('region', { name: 'Posts' });
    await posts.getByText('No replies or comments yet.').waitFor();
    await page.getByLabel('Reply or internal comment', { exact: true }).fill('My answer, not sent yet');
    const said = await recordAnnouncements(page, 'ticket-post-arrivals');

    // another agent (here: the admin, through the API) replies and comments, and sets the status
    await addReply(app, ticket, 'Answered from another tab');
    await addComment(app, ticket, 'A note from elsewhere');
    await updateTicket(app, ticket, { status: 'WAITING' });
    await page.clock.fastForward(TICKET_POLL_MS);
    await expect.poll(() => posts.getByRole('listitem').count()).toBe(2);
    expect(await posts.textContent()).toMatch(/Answered from another tab.*A note from elsewhere/);
    expect(await page.getByRole('definition').first().textContent()).toBe('Waiting');
    expect(await page.getByLabel('Reply or internal comment', { exact: true }).inputValue()).toBe('My answer, not sent yet');
    // said politely, one sentence for what came
    const admin = (await app.ok('{ me { name } }')).me.name as string;
    expect(await said()).toEqual([`New reply by ${admin}. New internal comment by ${admin}.`]);

    // the server restarting: the reading fails, the page stays as it was with the reply being written
    const failing = await failOperations(page, ['ConsoleTicket'], 'refused');
    const failed = page.waitForEvent('requestfailed', { predicate: (r) => /query ConsoleTicket\b/.test(r.postData() ?? '') });
    await page.clock.fastForward(TICKET_POLL_MS);
    await failed;
    await painted(page);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`#${ticket} Busy ticket`);
    expect(await posts.getByRole('listitem').count()).toBe(2);
    expect(await page.getByLabel('Reply or internal comment', { exact: true }).inputValue()).toBe('My answer, not sent yet');
    failing.failing = false;

    // the page's own reply is said by its form, not again as a new post
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByRole('status').filter({ hasText: 'Reply sent' }).waitFor();
    await expect.poll(() => posts.getByRole('listitem').count()).toBe(3);
    await page.clock.fastForward(TICKET_POLL_MS);
    await painted(page);
    expect(await said()).toEqual([`New reply by ${admin}. New internal comment by ${admin}.`]);
  },
  BROWSER_TEST_MS,
);

test(
  'new ticket: reached from Tickets by keyboard; a refused create is shown at the field it names with focus there; "Creating…" while it is created, once however often pressed; created, the ticket page opens with focus on its heading and says so',
  async ({ page, app, keys }) => {
    await createCustomFields(app, [{ key: 'order_no', name: 'Order number', type: 'NUMBER' }]);
    const users = (await app.ok('{ users { id email } }')).users as { id: string; email: string }[];
    const agent = users.find((u) => u.email === 'agent@example.com')!.id;
    const client = users.find((u) => u.email === 'client@example.com')!.id;
    await signIn(page, app.url, keys.agent, '/tickets');
    await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
    await page.getByRole('link', { name: 'New ticket' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'New ticket' }).waitFor();
    const form = page.getByRole('form', { name: 'New ticket' });
    const alert = form.getByRole('alert');
    const title = form.getByLabel('Title', { exact: true });
    const order = form.getByLabel('Order number', { exact: true });
    const create = form.getByRole('button', { name: 'Create ticket' });

    // Title is marked required (read out as such; the form checks nothing itself, the server does)
    expect(await title.getAttribute('required')).not.toBeNull();
    expect(await form.getByLabel('Description', { exact: true }).getAttribute('required')).toBeNull();
    // no title: said at Title, which takes the focus; nothing is created
    await form.getByLabel('Description', { exact: true }).fill('The printer on floor 2 is on fire.');
    await order.fill('abc');
    await create.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => alert.textContent()).toBe('The ticket was not created: 1 problem.');
    await expect.poll(() => hasFocus(title)).toBe(true);
    expect(await title.getAttribute('aria-invalid')).toBe('true');
    expect(await description(title)).toBe('Title must not be empty.');
    // a custom field's problem at its own control
    await title.fill('Printer on fire');
    await create.click();
    await expect.poll(() => hasFocus(order)).toBe(true);
    expect(await description(order)).toBe('"abc" is not a number.');
    expect(await title.getAttribute('aria-invalid')).toBeNull();
    expect(await runAxe(page)).toEqual([]);
    expect(await app.ok('{ tickets { id } }')).toEqual({ tickets: [] });

    await order.fill('1042');
    await form.getByLabel('Priority', { exact: true }).selectOption({ label: 'Urgent' });
    await form.getByLabel('Status', { exact: true }).selectOption({ label: 'In progress' });
    await form.getByLabel('Requester', { exact: true }).selectOption(client);
    await form.getByLabel('Assignee', { exact: true }).selectOption(agent);
    // while it is created the button says so and keeps the focus; pressed again, one ticket all the same
    const creating = holdOperation(page, 'ConsoleCreateTicket');
    await create.focus();
    await page.keyboard.press('Enter');
    const busy = form.getByRole('button', { name: 'Creating…' });
    await expect.poll(() => busy.getAttribute('aria-disabled')).toBe('true');
    expect(await hasFocus(busy)).toBe(true);
    await page.keyboard.press('Enter');
    creating.release();
    const heading = page.getByRole('heading', { level: 1, name: /^#\d+ Printer on fire$/ });
    await heading.waitFor();
    const id = /^#(\d+)/.exec((await heading.textContent())!)![1]!;
    await expect.poll(() => hasFocus(heading)).toBe(true);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'created' }).textContent()).toBe(`Ticket #${id} created.`);
    expect(await page.locator('dl.facts').textContent()).toMatch(/StatusIn progressPriorityUrgent/);
    const ticket = await getTicket(app, id);
    expect(ticket).toMatchObject({ title: 'Printer on fire', priority: 'URGENT', status: 'IN_PROGRESS', customFields: { order_no: 1042 } });
    expect(creating.seen).toHaveLength(1);
    const people = await app.ok('query ($id: ID!) { ticket(id: $id) { description requester { id } assignee { id } } }', { id });
    expect(people.ticket).toEqual({ description: 'The printer on floor 2 is on fire.', requester: { id: client }, assignee: { id: agent } });
  },
  BROWSER_TEST_MS,
);

test(
  "ticket page: the links to two deliveries alike (same webhook, same status) have names of their own, each ending with its delivery's short id, the name of the page it opens",
  async ({ page, app, keys, startReceiver }) => {
    const receiver = await startReceiver();
    const hook = await createWebhook(app, jsonHook('Twin hook', `${receiver.url}/twin`));
    const ticket = await createTicket(app, 'Twice sent');
    const made = [await testWebhook(app, hook, ticket), await testWebhook(app, hook, ticket)];
    for (const id of made) await deliveryReaches(app, id, 'SUCCEEDED');
    await signIn(page, app.url, keys.admin, `/tickets/${ticket}`);
    const deliveries = page.getByRole('region', { name: 'Deliveries' });
    await expect.poll(() => deliveries.getByRole('link', { name: /Succeeded/ }).count()).toBe(2);
    for (const id of made) {
      const link = deliveries.getByRole('link', { name: `Twin hook Succeeded (delivery ${id.slice(0, 8)})`, exact: true });
      expect(await link.count()).toBe(1);
    }
    await deliveries.getByRole('link', { name: `Twin hook Succeeded (delivery ${made[1]!.slice(0, 8)})` }).click();
    await page.getByRole('heading', { level: 1, name: `Delivery ${made[1]!.slice(0, 8)}` }).waitFor();
  },
  BROWSER_TEST_MS,
);

test(
  'ticket page: "Save" pressed again with nothing changed says "Nothing to save" again (a new node in the status region, which a screen reader reads), by keyboard with focus kept',
  async ({ page, app, keys }) => {
    const ticket = await createTicket(app, 'Unchanged');
    await signIn(page, app.url, keys.agent, `/tickets/${ticket}`);
    const form = page.getByRole('region', { name: 'Status and priority' });
    const save = form.getByRole('button', { name: 'Save' });
    const said = form.getByRole('status');
    await save.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => said.textContent()).toBe('Nothing to save: the status and priority are as they were.');
    // the node saying it now, marked: a second press that changes nothing in the region is not read out again
    await said.locator('p').evaluate((p) => ((p as unknown as { firstChild: Record<string, unknown> }).firstChild.__first = true));
    await page.keyboard.press('Enter');
    await expect.poll(() => said.locator('p').evaluate((p) => (p as unknown as { firstChild: Record<string, unknown> | null }).firstChild?.__first === undefined)).toBe(true);
    expect(await said.textContent()).toBe('Nothing to save: the status and priority are as they were.');
    expect(await hasFocus(save)).toBe(true);
  },
  BROWSER_TEST_MS,
);
