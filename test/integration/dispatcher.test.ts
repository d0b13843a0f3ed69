/**
 * Issue 5 acceptance, end to end: rules created over GraphQL, tickets changed over
 * GraphQL (and the REST subset), the in-process dispatcher and delivery worker, and real
 * HTTP receivers on 127.0.0.1 — including this server's own REST subset as a receiver.
 *
 * Rules are global, so every test deletes all rules afterwards (after everything it
 * caused has been processed); where a test needs it, conditions carry a title marker.
 * "Nothing happened" is proven by waiting until the outbox and the delivery queue are
 * both empty (`settled`), never by sleeping.
 */
import http from 'node:http';
import pg from 'pg';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, startTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import {
  RlAddCommentDocument, RlAddReplyDocument, RlCreateCustomFieldDocument, RlCreateRuleDocument, RlCreateTicketDocument,
  RlCreateUserDocument, RlCreateWebhookDocument, RlDeleteRuleDocument, RlDeliveriesDocument, RlRulesDocument,
  RlTicketDocument, RlUpdateRuleDocument, RlUpdateTicketDocument,
  type CreateTicketInput, type RuleInput, type WebhookInput,
} from '../generated/graphql.js';

let app: TestApp;
let tg: Receiver; // Telegram Bot API look-alike
let sms: Receiver; // SMS gateway: FORM in, XML out
let crm: Receiver; // CRM: JSON in, JSON out
let watch: Receiver; // a plain receiver that tells whether a rule fired
let failing: Receiver; // always 500
let agent: { id: string; email: string; key: string; auth: string };
let client: { id: string; email: string; key: string; auth: string };
let watchHook: string;

const AGENT_CHAT_ID = '700100200';
const CLIENT_PHONE = '+1 555 0199';
const TG_TOKEN = '123456:AAE-xyz_Secret';

type Who = typeof agent;

const codes = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.map((e) => e.extensions?.code);

/** Outbox and delivery queue both empty, seen in one snapshot: nothing is left to happen. */
async function settled(): Promise<void> {
  const conn = app.services.orm.em.fork().getConnection();
  await waitFor(async () => {
    const [row] = await conn.execute(
      `select (select count(*) from ticket_events where processed_at is null)::int as events,
              (select count(*) from deliveries where status in ('PENDING', 'RETRYING'))::int as deliveries`,
    );
    return row.events === 0 && row.deliveries === 0;
  }, { timeoutMs: 20_000, what: 'the dispatcher and the delivery worker to be idle' });
}

const createRule = async (input: RuleInput) => (await app.ok(RlCreateRuleDocument, { input })).createRule;
const createWebhook = async (input: WebhookInput) => (await app.ok(RlCreateWebhookDocument, { input })).createWebhook.id;
const createTicket = async (input: Omit<CreateTicketInput, 'description'>, auth?: string) =>
  (await app.ok(RlCreateTicketDocument, { input: { description: 'd', ...input } }, auth)).createTicket;
const getTicket = async (id: string) => (await app.ok(RlTicketDocument, { id })).ticket!;
const comments = async (id: string) => (await getTicket(id)).posts.filter((p) => p.kind === 'COMMENT');
const deliveriesOf = async (ticketId: string) => (await app.ok(RlDeliveriesDocument, { filter: { ticketId }, first: 50 })).deliveries;
/** requests at the watch receiver for this ticket */
const watched = (ticketId: string) => watch.requests.filter((r) => JSON.parse(r.body).ticket === ticketId);

/** A watch rule: the event reaches `watch` with the ticket id, the event and the rule name. */
const watchRule = (name: string, extra: Partial<RuleInput> & Pick<RuleInput, 'events'>): RuleInput => ({
  name,
  actions: [{ type: 'SEND_WEBHOOK', webhookId: watchHook }],
  ...extra,
});

