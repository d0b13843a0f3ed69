/**
 * The dispatcher end to end: rules created over GraphQL, tickets changed over GraphQL
 * (and the REST subset), the in-process dispatcher and delivery worker, and real HTTP
 * receivers on 127.0.0.1 — including this server's own REST subset as a receiver.
 *
 * Every test has a deskhooks, a database and receivers of its own (test/support/fixtures.ts),
 * so the tests run concurrently and none sees another's rules. "Nothing happened" is
 * proven by waiting until the outbox and the delivery queue are both empty (`settled`),
 * never by sleeping.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { createSecretBox } from '../../src/crypto/index.js';
import type { Logger } from '../../src/log.js';
import { describe, expect } from 'vitest';
import { basic } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import {
  addComment, addReply, comments, createCustomFields, createRule, createTicket, createUser, createWebhook, getTicket, jsonHook,
  retryUntilFinal, settled, test, updateTicket,
  type Receiver, type TestApp, type TestUser,
} from '../support/fixtures.js';
import { RlCreateRuleDocument, RlDeliveriesDocument, RlRulesDocument, RlUpdateRuleDocument, type RuleInput, type UpdateTicketInput } from '../generated/graphql.js';

const AGENT_CHAT_ID = '700100200';
const CLIENT_PHONE = '+1 555 0199';
const TG_TOKEN = '123456:AAE-xyz_Secret';

const codes = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.map((e) => e.extensions?.code);
const deliveriesOf = async (app: TestApp, ticketId: string) => (await app.ok(RlDeliveriesDocument, { filter: { ticketId }, first: 50 })).deliveries;
/** requests at the watch receiver for this ticket */
const watched = (watch: Receiver, ticketId: string) => watch.requests.filter((r) => JSON.parse(r.body).ticket === ticketId);

interface DispatcherFixtures {
  /** with the custom fields the rules below write */
  app: TestApp;
  agent: TestUser;
  client: TestUser;
  /** Telegram Bot API look-alike */
  tg: Receiver;
  /** SMS gateway: FORM in, XML out */
  sms: Receiver;
  /** CRM: JSON in, JSON out */
  crm: Receiver;
  /** a plain receiver that tells whether a rule fired */
  watch: Receiver;
  /** always 500 */
  failing: Receiver;
  /** a rule whose action sends the event to `watch` with the ticket id, the event and the rule name */
  watchRule: (name: string, extra: Partial<RuleInput> & Pick<RuleInput, 'events'>) => RuleInput;
}

const it = test.extend<DispatcherFixtures>({
  app: async ({ startApp, clock }, use) => {
    const app = await startApp({}, { clock: clock.now });
    await createCustomFields(app, [
      { key: 'sms_id', name: 'SMS id', type: 'TEXT' },
      { key: 'deal_url', name: 'CRM deal', type: 'TEXT' },
      { key: 'amount', name: 'Amount', type: 'NUMBER' },
      { key: 'port', name: 'Port', type: 'TEXT' },
    ]);
    await use(app);
  },
  agent: async ({ app }, use) => use(await createUser(app, { name: 'Agent Smith', email: 'agent@example.com', role: 'AGENT', telegramChatId: AGENT_CHAT_ID })),
  client: async ({ app }, use) => use(await createUser(app, { name: 'Client One', email: 'client@example.com', role: 'CLIENT', phone: CLIENT_PHONE })),
  tg: async ({ startReceiver }, use) => {
    const tg = await startReceiver();
    tg.fallback = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true,"result":{"message_id":17}}' };
    await use(tg);
  },
  sms: async ({ startReceiver }, use) => {
    const sms = await startReceiver();
    sms.fallback = {
      status: 200,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="UTF-8"?>\n<reply><result><sms_id>1000001</sms_id><status>queued</status></result></reply>',
    };
    await use(sms);
  },
  crm: async ({ startReceiver }, use) => {
    const crm = await startReceiver();
    crm.fallback = { status: 201, headers: { 'content-type': 'application/json' }, body: '{"result":{"id":"D-4711","stage":"new"}}' };
    await use(crm);
  },
  watch: async ({ startReceiver }, use) => use(await startReceiver()),
  failing: async ({ startReceiver }, use) => use(await startReceiver(() => ({ status: 500, body: 'gateway down' }))),
  watchRule: async ({ app, watch }, use) => {
    const webhookId = await createWebhook(app, {
      name: 'Watch',
      method: 'POST',
      url: `${watch.url}/hook`,
      format: 'JSON',
      body: '{"ticket": "{{ ticket.id }}", "event": "{{ event.type }}", "rule": "{{ rule.name }}"}',
    });
    await use((name, extra) => ({ name, actions: [{ type: 'SEND_WEBHOOK', webhookId }], ...extra }));
  },
});
describe.concurrent('a Telegram message for URGENT tickets', () => {
  it('an URGENT ticket sends sendMessage with the assignee’s chat_id and the title; a LOW one sends nothing; the delivery records rule and event', async ({ app, tg, agent }) => {
    const hook = await createWebhook(app, {
      name: 'Telegram',
      method: 'POST',
      url: `${tg.url}/bot${TG_TOKEN}/sendMessage`,
      format: 'JSON',
      body: '{"chat_id": "{{ assignee.telegramChatId }}", "text": "URGENT #{{ ticket.id }}: {{ ticket.title }}"}',
    });
    const rule = await createRule(app, {
      name: 'Urgent to Telegram',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'priority', operator: 'EQUALS', value: 'URGENT' }],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });

    const low = await createTicket(app, { title: 'Printer is slow', priority: 'LOW', assigneeId: agent.id });
    const urgent = await createTicket(app, { title: 'Server "db-1" is down \\ help', priority: 'URGENT', assigneeId: agent.id });
    const [req] = await tg.waitForRequests(1);
    await settled(app);

    expect(tg.requests).toHaveLength(1);
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe(`/bot${TG_TOKEN}/sendMessage`);
    expect(req!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req!.body)).toEqual({ chat_id: AGENT_CHAT_ID, text: `URGENT #${urgent}: Server "db-1" is down \\ help` });

    expect((await deliveriesOf(app, low)).totalCount).toBe(0);
    const { nodes } = await deliveriesOf(app, urgent);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ status: 'SUCCEEDED', event: 'TICKET_CREATED', rule: { id: rule.id, name: 'Urgent to Telegram' }, webhook: { id: hook } });
    expect(req!.headers['x-deskhooks-delivery']).toBe(nodes[0]!.id);
  });
});

