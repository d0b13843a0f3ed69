/**
 * The services resolvers and REST are handed (src/app-services.ts), called directly on a
 * real database: what each method decides, without an HTTP request in between. The
 * injected dependencies (UserService's attemptInFlight, WebhookService's rulesUsing) are
 * replaced by fakes where the test is about the decision, not the query behind it.
 */
import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, bearer, startTestApp, type TestApp } from '../support/app.js';
import { createUserService, type Actor } from '../../src/helpdesk/index.js';
import { createWebhookService, type WebhookInput } from '../../src/delivery/index.js';
import { createSecretBox } from '../../src/crypto/index.js';
import { DomainError } from '../../src/errors.js';
import { User, sqlOf } from '../../src/db/index.js';
import type { Queryable } from '../../src/queue/index.js';

let app: TestApp;
let admin: User;
let agent: User;
let client: User;
let other: User;
let clientKey: string;

const em = (): EntityManager => app.services.orm.em.fork();

/** What a request has: a fresh EntityManager, and the caller loaded in it. */
async function request(who: User): Promise<[EntityManager, Actor]> {
  const fork = em();
  return [fork, { user: await fork.findOneOrFail(User, { id: who.id }), automated: false }];
}

/** The DomainError a call fails with (code, field, message), or a test failure. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; field?: string; message: string }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof DomainError) return { code: err.code, field: err.field, message: err.message };
    throw err;
  }
  throw new Error('expected a DomainError, the call succeeded');
}

const hook = (over: Partial<WebhookInput> = {}): WebhookInput => ({
  name: 'svc hook',
  method: 'POST',
  url: 'http://127.0.0.1:9/hook/{{ ticket.id }}',
  format: 'JSON',
  body: '{"title": "{{ ticket.title }}"}',
  auth: { type: 'BEARER', secret: 'tok_service_test_0123456789' },
  ...over,
});

beforeAll(async () => {
  app = await startTestApp();
  const { users } = app.services;
  admin = (await users.identify(bearer(ADMIN_KEY))).user!;
  agent = (await users.create(em(), { name: 'Agent', email: 'svc-agent@example.com', role: 'AGENT' })).user;
  const made = await users.create(em(), { name: 'Client', email: 'svc-client@example.com', role: 'CLIENT' });
  client = made.user;
  clientKey = made.apiKey;
  other = (await users.create(em(), { name: 'Other', email: 'svc-other@example.com', role: 'CLIENT' })).user;
});

afterAll(async () => {
  await app?.stop();
});

describe('UserService', () => {
  it('identify: the user the header names; automated only for a known caller whose delivery header is in flight', async () => {
    const asked: string[] = [];
    const users = createUserService({ db: sqlOf(em()), attemptInFlight: async (_db, id) => (asked.push(id), id === 'in-flight') });
    expect(await users.identify(bearer(clientKey))).toMatchObject({ user: { id: client.id }, automated: false });
    expect(await users.identify(bearer(clientKey), 'in-flight')).toMatchObject({ user: { id: client.id }, automated: true });
    expect(await users.identify(bearer(clientKey), 'finished')).toMatchObject({ automated: false });
    const basic = `Basic ${Buffer.from(`svc-client@example.com:${clientKey}`).toString('base64')}`;
    expect((await users.identify(basic)).user?.id).toBe(client.id);
    // no caller: no user, never automated, and the delivery is not even looked up
    asked.length = 0;
    expect(await users.identify('Bearer not-a-key', 'in-flight')).toEqual({ user: null, automated: false });
    expect(await users.identify(undefined, 'in-flight')).toEqual({ user: null, automated: false });
    expect(asked).toEqual([]);
  });

  it('identify: the lookups of concurrent calls share one statement, each answered as if alone; a key is read afresh at every call', async () => {
    const texts: string[] = [];
    const db = sqlOf(em());
    const counting: Queryable = { query: (text, values) => (texts.push(text), db.query(text, values)) };
    const users = createUserService({ db: counting, attemptInFlight: async () => false });
    const basic = (email: string, key: string) => `Basic ${Buffer.from(`${email}:${key}`).toString('base64')}`;
    const headers = [bearer(ADMIN_KEY), bearer(clientKey), basic('svc-client@example.com', clientKey), basic('svc-agent@example.com', clientKey), bearer('not-a-key'), bearer(clientKey)];
    const found = await Promise.all(headers.map((h) => users.identify(h)));
    // another user's email with the client's key names nobody; an unknown key nobody
    expect(found.map((a) => a.user?.id ?? null)).toEqual([admin.id, client.id, client.id, null, null, client.id]);
    expect(found[1].user).not.toBe(found[5].user);
    expect(texts).toHaveLength(1);
    // nothing is kept between calls: a rotated key names nobody at the next call
    const made = await app.services.users.create(em(), { name: 'Coalesced', email: 'svc-coalesced@example.com', role: 'AGENT' });
    expect((await users.identify(bearer(made.apiKey))).user?.id).toBe(made.user.id);
    await app.services.users.rotateKey(em(), made.user, null);
    expect((await users.identify(bearer(made.apiKey))).user).toBeNull();
    expect(texts).toHaveLength(3);
  });

  it('list: every user in id order; create refuses a second user with the same email', async () => {
    const list = await app.services.users.list(em());
    expect(list.map((u) => u.email)).toEqual(expect.arrayContaining(['svc-agent@example.com', 'svc-client@example.com', 'svc-other@example.com']));
    expect(list.map((u) => Number(u.id))).toEqual([...list.map((u) => Number(u.id))].sort((a, b) => a - b));
    expect(await refusal(app.services.users.create(em(), { name: 'Again', email: 'SVC-agent@example.com', role: 'AGENT' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
  });

  it('rotateKey: the old key stops naming the user, the new one does; another user\'s key is for an ADMIN only', async () => {
    const { users } = app.services;
    const made = await users.create(em(), { name: 'Rotating', email: 'svc-rotate@example.com', role: 'AGENT' });
    expect(await refusal(users.rotateKey(em(), agent, made.user.id))).toMatchObject({ code: 'FORBIDDEN' });
    const { apiKey } = await users.rotateKey(em(), made.user, null);
    expect((await users.identify(bearer(made.apiKey))).user).toBeNull();
    expect((await users.identify(bearer(apiKey))).user?.id).toBe(made.user.id);
  });
});

describe('TicketService and CustomFieldService', () => {
  let mine: string;
  let theirs: string;

  beforeAll(async () => {
    const { customFields, tickets } = app.services;
    await customFields.create(em(), { key: 'svc_shown', name: 'Shown', type: 'TEXT', clientVisible: true });
    await customFields.create(em(), { key: 'svc_internal', name: 'Internal', type: 'TEXT' });
    mine = (await tickets.create(...(await request(admin)), { title: 'mine', description: 'd', requesterId: client.id, customFields: { svc_shown: 'a', svc_internal: 'b' } })).id;
    theirs = (await tickets.create(...(await request(other)), { title: 'theirs', description: 'd' })).id;
  });

  it('customFields: a CLIENT lists and sees the keys of clientVisible fields only; staff every field', async () => {
    const { customFields } = app.services;
    const keys = async (who: User) => (await customFields.list(...(await request(who)))).map((f) => f.key).filter((k) => k.startsWith('svc_'));
    expect(await keys(client)).toEqual(['svc_shown']);
    expect(await keys(agent)).toEqual(['svc_shown', 'svc_internal']);
    const visible = await customFields.clientVisibleKeys(em());
    expect(visible.has('svc_shown') && !visible.has('svc_internal')).toBe(true);
  });

  it('find: null for staff asking for an unknown ticket; NOT_FOUND for a CLIENT, missing or another requester\'s alike', async () => {
    const { tickets } = app.services;
    expect((await tickets.find(...(await request(agent)), mine))?.title).toBe('mine');
    expect(await tickets.find(...(await request(agent)), '99999999')).toBeNull();
    expect(await tickets.find(...(await request(agent)), 'not-an-id')).toBeNull();
    expect((await tickets.find(...(await request(client)), mine))?.id).toBe(mine);
    const missing = await refusal(tickets.find(...(await request(client)), '99999999'));
    const foreign = await refusal(tickets.find(...(await request(client)), theirs));
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    expect(foreign.code).toBe(missing.code);
    expect(foreign.message.replace(theirs, 'N')).toBe(missing.message.replace('99999999', 'N'));
  });

  it('getWithFields: a CLIENT gets the values of clientVisible fields only, staff all; the field name is the caller\'s', async () => {
    const { tickets } = app.services;
    expect((await tickets.getWithFields(...(await request(client)), mine)).customFields).toEqual({ svc_shown: 'a' });
    expect((await tickets.getWithFields(...(await request(agent)), mine)).customFields).toEqual({ svc_shown: 'a', svc_internal: 'b' });
    expect(await refusal(tickets.getWithFields(...(await request(client)), theirs, 'id'))).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
  });

  it('addPost: as the caller by default; an ADMIN may post as staff, nobody else as anyone; errors name the caller\'s fields', async () => {
    const { tickets } = app.services;
    const byAdmin = await tickets.addPost(...(await request(admin)), { ticketId: mine, kind: 'COMMENT', text: 'as agent', authorId: agent.id });
    expect(byAdmin.author?.id).toBe(agent.id);
    expect((await tickets.addPost(...(await request(client)), { ticketId: mine, kind: 'REPLY', text: 'mine' })).author?.id).toBe(client.id);
    for (const authorId of [agent.id, client.id, '99999999', '']) {
      expect(await refusal(tickets.addPost(...(await request(agent)), { ticketId: mine, kind: 'COMMENT', text: 'x', authorId }))).toMatchObject({ code: 'FORBIDDEN' });
    }
    for (const authorId of [client.id, '99999999', 'abc', '']) {
      expect(await refusal(tickets.addPost(...(await request(admin)), { ticketId: mine, kind: 'COMMENT', text: 'x', authorId }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'authorId' });
      expect(await refusal(tickets.addPost(...(await request(admin)), { ticketId: mine, kind: 'COMMENT', text: 'x', authorId }, { authorId: 'user_id' }))).toMatchObject({ field: 'user_id' });
    }
    expect(await refusal(tickets.addPost(...(await request(admin)), { ticketId: '99999999', kind: 'COMMENT', text: 'x' }, { ticketId: 'id' }))).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    // the author is checked before the text
    expect(await refusal(tickets.addPost(...(await request(agent)), { ticketId: mine, kind: 'COMMENT', text: '', authorId: agent.id }))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('postsOf: the posts of several tickets in one call, oldest first; the client view holds replies only', async () => {
    const { tickets } = app.services;
    const t = (await tickets.create(...(await request(admin)), { title: 'posts', description: 'd', requesterId: client.id })).id;
    await tickets.addPost(...(await request(agent)), { ticketId: t, kind: 'REPLY', text: 'one' });
    await tickets.addPost(...(await request(agent)), { ticketId: t, kind: 'COMMENT', text: 'two' });
    await tickets.addPost(...(await request(client)), { ticketId: t, kind: 'REPLY', text: 'three' });
    const [all, none] = await tickets.postsOf(em(), [t, theirs], false);
    expect(all!.map((p) => p.text)).toEqual(['one', 'two', 'three']);
    expect(none).toEqual([]);
    expect((await tickets.postsOf(em(), [t], true))[0]!.map((p) => p.text)).toEqual(['one', 'three']);
  });

  it('list and update: a CLIENT lists its own tickets; update reports the changes and is for staff only', async () => {
    const { tickets } = app.services;
    expect((await tickets.list(...(await request(client)), { first: 50, offset: 0 })).every((t) => t.requester.id === client.id)).toBe(true);
    const { ticket, changes } = await tickets.update(...(await request(agent)), mine, { priority: 'HIGH' });
    expect(ticket.priority).toBe('HIGH');
    expect(changes).toEqual([{ field: 'priority', old: 'NORMAL', new: 'HIGH' }]);
    expect(await refusal(tickets.update(...(await request(client)), mine, { priority: 'LOW' }))).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('WebhookService and RuleService', () => {
  let ticketId: string;

  beforeAll(async () => {
    ticketId = (await app.services.tickets.create(...(await request(admin)), { title: 'Preview me', description: 'd', requesterId: client.id })).id;
  });

  it('delete: refused while a rule sends the webhook, naming the rules; allowed once none does', async () => {
    const { webhooks, rules } = app.services;
    const w = await webhooks.create(em(), hook());
    const rule = (name: string) => ({ name, events: ['TICKET_CREATED' as const], actions: [{ type: 'SEND_WEBHOOK' as const, webhookId: w.id }] });
    const r1 = await rules.create(em(), rule('first sender'));
    const r2 = await rules.create(em(), rule('second sender'));
    expect((await rules.usingWebhook(em(), w.id)).map((r) => r.id)).toEqual([r1.id, r2.id]);
    const refused = await refusal(webhooks.delete(em(), w.id));
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(refused.message).toContain(`rules "first sender" (${r1.id}), "second sender" (${r2.id}); change or delete them first`);
    await rules.delete(em(), r1.id);
    expect((await refusal(webhooks.delete(em(), w.id))).message).toContain(`rule "second sender" (${r2.id}); change or delete it first`);
    await rules.update(em(), r2.id, { name: 'second sender', events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'no webhook' }] });
    expect(await rules.usingWebhook(em(), w.id)).toEqual([]);
    expect(await webhooks.delete(em(), w.id)).toBe(true);
    expect(await webhooks.find(em(), w.id)).toBeNull();
    expect(await refusal(webhooks.delete(em(), w.id))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('delete asks the injected rulesUsing about the webhook, and nothing is removed when it names a rule', async () => {
    const asked: string[] = [];
    const webhooks = createWebhookService({
      box: createSecretBox(randomBytes(32)),
      userAgent: 'deskhooks/test',
      rulesUsing: async (_em, id) => (asked.push(id), [{ id: '7', name: 'a fake rule' }]),
    });
    const w = await webhooks.create(em(), hook({ auth: null }));
    expect((await refusal(webhooks.delete(em(), w.id))).message).toContain('rule "a fake rule" (7)');
    expect(asked).toEqual([w.id]);
    expect(await webhooks.find(em(), w.id)).not.toBeNull();
  });

  it('preview: the request for the ticket with the service\'s User-Agent, credentials redacted; a ticket it cannot be rendered for is BAD_USER_INPUT', async () => {
    const webhooks = createWebhookService({ box: createSecretBox(randomBytes(32)), userAgent: 'deskhooks/preview-test', rulesUsing: async () => [] });
    const w = await webhooks.create(em(), hook());
    const p = await webhooks.preview(em(), w.id, ticketId);
    expect(p).toMatchObject({ method: 'POST', url: `http://127.0.0.1:9/hook/${ticketId}`, body: '{"title": "Preview me"}' });
    expect(p.headers['User-Agent']).toBe('deskhooks/preview-test');
    expect(p.headers['Authorization']).not.toContain('tok_service_test');
    expect(await refusal(webhooks.preview(em(), w.id, '99999999'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ticketId' });
    expect(await refusal(webhooks.preview(em(), w.id, 'abc'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ticketId' });
    expect(await refusal(webhooks.preview(em(), '99999999', ticketId))).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    // a value that would climb out of its path segment: the send would fail, the preview says why
    const dots = (await app.services.tickets.create(...(await request(admin)), { title: '..', description: 'd', requesterId: client.id })).id;
    const climbing = await webhooks.create(em(), hook({ url: 'http://127.0.0.1:9/orders/{{ ticket.title }}/cancel' }));
    const refused = await refusal(webhooks.preview(em(), climbing.id, dots));
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ticketId' });
    expect(refused.message).toContain(`webhook ${climbing.id} cannot be rendered for ticket ${dots}`);
  });

  it('list, find, update: webhooks in id order; update keeps a stored secret the input omits', async () => {
    const { webhooks, rules } = app.services;
    const w = await webhooks.create(em(), hook({ name: 'listed' }));
    expect((await webhooks.list(em())).map((x) => x.id)).toContain(w.id);
    const updated = await webhooks.update(em(), w.id, hook({ name: 'renamed', auth: { type: 'BEARER' } }));
    expect(updated).toMatchObject({ name: 'renamed', authType: 'BEARER' });
    expect(updated.authSecretSealed).not.toBeNull();
    expect(await webhooks.find(em(), 'not-an-id')).toBeNull();
    const r = await rules.create(em(), { name: 'finder', events: ['REPLY_ADDED'], actions: [{ type: 'ADD_COMMENT', value: 'x' }] });
    expect((await rules.find(em(), r.id))?.name).toBe('finder');
    expect(await rules.find(em(), 'not-an-id')).toBeNull();
    expect((await rules.list(em())).map((x) => x.id)).toContain(r.id);
  });
});
