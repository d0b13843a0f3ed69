/**
 * The delivery log's Rule, From, To and Search filters, and its bulk actions: the filters
 * narrow the log and live in the address (reload and Back show them again), a bad one is
 * shown at its control; "Redeliver matching…" and "Cancel matching…" count first (a dry run),
 * Confirm acts on exactly what was counted, once however often pressed, and Escape backs out.
 */
import type { Page, Request } from 'playwright-core';
import { expect, runAxe, signIn, test, holdOperation, description, focusedId } from '../support/browser.js';
import { createRule, createTicket, createWebhook, deliveryReaches, settled, testWebhook } from '../support/fixtures.js';
import type { TestApp } from '../support/fixtures.js';

/** per test, with its app's start and the page's loads: room for a loaded machine (two files run at once) */
const BROWSER_TEST_MS = 90_000;


/** The page's requests of the GraphQL operation `operation`, as they are sent. */
function watchOperation(page: Page, operation: string): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/graphql') && r.postData()?.includes(`${operation}(`)) seen.push(r);
  });
  return seen;
}

const dryRunOf = (r: Request) => (JSON.parse(r.postData()!) as { variables: { dryRun: boolean } }).variables.dryRun;

/** The deliveries of a webhook through the API: id and status, newest first. */
async function deliveriesOf(app: TestApp, webhookId: string) {
  const r = await app.ok('query ($w: ID) { deliveries(filter: { webhookId: $w }, first: 100) { nodes { id status } } }', { w: webhookId });
  return r.deliveries.nodes as { id: string; status: string }[];
}

/** What has focus: its text. */
const focusedText = (page: Page) => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string | null } | null } }).document.activeElement?.textContent?.trim() ?? '');