describe.concurrent('an SMS gateway (FORM request, XML answer)', () => {
  it('maps reply.result.sms_id into a custom field and writes the successComment', async ({ app, sms, client }) => {
    const hook = await createWebhook(app, {
      name: 'SMS gateway',
      method: 'POST',
      url: `${sms.url}/api/send`,
      format: 'FORM',
      body: 'to={{ requester.phone }}&text=Ticket {{ ticket.id }}: {{ ticket.title }}',
      responseMappings: [
        { path: 'reply.result.sms_id', target: 'CUSTOM_FIELD', field: 'sms_id' },
        { path: 'reply.result.sms_id', target: 'TEMPORARY', field: 'sms' },
        { path: 'reply.result.status', target: 'TEMPORARY', field: 'sms_status' },
      ],
      successComment: 'SMS {{ temp.sms }} {{ temp.sms_status }} (HTTP {{ response.status }})',
    });
    const rule = await createRule(app, {
      name: 'SMS on new ticket',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'title', operator: 'CONTAINS', value: '[sms]' }],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });

    const t = await createTicket(app, { title: '[sms] Fish & chips = 5€' }, client.auth);
    const [req] = await sms.waitForRequests(1);
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(req!.body);
    expect([...form.keys()]).toEqual(['to', 'text']);
    expect(form.get('to')).toBe(CLIENT_PHONE);
    expect(form.get('text')).toBe(`Ticket ${t}: [sms] Fish & chips = 5€`);

    await waitFor(async () => (await comments(app, t)).length > 0, { what: 'the success comment' });
    await settled(app);
    const ticket = await getTicket(app, t);
    expect(ticket.customFields).toEqual({ sms_id: '1000001' });
    expect(ticket.posts).toEqual([expect.objectContaining({ kind: 'COMMENT', text: 'SMS 1000001 queued (HTTP 200)', author: null })]);
    const { nodes } = await deliveriesOf(app, t);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ status: 'SUCCEEDED', event: 'TICKET_CREATED', rule: { id: rule.id } });
    expect(nodes[0]!.responseData).toMatchObject({ sms_id: '1000001', sms: '1000001', sms_status: 'queued' });
  });
});

describe.concurrent('a client reply in a sub-ticket becomes a comment on the parent (REST subset)', () => {
  it('CLIENT reply → one internal COMMENT on the parent; AGENT reply → nothing; the webhook’s comment raises no COMMENT_ADDED, a human one does', async ({ app, agent, client, watch, watchRule }) => {
    const hook = await createWebhook(app, {
      name: 'Comment on parent',
      method: 'POST',
      url: `${app.url}/api/v2/tickets/{parent_ticket_id}/comments/`,
      format: 'FORM',
      body: 'text=Client wrote in #{ticket_id}: {answer_last}',
      auth: { type: 'BASIC', username: agent.email, secret: agent.key },
    });
    await createRule(app, {
      name: 'Sub-ticket client reply to parent',
      events: ['REPLY_ADDED'],
      match: 'ALL',
      conditions: [
        { field: 'parent', operator: 'IS_NOT_EMPTY' },
        { field: 'lastReplyAuthor', operator: 'EQUALS', value: 'CLIENT' },
      ],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });
    // listens on the parent: must stay silent for the webhook's comment
    await createRule(app, watchRule('Comment on a top-level ticket', { events: ['COMMENT_ADDED'], conditions: [{ field: 'parent', operator: 'IS_EMPTY' }] }));

    const parent = await createTicket(app, { title: 'Parent', requesterId: client.id });
    const child = await createTicket(app, { title: 'Sub-ticket', requesterId: client.id, parentId: parent });

    await addReply(app, child, 'agent asks for details', agent.auth);
    await addReply(app, child, 'It fails at 10:00 & again at 11:00', client.auth);
    await waitFor(async () => (await comments(app, parent)).length > 0, { what: 'the comment on the parent' });
    await settled(app);

    const onParent = await comments(app, parent);
    expect(onParent).toEqual([
      expect.objectContaining({ kind: 'COMMENT', text: `Client wrote in #${child}: It fails at 10:00 & again at 11:00`, author: { id: agent.id, email: agent.email } }),
    ]);
    expect(await comments(app, child)).toEqual([]); // no failure comment on the sub-ticket
    const { nodes } = await deliveriesOf(app, child);
    expect(nodes).toHaveLength(1); // the AGENT reply sent nothing
    expect(nodes[0]).toMatchObject({ status: 'SUCCEEDED', event: 'REPLY_ADDED' });
    expect(nodes[0]!.request.url).toBe(`${app.url}/api/v2/tickets/${parent}/comments/`);
    expect(JSON.stringify(nodes[0]!.request)).not.toContain(agent.key);
    expect(watch.requests).toHaveLength(0); // the webhook's comment raised no COMMENT_ADDED

    // a human comment on the parent does raise COMMENT_ADDED — over GraphQL and over REST
    await addComment(app, parent, 'human note', agent.auth);
    await watch.waitForRequests(1);
    const res = await fetch(`${app.url}/api/v2/tickets/${parent}/comments/`, {
      method: 'POST',
      headers: { authorization: basic(agent.email, agent.key), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'human note over REST' }),
    });
    expect(res.status).toBe(200);
    await watch.waitForRequests(2);
    await settled(app);
    expect(watched(watch, parent).map((r) => JSON.parse(r.body).event)).toEqual(['COMMENT_ADDED', 'COMMENT_ADDED']);
    expect(watch.requests).toHaveLength(2);
  });

  it('the same with a JSON body: {"text": …} posted as the AGENT becomes the parent’s comment', async ({ app, agent, client }) => {
    const hook = await createWebhook(app, {
      name: 'Comment on parent (JSON)',
      method: 'POST',
      url: `${app.url}/api/v2/tickets/{parent_ticket_id}/comments/`,
      format: 'JSON',
      body: '{"text": "{{ requester.name }}: {{ lastReply.text }}"}',
      auth: { type: 'BASIC', username: agent.email, secret: agent.key },
    });
    await createRule(app, {
      name: 'Sub-ticket client reply to parent (JSON)',
      events: ['REPLY_ADDED'],
      conditions: [{ field: 'parent', operator: 'IS_NOT_EMPTY' }, { field: 'lastReplyAuthor', operator: 'EQUALS', value: 'CLIENT' }],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });
    const parent = await createTicket(app, { title: 'Parent (JSON)', requesterId: client.id });
    const child = await createTicket(app, { title: 'Sub-ticket (JSON)', requesterId: client.id, parentId: parent });
    await addReply(app, child, 'quotes " and \\ and\nnew line', client.auth);
    await waitFor(async () => (await comments(app, parent)).length > 0, { what: 'the comment on the parent' });
    await settled(app);
    expect((await comments(app, parent)).map((p) => [p.text, p.author?.id])).toEqual([['Client One: quotes " and \\ and\nnew line', agent.id]]);
  });
});

