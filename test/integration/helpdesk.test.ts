/**
 * The helpdesk over GraphQL: users, roles, tickets, posts, custom fields. Each test has a
 * deskhooks and a database of its own (test/support/fixtures.ts); `fields` adds two custom
 * fields, `desk` an agent and two clients as well.
 */
import { describe, expect } from 'vitest';
import pg from 'pg';
import { basic, bearer, ADMIN_EMAIL, ADMIN_KEY, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { test } from '../support/fixtures.js';
import {
  AddCommentDocument, AddReplyDocument, CreateCustomFieldDocument, CreateTicketDocument, CreateUserDocument,
  MeDocument, TicketDocument, TicketsDocument, UpdateTicketDocument, UsersDocument,
} from '../generated/graphql.js';

interface User {
  id: string;
  key: string;
  auth: string;
}

interface Desk {
  app: TestApp;
  agent: User;
  client: User;
  /** a second client */
  other: User;
}

const it = test.extend<{ fields: TestApp; desk: Desk }>({
  /** the app, with the custom fields order_no (NUMBER) and tier (SELECT gold | silver) */
  fields: async ({ app }, use) => {
    await app.ok(CreateCustomFieldDocument, { input: { key: 'order_no', name: 'Order number', type: 'NUMBER' } });
    await app.ok(CreateCustomFieldDocument, { input: { key: 'tier', name: 'Tier', type: 'SELECT', options: ['gold', 'silver'] } });
    await use(app);
  },
  desk: async ({ fields: app }, use) => {
    const mk = async (name: string, email: string, role: 'AGENT' | 'CLIENT'): Promise<User> => {
      const { createUser } = await app.ok(CreateUserDocument, { input: { name, email, role, phone: '+1 555 0100', telegramChatId: '42' } });
      return { id: createUser.user.id, key: createUser.apiKey, auth: bearer(createUser.apiKey) };
    };
    const agent = await mk('Agent Smith', 'agent@example.com', 'AGENT');
    const client = await mk('Client One', 'client@example.com', 'CLIENT');
    const other = await mk('Client Two', 'client2@example.com', 'CLIENT');
    await use({ app, agent, client, other });
  },
});

const codes = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.map((e) => e.extensions?.code);

describe('authentication', () => {
  it('me works with Basic email:key and with Bearer key', async ({ desk: { app, client } }) => {
    expect((await app.ok(MeDocument, {}, basic(ADMIN_EMAIL, ADMIN_KEY))).me.email).toBe(ADMIN_EMAIL);
    expect((await app.ok(MeDocument, {}, bearer(ADMIN_KEY))).me.role).toBe('ADMIN');
    expect((await app.ok(MeDocument, {}, basic('CLIENT@example.com', client.key))).me.id).toBe(client.id);
  });

  it('Basic credentials with whitespace around the key (`echo email:key | base64` ends them in a newline) and a scheme in any case work, over GraphQL and REST', async ({ desk: { app, client } }) => {
    const encoded = (raw: string) => Buffer.from(raw).toString('base64');
    for (const auth of [`Basic ${encoded(`${ADMIN_EMAIL}:${ADMIN_KEY}\n`)}`, `basic ${encoded(`${ADMIN_EMAIL}: ${ADMIN_KEY} `)}`, `BEARER ${ADMIN_KEY}`, `  Bearer\t${ADMIN_KEY}  `]) {
      expect((await app.ok(MeDocument, {}, auth)).me.email, auth).toBe(ADMIN_EMAIL);
    }
    const rest = await fetch(`${app.url}/api/v2/tickets/999999/`, { headers: { authorization: `Basic ${encoded(`client@example.com:${client.key}\r\n`)}` } });
    // authenticated: the CLIENT is told the ticket is not found, not asked for credentials
    expect(rest.status).toBe(404);
  });

  it('no or wrong credentials → UNAUTHENTICATED', async ({ desk: { app, client } }) => {
    expect(codes(await app.gql(MeDocument, {}, null))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await app.gql(MeDocument, {}, bearer('dk_wrong')))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await app.gql(MeDocument, {}, basic(ADMIN_EMAIL, client.key)))).toEqual(['UNAUTHENTICATED']);
  });

  it('createUser returns a key of at least 32 bytes once; it is stored only as a hash', async ({ app }) => {
    const { createUser } = await app.ok(CreateUserDocument, { input: { name: 'Key', email: 'key@example.com', role: 'AGENT' } });
    expect(Buffer.from(createUser.apiKey.replace(/^dk_/, ''), 'base64url').length).toBeGreaterThanOrEqual(32);
    const rows = await app.services.orm.em.fork().getConnection().execute('select api_key_hash from users where email = ?', ['key@example.com']);
    expect(rows[0].api_key_hash).not.toContain(createUser.apiKey);
    expect(rows[0].api_key_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('users', () => {
  it('a telegramChatId is a chat number or an @channel; anything else is refused naming it, and no user is made', async ({ app }) => {
    for (const [i, telegramChatId] of ['-1001234567890', '700100200', '@deskhooks_news'].entries()) {
      const { createUser } = await app.ok(CreateUserDocument, { input: { name: `T${i}`, email: `t${i}@example.com`, role: 'AGENT', telegramChatId } });
      expect(createUser.user.id).toBeTruthy();
    }
    for (const telegramChatId of ['123\n456', '12 34', '@ab', 'chat', '1e5']) {
      const r = await app.gql(CreateUserDocument, { input: { name: 'Bad', email: 'bad-chat@example.com', role: 'AGENT', telegramChatId } });
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'telegramChatId']]);
    }
    const emails = (await app.ok(UsersDocument, {})).users.map((u) => u.email);
    expect(emails).not.toContain('bad-chat@example.com');
  });
});

describe('roles', () => {
  it('CLIENT and AGENT get FORBIDDEN on admin operations', async ({ desk: { app, agent, client } }) => {
    for (const who of [client, agent]) {
      expect(codes(await app.gql(CreateUserDocument, { input: { name: 'x', email: 'x@example.com', role: 'ADMIN' } }, who.auth))).toEqual(['FORBIDDEN']);
      expect(codes(await app.gql(CreateCustomFieldDocument, { input: { key: 'x', name: 'x', type: 'TEXT' } }, who.auth))).toEqual(['FORBIDDEN']);
      expect(codes(await app.gql('{ webhooks { id } }', {}, who.auth))).toEqual(['FORBIDDEN']);
      expect(codes(await app.gql('{ rules { id } }', {}, who.auth))).toEqual(['FORBIDDEN']);
    }
    expect(codes(await app.gql(UsersDocument, {}, client.auth))).toEqual(['FORBIDDEN']);
    expect((await app.ok(UsersDocument, {}, agent.auth)).users.length).toBeGreaterThan(3);
  });

  it('a CLIENT reads its own tickets and their replies only, never a COMMENT nor another requester’s ticket', async ({ desk: { app, agent, client, other } }) => {
    const mine = (await app.ok(CreateTicketDocument, { input: { title: 'Printer', description: 'jammed' } }, client.auth)).createTicket;
    const theirs = (await app.ok(CreateTicketDocument, { input: { title: 'Other', description: 'x' } }, other.auth)).createTicket;
    expect(mine.requester.id).toBe(client.id);
    await app.ok(AddReplyDocument, { ticketId: mine.id, text: 'We are on it' }, agent.auth);
    await app.ok(AddCommentDocument, { ticketId: mine.id, text: 'internal: customer is VIP' }, agent.auth);
    await app.ok(AddReplyDocument, { ticketId: mine.id, text: 'thanks' }, client.auth);

    const seen = (await app.ok(TicketDocument, { id: mine.id }, client.auth)).ticket!;
    expect(seen.posts.map((p) => p.kind)).toEqual(['REPLY', 'REPLY']);
    expect(JSON.stringify(seen)).not.toContain('VIP');
    const staff = (await app.ok(TicketDocument, { id: mine.id }, agent.auth)).ticket!;
    expect(staff.posts.map((p) => p.kind)).toEqual(['REPLY', 'COMMENT', 'REPLY']);

    // another requester's ticket is NOT_FOUND, as a missing one (test/hostile/access.test.ts)
    expect(codes(await app.gql(TicketDocument, { id: theirs.id }, client.auth))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(AddCommentDocument, { ticketId: mine.id, text: 'x' }, client.auth))).toEqual(['FORBIDDEN']);
    expect(codes(await app.gql(AddReplyDocument, { ticketId: theirs.id, text: 'x' }, client.auth))).toEqual(['NOT_FOUND']);
    const list = (await app.ok(TicketsDocument, {}, client.auth)).tickets;
    expect(list.every((t) => t.requester.id === client.id)).toBe(true);
    expect(list.flatMap((t) => t.posts).every((p) => p.kind === 'REPLY')).toBe(true);
  });
});

