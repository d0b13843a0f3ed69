/**
 * Hostile callers against access rules:
 * - X-Deskhooks-Delivery silences events only for the receiver of a delivery being
 *   attempted; from a CLIENT (or anyone) afterwards, made up or garbage, it is ignored;
 * - REST `user_id` is for ADMIN callers only and names staff;
 * - a CLIENT cannot tell another requester's ticket from a missing one;
 * - a CLIENT sees neither staff contact details nor internal custom fields, and cannot
 *   set fields that are not clientWritable.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { addComment, addReply, createTicket, createUser, settled } from '../support/fixtures.js';
import { hostileTally } from './tally.js';

const tally = hostileTally('access');

interface Who {
  id: string;
  email: string;
  key: string;
  auth: string;
  phone: string;
  chat: string;
}

let app: TestApp;
let agent: Who;
let client: Who;
let other: Who;

const sql = async <T = any>(query: string, params: unknown[] = []): Promise<T[]> => app.services.orm.em.fork().getConnection().execute(query, params);
const codes = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.map((e) => e.extensions?.code);

/** The REST subset; `auth` defaults to the admin. */
async function rest(path: string, opts: { auth?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${app.url}/api/v2${path}`, {
    method: opts.method ?? 'GET',
    headers: { authorization: opts.auth ?? app.adminAuth, ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.headers ?? {}) },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/** Posts, events and tickets: what a refused request must leave as it was. */
const writes = async () => (await sql(`select (select count(*) from posts)::int as posts, (select count(*) from ticket_events)::int as events, (select count(*) from tickets)::int as tickets, (select coalesce(jsonb_agg(custom_fields order by id), '[]') from tickets) as fields`))[0];

const eventsOfPost = async (postId: string) => (await sql(`select type from ticket_events where payload->>'postId' = ?`, [String(postId)])).map((r) => r.type as string);

beforeAll(async () => {
  app = await startTestApp();
  const mk = async (name: string, email: string, role: 'AGENT' | 'CLIENT', phone: string, chat: string): Promise<Who> =>
    ({ ...(await createUser(app, { name, email, role, phone, telegramChatId: chat })), phone, chat });
  agent = await mk('Agent Smith', 'agent.smith@staff.example', 'AGENT', '+1 555 0101', '700100200');
  client = await mk('Client One', 'client.one@example.com', 'CLIENT', '+1 555 0199', '800100300');
  other = await mk('Client Two', 'client.two@example.com', 'CLIENT', '+1 555 0177', '900100400');
});
afterAll(async () => app?.stop());

describe('X-Deskhooks-Delivery silences events only for the receiver of a delivery being attempted', () => {
  let rx: Receiver;
  const forwarded: { deliveryId: string; rest: number; restPost?: string; gqlPost?: string }[] = [];

  beforeAll(async () => {
    // the seed's sub-ticket: a CLIENT reply in a sub-ticket goes to a receiver, which
    // comments on the parent through this server's API while its request is open
    rx = await startReceiver(async (r) => {
      const { parent, text } = JSON.parse(r.body) as { parent: string; text: string };
      const deliveryId = String(r.headers['x-deskhooks-delivery']);
      const viaRest = await rest(`/tickets/${parent}/comments/`, { method: 'POST', auth: basic(agent.email, agent.key), body: { text: `forwarded: ${text}` }, headers: { 'X-Deskhooks-Delivery': deliveryId } });
      const viaGql = await app.gql(`mutation($t: ID!, $x: String!) { addComment(ticketId: $t, text: $x) { id } }`, { t: parent, x: `forwarded over GraphQL: ${text}` }, agent.auth, { 'X-Deskhooks-Delivery': deliveryId });
      forwarded.push({ deliveryId, rest: viaRest.status, restPost: viaRest.body.data?.id?.toString(), gqlPost: (viaGql.data as any)?.addComment?.id });
      return { status: 200, body: 'ok' };
    });
    const hook = (await app.ok(`mutation($input: WebhookInput!) { createWebhook(input: $input) { id } }`, {
      input: { name: 'Forward to parent', method: 'POST', url: `${rx.url}/forward`, format: 'JSON', body: '{"parent": "{{ parent.id }}", "text": "{{ lastReply.text }}"}' },
    })).createWebhook.id;
    const rule = `mutation($input: RuleInput!) { createRule(input: $input) { id } }`;
    await app.ok(rule, {
      input: {
        name: 'Sub-ticket client reply to parent',
        events: ['REPLY_ADDED'],
        conditions: [{ field: 'parent', operator: 'IS_NOT_EMPTY' }, { field: 'lastReplyAuthor', operator: 'EQUALS', value: 'CLIENT' }],
        actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }],
      },
    });
    // on top-level tickets every reply and comment is noted: proves that rules run
    await app.ok(rule, {
      input: { name: 'Note posts on parents', events: ['REPLY_ADDED', 'COMMENT_ADDED'], conditions: [{ field: 'parent', operator: 'IS_EMPTY' }, { field: 'title', operator: 'CONTAINS', value: '[watched]' }], actions: [{ type: 'ADD_COMMENT', value: 'rule saw {{ event.type }}' }] },
    });
  });
  afterAll(async () => {
    await settled(app);
    for (const r of (await app.ok(`{ rules { id } }`)).rules) await app.ok(`mutation($id: ID!) { deleteRule(id: $id) }`, { id: r.id });
    await rx?.close();
  });

  const ruleNotes = async (ticketId: string) => (await sql(`select count(*)::int as n from posts where ticket_id = ? and text like 'rule saw %'`, [ticketId]))[0].n as number;

  it('the receiver’s comments on the parent (REST and GraphQL) raise no event; the same header from a CLIENT afterwards, made up or garbage raises events and rules run', async () => {
    const parent = await createTicket(app, { title: 'Parent [watched]', requesterId: client.id });
    const child = await createTicket(app, { title: 'Sub-ticket', requesterId: client.id, parentId: parent });
    await addReply(app, child, 'It fails at 10:00', client.auth);
    await waitFor(() => forwarded.length === 1, { what: 'the receiver to forward the reply' });
    await settled(app);

    const [f] = forwarded;
    expect(f).toMatchObject({ rest: 200 });
    expect(f!.restPost && f!.gqlPost).toBeTruthy();
    expect((await sql(`select status from deliveries where id = ?`, [f!.deliveryId]))[0].status).toBe('SUCCEEDED');
    // both comments were written, as the agent, and raised nothing
    const parentPosts = await sql(`select id::text, text, author_id::text as author from posts where ticket_id = ? order by id`, [parent]);
    expect(parentPosts).toEqual([
      { id: f!.restPost, text: 'forwarded: It fails at 10:00', author: agent.id },
      { id: f!.gqlPost, text: 'forwarded over GraphQL: It fails at 10:00', author: agent.id },
    ]);
    expect(await eventsOfPost(f!.restPost!)).toEqual([]);
    expect(await eventsOfPost(f!.gqlPost!)).toEqual([]);
    expect(await ruleNotes(parent)).toBe(0);

    // the same header from anyone else: the delivery is over, made up, or not an id at all
    const headers = [f!.deliveryId, f!.deliveryId.toUpperCase(), randomUUID(), '00000000-0000-0000-0000-000000000000', 'anything', '', ' ', 'x'.repeat(2000), `${f!.deliveryId}, ${f!.deliveryId}`, `{${f!.deliveryId}}`, "' or 1=1 --", '1'];
    const raised: string[] = [];
    for (const [i, value] of headers.entries()) {
      const byRest = await rest(`/tickets/${parent}/posts/`, { method: 'POST', auth: basic(client.email, client.key), body: { text: `rest ${i}` }, headers: { 'X-Deskhooks-Delivery': value } });
      expect(byRest.status, `REST with X-Deskhooks-Delivery: ${value.slice(0, 60)}`).toBe(200);
      const byGql = await app.gql(`mutation($t: ID!, $x: String!) { addReply(ticketId: $t, text: $x) { id } }`, { t: parent, x: `graphql ${i}` }, client.auth, { 'X-Deskhooks-Delivery': value });
      expect(byGql.errors).toBeUndefined();
      raised.push(String(byRest.body.data.id), (byGql.data as any).addReply.id);
      tally.tried(2);
    }
    // staff sending a stale header are no different
    const staff = await rest(`/tickets/${parent}/comments/`, { method: 'POST', auth: basic(agent.email, agent.key), body: { text: 'staff with a stale header' }, headers: { 'X-Deskhooks-Delivery': f!.deliveryId } });
    raised.push(String(staff.body.data.id));
    tally.tried();

    for (const postId of raised) expect(await eventsOfPost(postId), `post ${postId}`).toHaveLength(1);
    await waitFor(async () => (await ruleNotes(parent)) === raised.length, { what: `${raised.length} rule notes on the parent` });
    await settled(app);
    expect(await ruleNotes(parent)).toBe(raised.length);
  });
});

describe('REST user_id: ADMIN callers only, naming staff', () => {
  let ticket: string;
  beforeAll(async () => {
    ticket = await createTicket(app, { title: 'impersonation target', requesterId: client.id });
  });

  const post = (kind: 'comments' | 'posts', auth: string, userId: unknown) => rest(`/tickets/${ticket}/${kind}/`, { method: 'POST', auth, body: { text: 'as someone else', user_id: userId } });

  it('an AGENT sending user_id gets 403, whoever it names; nothing is written', async () => {
    for (const kind of ['comments', 'posts'] as const) {
      for (const target of [() => '1', () => client.id, () => agent.id, () => other.id, () => '999999', () => 'abc', () => Number(client.id)]) {
        await tally.unchanged(writes, async () => {
          const r = await post(kind, basic(agent.email, agent.key), target());
          expect(r.status).toBe(403);
          expect(r.body.errors[0]).toMatchObject({ code: 'FORBIDDEN', field: 'user_id' }); // the refusal names the input it refuses
        }, `AGENT ${kind} user_id=${target()}`);
      }
    }
  });

  it('a CLIENT sending user_id gets 403, whoever it names; nothing is written', async () => {
    for (const target of ['1', agent.id, client.id, other.id, '999999']) {
      await tally.unchanged(writes, async () => {
        const r = await post('posts', basic(client.email, client.key), target);
        expect(r.status).toBe(403);
        expect(r.body.errors[0]).toMatchObject({ code: 'FORBIDDEN', field: 'user_id' });
      }, `CLIENT posts user_id=${target}`);
    }
  });

  it('a CLIENT setting what only staff set on createTicket, or another user\'s key, is FORBIDDEN naming that input; nothing is written', async () => {
    const refusals: [string, string][] = [
      [`mutation { createTicket(input: { title: "t", description: "d", requesterId: "${other.id}" }) { id } }`, 'requesterId'],
      [`mutation { createTicket(input: { title: "t", description: "d", assigneeId: "${agent.id}" }) { id } }`, 'assigneeId'],
      [`mutation { createTicket(input: { title: "t", description: "d", status: CLOSED }) { id } }`, 'status'],
      [`mutation { createTicket(input: { title: "t", description: "d", parentId: "${ticket}" }) { id } }`, 'parentId'],
      [`mutation { rotateApiKey(userId: "${agent.id}") { apiKey } }`, 'userId'],
    ];
    for (const [mutation, field] of refusals) {
      await tally.unchanged(writes, async () => {
        const r = await app.gql(mutation, {}, client.auth);
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field });
      }, `CLIENT ${field}`);
    }
  });

  it('an ADMIN naming a CLIENT, an unknown user or no user id gets 400 naming user_id; nothing is written', async () => {
    for (const target of [client.id, other.id, '999999', '0', '-1', 'abc', '1e3', { id: 1 }, [agent.id], true]) {
      await tally.unchanged(writes, async () => {
        const r = await post('comments', app.adminAuth, target);
        expect(r.status).toBe(400);
        expect(r.body.errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'user_id' });
      }, `ADMIN user_id=${JSON.stringify(target)}`);
    }
  });

  it('an ADMIN naming an AGENT posts as that AGENT', async () => {
    const r = await post('comments', app.adminAuth, agent.id);
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ type: 'comment', user_id: Number(agent.id) });
  });
});

describe('REST: another site’s page cannot act with the credentials a browser remembers', () => {
  it('a request from a browser page of another site (Origin of another host, "null", Sec-Fetch-Site cross-site or same-site) is 403 and writes nothing; the same origin and integrations (no Origin) still post', async () => {
    const ticketId = await createTicket(app, 'csrf');
    const host = new URL(app.url).host;
    const form = (headers: Record<string, string>) =>
      fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, { method: 'POST', headers: { authorization: app.adminAuth, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: 'text=pwned' });
    const sent: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, { origin: `http://${host}.evil.example` }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of sent) {
      await tally.unchanged(writes, async () => {
        const res = await form(headers);
        expect(res.status, JSON.stringify(headers)).toBe(403);
        expect(((await res.json()) as any).errors[0]).toMatchObject({ code: 'FORBIDDEN', field: null, message: expect.stringMatching(/^a browser page of another site \(.+\) may not call the REST subset/) });
      }, JSON.stringify(headers));
    }
    const read = await fetch(`${app.url}/api/v2/tickets/${ticketId}/`, { headers: { authorization: app.adminAuth, origin: 'https://evil.example' } });
    expect(read.status).toBe(403);
    expect((await form({ origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await form({})).status).toBe(200);
  });
});