/**
 * Holds the dispatcher while `during` runs: an ACCESS EXCLUSIVE lock on `rules` blocks the
 * dispatcher's per-batch read of the rules, so every event raised inside `during` is
 * evaluated only after all of them are committed — the race between a burst of replies
 * and the dispatcher, made deterministic.
 */
async function withDispatcherHeld(app: TestApp, during: () => Promise<void>): Promise<void> {
  await settled(app);
  const lock = new pg.Client({ connectionString: app.databaseUrl });
  await lock.connect();
  try {
    await lock.query('begin');
    await lock.query('lock table rules in access exclusive mode');
    await during();
    await lock.query('commit');
  } finally {
    await lock.end();
  }
}

describe.concurrent('events are judged as they happened, not as the ticket is when the dispatcher gets to them', () => {
  it('an AGENT reply followed at once by a CLIENT reply sends one webhook; two quick CLIENT replies forward each its own text', async ({ app, agent, client, watch }) => {
    const hook = await createWebhook(app, {
      name: 'Forward reply',
      method: 'POST',
      url: `${watch.url}/forward`,
      format: 'JSON',
      body: '{"ticket": "{{ ticket.id }}", "text": "{answer_last}", "author": "{{ lastReply.author.email }}", "last": "{{ lastPost.text }}"}',
    });
    await createRule(app, {
      name: 'Client replies in sub-tickets',
      events: ['REPLY_ADDED'],
      conditions: [
        { field: 'parent', operator: 'IS_NOT_EMPTY' },
        { field: 'lastReplyAuthor', operator: 'EQUALS', value: 'CLIENT' },
      ],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });
    const parent = await createTicket(app, { title: 'Parent', requesterId: client.id });
    const child = await createTicket(app, { title: 'Sub-ticket', requesterId: client.id, parentId: parent });

    await withDispatcherHeld(app, async () => {
      await addReply(app, child, 'agent: which version?', agent.auth);
      await addReply(app, child, 'client: version 2', client.auth);
    });
    await watch.waitForRequests(1);
    await settled(app);
    expect(watch.requests.map((r) => JSON.parse(r.body))).toEqual([
      { ticket: child, text: 'client: version 2', author: client.email, last: 'client: version 2' },
    ]);
    expect((await deliveriesOf(app, child)).totalCount).toBe(1);

    watch.requests.length = 0;
    await withDispatcherHeld(app, async () => {
      await addReply(app, child, 'client: first', client.auth);
      await addReply(app, child, 'client: second', client.auth);
      await addComment(app, child, 'agent note after both', agent.auth);
    });
    await watch.waitForRequests(2);
    await settled(app);
    expect(watch.requests.map((r) => JSON.parse(r.body).text).sort()).toEqual(['client: first', 'client: second']);
    expect(watch.requests.map((r) => JSON.parse(r.body).last).sort()).toEqual(['client: first', 'client: second']);
  });

  it('TICKET_CREATED is judged on the ticket as created: created LOW and raised to URGENT at once → no "URGENT on creation" webhook; created URGENT and lowered → sent', async ({ app, watch, watchRule }) => {
    await createRule(app, watchRule('Urgent on creation', { events: ['TICKET_CREATED'], conditions: [{ field: 'priority', operator: 'EQUALS', value: 'URGENT' }] }));
    let low = '', urgent = '';
    await withDispatcherHeld(app, async () => {
      low = await createTicket(app, { title: 'created low', priority: 'LOW' });
      await updateTicket(app, low, { priority: 'URGENT' });
      urgent = await createTicket(app, { title: 'created urgent', priority: 'URGENT' });
      await updateTicket(app, urgent, { priority: 'LOW' });
    });
    await watch.waitForRequests(1);
    await settled(app);
    expect(watch.requests.map((r) => JSON.parse(r.body))).toEqual([{ ticket: urgent, event: 'TICKET_CREATED', rule: 'Urgent on creation' }]);
  });
});

describe.concurrent('which rules run', () => {
  it('two rules match the same event: only the first by position runs; with continueAfterMatch both run, in position order', async ({ app }) => {
    // created second-first, so that position (not creation order) has to decide
    await createRule(app, { name: 'second', position: 2, events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'CONTAINS', value: '[pair]' }], actions: [{ type: 'ADD_COMMENT', value: 'second ran' }] });
    const first: RuleInput = { name: 'first', position: 1, events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'CONTAINS', value: '[pair]' }], actions: [{ type: 'ADD_COMMENT', value: 'first ran' }] };
    const firstRule = await createRule(app, first);

    const a = await createTicket(app, { title: '[pair] a' });
    await settled(app);
    expect((await comments(app, a)).map((p) => p.text)).toEqual(['first ran']);

    await app.ok(RlUpdateRuleDocument, { id: firstRule.id, input: { ...first, continueAfterMatch: true } });
    const b = await createTicket(app, { title: '[pair] b' });
    await settled(app);
    expect((await comments(app, b)).map((p) => p.text)).toEqual(['first ran', 'second ran']);
  });

  it('ANY matches when a single condition holds (and not when none does); ALL needs every one', async ({ app }) => {
    const conditions: RuleInput['conditions'] = [
      { field: 'priority', operator: 'EQUALS', value: 'HIGH' },
      { field: 'title', operator: 'CONTAINS', value: '[vip]' },
    ];
    await createRule(app, { name: 'any', position: 1, continueAfterMatch: true, events: ['TICKET_CREATED'], match: 'ANY', conditions, actions: [{ type: 'ADD_COMMENT', value: 'ANY held' }] });
    await createRule(app, { name: 'all', position: 2, events: ['TICKET_CREATED'], match: 'ALL', conditions, actions: [{ type: 'ADD_COMMENT', value: 'ALL held' }] });

    const high = await createTicket(app, { title: 'only priority', priority: 'HIGH' });
    const vip = await createTicket(app, { title: 'only title [vip]', priority: 'LOW' });
    const both = await createTicket(app, { title: 'both [vip]', priority: 'HIGH' });
    const none = await createTicket(app, { title: 'neither', priority: 'NORMAL' });
    await settled(app);
    expect((await comments(app, high)).map((p) => p.text)).toEqual(['ANY held']);
    expect((await comments(app, vip)).map((p) => p.text)).toEqual(['ANY held']);
    expect((await comments(app, both)).map((p) => p.text)).toEqual(['ANY held', 'ALL held']);
    expect(await comments(app, none)).toEqual([]);
  });

  it('a disabled rule never runs, nor does it stop the rules after it', async ({ app }) => {
    const base = { events: ['TICKET_CREATED'] as RuleInput['events'], conditions: [{ field: 'title', operator: 'CONTAINS' as const, value: '[dis]' }] };
    const disabled = await createRule(app, { ...base, name: 'disabled', enabled: false, position: 1, actions: [{ type: 'ADD_COMMENT', value: 'disabled ran' }] });
    expect(disabled.enabled).toBe(false);
    await createRule(app, { ...base, name: 'enabled', position: 2, actions: [{ type: 'ADD_COMMENT', value: 'enabled ran' }] });
    const t = await createTicket(app, { title: '[dis] x' });
    await settled(app);
    expect((await comments(app, t)).map((p) => p.text)).toEqual(['enabled ran']);
  });
});

