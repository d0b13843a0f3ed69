/**
 * Hostile text in every text input: U+0000, a lone surrogate and text
 * over its limit, in each field of each GraphQL operation and of the REST subset. Each is
 * BAD_USER_INPUT naming the field (never INTERNAL_SERVER_ERROR), and nothing is written:
 * every table's rows read the same before and after. The cases come from one table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../support/app.js';
import { wsClient } from '../support/ws.js';
import { hostileTally } from './tally.js';

const tally = hostileTally('inputs');

let app: TestApp;
let ticketId: string;
let webhookId: string;
let ruleId: string;
let clientAuth: string;

const sql = async <T = any>(query: string, params: unknown[] = []): Promise<T[]> => app.services.orm.em.fork().getConnection().execute(query, params);

/** What is compared of each table's rows: all of it, but the dispatcher's bookkeeping on events. */
const TABLES: Record<string, string> = {
  users: 'x::text',
  tickets: 'x::text',
  posts: 'x::text',
  custom_fields: 'x::text',
  webhooks: 'x::text',
  rules: 'x::text',
  deliveries: 'x::text',
  delivery_attempts: 'x::text',
  ticket_events: '(x.id, x.kind, x.ticket_id, x.type, x.payload)::text',
};
/** Every row of every table, as one fingerprint per table: a refused request leaves each as it was. */
const everything = async () =>
  (await sql(`select ${Object.entries(TABLES).map(([t, row]) => `(select count(*)::int || ':' || coalesce(md5(string_agg(${row}, '|' order by ${row})), '') from "${t}" x) as "${t}"`).join(', ')}`))[0];

const LIMIT = { title: 1_000, text: 100_000, name: 200, email: 254, line: 8_000 };

type Kind = 'NUL' | 'lone surrogate' | 'over limit';
const hostile = (kind: Kind, limit: number | undefined): string | null => {
  if (kind === 'NUL') return 'before\u0000after';
  if (kind === 'lone surrogate') return 'before\uD83Dafter';
  return limit === undefined ? null : 'x'.repeat(limit + 1);
};

interface GqlCase {
  name: string;
  /** the operation, or one built around `v` (the hostile text) */
  query: string | ((v: string) => string);
  /** the variables with `v` in the field under test */
  vars: (v: string) => Record<string, unknown>;
  /** the kinds of hostile text tried; default all */
  kinds?: Kind[];
  field: string;
  /** characters allowed; undefined: no length limit of its own (ids, cursors) */
  limit?: number;
  auth?: () => string;
  /** the refusal comes from the service alone for length: a read or a write */
  write?: boolean;
}

const CREATE_TICKET = `mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }`;
const UPDATE_TICKET = `mutation($id: ID!, $i: UpdateTicketInput!) { updateTicket(id: $id, input: $i) { id } }`;
const CREATE_USER = `mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey } }`;
const CREATE_FIELD = `mutation($i: CustomFieldInput!) { createCustomField(input: $i) { id } }`;
const CREATE_WEBHOOK = `mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`;
const UPDATE_WEBHOOK = `mutation($id: ID!, $i: WebhookInput!) { updateWebhook(id: $id, input: $i) { id } }`;
const CREATE_RULE = `mutation($i: RuleInput!) { createRule(input: $i) { id } }`;
const UPDATE_RULE = `mutation($id: ID!, $i: RuleInput!) { updateRule(id: $id, input: $i) { id } }`;

/** A GraphQL string literal for `v` (JSON's escapes are GraphQL's). */
const literal = (v: string) => JSON.stringify(v);

let seq = 0;
const unique = () => `u${++seq}`;
const ticketInput = (over: Record<string, unknown>) => ({ title: 'a title', description: 'a description', ...over });
const userInput = (over: Record<string, unknown>) => ({ name: 'Someone', email: `${unique()}@example.com`, role: 'AGENT', ...over });
const hookInput = (over: Record<string, unknown>) => ({ name: 'hook', method: 'POST', url: 'https://hooks.example.com/in', format: 'JSON', body: '{"id": "{{ ticket.id }}"}', ...over });
const ruleInput = (over: Record<string, unknown>) => ({ name: 'rule', events: ['TICKET_CREATED'], actions: [{ type: 'ADD_COMMENT', value: 'hello' }], ...over });