beforeAll(async () => {
  [app, tg, sms, crm, watch, failing] = await Promise.all([
    startTestApp(),
    startReceiver(),
    startReceiver(),
    startReceiver(),
    startReceiver(),
    startReceiver(() => ({ status: 500, body: 'gateway down' })),
  ]);
  tg.fallback = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true,"result":{"message_id":17}}' };
  sms.fallback = {
    status: 200,
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: '<?xml version="1.0" encoding="UTF-8"?>\n<reply><result><sms_id>1000001</sms_id><status>queued</status></result></reply>',
  };
  crm.fallback = { status: 201, headers: { 'content-type': 'application/json' }, body: '{"result":{"id":"D-4711","stage":"new"}}' };

  const mk = async (name: string, email: string, role: 'AGENT' | 'CLIENT', extra: { telegramChatId?: string; phone?: string }): Promise<Who> => {
    const { createUser } = await app.ok(RlCreateUserDocument, { input: { name, email, role, ...extra } });
    return { id: createUser.user.id, email, key: createUser.apiKey, auth: bearer(createUser.apiKey) };
  };
  agent = await mk('Agent Smith', 'agent@example.com', 'AGENT', { telegramChatId: AGENT_CHAT_ID });
  client = await mk('Client One', 'client@example.com', 'CLIENT', { phone: CLIENT_PHONE });
  for (const input of [
    { key: 'sms_id', name: 'SMS id', type: 'TEXT' as const },
    { key: 'deal_url', name: 'CRM deal', type: 'TEXT' as const },
    { key: 'amount', name: 'Amount', type: 'NUMBER' as const },
    { key: 'port', name: 'Port', type: 'TEXT' as const },
  ]) await app.ok(RlCreateCustomFieldDocument, { input });
  watchHook = await createWebhook({
    name: 'Watch',
    method: 'POST',
    url: `${watch.url}/hook`,
    format: 'JSON',
    body: '{"ticket": "{{ ticket.id }}", "event": "{{ event.type }}", "rule": "{{ rule.name }}"}',
  });
});

afterEach(async () => {
  await settled();
  for (const r of (await app.ok(RlRulesDocument)).rules) await app.ok(RlDeleteRuleDocument, { id: r.id });
  for (const r of [tg, sms, crm, watch, failing]) r.requests.length = 0;
});

afterAll(async () => {
  await app?.stop();
  await Promise.all([tg, sms, crm, watch, failing].map((r) => r?.close()));
});

describe('seed 1: Telegram message for URGENT tickets', () => {
  it('an URGENT ticket sends sendMessage with the assignee’s chat_id and the title; a LOW one sends nothing; the delivery records rule and event', async () => {
    const hook = await createWebhook({
      name: 'Telegram',
      method: 'POST',
      url: `${tg.url}/bot${TG_TOKEN}/sendMessage`,
      format: 'JSON',
      body: '{"chat_id": "{{ assignee.telegramChatId }}", "text": "URGENT #{{ ticket.id }}: {{ ticket.title }}"}',
    });
    const rule = await createRule({
      name: 'Urgent to Telegram',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'priority', operator: 'EQUALS', value: 'URGENT' }],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });

    const low = await createTicket({ title: 'Printer is slow', priority: 'LOW', assigneeId: agent.id });
    const urgent = await createTicket({ title: 'Server "db-1" is down \\ help', priority: 'URGENT', assigneeId: agent.id });
    const [req] = await tg.waitForRequests(1);
    await settled();

    expect(tg.requests).toHaveLength(1);
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe(`/bot${TG_TOKEN}/sendMessage`);
    expect(req!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req!.body)).toEqual({ chat_id: AGENT_CHAT_ID, text: `URGENT #${urgent.id}: Server "db-1" is down \\ help` });

    expect((await deliveriesOf(low.id)).totalCount).toBe(0);
    const { nodes } = await deliveriesOf(urgent.id);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ status: 'SUCCEEDED', event: 'TICKET_CREATED', rule: { id: rule.id, name: 'Urgent to Telegram' }, webhook: { id: hook } });
    expect(req!.headers['x-deskhooks-delivery']).toBe(nodes[0]!.id);
  });
});