describe.concurrent('conditions on a BOOLEAN custom field', () => {
  it('take what the field takes (yes/no/1/0, any case, padded), stored as true/false; a bad value names conditions[n].value and lists them', async ({ app }) => {
    await createCustomFields(app, [{ key: 'vip', name: 'VIP', type: 'BOOLEAN' }]);
    const rule = await createRule(app, {
      name: 'vip', events: ['TICKET_CREATED'], match: 'ANY',
      conditions: [{ field: 'custom.vip', operator: 'EQUALS', value: ' Yes ' }, { field: 'custom.vip', operator: 'NOT_EQUALS', value: '0' }],
      actions: [{ type: 'ADD_COMMENT', value: 'vip {{ ticket.custom.vip }}' }],
    });
    expect(rule.conditions.map((c) => c.value)).toEqual(['true', 'false']);
    await app.ok(RlUpdateRuleDocument, { id: rule.id, input: {
      name: 'vip', events: ['TICKET_CREATED'],
      conditions: [{ field: 'custom.vip', operator: 'EQUALS', value: 'YES' }],
      actions: [{ type: 'ADD_COMMENT', value: 'vip {{ ticket.custom.vip }}' }],
    } });

    const yes = await createTicket(app, { title: 'yes', customFields: { vip: 'yes' } });
    const no = await createTicket(app, { title: 'no', customFields: { vip: 'no' } });
    const unset = await createTicket(app, { title: 'unset' });
    await settled(app);
    expect((await comments(app, yes)).map((p) => p.text)).toEqual(['vip true']);
    expect(await comments(app, no)).toEqual([]);
    expect(await comments(app, unset)).toEqual([]);

    const r = await app.gql(RlCreateRuleDocument, { input: {
      name: 'bad', events: ['TICKET_CREATED'],
      conditions: [{ field: 'priority', operator: 'EQUALS', value: 'HIGH' }, { field: 'custom.vip', operator: 'EQUALS', value: 'maybe' }],
      actions: [{ type: 'ADD_COMMENT', value: 'x' }],
    } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.extensions!.field).toBe('conditions[1].value');
    expect(r.errors![0]!.message).toMatch(/"maybe"/);
    expect(r.errors![0]!.message).toContain('true, false, 1, 0, yes, no');
    expect((await app.ok(RlRulesDocument)).rules.map((x) => x.name)).toEqual(['vip']);
  });
});

describe.concurrent('conditions on enums and durations pasted with white space', () => {
  it("name the same value, judged and kept trimmed (' URGENT\\n', ' 2h '); a TIMER rule on ' CLOSED ' is refused as on CLOSED", async ({ app }) => {
    const rule = await createRule(app, {
      name: 'urgent', events: ['TICKET_CREATED'],
      conditions: [{ field: 'priority', operator: 'EQUALS', value: ' URGENT\n' }, { field: 'requester.role', operator: 'NOT_EQUALS', value: 'CLIENT ' }],
      actions: [{ type: 'ADD_COMMENT', value: 'urgent ran' }],
    });
    expect(rule.conditions.map((c) => c.value)).toEqual(['URGENT', 'CLIENT']);
    const timer = await createRule(app, {
      name: 'timer', enabled: false, events: ['TIMER'],
      conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: ' 2h ' }],
      actions: [{ type: 'ADD_COMMENT', value: 'late' }],
    });
    expect(timer.conditions[0]!.value).toBe('2h');

    const urgent = await createTicket(app, { title: 'urgent', priority: 'URGENT' });
    const low = await createTicket(app, { title: 'low', priority: 'LOW' });
    await settled(app);
    expect((await comments(app, urgent)).map((p) => p.text)).toEqual(['urgent ran']);
    expect(await comments(app, low)).toEqual([]);

    const r = await app.gql(RlCreateRuleDocument, { input: {
      name: 'closed timer', events: ['TIMER'],
      conditions: [{ field: 'status', operator: 'EQUALS', value: ' CLOSED ' }, { field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '2h' }],
      actions: [{ type: 'ADD_COMMENT', value: 'x' }],
    } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.extensions!.field).toBe('conditions[0].operator');
    expect(r.errors![0]!.message).toMatch(/a TIMER never fires for a CLOSED ticket/);
    expect((await app.ok(RlRulesDocument)).rules.map((x) => x.name)).toEqual(['urgent', 'timer']);
  });
});