test(
  'Rule and Search narrow the log and survive reload and Back; From and To are local time, To before From is shown at To; an agent gets no Rule or Webhook list and no bulk actions, but sees a rule or webhook the address narrows to',
  async ({ page, app, keys, startReceiver, browser }) => {
    const receiver = await startReceiver();
    const invoices = await createWebhook(app, { name: 'Invoices', method: 'POST', url: `${receiver.url}/invoices`, format: 'JSON', body: '{"t": "{{ ticket.id }}", "kind": "invoice-raised"}' });
    const refunds = await createWebhook(app, { name: 'Refunds', method: 'POST', url: `${receiver.url}/refunds`, format: 'JSON', body: '{"t": "{{ ticket.id }}", "kind": "refund-asked"}' });
    const invoiceRule = await createRule(app, { name: 'Raise invoice', events: ['TICKET_CREATED'], continueAfterMatch: true, actions: [{ type: 'SEND_WEBHOOK', webhookId: invoices }] });
    await createRule(app, { name: 'Ask refund', events: ['TICKET_CREATED'], continueAfterMatch: true, actions: [{ type: 'SEND_WEBHOOK', webhookId: refunds }] });
    const first = await createTicket(app, 'One');
    await createTicket(app, 'Two');
    // a test delivery of Invoices: its body says invoice too, but no rule made it
    await deliveryReaches(app, await testWebhook(app, invoices, first), 'SUCCEEDED');
    await settled(app); // every delivery final and its text searchable

    await signIn(page, app.url, keys.admin, '/deliveries');
    const log = page.getByRole('region', { name: 'Log' });
    const position = log.getByRole('status');
    const rows = () => log.getByRole('row').count();
    await expect.poll(() => position.textContent()).toBe('Showing 1–5 of 5 deliveries, newest first.');

    // Rule: the rule's deliveries only (not the test delivery of the same webhook)
    const ruleSelect = page.getByLabel('Rule', { exact: true });
    await ruleSelect.selectOption({ label: 'Raise invoice' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.searchParams.get('rule') === invoiceRule.id);
    await expect.poll(() => position.textContent()).toBe('Showing 1–2 of 2 deliveries, newest first.');
    await page.reload();
    await expect.poll(() => position.textContent()).toBe('Showing 1–2 of 2 deliveries, newest first.');
    await expect.poll(() => ruleSelect.inputValue()).toBe(invoiceRule.id);

    // Search: a substring of the rendered body, any case
    const searchField = page.getByLabel('Search', { exact: true });
    await ruleSelect.selectOption('');
    await searchField.fill('REFUND');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.searchParams.get('search') === 'REFUND' && !u.searchParams.has('rule'));
    await expect.poll(() => position.textContent()).toBe('Showing 1–2 of 2 deliveries, newest first.');
    expect(await log.getByRole('cell', { name: 'Refunds' }).count()).toBe(2);
    await page.reload();
    await expect.poll(() => position.textContent()).toBe('Showing 1–2 of 2 deliveries, newest first.');
    await expect.poll(() => searchField.inputValue()).toBe('REFUND');
    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get('rule') === invoiceRule.id);
    await expect.poll(() => ruleSelect.inputValue()).toBe(invoiceRule.id);
    await expect.poll(() => searchField.inputValue()).toBe('');
    await expect.poll(() => position.textContent()).toBe('Showing 1–2 of 2 deliveries, newest first.');
    expect(await rows()).toBe(3);

    // a search the API could not look up: at the control, focused, nothing sent
    await ruleSelect.selectOption('');
    await searchField.fill('ab');
    await searchField.press('Enter');
    await expect.poll(() => searchField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(`[id="${(await searchField.getAttribute('aria-describedby'))!.split(' ')[0]}"]`).textContent()).toBe(
      'Search needs at least three letters or digits in a row, such as inv.',
    );
    expect(await focusedId(page)).toBe('filter-search');
    expect(new URL(page.url()).searchParams.get('rule')).toBe(invoiceRule.id);
    await searchField.fill('');

    // From and To: To not after From is refused at To, focused; the address keeps its filter
    const fromField = page.getByLabel('From', { exact: true });
    const toField = page.getByLabel('To', { exact: true });
    await fromField.fill('2026-03-02T10:00');
    await toField.fill('2026-03-02T09:30');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => toField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(`[id="${(await toField.getAttribute('aria-describedby'))!.split(' ')[0]}"]`).textContent()).toBe('To must be later than From.');
    expect(await focusedId(page)).toBe('filter-until');
    expect(await fromField.getAttribute('aria-invalid')).toBe(null);
    expect(new URL(page.url()).searchParams.get('rule')).toBe(invoiceRule.id);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);

    // a window around now (local time in the inputs, an instant in the address): everything; one wholly before: nothing
    const local = (ms: number) =>
      page.evaluate((at) => {
        const d = new Date(at);
        const p = (n: number) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
      }, ms);
    const hourAgo = await local(Date.now() - 3_600_000);
    const inAnHour = await local(Date.now() + 3_600_000);
    await fromField.fill(hourAgo);
    await toField.fill(inAnHour);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.searchParams.has('since') && !u.searchParams.has('rule'));
    const since = new URL(page.url()).searchParams.get('since')!;
    expect(since).toBe(await page.evaluate((v) => new Date(v).toISOString(), hourAgo));
    await expect.poll(() => position.textContent()).toBe('Showing 1–5 of 5 deliveries, newest first.');
    await page.reload();
    await expect.poll(() => fromField.inputValue()).toBe(hourAgo);
    await expect.poll(() => toField.inputValue()).toBe(inAnHour);
    await toField.fill(hourAgo);
    await fromField.fill(await local(Date.now() - 7_200_000));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => position.textContent()).toBe('No deliveries match.');
    // the same problem in a shared address: at the control, nothing asked for
    await page.goto(`/deliveries?since=${encodeURIComponent(since)}&until=${encodeURIComponent(since)}`);
    await expect.poll(() => toField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByText('To must be later than From.').count()).toBe(1);

    // From and To are the browser's local time: in New York (UTC−5 in March before DST), 10:00 is 15:00 UTC in the address
    const newYork = await browser.newContext({ baseURL: app.url, timezoneId: 'America/New_York' });
    try {
      const ny = await newYork.newPage();
      await signIn(ny, app.url, keys.admin, '/deliveries');
      await ny.getByLabel('From', { exact: true }).fill('2026-03-02T10:00');
      await ny.getByLabel('To', { exact: true }).fill('2026-03-02T11:30');
      await ny.getByRole('button', { name: 'Apply filters' }).click();
      await ny.waitForURL((u) => u.searchParams.has('since'));
      const q = new URL(ny.url()).searchParams;
      expect([q.get('since'), q.get('until')]).toEqual(['2026-03-02T15:00:00.000Z', '2026-03-02T16:30:00.000Z']);
      await ny.reload();
      await expect.poll(() => ny.getByLabel('From', { exact: true }).inputValue()).toBe('2026-03-02T10:00');
      expect(await ny.getByLabel('To', { exact: true }).inputValue()).toBe('2026-03-02T11:30');
      await expect.poll(() => ny.getByRole('region', { name: 'Log' }).getByRole('status').textContent()).toBe('No deliveries match.');

      // a time the clocks skip (02:30 on 8 March 2026 in New York) or show twice (01:30 on 1 November): said at the field, the address unchanged
      const nyFrom = ny.getByLabel('From', { exact: true });
      await nyFrom.fill('2026-03-08T02:30');
      await ny.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => nyFrom.getAttribute('aria-invalid')).toBe('true');
      expect(await description(nyFrom)).toContain('2026-03-08 02:30 does not exist in your time zone (America/New_York)');
      await nyFrom.fill('2026-11-01T01:30');
      await ny.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => description(nyFrom)).toContain('2026-11-01 01:30 happens twice in your time zone (America/New_York)');
      expect(new URL(ny.url()).searchParams.get('since')).toBe('2026-03-02T15:00:00.000Z');
    } finally {
      await newYork.close();
    }

    // an agent: rules are not theirs to list, so no Rule control unless the address names one; no bulk actions
    const agentContext = await browser.newContext({ baseURL: app.url });
    try {
      const agent = await agentContext.newPage();
      await signIn(agent, app.url, keys.agent, `/deliveries?rule=${invoiceRule.id}`);
      const agentPosition = agent.getByRole('region', { name: 'Log' }).getByRole('status');
      await expect.poll(() => agentPosition.textContent()).toBe('Showing 1–2 of 2 deliveries, newest first.');
      expect(await agent.getByLabel('Rule', { exact: true }).inputValue()).toBe(invoiceRule.id);
      expect(await agent.getByRole('button', { name: /matching/ }).count()).toBe(0);
      expect(await agent.getByRole('alert').count()).toBe(0);
      // a link naming a webhook (webhooks are not theirs to list either): the log says it is narrowed to it, and can be widened
      await agent.goto(`/deliveries?webhook=${refunds}`);
      await expect.poll(() => agentPosition.textContent()).toBe('Showing 1–2 of 2 deliveries, newest first.');
      const agentWebhook = agent.getByLabel('Webhook', { exact: true });
      expect(await agentWebhook.inputValue()).toBe(refunds);
      expect(await agentWebhook.locator('option:checked').textContent()).toBe(`Webhook ${refunds}`);
      expect(await agent.getByRole('alert').count()).toBe(0);
      await agentWebhook.selectOption('');
      await agent.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => agentPosition.textContent()).toBe('Showing 1–5 of 5 deliveries, newest first.');
      expect(await agent.getByLabel('Rule', { exact: true }).count()).toBe(0);
      expect(await agentWebhook.count()).toBe(0);
      expect(await agent.getByRole('alert').count()).toBe(0);
    } finally {
      await agentContext.close();
    }
  },
  BROWSER_TEST_MS,
);