describe('seed 2: SMS gateway (FORM request, XML answer)', () => {
  it('maps reply.result.sms_id into a custom field and writes the successComment', async () => {
    const hook = await createWebhook({
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
    const rule = await createRule({
      name: 'SMS on new ticket',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'title', operator: 'CONTAINS', value: '[sms]' }],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });

    const t = await createTicket({ title: '[sms] Fish & chips = 5€' }, client.auth);
    const [req] = await sms.waitForRequests(1);
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(req!.body);
    expect([...form.keys()]).toEqual(['to', 'text']);
    expect(form.get('to')).toBe(CLIENT_PHONE);
    expect(form.get('text')).toBe(`Ticket ${t.id}: [sms] Fish & chips = 5€`);

    await waitFor(async () => (await comments(t.id)).length > 0, { what: 'the success comment' });
    await settled();
    const ticket = await getTicket(t.id);
    expect(ticket.customFields).toEqual({ sms_id: '1000001' });
    expect(ticket.posts).toEqual([expect.objectContaining({ kind: 'COMMENT', text: 'SMS 1000001 queued (HTTP 200)', author: null })]);
    const { nodes } = await deliveriesOf(t.id);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ status: 'SUCCEEDED', event: 'TICKET_CREATED', rule: { id: rule.id } });
    expect(nodes[0]!.responseData).toMatchObject({ sms_id: '1000001', sms: '1000001', sms_status: 'queued' });
  });
});