describe.concurrent('conditions on SELECT, NUMBER and DATE custom fields', () => {
  it("take what the field takes, judged by its conversion and stored as it holds them: a padded option, 1e3; a number it cannot hold exactly and a time without a zone are refused at conditions[n].value", async ({ app }) => {
    await createCustomFields(app, [{ key: 'channel', name: 'Channel', type: 'SELECT', options: ['Email', 'Phone'] }, { key: 'due', name: 'Due', type: 'DATE' }]);
    const rule = await createRule(app, {
      name: 'typed', events: ['TICKET_CREATED'],
      conditions: [
        { field: 'custom.channel', operator: 'EQUALS', value: ' Email\n' },
        { field: 'custom.amount', operator: 'EQUALS', value: ' 1e3 ' },
        { field: 'custom.due', operator: 'LESS_THAN', value: '2024-05-01T12:00:00+02:00' },
      ],
      actions: [{ type: 'ADD_COMMENT', value: 'typed ran' }],
    });
    expect(rule.conditions.map((c) => c.value)).toEqual(['Email', '1000', '2024-05-01T10:00:00.000Z']);
    // CONTAINS compares text: its value is kept as written
    const contains = await createRule(app, { name: 'contains', enabled: false, events: ['TICKET_CREATED'], conditions: [{ field: 'custom.channel', operator: 'CONTAINS', value: ' mai' }], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    expect(contains.conditions[0]!.value).toBe(' mai');
    const hit = await createTicket(app, { title: 'hit', customFields: { channel: 'Email', amount: 1000, due: '2024-05-01T09:59:00Z' } });
    const miss = await createTicket(app, { title: 'miss', customFields: { channel: 'Phone', amount: 1000, due: '2024-05-01T09:59:00Z' } });
    await settled(app);
    expect((await comments(app, hit)).map((p) => p.text)).toEqual(['typed ran']);
    expect(await comments(app, miss)).toEqual([]);

    for (const [condition, message] of [
      [{ field: 'custom.amount', operator: 'EQUALS', value: '9007199254740993' }, /^conditions\[1\]\.value: custom field "amount" is NUMBER: "9007199254740993" cannot be stored exactly as a number/],
      [{ field: 'custom.due', operator: 'GREATER_THAN', value: '2024-05-01T10:00' }, /^conditions\[1\]\.value: custom field "due" is DATE: "2024-05-01T10:00" is not a date \(use YYYY-MM-DD or an ISO timestamp with a zone/],
      [{ field: 'custom.channel', operator: 'EQUALS', value: 'email' }, /^conditions\[1\]\.value: "email" is not one of Email, Phone/],
    ] as const) {
      const r = await app.gql(RlCreateRuleDocument, { input: { name: 'bad', events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'CONTAINS', value: 'x' }, condition], actions: [{ type: 'ADD_COMMENT', value: 'x' }] } });
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0]!.extensions!.field).toBe('conditions[1].value');
      expect(r.errors![0]!.message).toMatch(message);
    }
    expect((await app.ok(RlRulesDocument)).rules.map((x) => x.name)).toEqual(['typed', 'contains']);
  });
});

describe.concurrent('conditions on a DATE custom field', () => {
  it('a date without a time names that whole day (UTC): EQUALS holds for a timestamp on it, GREATER_THAN from the next day', async ({ app }) => {
    await createCustomFields(app, [{ key: 'due', name: 'Due', type: 'DATE' }]);
    const operators = ['EQUALS', 'NOT_EQUALS', 'GREATER_THAN', 'LESS_THAN'] as const;
    for (const [i, operator] of operators.entries()) {
      await createRule(app, {
        name: operator, position: i, continueAfterMatch: true, events: ['TICKET_CREATED'],
        conditions: [{ field: 'custom.due', operator, value: '2024-05-01' }],
        actions: [{ type: 'ADD_COMMENT', value: operator }],
      });
    }
    const ran = async (due: string) => {
      const t = await createTicket(app, { title: due, customFields: { due } });
      await settled(app);
      return (await comments(app, t)).map((p) => p.text);
    };
    expect(await ran('2024-05-01')).toEqual(['EQUALS']);
    expect(await ran('2024-05-01T00:00:00Z')).toEqual(['EQUALS']);
    expect(await ran('2024-05-01T23:59:59.999Z')).toEqual(['EQUALS']);
    expect(await ran('2024-05-01T10:00:00+02:00')).toEqual(['EQUALS']);
    expect(await ran('2024-05-02T00:00:00Z')).toEqual(['NOT_EQUALS', 'GREATER_THAN']);
    expect(await ran('2024-04-30T23:59:59Z')).toEqual(['NOT_EQUALS', 'LESS_THAN']);
  });
});

describe.concurrent('TICKET_UPDATED with status CHANGED_TO RESOLVED', () => {
  it('fires on the change to RESOLVED only: not on a title change, not on a repeated update to the same status', async ({ app, agent, watch, watchRule }) => {
    await createRule(app, watchRule('Resolved', { events: ['TICKET_UPDATED'], conditions: [{ field: 'status', operator: 'CHANGED_TO', value: 'RESOLVED' }] }));
    const t = await createTicket(app, { title: 'to resolve' });
    const update = (input: UpdateTicketInput) => updateTicket(app, t, input, agent.auth);

    await update({ title: 'to resolve (renamed)' });
    await update({ status: 'IN_PROGRESS' });
    await settled(app);
    expect(watched(watch, t)).toHaveLength(0);

    await update({ status: 'RESOLVED' });
    await watch.waitForRequests(1);
    await update({ status: 'RESOLVED' }); // no change: no event
    await update({ title: 'renamed while resolved' }); // status EQUALS RESOLVED would hold here; CHANGED_TO must not
    await update({ status: 'RESOLVED', priority: 'HIGH' }); // a change, but not of the status
    await settled(app);
    expect(watched(watch, t)).toHaveLength(1);

    await update({ status: 'OPEN' });
    await update({ status: 'RESOLVED' });
    await watch.waitForRequests(2);
    await settled(app);
    expect(watched(watch, t).map((r) => JSON.parse(r.body))).toEqual([
      { ticket: t, event: 'TICKET_UPDATED', rule: 'Resolved' },
      { ticket: t, event: 'TICKET_UPDATED', rule: 'Resolved' },
    ]);
  });
});

