#!/usr/bin/env node
// `npm run screenshots`: PNGs of every console screen, with demo data, into docs/screenshots/.
//
// Starts deskhooks (dist/, built by the npm script, serving web/dist) in this process on an
// embedded PostgreSQL in a temp folder, and a demo receiver on 127.0.0.1 that answers as a
// CRM (200 with JSON), a retired system (410 Gone) and a chat service that is down (503).
// Seeds through the GraphQL API: users, a custom field, webhooks, rules, tickets with posts,
// deliveries SUCCEEDED, FAILED, RETRYING and CANCELLED. Then signs in through the console in
// headless Chromium (playwright-core; CHROMIUM_PATH, default /usr/bin/chromium) and takes
// each screen. Bounded: every wait has a timeout and the whole run stops after 4 minutes.
// Exits 1 if any screen could not be taken (the others are still written).
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { loadConfig } from '../dist/config.js';
import { createLogger } from '../dist/log.js';
import { startDeskhooks } from '../dist/main.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs', 'screenshots');
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_KEY = 'demo-admin-key-0123456789abcdef';
const STEP_MS = 20_000;

const overall = setTimeout(() => {
  console.error('screenshots: still running after 4 minutes; stopping');
  process.exit(1);
}, 240_000);
overall.unref();

const say = (m) => console.log(`screenshots: ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, probe, timeoutMs = STEP_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------- the demo receiver

function startReceiver() {
  let contact = 1040;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url.startsWith('/crm')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `CRM-${++contact}`, status: 'created', owner: { team: 'Support', region: 'EU' } }));
      } else if (req.url.startsWith('/erp')) {
        res.writeHead(410, { 'content-type': 'text/plain' });
        res.end('This endpoint was retired on 2026-10-01.');
      } else {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<error><code>maintenance</code><message>back at 12:00</message></error>');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) })));
}

// ---------------------------------------------------------------- seeding through the API

function client(url) {
  return async (query, variables = {}) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors?.length) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
}

async function seed(gql, receiver) {
  const user = async (name, email, role) => (await gql(`mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }`, { i: { name, email, role } })).createUser.user.id;
  const agent = await user('Dana Agent', 'dana@example.com', 'AGENT');
  const client = await user('Chris Client', 'chris@shop.example', 'CLIENT');
  await gql(`mutation { createCustomField(input: {key: "crm_contact", name: "CRM contact", type: TEXT}) { id } }`);

  const webhook = async (input) => (await gql(`mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`, { i: input })).createWebhook.id;
  const crm = await webhook({
    name: 'CRM: create contact',
    method: 'POST',
    url: `${receiver.url}/crm/contacts`,
    format: 'JSON',
    body: '{\n  "ticket": "{{ ticket.id }}",\n  "subject": "{{ ticket.title }}",\n  "email": "{{ requester.email }}"\n}',
    headers: [{ name: 'X-Source', value: 'deskhooks' }],
    auth: { type: 'BEARER', secret: 'crm-demo-token-123456' },
    responseMappings: [{ path: 'id', target: 'CUSTOM_FIELD', field: 'crm_contact' }],
    successComment: 'CRM contact created',
  });
  const erp = await webhook({ name: 'Legacy ERP (retired)', method: 'PUT', url: `${receiver.url}/erp/orders`, format: 'XML', body: '<order><ticket>{{ ticket.id }}</ticket></order>' });
  const chat = await webhook({ name: 'Team chat: urgent tickets', method: 'POST', url: `${receiver.url}/chat/hooks/support`, format: 'JSON', body: '{"text": "Urgent: #{{ ticket.id }} {{ ticket.title }}"}' });
  await webhook({ name: 'Billing sync (paused)', method: 'POST', url: `${receiver.url}/crm/billing`, format: 'FORM', body: 'ticket={{ ticket.id }}', enabled: false });

  const rule = async (input) => (await gql(`mutation($i: RuleInput!) { createRule(input: $i) { id } }`, { i: input })).createRule.id;
  await rule({ name: 'New tickets to the CRM', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: crm, awaitResponse: true }] });
  const chatRule = await rule({ name: 'Urgent tickets to the team chat', events: ['TICKET_CREATED', 'TICKET_UPDATED'], match: 'ANY', conditions: [{ field: 'priority', operator: 'EQUALS', value: 'URGENT' }, { field: 'title', operator: 'CONTAINS', value: 'outage' }], actions: [{ type: 'SEND_WEBHOOK', webhookId: chat }] });
  await rule({ name: 'Acknowledge client replies', events: ['REPLY_ADDED'], conditions: [{ field: 'lastReplyAuthor', operator: 'EQUALS', value: 'CLIENT' }], actions: [{ type: 'SET_STATUS', value: 'OPEN' }], enabled: false });

  const ticket = async (title, description, priority) => (await gql(`mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }`, { i: { title, description, priority, requesterId: client } })).createTicket.id;
  const tickets = [
    await ticket('Invoice 2026-1142 charged twice', 'My card was charged twice for the November invoice.', 'HIGH'),
    await ticket('Cannot reset my password', 'The reset e-mail never arrives.', 'NORMAL'),
    await ticket('Checkout outage in the EU shop', 'Customers get a 502 at the payment step.', 'URGENT'),
    await ticket('Change of delivery address', 'Please ship order 8812 to our new office.', 'LOW'),
  ];
  await gql(`mutation($t: ID!) { addReply(ticketId: $t, text: "Thanks, we are looking into the double charge.") { id } }`, { t: tickets[0] });
  await gql(`mutation($t: ID!) { addComment(ticketId: $t, text: "Refund requested from the payment provider.") { id } }`, { t: tickets[0] });
  await gql(`mutation($t: ID!) { addReply(ticketId: $t, text: "Payments are failing again since 09:40.") { id } }`, { t: tickets[2] });
  await gql(`mutation($t: ID!, $a: ID!) { updateTicket(id: $t, input: {assigneeId: $a, status: IN_PROGRESS}) { id } }`, { t: tickets[2], a: agent });

  const test = async (id, t) => (await gql(`mutation($id: ID!, $t: ID!) { testWebhook(id: $id, ticketId: $t) { id } }`, { id, t })).testWebhook.id;
  const failed = await test(erp, tickets[0]);
  const cancelled = await test(chat, tickets[3]);
  const status = async (id) => (await gql(`query($id: ID!) { delivery(id: $id) { status } }`, { id })).delivery.status;
  await waitFor(`delivery ${cancelled} to be retrying`, async () => (await status(cancelled)) === 'RETRYING');
  await gql(`mutation($id: ID!) { cancelDelivery(id: $id) { id } }`, { id: cancelled });
  await waitFor(`delivery ${failed} to fail`, async () => (await status(failed)) === 'FAILED');
  // everything the rules sent has had its first attempt
  await waitFor('the deliveries to settle', async () => {
    const { deliveries } = await gql(`{ deliveries(first: 100) { nodes { id status webhook { id } } } }`);
    return deliveries.nodes.length >= 7 && deliveries.nodes.every((d) => d.status !== 'PENDING') && deliveries.nodes;
  });
  const { deliveries } = await gql(`query($w: ID!) { deliveries(filter: {webhookId: $w, status: SUCCEEDED}, first: 1) { nodes { id } } }`, { w: crm });
  return { crm, chatRule, tickets, succeeded: deliveries.nodes[0].id, client, ticket };
}

// ---------------------------------------------------------------- the screens

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'deskhooks-screenshots-'));
  const receiver = await startReceiver();
  let app;
  let browser;
  const failures = [];
  try {
    say('starting deskhooks on an embedded PostgreSQL');
    const config = loadConfig({
      DATA_DIR: dir,
      PORT: '0',
      HOST: '127.0.0.1',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      BOOTSTRAP_ADMIN_API_KEY: ADMIN_KEY,
      DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
      DESKHOOKS_LOG_LEVEL: 'error',
    });
    app = await startDeskhooks(config, { log: createLogger('error') });
    const gql = client(app.url);
    say('seeding demo data');
    const demo = await seed(gql, receiver);

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    const context = await browser.newContext({ baseURL: app.url, viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, colorScheme: 'light', reducedMotion: 'reduce' });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    // the page's own errors (a script error, a request the page's policy refused) are shown
    page.on('console', (m) => m.type() === 'error' && console.error(`screenshots: the page logged: ${m.text()}`));
    page.on('pageerror', (err) => console.error(`screenshots: page error: ${err.message}`));
    page.on('response', async (r) => {
      if (r.status() < 400) return;
      const body = await r.text().catch(() => '');
      console.error(`screenshots: ${r.request().method()} ${new URL(r.url()).pathname} → ${r.status()}: ${body.slice(0, 300)}`);
    });
    // the subscriptions the console starts over its websocket (the live feed waits for its own)
    const subscribed = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => typeof f.payload === 'string' && f.payload.includes('"subscribe"') && subscribed.push(f.payload)));
    mkdirSync(out, { recursive: true });

    const heading = () => page.locator('main h1').first().waitFor();
    const nav = (name) => page.getByRole('navigation').getByRole('link', { name, exact: true });
    const shot = async (name, prepare) => {
      try {
        await prepare();
        await page.evaluate(() => document.fonts.ready);
        await page.screenshot({ path: join(out, `${name}.png`), fullPage: true, animations: 'disabled', caret: 'hide' });
        say(`wrote docs/screenshots/${name}.png`);
      } catch (err) {
        failures.push(name);
        console.error(`screenshots: ${name}: ${err.message.split('\n')[0]}`);
      }
    };

    await shot('sign-in', async () => {
      await page.goto('/');
      await page.getByLabel('API key').waitFor();
    });
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await nav('Deliveries').waitFor();

    await shot('webhooks', async () => {
      await nav('Webhooks').click();
      await page.getByText('CRM: create contact').first().waitFor();
    });
    await shot('webhook-editor', async () => {
      await page.goto(`/webhooks/${demo.crm}`);
      await heading();
      const picker = page.getByLabel('Ticket', { exact: true });
      if ((await picker.evaluate((e) => e.tagName)) === 'SELECT') await picker.selectOption(demo.tickets[0]);
      else {
        await picker.fill(demo.tickets[0]);
        await picker.press('Enter');
      }
      await waitFor('the preview', async () => /Invoice 2026-1142/.test(await page.getByRole('region', { name: 'Preview' }).innerText()));
    });
    await shot('rules', async () => {
      await nav('Rules').click();
      await page.getByText('New tickets to the CRM').first().waitFor();
    });
    await shot('rule-editor', async () => {
      await page.goto(`/rules/${demo.chatRule}`);
      await heading();
      await page.getByLabel('Ticket created').waitFor();
    });
    await shot('deliveries', async () => {
      await nav('Deliveries').click();
      const live = page.getByRole('region', { name: 'Live deliveries' });
      await live.waitFor();
      await waitFor('the live feed to subscribe', async () => subscribed.some((m) => m.includes('deliveryEvents')));
      // the server may still be setting the subscription up when the first ticket's delivery is made: a second ticket then
      const titles = ['Printer on floor 2 offline', 'VPN drops every hour'];
      for (let i = 0; ; i++) {
        const id = await demo.ticket(titles[i], 'Reported by phone.', 'NORMAL');
        try {
          await live.getByText(`#${id}`).first().waitFor({ timeout: 5_000 });
          break;
        } catch (err) {
          if (i === titles.length - 1) throw err;
        }
      }
      await waitFor('the live delivery to succeed', async () => /SUCCEEDED/i.test(await live.innerText()));
    });
    await shot('delivery', async () => {
      await page.goto(`/deliveries/${demo.succeeded}`);
      await heading();
      await page.getByRole('button', { name: 'Redeliver' }).waitFor();
    });
    await shot('tickets', async () => {
      await nav('Tickets').click();
      await page.getByText('Checkout outage in the EU shop').first().waitFor();
    });
    await shot('ticket', async () => {
      await page.goto(`/tickets/${demo.tickets[0]}`);
      await page.getByText('Refund requested from the payment provider.').first().waitFor();
    });
    await shot('explorer', async () => {
      await nav('Explorer').click();
      await page.locator('.graphiql-container .monaco-editor').first().waitFor();
      await page.getByRole('button', { name: /execute query/i }).first().click();
      await waitFor('the query\'s result', async () => (await page.locator('.graphiql-response').first().innerText()).includes(ADMIN_EMAIL));
    });
  } finally {
    await browser?.close().catch(() => {});
    await app?.stop().catch((err) => console.error('screenshots: stopping deskhooks:', err));
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(`screenshots: not taken: ${failures.join(', ')}`);
    process.exit(1);
  }
  say('done');
}

await main();
clearTimeout(overall);