describe('seed 3: a client reply in a sub-ticket becomes a comment on the parent (REST subset)', () => {
  it('CLIENT reply → one internal COMMENT on the parent; AGENT reply → nothing; the webhook’s comment raises no COMMENT_ADDED, a human one does', async () => {
    const hook = await createWebhook({
      name: 'Comment on parent',
      method: 'POST',
      url: `${app.url}/api/v2/tickets/{parent_ticket_id}/comments/`,
      format: 'FORM',
      body: 'text=Client wrote in #{ticket_id}: {answer_last}',
      auth: { type: 'BASIC', username: agent.email, secret: agent.key },
    });
    await createRule({
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
    await createRule(watchRule('Comment on a top-level ticket', { events: ['COMMENT_ADDED'], conditions: [{ field: 'parent', operator: 'IS_EMPTY' }] }));

    const parent = await createTicket({ title: 'Parent', requesterId: client.id });
    const child = await createTicket({ title: 'Sub-ticket', requesterId: client.id, parentId: parent.id });

    await app.ok(RlAddReplyDocument, { ticketId: child.id, text: 'agent asks for details' }, agent.auth);
    await app.ok(RlAddReplyDocument, { ticketId: child.id, text: 'It fails at 10:00 & again at 11:00' }, client.auth);
    await waitFor(async () => (await comments(parent.id)).length > 0, { what: 'the comment on the parent' });
    await settled();

    const onParent = await comments(parent.id);
    expect(onParent).toEqual([
      expect.objectContaining({ kind: 'COMMENT', text: `Client wrote in #${child.id}: It fails at 10:00 & again at 11:00`, author: { id: agent.id, email: agent.email } }),
    ]);
    expect(await comments(child.id)).toEqual([]); // no failure comment on the sub-ticket
    const { nodes } = await deliveriesOf(child.id);
    expect(nodes).toHaveLength(1); // the AGENT reply sent nothing
    expect(nodes[0]).toMatchObject({ status: 'SUCCEEDED', event: 'REPLY_ADDED' });
    expect(nodes[0]!.request.url).toBe(`${app.url}/api/v2/tickets/${parent.id}/comments/`);
    expect(JSON.stringify(nodes[0]!.request)).not.toContain(agent.key);
    expect(watch.requests).toHaveLength(0); // the webhook's comment raised no COMMENT_ADDED

    // a human comment on the parent does raise COMMENT_ADDED — over GraphQL and over REST
    await app.ok(RlAddCommentDocument, { ticketId: parent.id, text: 'human note' }, agent.auth);
    await watch.waitForRequests(1);
    const res = await fetch(`${app.url}/api/v2/tickets/${parent.id}/comments/`, {
      method: 'POST',
      headers: { authorization: basic(agent.email, agent.key), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'human note over REST' }),
    });
    expect(res.status).toBe(200);
    await watch.waitForRequests(2);
    await settled();
    expect(watched(parent.id).map((r) => JSON.parse(r.body).event)).toEqual(['COMMENT_ADDED', 'COMMENT_ADDED']);
    expect(watch.requests).toHaveLength(2);
  });

  it('the same with a JSON body: {"text": …} posted as the AGENT becomes the parent’s comment', async () => {
    const hook = await createWebhook({
      name: 'Comment on parent (JSON)',
      method: 'POST',
      url: `${app.url}/api/v2/tickets/{parent_ticket_id}/comments/`,
      format: 'JSON',
      body: '{"text": "{{ requester.name }}: {{ lastReply.text }}"}',
      auth: { type: 'BASIC', username: agent.email, secret: agent.key },
    });
    await createRule({
      name: 'Sub-ticket client reply to parent (JSON)',
      events: ['REPLY_ADDED'],
      conditions: [{ field: 'parent', operator: 'IS_NOT_EMPTY' }, { field: 'lastReplyAuthor', operator: 'EQUALS', value: 'CLIENT' }],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });
    const parent = await createTicket({ title: 'Parent (JSON)', requesterId: client.id });
    const child = await createTicket({ title: 'Sub-ticket (JSON)', requesterId: client.id, parentId: parent.id });
    await app.ok(RlAddReplyDocument, { ticketId: child.id, text: 'quotes " and \\ and\nnew line' }, client.auth);
    await waitFor(async () => (await comments(parent.id)).length > 0, { what: 'the comment on the parent' });
    await settled();
    expect((await comments(parent.id)).map((p) => [p.text, p.author?.id])).toEqual([['Client One: quotes " and \\ and\nnew line', agent.id]]);
  });
});

/**
 * Holds the dispatcher while `during` runs: an ACCESS EXCLUSIVE lock on `rules` blocks the
 * dispatcher's per-batch read of the rules, so every event raised inside `during` is
 * evaluated only after all of them are committed — the race between a burst of replies
 * and the dispatcher, made deterministic.
 */
async function withDispatcherHeld(during: () => Promise<void>): Promise<void> {
  await settled();
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

describe('events are judged as they happened, not as the ticket is when the dispatcher gets to them', () => {
  it('an AGENT reply followed at once by a CLIENT reply sends one webhook; two quick CLIENT replies forward each its own text', async () => {
    const hook = await createWebhook({
      name: 'Forward reply',
      method: 'POST',
      url: `${watch.url}/forward`,
      format: 'JSON',
      body: '{"ticket": "{{ ticket.id }}", "text": "{answer_last}", "author": "{{ lastReply.author.email }}", "last": "{{ lastPost.text }}"}',
    });
    await createRule({
      name: 'Client replies in sub-tickets',
      events: ['REPLY_ADDED'],
      conditions: [
        { field: 'parent', operator: 'IS_NOT_EMPTY' },
        { field: 'lastReplyAuthor', operator: 'EQUALS', value: 'CLIENT' },
      ],
      actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
    });
    const parent = await createTicket({ title: 'Parent', requesterId: client.id });
    const child = await createTicket({ title: 'Sub-ticket', requesterId: client.id, parentId: parent.id });

    await withDispatcherHeld(async () => {
      await app.ok(RlAddReplyDocument, { ticketId: child.id, text: 'agent: which version?' }, agent.auth);
      await app.ok(RlAddReplyDocument, { ticketId: child.id, text: 'client: version 2' }, client.auth);
    });
    await watch.waitForRequests(1);
    await settled();
    expect(watch.requests.map((r) => JSON.parse(r.body))).toEqual([
      { ticket: child.id, text: 'client: version 2', author: client.email, last: 'client: version 2' },
    ]);
    expect((await deliveriesOf(child.id)).totalCount).toBe(1);

    watch.requests.length = 0;
    await withDispatcherHeld(async () => {
      await app.ok(RlAddReplyDocument, { ticketId: child.id, text: 'client: first' }, client.auth);
      await app.ok(RlAddReplyDocument, { ticketId: child.id, text: 'client: second' }, client.auth);
      await app.ok(RlAddCommentDocument, { ticketId: child.id, text: 'agent note after both' }, agent.auth);
    });
    await watch.waitForRequests(2);
    await settled();
    expect(watch.requests.map((r) => JSON.parse(r.body).text).sort()).toEqual(['client: first', 'client: second']);
    expect(watch.requests.map((r) => JSON.parse(r.body).last).sort()).toEqual(['client: first', 'client: second']);
  });

  it('TICKET_CREATED is judged on the ticket as created: created LOW and raised to URGENT at once → no "URGENT on creation" webhook; created URGENT and lowered → sent', async () => {
    await createRule(watchRule('Urgent on creation', { events: ['TICKET_CREATED'], conditions: [{ field: 'priority', operator: 'EQUALS', value: 'URGENT' }] }));
    let low = '', urgent = '';
    await withDispatcherHeld(async () => {
      low = (await createTicket({ title: 'created low', priority: 'LOW' })).id;
      await app.ok(RlUpdateTicketDocument, { id: low, input: { priority: 'URGENT' } });
      urgent = (await createTicket({ title: 'created urgent', priority: 'URGENT' })).id;
      await app.ok(RlUpdateTicketDocument, { id: urgent, input: { priority: 'LOW' } });
    });
    await watch.waitForRequests(1);
    await settled();
    expect(watch.requests.map((r) => JSON.parse(r.body))).toEqual([{ ticket: urgent, event: 'TICKET_CREATED', rule: 'Urgent on creation' }]);
  });
});

describe('which rules run', () => {
  it('two rules match the same event: only the first by position runs; with continueAfterMatch both run, in position order', async () => {
    // created second-first, so that position (not creation order) has to decide
    await createRule({ name: 'second', position: 2, events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'CONTAINS', value: '[pair]' }], actions: [{ type: 'ADD_COMMENT', value: 'second ran' }] });
    const first: RuleInput = { name: 'first', position: 1, events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'CONTAINS', value: '[pair]' }], actions: [{ type: 'ADD_COMMENT', value: 'first ran' }] };
    const firstRule = await createRule(first);

    const a = await createTicket({ title: '[pair] a' });
    await settled();
    expect((await comments(a.id)).map((p) => p.text)).toEqual(['first ran']);

    await app.ok(RlUpdateRuleDocument, { id: firstRule.id, input: { ...first, continueAfterMatch: true } });
    const b = await createTicket({ title: '[pair] b' });
    await settled();
    expect((await comments(b.id)).map((p) => p.text)).toEqual(['first ran', 'second ran']);
  });

  it('ANY matches when a single condition holds (and not when none does); ALL needs every one', async () => {
    const conditions: RuleInput['conditions'] = [
      { field: 'priority', operator: 'EQUALS', value: 'HIGH' },
      { field: 'title', operator: 'CONTAINS', value: '[vip]' },
    ];
    await createRule({ name: 'any', position: 1, continueAfterMatch: true, events: ['TICKET_CREATED'], match: 'ANY', conditions, actions: [{ type: 'ADD_COMMENT', value: 'ANY held' }] });
    await createRule({ name: 'all', position: 2, events: ['TICKET_CREATED'], match: 'ALL', conditions, actions: [{ type: 'ADD_COMMENT', value: 'ALL held' }] });

    const high = await createTicket({ title: 'only priority', priority: 'HIGH' });
    const vip = await createTicket({ title: 'only title [vip]', priority: 'LOW' });
    const both = await createTicket({ title: 'both [vip]', priority: 'HIGH' });
    const none = await createTicket({ title: 'neither', priority: 'NORMAL' });
    await settled();
    expect((await comments(high.id)).map((p) => p.text)).toEqual(['ANY held']);
    expect((await comments(vip.id)).map((p) => p.text)).toEqual(['ANY held']);
    expect((await comments(both.id)).map((p) => p.text)).toEqual(['ANY held', 'ALL held']);
    expect(await comments(none.id)).toEqual([]);
  });

  it('a disabled rule never runs, nor does it stop the rules after it', async () => {
    const base = { events: ['TICKET_CREATED'] as RuleInput['events'], conditions: [{ field: 'title', operator: 'CONTAINS' as const, value: '[dis]' }] };
    const disabled = await createRule({ ...base, name: 'disabled', enabled: false, position: 1, actions: [{ type: 'ADD_COMMENT', value: 'disabled ran' }] });
    expect(disabled.enabled).toBe(false);
    await createRule({ ...base, name: 'enabled', position: 2, actions: [{ type: 'ADD_COMMENT', value: 'enabled ran' }] });
    const t = await createTicket({ title: '[dis] x' });
    await settled();
    expect((await comments(t.id)).map((p) => p.text)).toEqual(['enabled ran']);
  });
});