describe('a CLIENT cannot tell another requester’s ticket from a missing one', () => {
  let mine: string;
  let theirs: string;
  const missing = '999999999';

  beforeAll(async () => {
    mine = await createTicket(app, { title: 'mine' }, client.auth);
    theirs = await createTicket(app, { title: 'theirs' }, other.auth);
  });

  /** the answer with the ticket id written as <id>, so that two answers can be compared */
  const shape = (answer: unknown, id: string) => JSON.parse(JSON.stringify(answer).split(`ticket ${id} `).join('ticket <id> ').split(`"${id}"`).join('"<id>"'));

  const probes: [string, (id: string) => Promise<unknown>][] = [
    ['GraphQL ticket', (id) => app.gql(`query($id: ID!) { ticket(id: $id) { id title } }`, { id }, client.auth)],
    ['GraphQL ticket with posts and people', (id) => app.gql(`query($id: ID!) { ticket(id: $id) { id posts { text } requester { id } assignee { id } customFields } }`, { id }, client.auth)],
    ['GraphQL addReply', (id) => app.gql(`mutation($id: ID!) { addReply(ticketId: $id, text: "probe") { id } }`, { id }, client.auth)],
    ['GraphQL addComment', (id) => app.gql(`mutation($id: ID!) { addComment(ticketId: $id, text: "probe") { id } }`, { id }, client.auth)],
    ['GraphQL updateTicket', (id) => app.gql(`mutation($id: ID!) { updateTicket(id: $id, input: { title: "probe" }) { id } }`, { id }, client.auth)],
    ['REST GET', (id) => rest(`/tickets/${id}/`, { auth: basic(client.email, client.key) })],
    ['REST POST posts', (id) => rest(`/tickets/${id}/posts/`, { method: 'POST', auth: basic(client.email, client.key), body: { text: 'probe' } })],
    ['REST POST comments', (id) => rest(`/tickets/${id}/comments/`, { method: 'POST', auth: basic(client.email, client.key), body: { text: 'probe' } })],
  ];

  it.each(probes)('%s: the same answer for another requester’s ticket and a missing one, and nothing written', async (_name, probe) => {
    let forTheirs: unknown;
    let forMissing: unknown;
    await tally.unchanged(writes, async () => {
      forTheirs = await probe(theirs);
    }, `probe of ticket ${theirs}`);
    await tally.unchanged(writes, async () => {
      forMissing = await probe(missing);
    }, 'probe of a missing ticket');
    expect(shape(forTheirs, theirs)).toEqual(shape(forMissing, missing));
    expect(JSON.stringify(forTheirs)).not.toMatch(/theirs|FORBIDDEN.*another|belongs/);
  });

  it('the answer is NOT_FOUND (404 over REST) for reads and replies', async () => {
    for (const id of [theirs, missing]) {
      expect(codes((await probes[0]![1](id)) as any)).toEqual(['NOT_FOUND']);
      expect(codes((await probes[2]![1](id)) as any)).toEqual(['NOT_FOUND']);
      const get = (await probes[5]![1](id)) as { status: number; body: any };
      expect(get.status).toBe(404);
      expect(get.body.errors[0]).toMatchObject({ code: 'NOT_FOUND', message: `ticket ${id} not found` });
      const postIt = (await probes[6]![1](id)) as { status: number };
      expect(postIt.status).toBe(404);
      tally.tried(4);
    }
    // its own ticket still answers
    expect((await app.ok(`query($id: ID!) { ticket(id: $id) { title } }`, { id: mine }, client.auth)).ticket.title).toBe('mine');
  });

  it('a sweep over neighbouring ids finds only the CLIENT’s own tickets', async () => {
    const last = Number((await sql(`select max(id)::text as id from tickets`))[0].id);
    const found: string[] = [];
    for (let id = Math.max(1, last - 30); id <= last + 5; id++) {
      const r = await app.gql(`query($id: ID!) { ticket(id: $id) { id } }`, { id: String(id) }, client.auth);
      const g = await rest(`/tickets/${id}/`, { auth: basic(client.email, client.key) });
      if ((r.data as any)?.ticket) found.push(String(id));
      else expect(codes(r as any)).toEqual(['NOT_FOUND']);
      if (g.status === 200) expect(String(g.body.data.id)).toBe(String(id));
      else expect(g.status).toBe(404);
      tally.tried(2);
    }
    const own = (await sql(`select id::text from tickets where requester_id = ? and id >= ?`, [client.id, Math.max(1, last - 30)])).map((r) => r.id);
    expect(found.sort()).toEqual(own.sort());
  });

  it('a sub-ticket of its own under another requester’s ticket: the parent is null (parent_id over REST) as over GraphQL; under its own ticket, it is there', async () => {
    const underTheirs = await createTicket(app, { title: 'split off theirs', requesterId: client.id, parentId: theirs }, agent.auth);
    const underMine = await createTicket(app, { title: 'split off mine', requesterId: client.id, parentId: mine }, agent.auth);
    const parentOf = async (id: string) => (await app.ok(`query($id: ID!) { ticket(id: $id) { parent { id } } }`, { id }, client.auth)).ticket.parent;
    const restParentOf = async (id: string, auth = basic(client.email, client.key)) => (await rest(`/tickets/${id}/`, { auth })).body.data.parent_id;
    expect(await parentOf(underTheirs)).toBeNull();
    expect(await restParentOf(underTheirs)).toBeNull();
    expect(await parentOf(underMine)).toEqual({ id: mine });
    expect(await restParentOf(underMine)).toBe(Number(mine));
    // staff see every parent
    expect(await restParentOf(underTheirs, agent.auth)).toBe(Number(theirs));
    tally.tried(4);
  });

  it('staff still get null for a missing ticket and the ticket for any other', async () => {
    expect(await app.ok(`query($id: ID!) { ticket(id: $id) { id } }`, { id: missing }, agent.auth)).toEqual({ ticket: null });
    expect((await app.ok(`query($id: ID!) { ticket(id: $id) { id } }`, { id: theirs }, agent.auth)).ticket.id).toBe(theirs);
  });
});