describe.concurrent('awaitResponse', () => {
  const crmRule = (webhookId: string): RuleInput => ({
    name: 'CRM deal',
    events: ['TICKET_CREATED'],
    conditions: [{ field: 'title', operator: 'CONTAINS', value: '[crm]' }],
    actions: [
      { type: 'SEND_WEBHOOK', webhookId, awaitResponse: true },
      { type: 'SET_CUSTOM_FIELD', field: 'deal_url', value: 'https://crm.example/deals/{{ temp.deal }}' },
      { type: 'ADD_COMMENT', value: 'Deal {{ temp.deal }}: {{ ticket.custom.deal_url }}' },
    ],
  });
  const crmWebhook = (app: TestApp, url: string) => createWebhook(app, {
    name: 'CRM',
    method: 'POST',
    url,
    format: 'JSON',
    body: '{"ticket": "{{ ticket.id }}", "title": "{{ ticket.title }}"}',
    responseMappings: [{ path: 'result.id', target: 'TEMPORARY', field: 'deal' }],
  });

  it('the actions after an awaited SEND_WEBHOOK wait for its response and use the mapped temp value', async ({ app, startReceiver }) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // answers only once the test releases it
    const gate = await startReceiver(() => released.then(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"result":{"id":"D-4711"}}' })));
    await createRule(app, crmRule(await crmWebhook(app, `${gate.url}/deals`)));
    const t = await createTicket(app, { title: '[crm] new lead' });
    const [req] = await gate.waitForRequests(1);
    expect(JSON.parse(req!.body)).toEqual({ ticket: t, title: '[crm] new lead' });
    // the event is processed (the delivery exists), yet nothing after the webhook ran
    const [row] = await app.services.orm.em.fork().getConnection().execute(
      `select count(*)::int as n from ticket_events where ticket_id = ? and processed_at is null`, [t]);
    expect(row.n).toBe(0);
    let ticket = await getTicket(app, t);
    expect(ticket.customFields).toEqual({});
    expect(ticket.posts).toEqual([]);

    release();
    await waitFor(async () => (await comments(app, t)).length > 0, { what: 'the continuation' });
    await settled(app);
    ticket = await getTicket(app, t);
    expect(ticket.customFields).toEqual({ deal_url: 'https://crm.example/deals/D-4711' });
    expect(ticket.posts.map((p) => [p.kind, p.text, p.author])).toEqual([['COMMENT', 'Deal D-4711: https://crm.example/deals/D-4711', null]]);
  });

  it('a rule edited while its answer is awaited: the run goes on with the actions it was running, never sending the webhook twice', async ({ app, startReceiver }) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const gate = await startReceiver(() => released.then(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"result":{"id":"D-1"}}' })));
    const webhookId = await crmWebhook(app, `${gate.url}/deals`);
    const rule = await createRule(app, crmRule(webhookId));
    const t = await createTicket(app, { title: '[crm] edited meanwhile' });
    await gate.waitForRequests(1);
    // an action put first while the answer is awaited: the stored position of "what comes
    // next" (1) now names the SEND_WEBHOOK itself
    const edited = crmRule(webhookId);
    await app.ok(RlUpdateRuleDocument, { id: rule.id, input: { ...edited, actions: [{ type: 'SET_PRIORITY', value: 'HIGH' }, ...edited.actions] } });
    release();
    await waitFor(async () => (await comments(app, t)).length > 0, { what: 'the continuation' });
    await settled(app);
    expect(gate.requests).toHaveLength(1);
    expect((await comments(app, t)).map((p) => p.text)).toEqual(['Deal D-1: https://crm.example/deals/D-1']);
    expect((await deliveriesOf(app, t)).nodes).toHaveLength(1);
  });

  it('a rule disabled or deleted while its answer is awaited: the rest does not run, and a comment on the ticket says so', async ({ app, startReceiver }) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const gate = await startReceiver(() => released.then(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"result":{"id":"D-2"}}' })));
    const webhookId = await crmWebhook(app, `${gate.url}/deals`);
    const disabled = await createRule(app, crmRule(webhookId));
    const deleted = await createRule(app, { ...crmRule(webhookId), name: 'CRM deal (deleted)', events: ['TICKET_UPDATED'], conditions: [] });
    const t = await createTicket(app, { title: '[crm] stopped meanwhile' });
    await gate.waitForRequests(1);
    await app.ok(RlUpdateRuleDocument, { id: disabled.id, input: { ...crmRule(webhookId), enabled: false } });
    await updateTicket(app, t, { priority: 'HIGH' });
    await gate.waitForRequests(2);
    await app.ok('mutation ($id: ID!) { deleteRule(id: $id) }', { id: deleted.id });
    release();
    await waitFor(async () => (await comments(app, t)).length >= 2, { what: 'the comments of both stopped runs' });
    await settled(app);
    expect((await comments(app, t)).map((p) => p.text).sort()).toEqual([
      'Rule "CRM deal (deleted)" was disabled or deleted while its webhook\'s answer was awaited: the remaining actions were not run.',
      'Rule "CRM deal" was disabled or deleted while its webhook\'s answer was awaited: the remaining actions were not run.',
    ]);
    expect((await getTicket(app, t)).customFields).toEqual({});
  });

  it('an awaited delivery cancelled (alone or in bulk): the rest does not run, and a comment on the ticket says so', async ({ app, failing }) => {
    await createRule(app, crmRule(await crmWebhook(app, `${failing.url}/deals`)));
    const alone = await createTicket(app, { title: '[crm] cancelled lead' });
    const inBulk = await createTicket(app, { title: '[crm] cancelled in bulk' });
    // waiting for its retry after a first attempt answered 500
    const retrying = (t: string) =>
      waitFor(async () => {
        const d = (await deliveriesOf(app, t)).nodes[0];
        return d?.status === 'RETRYING' ? d.id : undefined;
      }, { what: 'a retry of the awaited delivery' });
    await app.ok('mutation ($id: ID!) { cancelDelivery(id: $id) { id } }', { id: await retrying(alone) });
    await retrying(inBulk);
    await app.ok('mutation ($t: ID!) { cancelMany(filter: { ticketId: $t }, dryRun: false) { matched } }', { t: inBulk });
    await settled(app);
    for (const t of [alone, inBulk]) {
      expect((await comments(app, t)).map((p) => p.text)).toEqual(['Webhook "CRM" was cancelled. The remaining actions of rule "CRM deal" were not run.']);
      expect((await getTicket(app, t)).customFields).toEqual({});
    }
  });

  it('the same with a real JSON receiver: both later actions applied once, and the delivery records the temp value', async ({ app, crm }) => {
    await createRule(app, crmRule(await crmWebhook(app, `${crm.url}/deals`)));
    const t = await createTicket(app, { title: '[crm] second lead' });
    await waitFor(async () => (await comments(app, t)).length > 0, { what: 'the continuation' });
    await settled(app);
    const ticket = await getTicket(app, t);
    expect(ticket.customFields).toEqual({ deal_url: 'https://crm.example/deals/D-4711' });
    expect((await comments(app, t)).map((p) => p.text)).toEqual(['Deal D-4711: https://crm.example/deals/D-4711']);
    expect(crm.requests).toHaveLength(1);
    const { nodes } = await deliveriesOf(app, t);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ status: 'SUCCEEDED', responseData: { deal: 'D-4711' } });
  });

  it('if the awaited delivery finally fails, the later actions do not run and the failure comment says so', async ({ app, clock, failing }) => {
    await createRule(app, crmRule(await crmWebhook(app, `${failing.url}/deals`)));
    const t = await createTicket(app, { title: '[crm] doomed lead' });
    const id = await waitFor(async () => (await deliveriesOf(app, t)).nodes[0]?.id, { what: 'the delivery' });
    // the clock moves to each retry: 1 m apart, a 4 m window → 5 attempts
    expect(await retryUntilFinal(app, clock, id)).toMatchObject({ status: 'FAILED', attemptCount: 5 });
    await settled(app);
    expect(failing.requests).toHaveLength(5);
    const ticket = await getTicket(app, t);
    expect(ticket.customFields).toEqual({});
    const texts = (await comments(app, t)).map((p) => p.text);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(/^Webhook "CRM" failed after \d+ attempts: .*500.*The remaining actions of rule "CRM deal" were not run\.$/s);
  });

  it('if the awaited webhook cannot even be rendered (invalid URL), the later actions do not run and the comment says so', async ({ app }) => {
    // ".." from the ticket would climb out of /deals: the URL is refused after rendering
    await createRule(app, crmRule(await crmWebhook(app, 'http://127.0.0.1:1/deals/{{ ticket.custom.port }}/x')));
    const t = await createTicket(app, { title: '[crm] unrenderable', customFields: { port: '..' } });
    await waitFor(async () => (await comments(app, t)).length > 0, { what: 'the failure comment' });
    await settled(app);
    expect((await deliveriesOf(app, t)).nodes.map((d) => d.status)).toEqual(['FAILED']);
    expect((await getTicket(app, t)).customFields).toEqual({ port: '..' });
    const texts = (await comments(app, t)).map((p) => p.text);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(/^Webhook "CRM" was not sent: .*has a "\.\." path segment.*The remaining actions of rule "CRM deal" were not run\.$/s);
  });
});