describe('TICKET_UPDATED with status CHANGED_TO RESOLVED', () => {
  it('fires on the change to RESOLVED only: not on a title change, not on a repeated update to the same status', async () => {
    await createRule(watchRule('Resolved', { events: ['TICKET_UPDATED'], conditions: [{ field: 'status', operator: 'CHANGED_TO', value: 'RESOLVED' }] }));
    const t = await createTicket({ title: 'to resolve' });
    const update = (input: Record<string, unknown>) => app.ok(RlUpdateTicketDocument, { id: t.id, input }, agent.auth);

    await update({ title: 'to resolve (renamed)' });
    await update({ status: 'IN_PROGRESS' });
    await settled();
    expect(watched(t.id)).toHaveLength(0);

    await update({ status: 'RESOLVED' });
    await watch.waitForRequests(1);
    await update({ status: 'RESOLVED' }); // no change: no event
    await update({ title: 'renamed while resolved' }); // status EQUALS RESOLVED would hold here; CHANGED_TO must not
    await update({ status: 'RESOLVED', priority: 'HIGH' }); // a change, but not of the status
    await settled();
    expect(watched(t.id)).toHaveLength(1);

    await update({ status: 'OPEN' });
    await update({ status: 'RESOLVED' });
    await watch.waitForRequests(2);
    await settled();
    expect(watched(t.id).map((r) => JSON.parse(r.body))).toEqual([
      { ticket: t.id, event: 'TICKET_UPDATED', rule: 'Resolved' },
      { ticket: t.id, event: 'TICKET_UPDATED', rule: 'Resolved' },
    ]);
  });
});