/** [field, limit, the input with `v` in that field] */
type FieldCase = [string, number, (v: string) => Record<string, unknown>];

const WEBHOOK_FIELDS: FieldCase[] = [
  ['name', LIMIT.name, (v) => ({ name: v })],
  ['url', LIMIT.line, (v) => ({ url: v })],
  ['body', LIMIT.text, (v) => ({ body: v })],
  ['headers[0].name', LIMIT.name, (v) => ({ headers: [{ name: v, value: 'x' }] })],
  ['headers[1].value', LIMIT.line, (v) => ({ headers: [{ name: 'X-A', value: 'a' }, { name: 'X-B', value: v }] })],
  ['headers[0].value', LIMIT.line, (v) => ({ headers: [{ name: 'X-Api-Key', value: v, secret: true }] })],
  ['auth.username', LIMIT.name, (v) => ({ auth: { type: 'BASIC', username: v, secret: 'pw' } })],
  ['auth.secret', LIMIT.line, (v) => ({ auth: { type: 'BEARER', secret: v } })],
  ['responseMappings[0].path', LIMIT.line, (v) => ({ responseMappings: [{ path: v, target: 'TEMPORARY', field: 'x' }] })],
  ['responseMappings[0].field', LIMIT.name, (v) => ({ responseMappings: [{ path: 'a.b', target: 'TEMPORARY', field: v }] })],
  ['successComment', LIMIT.text, (v) => ({ successComment: v })],
];

const RULE_FIELDS: FieldCase[] = [
  ['name', LIMIT.name, (v) => ({ name: v })],
  ['description', LIMIT.text, (v) => ({ description: v })],
  ['conditions[0].field', LIMIT.name, (v) => ({ conditions: [{ field: v, operator: 'EQUALS', value: 'x' }] })],
  ['conditions[0].value', LIMIT.line, (v) => ({ conditions: [{ field: 'title', operator: 'CONTAINS', value: v }] })],
  ['actions[0].value', LIMIT.text, (v) => ({ actions: [{ type: 'ADD_REPLY', value: v }] })],
  ['actions[0].field', LIMIT.name, (v) => ({ actions: [{ type: 'SET_CUSTOM_FIELD', field: v, value: 'x' }] })],
];

/** createX and updateX of a definition, each field of it. */
const definitionCases = (entity: string, mutations: { create: string; update: string }, input: (over: Record<string, unknown>) => Record<string, unknown>, id: () => string, fields: FieldCase[]): GqlCase[] =>
  (['create', 'update'] as const).flatMap((op) =>
    fields.map(([field, limit, over]): GqlCase => ({
      name: `${op}${entity} ${field}`,
      query: mutations[op],
      vars: (v) => (op === 'create' ? { i: input(over(v)) } : { id: id(), i: input(over(v)) }),
      field,
      limit,
      write: true,
    })),
  );