describe.concurrent('changes made by rules raise no events', () => {
  it('a rule that sets the priority raises no TICKET_UPDATED, its comment no COMMENT_ADDED; the same changes by a person do', async ({ app, agent, watch, watchRule }) => {
    await createRule(app, {
      name: 'Escalate',
      position: 1,
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'title', operator: 'CONTAINS', value: '[quiet]' }],
      actions: [
        { type: 'SET_PRIORITY', value: 'HIGH' },
        { type: 'ADD_COMMENT', value: 'Escalated to {{ ticket.priority }}' },
      ],
    });
    await createRule(app, watchRule('Any update', { position: 2, events: ['TICKET_UPDATED'] }));
    await createRule(app, watchRule('Any comment', { position: 3, events: ['COMMENT_ADDED'] }));

    const t = await createTicket(app, { title: '[quiet] please', priority: 'LOW' });
    await waitFor(async () => (await comments(app, t)).length > 0, { what: 'the rule’s comment' });
    await settled(app);
    const ticket = await getTicket(app, t);
    expect(ticket.priority).toBe('HIGH');
    // the actions run in order: the comment sees the priority the action before set
    expect(ticket.posts.map((p) => [p.kind, p.text, p.author])).toEqual([['COMMENT', 'Escalated to HIGH', null]]);
    expect(watch.requests).toHaveLength(0);

    // the watch rules do fire for a person's change and comment
    await updateTicket(app, t, { priority: 'URGENT' }, agent.auth);
    await addComment(app, t, 'a person comments', agent.auth);
    await watch.waitForRequests(2);
    await settled(app);
    expect(watched(watch, t).map((r) => JSON.parse(r.body).rule).sort()).toEqual(['Any comment', 'Any update']);
  });
});

describe.concurrent('invalid rules are refused', () => {
  const valid: RuleInput = { name: 'ok', events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'hi' }] };
  const cases: [string, Partial<RuleInput>, string, RegExp][] = [
    ['unknown webhook', { actions: [{ type: 'SEND_WEBHOOK', webhookId: '999999' }] }, 'actions[0].webhookId', /unknown webhook "999999"/],
    ['unknown condition field', { conditions: [{ field: 'colour', operator: 'EQUALS', value: 'red' }] }, 'conditions[0].field', /unknown field "colour"/],
    ['unknown custom field', { conditions: [{ field: 'custom.nope', operator: 'EQUALS', value: 'x' }] }, 'conditions[0].field', /custom field "nope" does not exist/],
    ['unknown SET_CUSTOM_FIELD field', { actions: [{ type: 'ADD_COMMENT', value: 'x' }, { type: 'SET_CUSTOM_FIELD', field: 'nope', value: '1' }] }, 'actions[1].field', /unknown custom field "nope"/],
    ['template injection (code)', { actions: [{ type: 'ADD_COMMENT', value: 'x {{ constructor.constructor("return process")() }}' }] }, 'actions[0].value', /1:3/],
    ['template injection (unknown root)', { actions: [{ type: 'ADD_COMMENT', value: 'key: {{ process.env.DESKHOOKS_SECRET_KEY }}' }] }, 'actions[0].value', /process\.env.*1:6|1:6.*process\.env/],
    ['bad enum value', { actions: [{ type: 'SET_PRIORITY', value: 'SUPER' }] }, 'actions[0].value', /"SUPER" is not one of LOW, NORMAL, HIGH, URGENT/],
    ['bad status value', { actions: [{ type: 'SET_STATUS', value: 'DONE' }] }, 'actions[0].value', /"DONE"/],
    ['value that does not fit a NUMBER field', { actions: [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: 'lots' }] }, 'actions[0].value', /is not a number/],
  ];

  it.for(cases)('%s → BAD_USER_INPUT naming the field, nothing saved', async ([_name, patch, field, message], { app }) => {
    const before = (await app.ok(RlRulesDocument)).rules;
    const r = await app.gql(RlCreateRuleDocument, { input: { ...valid, name: `bad ${_name}`, ...patch } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.extensions!.field).toBe(field);
    expect(r.errors![0]!.message).toContain(field);
    expect(r.errors![0]!.message).toMatch(message);
    expect((await app.ok(RlRulesDocument)).rules).toEqual(before);
  });

  it('an enum value outside the schema (events, operator) → BAD_USER_INPUT naming the input path, nothing saved', async ({ app }) => {
    const r = await app.gql(RlCreateRuleDocument, { input: { ...valid, events: ['TICKET_EXPLODED'] } } as never);
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.message).toMatch(/input\.events\[0\].*TICKET_EXPLODED|TICKET_EXPLODED.*input\.events\[0\]/);
    const r2 = await app.gql(RlCreateRuleDocument, { input: { ...valid, conditions: [{ field: 'priority', operator: 'IS', value: 'LOW' }] } } as never);
    expect(codes(r2)).toEqual(['BAD_USER_INPUT']);
    expect(r2.errors![0]!.message).toContain('input.conditions[0].operator');
    expect((await app.ok(RlRulesDocument)).rules).toEqual([]);
  });

  it('an invalid update leaves the rule as it was', async ({ app }) => {
    const rule = await createRule(app, { ...valid, name: 'keep me' });
    const r = await app.gql(RlUpdateRuleDocument, { id: rule.id, input: { ...valid, name: 'changed', actions: [{ type: 'SET_PRIORITY', value: 'SUPER' }] } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.extensions!.field).toBe('actions[0].value');
    expect((await app.ok(RlRulesDocument)).rules).toEqual([{ id: rule.id, name: 'keep me' }]);
  });

  it('CLIENT and AGENT → FORBIDDEN, nothing saved', async ({ app, client, agent }) => {
    for (const who of [client, agent]) {
      expect(codes(await app.gql(RlCreateRuleDocument, { input: valid }, who.auth))).toEqual(['FORBIDDEN']);
    }
    expect((await app.ok(RlRulesDocument)).rules).toEqual([]);
  });
});