describe('what a CLIENT sees of staff and of custom fields', () => {
  let ticket: string;
  let child: string;
  const internalValue = 'SMS-INTERNAL-4711';

  beforeAll(async () => {
    const field = `mutation($input: CustomFieldInput!) { createCustomField(input: $input) { key clientVisible clientWritable } }`;
    expect((await app.ok(field, { input: { key: 'sms_id', name: 'SMS id (webhook result)', type: 'TEXT' } })).createCustomField).toEqual({ key: 'sms_id', clientVisible: false, clientWritable: false });
    expect((await app.ok(field, { input: { key: 'eta', name: 'Expected on', type: 'TEXT', clientVisible: true } })).createCustomField).toEqual({ key: 'eta', clientVisible: true, clientWritable: false });
    expect((await app.ok(field, { input: { key: 'order_no', name: 'Order number', type: 'TEXT', clientWritable: true } })).createCustomField).toEqual({ key: 'order_no', clientVisible: true, clientWritable: true });
    ticket = await createTicket(app, { title: 'with staff', requesterId: client.id, assigneeId: agent.id, customFields: { sms_id: internalValue, eta: 'tomorrow', order_no: 'A-1' } });
    child = await createTicket(app, { title: 'child with staff', requesterId: client.id, assigneeId: agent.id, parentId: ticket, customFields: { sms_id: internalValue } });
    await addReply(app, ticket, 'an agent answers', agent.auth);
    await addReply(app, child, 'an agent answers the child', agent.auth);
    await addComment(app, ticket, 'internal note by the admin');
    await addReply(app, ticket, 'the client answers', client.auth);
  });

  const secrets = () => [agent.email, agent.phone, agent.chat, 'admin@example.com', internalValue, 'sms_id', other.email];

  const reads: [string, () => Promise<unknown>][] = [
    ['GraphQL ticket', async () => (await app.ok(`query($id: ID!) { ticket(id: $id) { customFields sms: customFieldValue(key: "sms_id") eta: customFieldValue(key: "eta") requester { id name email phone telegramChatId role } assignee { id name email phone telegramChatId role } posts { text author { id name email phone telegramChatId role } } children { customFields assignee { email phone telegramChatId } posts { author { email phone telegramChatId } } } } }`, { id: ticket }, client.auth)).ticket],
    ['GraphQL child → parent', async () => (await app.ok(`query($id: ID!) { ticket(id: $id) { customFields assignee { email phone telegramChatId } parent { customFields sms: customFieldValue(key: "sms_id") assignee { email phone telegramChatId } posts { author { email phone telegramChatId } } } } }`, { id: child }, client.auth)).ticket],
    ['GraphQL tickets', async () => (await app.ok(`{ tickets(first: 50) { customFields assignee { id name role email phone telegramChatId } posts { author { email phone telegramChatId } } } }`, {}, client.auth)).tickets],
    ['GraphQL customFields', async () => (await app.ok(`{ customFields { key name clientVisible clientWritable } }`, {}, client.auth)).customFields],
    ['REST GET', async () => (await rest(`/tickets/${ticket}/`, { auth: basic(client.email, client.key) })).body],
    ['REST GET child', async () => (await rest(`/tickets/${child}/`, { auth: basic(client.email, client.key) })).body],
  ];

  it.each(reads)('%s: no staff email, phone or Telegram chat id, no internal field', async (_name, read) => {
    const answer = JSON.stringify(await read());
    for (const secret of secrets()) expect(answer, `leaks ${secret}`).not.toContain(secret);
    tally.tried();
  });

  it('a CLIENT gets others as id, name and role, itself in full, and the clientVisible fields', async () => {
    const t = (await app.ok(`query($id: ID!) { ticket(id: $id) { customFields sms: customFieldValue(key: "sms_id") eta: customFieldValue(key: "eta") requester { id email phone telegramChatId } assignee { id name role email phone telegramChatId } posts { text author { id name role email phone telegramChatId } } } }`, { id: ticket }, client.auth)).ticket;
    expect(t.customFields).toEqual({ eta: 'tomorrow', order_no: 'A-1' });
    expect([t.sms, t.eta]).toEqual([null, 'tomorrow']);
    expect(t.requester).toEqual({ id: client.id, email: client.email, phone: client.phone, telegramChatId: client.chat });
    const hidden = { id: agent.id, name: 'Agent Smith', role: 'AGENT', email: null, phone: null, telegramChatId: null };
    expect(t.assignee).toEqual(hidden);
    expect(t.posts.map((p: any) => [p.text, p.author])).toEqual([
      ['an agent answers', hidden],
      ['the client answers', { id: client.id, name: 'Client One', role: 'CLIENT', email: client.email, phone: client.phone, telegramChatId: client.chat }],
    ]);
    expect((await app.ok(`{ customFields { key } }`, {}, client.auth)).customFields.map((f: any) => f.key)).toEqual(['eta', 'order_no']);
    const restTicket = (await rest(`/tickets/${ticket}/`, { auth: basic(client.email, client.key) })).body.data;
    expect(restTicket).toMatchObject({ user_email: client.email, owner_id: Number(agent.id), custom_fields: { eta: 'tomorrow', order_no: 'A-1' } });
    expect(Object.keys(restTicket.custom_fields).sort()).toEqual(['eta', 'order_no']);
  });

  it('staff see everything', async () => {
    const t = (await app.ok(`query($id: ID!) { ticket(id: $id) { customFields assignee { email phone telegramChatId } posts { author { email } } } }`, { id: ticket }, agent.auth)).ticket;
    expect(t.customFields).toEqual({ sms_id: internalValue, eta: 'tomorrow', order_no: 'A-1' });
    expect(t.assignee).toEqual({ email: agent.email, phone: agent.phone, telegramChatId: agent.chat });
    expect((await rest(`/tickets/${ticket}/`, { auth: basic(agent.email, agent.key) })).body.data.custom_fields).toEqual({ sms_id: internalValue, eta: 'tomorrow', order_no: 'A-1' });
    expect((await app.ok(`{ customFields { key } }`, {}, agent.auth)).customFields.map((f: any) => f.key)).toEqual(['sms_id', 'eta', 'order_no']);
  });

  it('a CLIENT setting a field that is not clientWritable gets BAD_USER_INPUT naming it, the same for an internal and an unknown key; nothing is written', async () => {
    const answers = new Map<string, unknown>();
    for (const [key, value] of [['sms_id', 'forged'], ['sms_id', null], ['eta', 'now'], ['nope', 'x'], ['no_such_field', 1]] as const) {
      await tally.unchanged(writes, async () => {
        const r = await app.gql(`mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`, { input: { title: 'forge', description: 'd', customFields: { [key]: value, order_no: 'C-3' } } }, client.auth);
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: `customFields.${key}` });
        if (key !== 'sms_id') expect(JSON.stringify(r.errors)).not.toContain('sms_id');
        answers.set(key, JSON.parse(JSON.stringify(r.errors).split(key).join('<key>')));
      }, `CLIENT sets ${key}`);
    }
    // an internal field is refused exactly like one that does not exist
    expect(answers.get('sms_id')).toEqual(answers.get('nope'));
    // a field the CLIENT sees (customFields lists it) is not called unknown: it is read-only to it
    expect(JSON.stringify(answers.get('eta'))).not.toContain('unknown');
    expect(JSON.stringify(answers.get('eta'))).toContain('custom field \\"<key>\\" is not writable by a CLIENT (writable: order_no)');
    // updating stays staff-only, whatever the field
    await tally.unchanged(writes, async () => {
      const r = await app.gql(`mutation($id: ID!) { updateTicket(id: $id, input: { customFields: { sms_id: "forged" } }) { id } }`, { id: ticket }, client.auth);
      expect(codes(r)).toEqual(['FORBIDDEN']);
    }, 'CLIENT updates a field');
    // a clientWritable field is set
    const ok = await app.ok(`mutation { createTicket(input: { title: "fine", description: "d", customFields: { order_no: "D-4" } }) { customFields } }`, {}, client.auth);
    expect(ok.createTicket.customFields).toEqual({ order_no: 'D-4' });
  });

  it('clientWritable implies clientVisible; asking for writable and not visible is refused', async () => {
    const r = await app.gql(`mutation { createCustomField(input: { key: "odd", name: "Odd", type: TEXT, clientWritable: true, clientVisible: false }) { id } }`);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'clientVisible' });
    expect((await sql(`select count(*)::int as n from custom_fields where key = 'odd'`))[0].n).toBe(0);
  });
});