const GQL_CASES: GqlCase[] = [
  // tickets and posts
  { name: 'createTicket title', query: CREATE_TICKET, vars: (v) => ({ i: ticketInput({ title: v }) }), field: 'title', limit: LIMIT.title, write: true },
  { name: 'createTicket title (CLIENT)', query: CREATE_TICKET, vars: (v) => ({ i: ticketInput({ title: v }) }), field: 'title', limit: LIMIT.title, write: true, auth: () => clientAuth },
  { name: 'createTicket description', query: CREATE_TICKET, vars: (v) => ({ i: ticketInput({ description: v }) }), field: 'description', limit: LIMIT.text, write: true },
  { name: 'createTicket custom field value', query: CREATE_TICKET, vars: (v) => ({ i: ticketInput({ customFields: { note: v } }) }), field: 'customFields.note', limit: LIMIT.text, write: true },
  { name: 'createTicket custom field key', query: CREATE_TICKET, vars: (v) => ({ i: ticketInput({ customFields: { [v]: 'x' } }) }), field: 'customFields', limit: LIMIT.name, write: true },
  {
    name: 'createTicket title as an inline literal',
    query: (v) => `mutation { createTicket(input: { title: ${literal(v)}, description: "d" }) { id } }`,
    vars: () => ({}),
    // an inline literal cannot hold a lone surrogate (a GraphQL syntax error, refused by the parser)
    kinds: ['NUL', 'over limit'],
    field: 'title',
    limit: LIMIT.title,
    write: true,
  },
  { name: 'updateTicket title', query: UPDATE_TICKET, vars: (v) => ({ id: ticketId, i: { title: v } }), field: 'title', limit: LIMIT.title, write: true },
  { name: 'updateTicket description', query: UPDATE_TICKET, vars: (v) => ({ id: ticketId, i: { description: v } }), field: 'description', limit: LIMIT.text, write: true },
  { name: 'updateTicket custom field value', query: UPDATE_TICKET, vars: (v) => ({ id: ticketId, i: { customFields: { note: v } } }), field: 'customFields.note', limit: LIMIT.text, write: true },
  { name: 'addReply text', query: `mutation($t: ID!, $v: String!) { addReply(ticketId: $t, text: $v) { id } }`, vars: (v) => ({ t: ticketId, v }), field: 'text', limit: LIMIT.text, write: true },
  { name: 'addReply text (CLIENT)', query: `mutation($t: ID!, $v: String!) { addReply(ticketId: $t, text: $v) { id } }`, vars: (v) => ({ t: ticketId, v }), field: 'text', limit: LIMIT.text, write: true, auth: () => clientAuth },
  { name: 'addComment text', query: `mutation($t: ID!, $v: String!) { addComment(ticketId: $t, text: $v) { id } }`, vars: (v) => ({ t: ticketId, v }), field: 'text', limit: LIMIT.text, write: true },
  { name: 'addComment ticketId', query: `mutation($t: ID!) { addComment(ticketId: $t, text: "x") { id } }`, vars: (v) => ({ t: v }), field: 'ticketId', write: true },
  // users
  { name: 'createUser name', query: CREATE_USER, vars: (v) => ({ i: userInput({ name: v }) }), field: 'name', limit: LIMIT.name, write: true },
  { name: 'createUser email', query: CREATE_USER, vars: (v) => ({ i: userInput({ email: v }) }), field: 'email', limit: LIMIT.email, write: true },
  { name: 'createUser phone', query: CREATE_USER, vars: (v) => ({ i: userInput({ phone: v }) }), field: 'phone', limit: LIMIT.name, write: true },
  { name: 'createUser telegramChatId', query: CREATE_USER, vars: (v) => ({ i: userInput({ telegramChatId: v }) }), field: 'telegramChatId', limit: LIMIT.name, write: true },
  // custom fields
  { name: 'createCustomField key', query: CREATE_FIELD, vars: (v) => ({ i: { key: v, name: 'n', type: 'TEXT' } }), field: 'key', limit: LIMIT.name, write: true },
  { name: 'createCustomField name', query: CREATE_FIELD, vars: (v) => ({ i: { key: unique(), name: v, type: 'TEXT' } }), field: 'name', limit: LIMIT.name, write: true },
  { name: 'createCustomField option', query: CREATE_FIELD, vars: (v) => ({ i: { key: unique(), name: 'n', type: 'SELECT', options: ['a', v] } }), field: 'options[1]', limit: LIMIT.name, write: true },
  // webhooks and rules
  ...definitionCases('Webhook', { create: CREATE_WEBHOOK, update: UPDATE_WEBHOOK }, hookInput, () => webhookId, WEBHOOK_FIELDS),
  ...definitionCases('Rule', { create: CREATE_RULE, update: UPDATE_RULE }, ruleInput, () => ruleId, RULE_FIELDS),
  // ids, filters, cursors: no length limit of their own, still refused before anything runs
  { name: 'testWebhook ticketId', query: `mutation($w: ID!, $v: ID!) { testWebhook(id: $w, ticketId: $v) { id } }`, vars: (v) => ({ w: webhookId, v }), field: 'ticketId', write: true },
  { name: 'redeliver deliveryId', query: `mutation($v: ID!) { redeliver(deliveryId: $v) { id } }`, vars: (v) => ({ v }), field: 'deliveryId', write: true },
  { name: 'cancelDelivery id', query: `mutation($v: ID!) { cancelDelivery(id: $v) { id } }`, vars: (v) => ({ v }), field: 'id', write: true },
  { name: 'deleteWebhook id', query: `mutation($v: ID!) { deleteWebhook(id: $v) }`, vars: (v) => ({ v }), field: 'id', write: true },
  { name: 'deleteRule id', query: `mutation($v: ID!) { deleteRule(id: $v) }`, vars: (v) => ({ v }), field: 'id', write: true },
  { name: 'deliveries filter', query: `query($v: ID) { deliveries(filter: { ticketId: $v }) { totalCount } }`, vars: (v) => ({ v }), field: 'filter.ticketId' },
  { name: 'deliveries cursor', query: `query($v: String) { deliveries(after: $v) { totalCount } }`, vars: (v) => ({ v }), field: 'after' },
  { name: 'ticket id', query: `query($v: ID!) { ticket(id: $v) { id } }`, vars: (v) => ({ v }), field: 'id' },
  { name: 'previewWebhook ticketId', query: `query($w: ID!, $v: ID!) { previewWebhook(id: $w, ticketId: $v) { url } }`, vars: (v) => ({ w: webhookId, v }), field: 'ticketId' },
  { name: 'customFieldValue key', query: `query($t: ID!, $v: String!) { ticket(id: $t) { customFieldValue(key: $v) } }`, vars: (v) => ({ t: ticketId, v }), field: 'key' },
  { name: 'an unused variable', query: `mutation($t: ID!) { addReply(ticketId: $t, text: "fine") { id } }`, vars: (v) => ({ t: ticketId, extra: v }), field: '$extra', write: true },
];