describe.concurrent('a failing action', () => {
  it('is reported as an internal COMMENT naming rule and action, and the later actions still run', async ({ app }) => {
    await createRule(app, {
      name: 'Amount from title',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'title', operator: 'CONTAINS', value: '[amount]' }],
      actions: [
        { type: 'SET_CUSTOM_FIELD', field: 'amount', value: '{{ ticket.title }}' },
        { type: 'ADD_COMMENT', value: 'after the failure' },
      ],
    });
    const t = await createTicket(app, { title: '[amount] lots' });
    await waitFor(async () => (await comments(app, t)).length >= 2, { what: 'two comments' });
    await settled(app);
    const ticket = await getTicket(app, t);
    expect(ticket.customFields).toEqual({});
    const texts = ticket.posts.map((p) => [p.kind, p.text, p.author]);
    expect(texts).toHaveLength(2);
    expect(texts[0]![0]).toBe('COMMENT');
    expect(texts[0]![1]).toMatch(/^Rule "Amount from title": action 1 \(SET_CUSTOM_FIELD\) failed: .*amount.*NUMBER.*"\[amount\] lots" is not a number/);
    expect(texts[0]![2]).toBeNull();
    expect(texts[1]).toEqual(['COMMENT', 'after the failure', null]);
  });

  it('SET_ASSIGNEE whose tag has no value (no reply yet) leaves the assignee as it was and says so', async ({ app, agent }) => {
    await createRule(app, {
      name: 'Assign to the last replier',
      events: ['TICKET_CREATED'],
      actions: [{ type: 'SET_ASSIGNEE', value: '{{ lastReply.author.id }}' }],
    });
    const t = await createTicket(app, { title: 'no reply yet', assigneeId: agent.id });
    await waitFor(async () => (await comments(app, t)).length >= 1, { what: 'the failure comment' });
    await settled(app);
    const { ticket } = await app.ok(`query($id: ID!) { ticket(id: $id) { assignee { id } } }`, { id: t });
    expect(ticket.assignee).toEqual({ id: agent.id });
    expect((await comments(app, t)).map((p) => p.text)).toEqual([
      'Rule "Assign to the last replier": action 1 (SET_ASSIGNEE) failed: the user id rendered empty from "{{ lastReply.author.id }}", so the assignee was left as it was',
    ]);
  });
});

describe('credentials sealed under another DESKHOOKS_SECRET_KEY', () => {
  test('a process whose key cannot open the stored secrets says so once at start, naming the webhooks; one with the key they were sealed with says nothing', async ({ startApp }) => {
    const logOf = () => {
      const errors: string[] = [];
      return { errors, log: { info: () => {}, debug: () => {}, error: (m: string) => void errors.push(m) } satisfies Logger };
    };
    const KEY = { DESKHOOKS_SECRET_KEY: 'the-key-of-every-process-0123' };
    const first = logOf();
    const app = await startApp(KEY, { log: first.log });
    const sealed = await createWebhook(app, { ...jsonHook('Bearer', 'http://127.0.0.1:9/x'), auth: { type: 'BEARER', secret: 'a-token' } });
    await createWebhook(app, jsonHook('No secrets', 'http://127.0.0.1:9/y'));
    const same = logOf();
    await startApp(KEY, { databaseUrl: app.databaseUrl, log: same.log });
    // a worker given no key (one generated in a DATA_DIR of its own), as on another host
    const other = logOf();
    await startApp({ DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl, log: other.log });
    expect(first.errors).toEqual([]);
    expect(same.errors).toEqual([]);
    expect(other.errors).toHaveLength(1);
    expect(other.errors[0]).toMatch(new RegExp(`^DESKHOOKS_SECRET_KEY: the stored secrets of 1 of 1 webhooks with secrets \\(ids ${sealed}\\) cannot be opened with this process's key \\(generated in .+\\), so their deliveries fail unsent here`));
  });


  // README "Rotating keys": attempts that need them fail with a clear error; nothing else stops
  test('the rule still runs: its other actions are done and the delivery is FAILED at once saying why; testWebhook too', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, { ...jsonHook('Sealed elsewhere', `${receiver.url}/k`), auth: { type: 'BEARER', secret: 'token-of-the-old-key' } });
    await createRule(app, {
      name: 'Notify',
      events: ['TICKET_CREATED'],
      actions: [{ type: 'ADD_COMMENT', value: 'the rule ran' }, { type: 'SEND_WEBHOOK', webhookId }],
    });
    // the stored token as a process with another key sealed it
    const otherBox = createSecretBox(createHash('sha256').update('another-secret-key-entirely', 'utf8').digest());
    await app.services.orm.em.fork().getConnection().execute(`update webhooks set auth_secret_sealed = ? where id = ?`, [otherBox.seal('token-of-the-old-key'), webhookId]);

    const ticketId = await createTicket(app, 'after the key changed');
    const texts = await waitFor(async () => {
      const posts = (await comments(app, ticketId)).map((p) => p.text);
      return posts.length >= 2 && posts;
    }, { what: "the rule's comment and the webhook's failure comment" });
    expect(texts).toContain('the rule ran');
    expect(texts).toContain("Webhook \"Sealed elsewhere\" was not sent: a stored credential cannot be decrypted: DESKHOOKS_SECRET_KEY differs from the key it was sealed with; re-enter the webhook's secrets.");
    const [delivery] = (await deliveriesOf(app, ticketId)).nodes;
    expect(delivery).toMatchObject({ status: 'FAILED', attemptCount: 0 });

    const tested = await app.gql(`mutation { testWebhook(id: "${webhookId}", ticketId: "${ticketId}") { status } }`);
    expect(tested.errors).toBeUndefined();
    expect(tested.data.testWebhook.status).toBe('FAILED');
    expect(receiver.requests).toHaveLength(0);
  });
});