describe('tickets', () => {
  it('creates with custom fields and a parent, updates, adds posts, and reads all back', async ({ desk: { app, agent, client } }) => {
    const parent = (await app.ok(CreateTicketDocument, { input: { title: 'Parent', description: 'p', requesterId: client.id } })).createTicket;
    const child = (
      await app.ok(CreateTicketDocument, {
        input: { title: 'Child', description: 'c', priority: 'HIGH', parentId: parent.id, assigneeId: agent.id, requesterId: client.id, customFields: { order_no: '777', tier: 'gold' } },
      })
    ).createTicket;
    expect(child.customFields).toEqual({ order_no: 777, tier: 'gold' });
    expect(child.parent?.id).toBe(parent.id);
    expect(child.assignee?.id).toBe(agent.id);

    const updated = (await app.ok(UpdateTicketDocument, { id: child.id, input: { status: 'IN_PROGRESS', title: 'Child 2', customFields: { order_no: 12.5, tier: null } } }, agent.auth)).updateTicket;
    expect(updated).toMatchObject({ status: 'IN_PROGRESS', title: 'Child 2', customFields: { order_no: 12.5 } });
    await app.ok(AddReplyDocument, { ticketId: child.id, text: 'reply' }, agent.auth);
    await app.ok(AddCommentDocument, { ticketId: child.id, text: 'comment' }, agent.auth);

    const read = (await app.ok(TicketDocument, { id: child.id })).ticket!;
    expect(read).toMatchObject({ title: 'Child 2', status: 'IN_PROGRESS', priority: 'HIGH', parent: { id: parent.id }, requester: { id: client.id } });
    expect(read.posts.map((p) => [p.kind, p.text, p.author?.id])).toEqual([['REPLY', 'reply', agent.id], ['COMMENT', 'comment', agent.id]]);
    const p = (await app.ok(TicketDocument, { id: parent.id })).ticket!;
    expect(p.children.map((c) => c.id)).toEqual([child.id]);
  });

  it('a list of 50 tickets with requesters, assignees and posts takes a handful of queries', async ({ desk: { app, agent, client } }) => {
    for (let i = 0; i < 50; i++) await app.ok(CreateTicketDocument, { input: { title: `bulk ${i}`, description: 'x', requesterId: client.id, assigneeId: agent.id } });
    // the in-process dispatcher shares the connection pool: let it finish the 50 events first
    await waitFor(async () => {
      const [row] = await app.services.orm.em.fork().getConnection().execute('select count(*)::int as n from ticket_events where processed_at is null');
      return row.n === 0;
    }, { what: 'the dispatcher to be idle' });
    const knex = (app.services.orm.em.getConnection() as any).getKnex();
    let queries = 0;
    const count = () => void queries++;
    knex.on('query', count);
    const { tickets } = await app.ok(TicketsDocument, { first: 50 });
    knex.off('query', count);
    expect(tickets).toHaveLength(50);
    expect(queries).toBeLessThanOrEqual(8);
  });
});