async function expectRefused(r: { errors?: { message: string; extensions?: { code?: string; field?: string } }[] }, field: string, what: string): Promise<void> {
  expect(r.errors?.length, `${what}: refused`).toBeGreaterThan(0);
  expect(r.errors![0]!.extensions, `${what}: ${r.errors![0]!.message.slice(0, 200)}`).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(r.errors![0]!.message).not.toBe('internal server error');
}

beforeAll(async () => {
  app = await startTestApp();
  await app.ok(CREATE_FIELD, { i: { key: 'note', name: 'Note', type: 'TEXT', clientVisible: true, clientWritable: true } });
  ticketId = (await app.ok(CREATE_TICKET, { i: ticketInput({ customFields: { note: 'first' } }) })).createTicket.id;
  webhookId = (await app.ok(CREATE_WEBHOOK, { i: hookInput({}) })).createWebhook.id;
  ruleId = (await app.ok(CREATE_RULE, { i: ruleInput({ enabled: false }) })).createRule.id;
  const client = (await app.ok(`mutation { createUser(input: { name: "Client", email: "client@example.com", role: CLIENT }) { apiKey } }`)).createUser;
  clientAuth = bearer(client.apiKey);
  // the client's own ticket, so that its posts reach the service
  ticketId = (await app.ok(CREATE_TICKET, { i: ticketInput({ customFields: { note: 'first' } }) }, clientAuth)).createTicket.id;
});
afterAll(async () => app?.stop());