test(
  'Redeliver matching: the dry run counts, Escape and "Close" back out, Confirm makes exactly the counted deliveries, one request per press',
  async ({ page, app, keys, startReceiver }) => {
    // Rejects fails at once (its success rule says FAIL), Slow is retried (the test clock never reaches its next attempt)
    const receiver = await startReceiver((req) => (req.url === '/rejects' ? { status: 422 } : req.url === '/slow' ? { status: 503 } : undefined));
    const hook = (name: string, path: string) => ({ name, method: 'POST' as const, url: `${receiver.url}${path}`, format: 'JSON' as const, body: '{"t": "{{ ticket.id }}"}' });
    const rejects = await createWebhook(app, { ...hook('Rejects', '/rejects'), successRule: { statuses: '200-299', onFailure: 'FAIL' } });
    const slow = await createWebhook(app, hook('Slow', '/slow'));
    const up = await createWebhook(app, hook('Up', '/up'));
    const ticket = await createTicket(app, 'Bulk redeliver');
    const otherTicket = await createTicket(app, 'Not in the filter');
    const failed = [await testWebhook(app, rejects, ticket), await testWebhook(app, rejects, ticket), await testWebhook(app, rejects, ticket)];
    for (const id of failed) await deliveryReaches(app, id, 'FAILED');
    // the ticket's delivery still being retried (not final: not redelivered); another ticket's failed one and its success (outside the filter)
    const open = await testWebhook(app, slow, ticket);
    await deliveryReaches(app, open, 'RETRYING');
    await deliveryReaches(app, await testWebhook(app, rejects, otherTicket), 'FAILED');
    await deliveryReaches(app, await testWebhook(app, up, otherTicket), 'SUCCEEDED');
    const ofTicket = async () => (await app.ok('query ($t: ID) { deliveries(filter: { ticketId: $t }, first: 100) { nodes { id status } } }', { t: ticket })).deliveries.nodes as { id: string }[];
    const total = async () => (await app.ok('{ deliveries(first: 1) { totalCount } }')).deliveries.totalCount as number;

    // no filter: no bulk action, and why
    await signIn(page, app.url, keys.admin, '/deliveries');
    const position = page.getByRole('region', { name: 'Log' }).getByRole('status');
    await expect.poll(() => position.textContent()).toBe('Showing 1–6 of 6 deliveries, newest first.');
    expect(await page.getByRole('button', { name: 'Redeliver matching…' }).count()).toBe(0);
    expect(await page.getByText('Apply at least one filter to redeliver or cancel the deliveries it matches.').count()).toBe(1);

    await page.getByLabel('Ticket number').fill(ticket);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => position.textContent()).toBe('Showing 1–4 of 4 deliveries, newest first.');
    const sent = watchOperation(page, 'ConsoleRedeliverMany');
    const bulk = page.getByRole('group', { name: 'Act on matching deliveries' });
    const redeliverButton = bulk.getByRole('button', { name: 'Redeliver matching…' });
    const question = bulk.getByRole('group', { name: /^Redeliver deliveries matching/ });
    const QUESTION = `Redeliver deliveries matching ticket #${ticket}: 4 deliveries match; 3 will be redelivered as new deliveries. Deliveries made after this count are left out.`;

    // Escape backs out: nothing sent but the count, focus back on the button, nothing made
    await redeliverButton.click();
    await question.waitFor();
    expect(await page.locator(`[id="${(await question.getAttribute('aria-labelledby'))!}"]`).textContent()).toBe(QUESTION);
    expect(await focusedText(page)).toBe('Confirm');
    expect(await runAxe(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await expect.poll(() => question.count()).toBe(0);
    expect(await focusedText(page)).toBe('Redeliver matching…');
    expect(sent.map(dryRunOf)).toEqual([true]);
    expect(await total()).toBe(6);

    // its way back is "Close": no second "Cancel" beside "Cancel matching…" (a screen reader lists the buttons by name)
    await redeliverButton.click();
    await question.waitFor();
    expect(await bulk.getByRole('button').allTextContents()).toEqual(['Redeliver matching…', 'Cancel matching…', 'Confirm', 'Close']);
    await question.getByRole('button', { name: 'Close', exact: true }).press('Enter');
    await expect.poll(() => question.count()).toBe(0);
    expect(await focusedText(page)).toBe('Redeliver matching…');
    expect(sent.map(dryRunOf)).toEqual([true, true]);
    expect(await total()).toBe(6);

    // a double press of the button: one dry run, the button says it is counting
    const counting = holdOperation(page, 'ConsoleRedeliverMany');
    await redeliverButton.dblclick();
    await bulk.getByRole('button', { name: 'Counting…' }).waitFor();
    await expect.poll(() => counting.seen.length).toBe(1);
    counting.release();
    await question.waitFor();

    // Confirm pressed twice while it runs: one run, exactly the three final deliveries made again
    const running = holdOperation(page, 'ConsoleRedeliverMany');
    const confirm = question.getByRole('button', { name: 'Confirm' });
    await confirm.dblclick();
    await question.getByRole('button', { name: 'Redelivering…' }).waitFor();
    expect(running.seen.map(dryRunOf)).toEqual([false]);
    running.release();
    const outcome = bulk.getByText('Queued 3 new deliveries.');
    await outcome.waitFor();
    expect(await outcome.evaluate((e) => (e as unknown as { parentElement: { getAttribute(n: string): string | null } }).parentElement.getAttribute('aria-live'))).toBe('polite');
    expect(sent.map(dryRunOf)).toEqual([true, true, true, false]);
    expect(await question.count()).toBe(0);
    expect(await focusedText(page)).toBe('Redeliver matching…');
    // three new deliveries, all of the ticket (each a redelivery of one of its failed ones), none elsewhere
    expect(await total()).toBe(9);
    const after = await ofTicket();
    expect(after).toHaveLength(7);
    expect(after.filter((d) => !failed.includes(d.id) && d.id !== open)).toHaveLength(3);
    expect(await deliveriesOf(app, rejects)).toHaveLength(7);
    // the log shows them without a reload
    await expect.poll(() => position.textContent()).toBe('Showing 1–7 of 7 deliveries, newest first.');
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);

test(
  'Cancel matching: the dry run counts the open deliveries, Confirm cancels exactly them; an API refusal is an alert',
  async ({ page, app, keys, startReceiver }) => {
    // a webhook that answered once, then is down: its later deliveries wait for a retry (the test clock never reaches it)
    const receiver = await startReceiver((req) => (req.url === '/other' ? { status: 503 } : undefined));
    receiver.script({ status: 200 });
    receiver.fallback = { status: 503 };
    const flaky = await createWebhook(app, { name: 'Flaky', method: 'POST', url: `${receiver.url}/flaky`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' });
    const other = await createWebhook(app, { name: 'Other', method: 'POST', url: `${receiver.url}/other`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' });
    const ticket = await createTicket(app, 'Bulk cancel');
    const done = await testWebhook(app, flaky, ticket);
    await deliveryReaches(app, done, 'SUCCEEDED');
    const open: string[] = [];
    for (let i = 0; i < 3; i++) open.push(await testWebhook(app, flaky, ticket));
    for (const id of open) await deliveryReaches(app, id, 'RETRYING');
    const otherOpen = await testWebhook(app, other, ticket);
    await deliveryReaches(app, otherOpen, 'RETRYING');

    await signIn(page, app.url, keys.admin, `/deliveries?webhook=${flaky}`);
    const position = page.getByRole('region', { name: 'Log' }).getByRole('status');
    await expect.poll(() => position.textContent()).toBe('Showing 1–4 of 4 deliveries, newest first.');
    const bulk = page.getByRole('group', { name: 'Act on matching deliveries' });
    const sent = watchOperation(page, 'ConsoleCancelMany');
    await bulk.getByRole('button', { name: 'Cancel matching…' }).click();
    const question = bulk.getByRole('group', { name: /^Cancel deliveries matching/ });
    await question.waitFor();
    expect(await page.locator(`[id="${(await question.getAttribute('aria-labelledby'))!}"]`).textContent()).toBe(
      'Cancel deliveries matching webhook Flaky: 4 deliveries match; 3 open ones (pending or retrying) will be cancelled. Deliveries made after this count are left out.',
    );
    // "Keep them" backs out as Escape does
    await question.getByRole('button', { name: 'Keep them' }).click();
    await expect.poll(() => question.count()).toBe(0);
    expect(await focusedText(page)).toBe('Cancel matching…');
    for (const id of open) expect((await deliveryReaches(app, id, 'RETRYING', 'CANCELLED')).status).toBe('RETRYING');

    await bulk.getByRole('button', { name: 'Cancel matching…' }).press('Enter');
    await question.getByRole('button', { name: 'Confirm' }).waitFor();
    // deliveries the filter matches, made after the count: Confirm acts on what was counted only
    const later: string[] = [];
    for (let i = 0; i < 2; i++) later.push(await testWebhook(app, flaky, ticket));
    for (const id of later) await deliveryReaches(app, id, 'RETRYING');
    await question.getByRole('button', { name: 'Confirm' }).press('Enter');
    await bulk.getByText('Cancelled 3 deliveries.').waitFor();
    expect(sent.map(dryRunOf)).toEqual([true, true, false]);
    for (const id of open) expect((await deliveryReaches(app, id, 'CANCELLED', 'RETRYING')).status).toBe('CANCELLED');
    for (const id of later) expect((await deliveryReaches(app, id, 'RETRYING', 'CANCELLED')).status).toBe('RETRYING');
    expect((await deliveryReaches(app, done, 'SUCCEEDED')).status).toBe('SUCCEEDED');
    expect((await deliveryReaches(app, otherOpen, 'RETRYING', 'CANCELLED')).status).toBe('RETRYING');
    await expect.poll(() => page.getByRole('region', { name: 'Log' }).getByRole('cell', { name: 'Cancelled', exact: true }).count()).toBe(3);

    // the API's refusal (a switched-off webhook's deliveries get no new ones) as an alert, nothing made
    await app.ok('mutation ($id: ID!, $input: WebhookInput!) { updateWebhook(id: $id, input: $input) { id } }', {
      id: flaky,
      input: { name: 'Flaky', method: 'POST', url: `${receiver.url}/flaky`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}', enabled: false },
    });
    await bulk.getByRole('button', { name: 'Redeliver matching…' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^Not counted: .*switched-off/);
    expect(await bulk.getByRole('group').count()).toBe(0);
    expect(await deliveriesOf(app, flaky)).toHaveLength(6);
    expect(await runAxe(page)).toEqual([]);
  },
  BROWSER_TEST_MS,
);