describe('paging tickets', () => {
  it('first: null and offset: null are the defaults (50 from the start), never the whole list', async ({ app }) => {
    await app.services.orm.em.fork().getConnection().execute(
      `insert into tickets (title, description, status, priority, requester_id, custom_fields, created_at, updated_at)
       select 'bulk ' || g, 'd', 'OPEN', 'NORMAL', (select min(id) from users), '{}', now(), now() from generate_series(1, 51) g`,
    );
    const ids = async (variables: { first?: number | null; offset?: number | null }) => (await app.ok(TicketsDocument, variables)).tickets.map((t) => Number(t.id));
    const newest50 = Array.from({ length: 50 }, (_, i) => 51 - i);
    expect(await ids({})).toEqual(newest50);
    expect(await ids({ first: null, offset: null })).toEqual(newest50);
    expect(await ids({ first: 2, offset: null })).toEqual([51, 50]);
  });
});

describe('bad input: BAD_USER_INPUT naming the field, and nothing written', () => {
  const ticketCount = async (app: TestApp) => Number((await app.services.orm.em.fork().getConnection().execute('select count(*)::int as n from tickets'))[0].n);
  const cases: [string, Record<string, unknown>, string][] = [
    ['wrong custom field type', { title: 't', description: 'd', customFields: { order_no: 'abc' } }, 'customFields.order_no'],
    ['unknown custom field key', { title: 't', description: 'd', customFields: { nope: 1 } }, 'customFields.nope'],
    ['SELECT value not an option', { title: 't', description: 'd', customFields: { tier: 'bronze' } }, 'customFields.tier'],
    ['empty title', { title: '   ', description: 'd' }, 'title'],
    ['unknown parent', { title: 't', description: 'd', parentId: '999999' }, 'parentId'],
    ['unknown assignee', { title: 't', description: 'd', assigneeId: '999999' }, 'assigneeId'],
  ];
  it.for(cases)('%s', async ([_name, input, field], { fields: app }) => {
    const before = await ticketCount(app);
    const r = await app.gql(CreateTicketDocument, { input: input as { title: string; description: string } });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(r.errors?.[0]?.message).toContain(field);
    expect(await ticketCount(app)).toBe(before);
  });

  it('invalid or duplicate email', async ({ desk: { app } }) => {
    const bad = await app.gql(CreateUserDocument, { input: { name: 'n', email: 'not-an-email', role: 'AGENT' } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    const dup = await app.gql(CreateUserDocument, { input: { name: 'n', email: 'AGENT@example.com', role: 'AGENT' } });
    expect(dup.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    expect(dup.errors?.[0]?.message).toContain('already exists');
  });

  it('a custom field key that tags refuse (constructor, prototype) is refused at creation, naming key; nothing written', async ({ app }) => {
    const fieldCount = async () => Number((await app.services.orm.em.fork().getConnection().execute('select count(*)::int as n from custom_fields'))[0].n);
    const before = await fieldCount();
    for (const key of ['constructor', 'prototype']) {
      const r = await app.gql(CreateCustomFieldDocument, { input: { key, name: key, type: 'TEXT' } });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
      expect(r.errors?.[0]?.message).toContain(`ticket.custom.${key} could never be used`);
    }
    expect(await fieldCount()).toBe(before);
  });

  it('a custom field key over 64 characters is refused saying so, naming key', async ({ app }) => {
    const key = 'customer_' + 'x'.repeat(56);
    const r = await app.gql(CreateCustomFieldDocument, { input: { key, name: 'Long', type: 'TEXT' } });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
    expect(r.errors?.[0]?.message).toBe('key: is 65 characters long: a key has at most 64 (it is used in tags as ticket.custom.<key>)');
    expect((await app.ok(CreateCustomFieldDocument, { input: { key: key.slice(0, 64), name: 'Long', type: 'TEXT' } })).createCustomField.key).toBe(key.slice(0, 64));
  });

  it('two creates of one custom field key at once: the later is told the key exists (BAD_USER_INPUT naming key), not an internal error', async ({ app }) => {
    const first = new pg.Client({ connectionString: app.databaseUrl });
    await first.connect();
    try {
      await first.query('begin');
      await first.query(`insert into custom_fields (key, name, type, options, created_at) values ('order_no', 'Order', 'TEXT', '[]', now())`);
      const second = app.gql(CreateCustomFieldDocument, { input: { key: 'order_no', name: 'Order', type: 'TEXT' } });
      // the app's insert has found no such key yet, and waits on the uncommitted one
      await waitFor(async () => (await first.query(`select count(*)::int as n from pg_locks where not granted and locktype = 'transactionid' and transactionid = pg_current_xact_id()::text::xid`)).rows[0].n === 1, { what: 'the second insert to wait' });
      await first.query('commit');
      const r = await second;
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
      expect(r.errors?.[0]?.message).toBe('key: a custom field with key "order_no" already exists');
    } finally {
      await first.end();
    }
  });

  it('a NUMBER custom field update with "abc" changes nothing', async ({ fields: app }) => {
    const t = (await app.ok(CreateTicketDocument, { input: { title: 't', description: 'd', customFields: { order_no: 5 } } })).createTicket;
    const r = await app.gql(UpdateTicketDocument, { id: t.id, input: { title: 'changed', customFields: { order_no: 'abc' } } });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'customFields.order_no' });
    const after = (await app.ok(TicketDocument, { id: t.id })).ticket!;
    expect(after).toMatchObject({ title: 't', customFields: { order_no: 5 } });
  });

  it('a query nested too deep is refused', async ({ app }) => {
    const deep = `{ tickets { ${'children { '.repeat(12)}id${' }'.repeat(12)} } }`;
    const r = await app.gql(deep);
    expect(r.errors?.[0]?.message).toMatch(/nested \d+ levels deep/);
  });
});