describe('GraphQL: every text input refuses U+0000, lone surrogates and text over its limit, naming the field; nothing is written', () => {
  const KINDS: Kind[] = ['NUL', 'lone surrogate', 'over limit'];
  const rows = GQL_CASES.flatMap((c) => (c.kinds ?? KINDS).filter((k) => hostile(k, c.limit) !== null).map((k) => [`${c.name}: ${k}`, c, k] as const));

  it.each(rows)('%s', async (_, c, kind) => {
    const v = hostile(kind, c.limit)!;
    const query = typeof c.query === 'string' ? c.query : c.query(v);
    await tally.unchanged(everything, async () => expectRefused(await app.gql(query, c.vars(v), c.auth?.() ?? app.adminAuth), c.field, `${c.name} (${kind})`), `${c.name} (${kind})`);
  });

  it('over HTTP the whole request is refused with status 400 before anything runs, even its other mutations', async () => {
    await tally.unchanged(everything, async () => {
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: app.adminAuth },
        body: JSON.stringify({ query: `mutation($t: ID!, $v: String!) { ok: addReply(ticketId: $t, text: "fine") { id } bad: addReply(ticketId: $t, text: $v) { id } }`, variables: { t: ticketId, v: '\u0000' } }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { data?: unknown; errors: { extensions: Record<string, unknown> }[] };
      expect(body.data).toBeUndefined();
      expect(body.errors[0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'text' });
    });
  });

  it('a JSON body whose bytes are not UTF-8 (GraphQL and REST) is refused with 400, not stored with U+FFFD in their place', async () => {
    const latin = (json: string, raw: number[]) => Buffer.concat([Buffer.from(json.slice(0, json.indexOf('@'))), Buffer.from(raw), Buffer.from(json.slice(json.indexOf('@') + 1))]);
    await tally.unchanged(everything, async () => {
      const gql = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: app.adminAuth },
        body: latin(JSON.stringify({ query: `mutation($t: ID!, $v: String!) { addReply(ticketId: $t, text: $v) { id } }`, variables: { t: ticketId, v: '@' } }), [0xcf, 0xf0, 0xe8]),
      });
      expect(gql.status).toBe(400);
      expect(((await gql.json()) as any).errors[0]).toMatchObject({ message: expect.stringContaining('is not valid UTF-8'), extensions: { code: 'BAD_USER_INPUT' } });
      const rest = await fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: app.adminAuth }, body: latin('{"text": "@"}', [0xff]) });
      expect(rest.status).toBe(400);
      expect(((await rest.json()) as any).errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('is not valid UTF-8') });
    });
    // UTF-8 text, and JSON in another declared charset, are read as before
    expect((await app.ok(`mutation($t: ID!, $v: String!) { addReply(ticketId: $t, text: $v) { text } }`, { t: ticketId, v: 'Привет' })).addReply.text).toBe('Привет');
    const utf16 = await fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-16', authorization: app.adminAuth }, body: Buffer.from('{"text": "Привет"}', 'utf16le') });
    expect(utf16.status).toBe(200);
    tally.tried(4);
  });

  it('the limits are limits: text of exactly the limit is accepted', async () => {
    const t = (await app.ok(CREATE_TICKET, { i: ticketInput({ title: 'x'.repeat(LIMIT.title), description: 'y'.repeat(LIMIT.text) }) })).createTicket.id;
    const reply = (await app.ok(`mutation($t: ID!, $v: String!) { addReply(ticketId: $t, text: $v) { text } }`, { t, v: '😀'.repeat(LIMIT.text) })).addReply;
    expect([...reply.text].length).toBe(LIMIT.text);
    const user = await app.gql(CREATE_USER, { i: userInput({ name: 'n'.repeat(LIMIT.name) }) });
    expect(user.errors).toBeUndefined();
    tally.tried(3);
  });

  it('a surrogate pair (an emoji) is text like any other', async () => {
    const t = (await app.ok(CREATE_TICKET, { i: ticketInput({ title: 'printer 😀 \uD83D\uDE00' }) })).createTicket.id;
    expect((await app.ok(`query($t: ID!) { ticket(id: $t) { title } }`, { t })).ticket.title).toBe('printer 😀 😀');
    tally.tried();
  });

  /** [what, the operation and its variables for the client's ticket `t`, the field named] */
  const WS_CASES: [string, (t: string) => [string, Record<string, unknown>], string][] = [
    ['addReply text with U+0000', (t) => [`mutation($v: String!) { addReply(ticketId: "${t}", text: $v) { id } }`, { v: 'a\u0000b' }], 'text'],
    ['createTicket title with \\u0000 inline', () => [`mutation { createTicket(input: { title: "a\\u0000b", description: "d" }) { id } }`, {}], 'title'],
    ['an unused variable with U+0000', (t) => [`mutation($t: ID!) { addReply(ticketId: $t, text: "fine") { id } }`, { t, extra: 'x\u0000' }], '$extra'],
    ['a subscription filter with a lone surrogate', () => [`subscription($v: ID) { deliveryEvents(filter: { ticketId: $v }) { type } }`, { v: '1\uDFFF' }], 'filter.ticketId'],
    ['a subscription filter whose webhookId is no id', () => [`subscription { deliveryEvents(filter: { webhookId: "abc" }) { type } }`, {}], 'filter.webhookId'],
    ['a subscription filter whose ticketId is no id', () => [`subscription($v: ID) { deliveryEvents(filter: { ticketId: $v }) { type } }`, { v: '0x7' }], 'filter.ticketId'],
  ];
  it.each(WS_CASES)('over the websocket: %s is refused the same way; nothing is written', async (_what, op, field) => {
    const [query, variables] = op(ticketId);
    const ws = wsClient(app.url, app.adminAuth);
    try {
      await tally.unchanged(everything, async () => {
        let unsubscribe = () => {};
        const result = await new Promise<{ errors?: { extensions?: Record<string, unknown> }[] }>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no answer within 5 s to ${query}`)), 5_000);
          const done = (f: () => void) => { clearTimeout(timer); f(); };
          unsubscribe = ws.subscribe({ query, variables }, { next: (r) => done(() => resolve(r as never)), error: (e) => done(() => reject(e)), complete: () => {} });
        }).finally(() => unsubscribe());
        expect(result.errors?.[0]?.extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', field });
      }, `ws ${query}`);
    } finally {
      await ws.dispose();
    }
  });
});

describe('REST: the text of a post, user_id and any other field refuse U+0000 and lone surrogates; text over its limit is refused; nothing is written', () => {
  async function rest(path: string, body: string, contentType: string, auth = app.adminAuth) {
    const res = await fetch(`${app.url}/api/v2${path}`, { method: body ? 'POST' : 'GET', headers: { authorization: auth, 'content-type': contentType }, body: body || undefined });
    return { status: res.status, body: (await res.json()) as { errors?: { code: string; field: string | null }[] } };
  }
  const json = (o: unknown) => JSON.stringify(o);
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const JSON_T = 'application/json';
  const FORM_T = 'application/x-www-form-urlencoded';

  /** [what, the request to a post path (path, body, content type), the field named] */
  const POST_CASES: [string, (path: string) => [string, string, string], string][] = [
    ['JSON text with U+0000', (p) => [p, json({ text: 'a\u0000b' }), JSON_T], 'text'],
    ['JSON text with a lone surrogate', (p) => [p, json({ text: 'a\uDC00b' }), JSON_T], 'text'],
    ['JSON text over the limit', (p) => [p, json({ text: 'x'.repeat(LIMIT.text + 1) }), JSON_T], 'text'],
    ['form text with %00', (p) => [p, form({ text: 'a\u0000b' }), FORM_T], 'text'],
    ['form text over the limit', (p) => [p, form({ text: 'x'.repeat(LIMIT.text + 1) }), FORM_T], 'text'],
    ['user_id with U+0000', (p) => [p, json({ text: 'fine', user_id: '1\u0000' }), JSON_T], 'user_id'],
    ['an extra field with a lone surrogate', (p) => [p, json({ text: 'fine', extra: { deep: ['\uD800'] } }), JSON_T], 'extra.deep[0]'],
    ['the query string with %00', (p) => [`${p}?x=%00`, json({ text: 'fine' }), JSON_T], 'x'],
  ];
  const cases: [string, () => [string, string, string], string][] = [
    ...(['comments', 'posts'] as const).flatMap((kind) =>
      POST_CASES.map(([what, req, field]): [string, () => [string, string, string], string] => [`${kind}: ${what}`, () => req(`/tickets/${ticketId}/${kind}/`), field]),
    ),
    ['ticket: the query string with %00', () => [`/tickets/${ticketId}/?q=a%00`, '', JSON_T], 'q'],
  ];

  it.each(cases)('%s', async (name, req, field) => {
    await tally.unchanged(everything, async () => {
      const [path, body, type] = req();
      const r = await rest(path, body, type);
      expect(r.status, name).toBe(400);
      expect(r.body.errors?.[0], name).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }, name);
  });

  it('text of exactly the limit is accepted, from a CLIENT too', async () => {
    const r = await rest(`/tickets/${ticketId}/posts/`, json({ text: 'x'.repeat(LIMIT.text) }), JSON_T, clientAuth);
    expect(r.status).toBe(200);
    tally.tried();
  });
});