/** A receiver whose answers wait until the test releases them. */
async function startGatedReceiver(body: string) {
  const seen: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      seen.push(data);
      void released.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    release,
    close: () => new Promise<void>((r) => {
      release();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

describe('awaitResponse', () => {
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
  const crmWebhook = (url: string) => createWebhook({
    name: 'CRM',
    method: 'POST',
    url,
    format: 'JSON',
    body: '{"ticket": "{{ ticket.id }}", "title": "{{ ticket.title }}"}',
    responseMappings: [{ path: 'result.id', target: 'TEMPORARY', field: 'deal' }],
  });

  it('the actions after an awaited SEND_WEBHOOK wait for its response and use the mapped temp value', async () => {
    const gate = await startGatedReceiver('{"result":{"id":"D-4711"}}');
    try {
      await createRule(crmRule(await crmWebhook(`${gate.url}/deals`)));
      const t = await createTicket({ title: '[crm] new lead' });
      await waitFor(() => gate.seen.length === 1, { what: 'the CRM request' });
      expect(JSON.parse(gate.seen[0]!)).toEqual({ ticket: t.id, title: '[crm] new lead' });
      // the event is processed (the delivery exists), yet nothing after the webhook ran
      const [row] = await app.services.orm.em.fork().getConnection().execute(
        `select count(*)::int as n from ticket_events where ticket_id = ? and processed_at is null`, [t.id]);
      expect(row.n).toBe(0);
      let ticket = await getTicket(t.id);
      expect(ticket.customFields).toEqual({});
      expect(ticket.posts).toEqual([]);

      gate.release();
      await waitFor(async () => (await comments(t.id)).length > 0, { what: 'the continuation' });
      await settled();
      ticket = await getTicket(t.id);
      expect(ticket.customFields).toEqual({ deal_url: 'https://crm.example/deals/D-4711' });
      expect(ticket.posts.map((p) => [p.kind, p.text, p.author])).toEqual([['COMMENT', 'Deal D-4711: https://crm.example/deals/D-4711', null]]);
    } finally {
      await gate.close();
    }
  });

  it('the same with a real JSON receiver: both later actions applied once, and the delivery records the temp value', async () => {
    await createRule(crmRule(await crmWebhook(`${crm.url}/deals`)));
    const t = await createTicket({ title: '[crm] second lead' });
    await waitFor(async () => (await comments(t.id)).length > 0, { what: 'the continuation' });
    await settled();
    const ticket = await getTicket(t.id);
    expect(ticket.customFields).toEqual({ deal_url: 'https://crm.example/deals/D-4711' });
    expect((await comments(t.id)).map((p) => p.text)).toEqual(['Deal D-4711: https://crm.example/deals/D-4711']);
    expect(crm.requests).toHaveLength(1);
    const { nodes } = await deliveriesOf(t.id);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ status: 'SUCCEEDED', responseData: { deal: 'D-4711' } });
  });

  it('if the awaited delivery finally fails, the later actions do not run and the failure comment says so', async () => {
    await createRule(crmRule(await crmWebhook(`${failing.url}/deals`)));
    const t = await createTicket({ title: '[crm] doomed lead' });
    await waitFor(async () => (await deliveriesOf(t.id)).nodes[0]?.status === 'FAILED', { timeoutMs: 20_000, what: 'the delivery to fail' });
    await settled();
    expect(failing.requests.length).toBeGreaterThanOrEqual(2); // retried before giving up
    const ticket = await getTicket(t.id);
    expect(ticket.customFields).toEqual({});
    const texts = (await comments(t.id)).map((p) => p.text);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(/^Webhook "CRM" failed after \d+ attempts: .*500.*The remaining actions of rule "CRM deal" were not run\.$/s);
  });

  it('if the awaited webhook cannot even be rendered (invalid URL), the later actions do not run and the comment says so', async () => {
    // ".." from the ticket would climb out of /deals: the URL is refused after rendering
    await createRule(crmRule(await crmWebhook('http://127.0.0.1:1/deals/{{ ticket.custom.port }}/x')));
    const t = await createTicket({ title: '[crm] unrenderable', customFields: { port: '..' } });
    await waitFor(async () => (await comments(t.id)).length > 0, { what: 'the failure comment' });
    await settled();
    expect((await deliveriesOf(t.id)).nodes.map((d) => d.status)).toEqual(['FAILED']);
    expect((await getTicket(t.id)).customFields).toEqual({ port: '..' });
    const texts = (await comments(t.id)).map((p) => p.text);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(/^Webhook "CRM" was not sent: .*has a "\.\." path segment.*The remaining actions of rule "CRM deal" were not run\.$/s);
  });
});

describe('changes made by rules raise no events', () => {
  it('a rule that sets the priority raises no TICKET_UPDATED, its comment no COMMENT_ADDED; the same changes by a person do', async () => {
    await createRule({
      name: 'Escalate',
      position: 1,
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'title', operator: 'CONTAINS', value: '[quiet]' }],
      actions: [
        { type: 'SET_PRIORITY', value: 'HIGH' },
        { type: 'ADD_COMMENT', value: 'Escalated to {{ ticket.priority }}' },
      ],
    });
    await createRule(watchRule('Any update', { position: 2, events: ['TICKET_UPDATED'] }));
    await createRule(watchRule('Any comment', { position: 3, events: ['COMMENT_ADDED'] }));

    const t = await createTicket({ title: '[quiet] please', priority: 'LOW' });
    await waitFor(async () => (await comments(t.id)).length > 0, { what: 'the rule’s comment' });
    await settled();
    const ticket = await getTicket(t.id);
    expect(ticket.priority).toBe('HIGH');
    // the actions run in order: the comment sees the priority the action before set
    expect(ticket.posts.map((p) => [p.kind, p.text, p.author])).toEqual([['COMMENT', 'Escalated to HIGH', null]]);
    expect(watch.requests).toHaveLength(0);

    // the watch rules do fire for a person's change and comment
    await app.ok(RlUpdateTicketDocument, { id: t.id, input: { priority: 'URGENT' } }, agent.auth);
    await app.ok(RlAddCommentDocument, { ticketId: t.id, text: 'a person comments' }, agent.auth);
    await watch.waitForRequests(2);
    await settled();
    expect(watched(t.id).map((r) => JSON.parse(r.body).rule).sort()).toEqual(['Any comment', 'Any update']);
  });
});

describe('invalid rules are refused', () => {
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
    ['value that does not fit a NUMBER field', { actions: [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: 'lots' }] }, 'actions[0].value', /needs a number/],
  ];

  it.each(cases)('%s → BAD_USER_INPUT naming the field, nothing saved', async (_name, patch, field, message) => {
    const before = (await app.ok(RlRulesDocument)).rules;
    const r = await app.gql(RlCreateRuleDocument, { input: { ...valid, name: `bad ${_name}`, ...patch } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.extensions!.field).toBe(field);
    expect(r.errors![0]!.message).toContain(field);
    expect(r.errors![0]!.message).toMatch(message);
    expect((await app.ok(RlRulesDocument)).rules).toEqual(before);
  });

  it('an enum value outside the schema (events, operator) → BAD_USER_INPUT naming the input path, nothing saved', async () => {
    const r = await app.gql(RlCreateRuleDocument, { input: { ...valid, events: ['TICKET_EXPLODED'] } } as never);
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.message).toMatch(/input\.events\[0\].*TICKET_EXPLODED|TICKET_EXPLODED.*input\.events\[0\]/);
    const r2 = await app.gql(RlCreateRuleDocument, { input: { ...valid, conditions: [{ field: 'priority', operator: 'IS', value: 'LOW' }] } } as never);
    expect(codes(r2)).toEqual(['BAD_USER_INPUT']);
    expect(r2.errors![0]!.message).toContain('input.conditions[0].operator');
    expect((await app.ok(RlRulesDocument)).rules).toEqual([]);
  });

  it('an invalid update leaves the rule as it was', async () => {
    const rule = await createRule({ ...valid, name: 'keep me' });
    const r = await app.gql(RlUpdateRuleDocument, { id: rule.id, input: { ...valid, name: 'changed', actions: [{ type: 'SET_PRIORITY', value: 'SUPER' }] } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.extensions!.field).toBe('actions[0].value');
    expect((await app.ok(RlRulesDocument)).rules).toEqual([{ id: rule.id, name: 'keep me' }]);
  });

  it('CLIENT and AGENT → FORBIDDEN, nothing saved', async () => {
    for (const who of [client, agent]) {
      expect(codes(await app.gql(RlCreateRuleDocument, { input: valid }, who.auth))).toEqual(['FORBIDDEN']);
    }
    expect((await app.ok(RlRulesDocument)).rules).toEqual([]);
  });
});

describe('a failing action', () => {
  it('is reported as an internal COMMENT naming rule and action, and the later actions still run', async () => {
    await createRule({
      name: 'Amount from title',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'title', operator: 'CONTAINS', value: '[amount]' }],
      actions: [
        { type: 'SET_CUSTOM_FIELD', field: 'amount', value: '{{ ticket.title }}' },
        { type: 'ADD_COMMENT', value: 'after the failure' },
      ],
    });
    const t = await createTicket({ title: '[amount] lots' });
    await waitFor(async () => (await comments(t.id)).length >= 2, { what: 'two comments' });
    await settled();
    const ticket = await getTicket(t.id);
    expect(ticket.customFields).toEqual({});
    const texts = ticket.posts.map((p) => [p.kind, p.text, p.author]);
    expect(texts).toHaveLength(2);
    expect(texts[0]![0]).toBe('COMMENT');
    expect(texts[0]![1]).toMatch(/^Rule "Amount from title": action 1 \(SET_CUSTOM_FIELD\) failed: .*amount.*NUMBER.*"\[amount\] lots" is not a number/);
    expect(texts[0]![2]).toBeNull();
    expect(texts[1]).toEqual(['COMMENT', 'after the failure', null]);
  });
});
