/** HTTP edges: GET /graphql, unreadable bodies, the REST subset's shapes and user_id. */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, ADMIN_EMAIL, ADMIN_KEY, startTestApp, type TestApp } from '../support/app.js';
import { startReceiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { createWebhook, jsonHook, testWebhook } from '../support/fixtures.js';

let app: TestApp;
let agent: { id: string; key: string };
let ticketId: string;

beforeAll(async () => {
  // no periodic sweep: the query count below must see this request's queries only
  app = await startTestApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
  const { createUser } = await app.ok(`mutation { createUser(input: { name: "Rest Agent", email: "rest@example.com", role: AGENT }) { apiKey user { id } } }`);
  agent = { id: createUser.user.id, key: createUser.apiKey };
  ticketId = (await app.ok(`mutation { createTicket(input: { title: "rest", description: "d" }) { id } }`)).createTicket.id;
});
afterAll(async () => app?.stop());

describe('every answer', () => {
  it('names no server framework (no X-Powered-By: it tells a scanner which exploits to try): health, GraphQL, REST, the console, a 404', async () => {
    const paths = ['/healthz', `/graphql?query=${encodeURIComponent('{ me { email } }')}`, `/api/v2/tickets/${ticketId}/`, '/', '/nowhere'];
    for (const path of paths) {
      const res = await fetch(`${app.url}${path}`, { headers: { authorization: app.adminAuth } });
      expect(res.headers.get('x-powered-by'), path).toBeNull();
      await res.body?.cancel();
    }
  });
});

describe('GraphQL over HTTP', () => {
  it('GET /graphql answers queries, with the Authorization header', async () => {
    const res = await fetch(`${app.url}/graphql?query=${encodeURIComponent('{ me { email } }')}`, { headers: { authorization: app.adminAuth } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: { email: ADMIN_EMAIL } } });
  });

  it('an unreadable JSON body is a 400 with a clear message, not a server error', async () => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: app.adminAuth }, body: '{"query": ' });
    expect(res.status).toBe(400);
    // as GraphQL clients read errors: an errors list with extensions.code
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0]!.message).toMatch(/could not be read/);
  });

  it('a subscription over HTTP is a 400 saying subscriptions run over the websocket, not a server error', async () => {
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: app.adminAuth }, body: JSON.stringify({ query: 'subscription { deliveryEvents { type } }' }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
    expect(body.errors[0]!.message).toMatch(/subscriptions run over the websocket at \/graphql/);
  });

  it('a filter id that is not an id is BAD_USER_INPUT naming it', async () => {
    const r = await app.gql(`{ deliveries(filter: { ticketId: "abc" }) { totalCount } }`);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.ticketId' });
  });

  it('a page of 20 deliveries with attempts, webhook, ticket and rule takes a handful of queries', async () => {
    const receiver = await startReceiver();
    try {
      const webhookId = await createWebhook(app, jsonHook('log', `${receiver.url}/log`));
      for (let i = 0; i < 20; i++) await testWebhook(app, webhookId, ticketId);
      await waitFor(async () => (await app.ok(`{ deliveries(filter: { status: SUCCEEDED }) { totalCount } }`)).deliveries.totalCount === 20, { what: '20 deliveries to succeed' }).catch(async (err) => {
        const { deliveries } = await app.ok(`{ deliveries(first: 20) { nodes { id status attempts { number statusCode error } } } }`);
        throw new Error(`${(err as Error).message}; deliveries: ${JSON.stringify(deliveries.nodes)}`);
      });
      const knex = (app.services.orm.em.getConnection() as any).getKnex();
      let queries = 0;
      const count = () => void queries++;
      knex.on('query', count);
      const page = await app.ok(`{ deliveries(first: 20) { nodes { id attempts { number statusCode } webhook { id } ticket { id } rule { id } } } }`);
      knex.off('query', count);
      expect(page.deliveries.nodes).toHaveLength(20);
      expect(page.deliveries.nodes.every((n: any) => n.attempts.length === 1 && n.webhook.id === webhookId && n.ticket.id === ticketId)).toBe(true);
      expect(queries).toBeLessThanOrEqual(8);
    } finally {
      await receiver.close();
    }
  });

  it('createTicket without references to other rows never forks an EntityManager; with a requesterId it does, and the ticket names it', async () => {
    const { orm } = app.services;
    // the dispatcher forks one for the first batch at a definitions version: that batch first
    await app.ok(`mutation { createTicket(input: { title: "warm-up", description: "d" }) { id } }`);
    const db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
    const unprocessed = async () => (await db.query(`select count(*)::int as n from ticket_events where processed_at is null`)).rows[0].n;
    await waitFor(async () => (await unprocessed()) === 0, { what: 'the warm-up event to be processed' });
    const fork = orm.em.fork.bind(orm.em);
    let forks = 0;
    orm.em.fork = ((...args: Parameters<typeof fork>) => (forks++, fork(...args))) as typeof orm.em.fork;
    try {
      for (let i = 0; i < 3; i++) await app.ok(`mutation { createTicket(input: { title: "plain ${i}", description: "d" }) { id title status } }`);
      await waitFor(async () => (await unprocessed()) === 0, { what: 'their events to be processed' });
      expect(forks).toBe(0);
      const me = (await app.ok(`{ me { id } }`)).me.id;
      forks = 0;
      const made = await app.ok(`mutation($r: ID) { createTicket(input: { title: "named", description: "d", requesterId: $r }) { id requester { id } } }`, { r: me });
      expect(made.createTicket.requester.id).toBe(me);
      expect(forks).toBeGreaterThan(0);
    } finally {
      orm.em.fork = fork;
      await db.end();
    }
  });

  it('an ID is read without the white space around it, as the REST subset reads its ids: inline or a variable, an argument or an input field, in queries, mutations and filters', async () => {
    const { createRule } = await app.ok(`mutation { createRule(input: { name: "ids with spaces", events: [TICKET_CREATED], conditions: [], actions: [{ type: SET_STATUS, value: "OPEN" }], enabled: false }) { id } }`);
    const padded = (id: string) => ` \t${id}\n `;
    // inline literals and variables, queries
    expect(await app.ok(`{ ticket(id: " ${ticketId} ") { id } rule(id: "${createRule.id} ") { id } }`)).toEqual({ ticket: { id: ticketId }, rule: { id: createRule.id } });
    expect(await app.ok(`query($id: ID!) { ticket(id: $id) { id title } }`, { id: padded(ticketId) })).toEqual({ ticket: { id: ticketId, title: 'rest' } });
    // mutations and input fields
    const { addComment } = await app.ok(`mutation($id: ID!) { addComment(ticketId: $id, text: "padded id") { id } }`, { id: padded(ticketId) });
    expect(addComment.id).toMatch(/^\d+$/);
    const { createTicket } = await app.ok(`mutation($parent: ID!, $agent: ID!) { createTicket(input: { title: "child", description: "d", parentId: $parent, assigneeId: $agent }) { id assignee { id } } }`, { parent: padded(ticketId), agent: padded(agent.id) });
    expect(createTicket.assignee).toEqual({ id: agent.id });
    expect((await app.ok(`mutation { updateTicket(id: " ${createTicket.id} ", input: { assigneeId: null }) { id assignee { id } } }`)).updateTicket).toEqual({ id: createTicket.id, assignee: null });
    // a filter's ids: the ticket's deliveries, not "is not an id"
    expect((await app.gql(`query($id: ID!) { deliveries(filter: { ticketId: $id }) { totalCount } }`, { id: padded(ticketId) })).errors).toBeUndefined();
    // white space alone, or inside an id, names nothing
    expect(await app.ok(`{ ticket(id: "  ") { id } other: ticket(id: "${ticketId.slice(0, 1)} ${ticketId.slice(1) || '0'}") { id } }`)).toEqual({ ticket: null, other: null });
  });

  it('a whole-number ID is read by its value, leading zeros dropped, as the REST subset reads "02": inline or a variable, in queries, mutations and filters', async () => {
    const zeros = `00${ticketId}`;
    expect(await app.ok(`{ ticket(id: "${zeros}") { id } }`)).toEqual({ ticket: { id: ticketId } });
    expect(await app.ok(`query($id: ID!) { ticket(id: $id) { id } }`, { id: ` 0${ticketId} ` })).toEqual({ ticket: { id: ticketId } });
    const { addComment } = await app.ok(`mutation($id: ID!) { addComment(ticketId: $id, text: "zero-padded id") { id } }`, { id: zeros });
    expect(addComment.id).toMatch(/^\d+$/);
    expect((await app.gql(`query($id: ID!) { deliveries(filter: { ticketId: $id }) { totalCount } }`, { id: zeros })).errors).toBeUndefined();
    // zero is no row, and an id with other characters is read as written
    expect(await app.ok(`{ ticket(id: "000") { id } other: ticket(id: "0x${ticketId}") { id } }`)).toEqual({ ticket: null, other: null });
  });

  it('ticket(id) and rule(id) are null for unknown ids (nullable in the contract)', async () => {
    expect((await app.ok(`{ ticket(id: "999999") { id } rule(id: "999999") { id } }`))).toEqual({ ticket: null, rule: null });
  });
});

describe('a worker process', () => {
  it('answers /healthz, and anything else with a JSON 404 saying the API is on the api processes (not an HTML "Cannot POST /graphql")', async () => {
    const worker = await startTestApp({ DESKHOOKS_SWEEP_INTERVAL: '1h', DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl });
    try {
      expect(await (await fetch(`${worker.url}/healthz`)).json()).toEqual({ status: 'ok', role: 'worker' });
      const asked = [
        await fetch(`${worker.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ query: '{ me { id } }' }) }),
        await fetch(`${worker.url}/api/v2/tickets/${ticketId}/`),
        await fetch(`${worker.url}/`),
      ];
      for (const res of asked) {
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await res.json()).toEqual({
          errors: [{ message: 'this deskhooks process runs DESKHOOKS_ROLE=worker and serves only /healthz: GraphQL, the websocket, REST and the console are served by the api processes (DESKHOOKS_ROLE=api or all)', extensions: { code: 'NOT_FOUND' } }],
        });
      }
    } finally {
      await worker.stop();
    }
  });
});

describe('REST subset', () => {
  const rest = (path: string, init: RequestInit & { auth?: string } = {}) =>
    fetch(`${app.url}/api/v2${path}`, { ...init, headers: { authorization: init.auth ?? basic(ADMIN_EMAIL, ADMIN_KEY), ...(init.headers ?? {}) } });

  it('GET /tickets/{id}/ → {"data": {ticket}}', async () => {
    const res = await rest(`/tickets/${ticketId}/`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.data).toMatchObject({ id: Number(ticketId), title: 'rest', status: 'OPEN' });
  });

  it('POST /comments/ with a form body → an internal COMMENT; user_id posts as that user', async () => {
    const res = await rest(`/tickets/${ticketId}/comments/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ text: 'from a form & more', user_id: agent.id }).toString(),
    });
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as any;
    expect(data).toMatchObject({ type: 'comment', text: 'from a form & more', user_id: Number(agent.id) });
    const posts = (await app.ok(`query($id: ID!) { ticket(id: $id) { posts { kind text author { id } } } }`, { id: ticketId })).ticket.posts;
    expect(posts.at(-1)).toEqual({ kind: 'COMMENT', text: 'from a form & more', author: { id: agent.id } });
  });

  it('POST /posts/ with JSON → a public REPLY', async () => {
    const res = await rest(`/tickets/${ticketId}/posts/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) });
    expect(((await res.json()) as any).data).toMatchObject({ type: 'post', text: 'hello' });
  });

  it('a path outside the subset, under /api/v2 or any other /api path (/api/v1/…), is a 404 in the subset\'s JSON error shape naming its paths, not an HTML page', async () => {
    for (const [path, method] of [['/v2/tickets/', 'GET'], ['/v2/nope', 'GET'], [`/v2/tickets/${ticketId}/attachments/`, 'POST'], ['/v2/users/1/', 'DELETE'], [`/v1/tickets/${ticketId}/comments/`, 'POST'], [`/tickets/${ticketId}/`, 'GET'], ['/', 'GET']] as const) {
      const res = await fetch(`${app.url}/api${path}`, { method, headers: { authorization: basic(ADMIN_EMAIL, ADMIN_KEY) } });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const [problem] = ((await res.json()) as any).errors;
      expect(problem).toMatchObject({ code: 'NOT_FOUND', field: null });
      expect(problem.message).toBe(`${method} /api${path} is not part of the REST subset: GET /api/v2/tickets/{id}/, POST /api/v2/tickets/{id}/comments/ and POST /api/v2/tickets/{id}/posts/`);
    }
  });

  it('a path of the subset asked with a method it does not take is 405 with Allow, in the subset\'s JSON error shape; OPTIONS is 204 with Allow; nothing is written', async () => {
    for (const [path, method, allow] of [
      [`/tickets/${ticketId}/comments/`, 'PUT', 'POST, OPTIONS'],
      [`/tickets/${ticketId}/posts`, 'GET', 'POST, OPTIONS'],
      [`/tickets/${ticketId}/`, 'DELETE', 'GET, HEAD, OPTIONS'],
      [`/tickets/${ticketId}/`, 'POST', 'GET, HEAD, OPTIONS'],
    ] as const) {
      const res = await rest(path, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{"text": "x"}' });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const [problem] = ((await res.json()) as any).errors;
      expect(problem).toMatchObject({ code: 'METHOD_NOT_ALLOWED', field: null });
      expect(problem.message).toBe(`${method} is not allowed on /api/v2${path}: it takes ${allow.replace(', HEAD', '').replace(', OPTIONS', '')}`);
    }
    const options = await rest(`/tickets/${ticketId}/comments/`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
    const posts = (await app.ok(`query($id: ID!) { ticket(id: $id) { posts { text } } }`, { id: ticketId })).ticket.posts as { text: string }[];
    expect(posts.map((p) => p.text)).not.toContain('x');
  });

  it('a 401 (no, malformed or wrong credentials) challenges for Basic and Bearer in WWW-Authenticate, so clients that send credentials only when challenged get in', async () => {
    for (const auth of ['', 'Basic', `Basic ${Buffer.from(`${ADMIN_EMAIL}:dk_wrong`).toString('base64')}`, 'Bearer dk_wrong', 'Token abc']) {
      const res = await rest(`/tickets/${ticketId}/`, { auth });
      expect(res.status, auth).toBe(401);
      expect(res.headers.get('www-authenticate'), auth).toBe('Basic realm="deskhooks", charset="UTF-8", Bearer realm="deskhooks"');
    }
    const posted = await rest(`/tickets/${ticketId}/comments/`, { auth: '', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": "x"}' });
    expect(posted.status).toBe(401);
    expect(posted.headers.get('www-authenticate')).toMatch(/^Basic realm="deskhooks"/);
    // the challenge answered: Basic email:key
    expect((await rest(`/tickets/${ticketId}/`)).status).toBe(200);
  });

  it('every answer under /api carries Cache-Control: no-store (tickets and users are private): success, errors of the subset, of the body parser, of the router, 404 and 405', async () => {
    const json = { 'content-type': 'application/json' };
    const asked: [string, Response][] = [
      ['GET 200', await rest(`/tickets/${ticketId}/`)],
      ['HEAD 200', await rest(`/tickets/${ticketId}/`, { method: 'HEAD' })],
      ['POST 200', await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: json, body: '{"text": "no-store"}' })],
      ['401', await rest(`/tickets/${ticketId}/`, { auth: '' })],
      ['403 cross-site', await rest(`/tickets/${ticketId}/`, { headers: { origin: 'https://elsewhere.example' } })],
      ['404 ticket', await rest('/tickets/999999/')],
      ['400 id', await rest('/tickets/abc/')],
      ['400 text', await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: json, body: '{"text": ""}' })],
      ['400 unreadable JSON', await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: json, body: '{"text": ' })],
      ['415', await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })],
      ['400 path', await rest('/tickets/%FF/')],
      ['405', await rest(`/tickets/${ticketId}/`, { method: 'DELETE' })],
      ['OPTIONS 204', await rest(`/tickets/${ticketId}/`, { method: 'OPTIONS' })],
      ['404 /api/v2', await rest('/nope')],
      ['404 /api/v1', await fetch(`${app.url}/api/v1/tickets/${ticketId}/`, { headers: { authorization: app.adminAuth } })],
    ];
    for (const [what, res] of asked) {
      expect(res.headers.get('cache-control'), what).toBe('no-store');
      await res.body?.cancel();
    }
    expect(asked.map(([what, res]) => `${what}: ${res.status}`)).toEqual(asked.map(([what]) => `${what}: ${/\d{3}/.exec(what)?.[0] ?? 200}`));
  });

  it('errors: 401 without credentials, 404 for an unknown ticket, 400 for an empty text or an unknown user_id, 400 for unreadable JSON', async () => {
    expect((await rest(`/tickets/${ticketId}/`, { auth: '' })).status).toBe(401);
    expect((await rest(`/tickets/999999/`)).status).toBe(404);
    const empty = await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": ""}' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as any).errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
    const unknownUser = await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": "x", "user_id": 999999}' });
    expect(((await unknownUser.json()) as any).errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'user_id' });
    const unreadable = await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": ' });
    expect(unreadable.status).toBe(400);
    // the REST subset's one error shape, whatever refused the request, naming the body as the input at fault
    const [problem] = ((await unreadable.json()) as any).errors;
    expect(problem).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
    expect(problem.message).toMatch(/^the request body could not be read: /);
    // so too a body that is too large or whose bytes are not UTF-8
    for (const [body, status] of [[JSON.stringify({ text: 'x'.repeat(1024 * 1024) }), 413], [Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xcf, 0xf0, 0x22, 0x7d]), 400]] as const) {
      const refused = await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(refused.status).toBe(status);
      expect(((await refused.json()) as any).errors).toEqual([{ code: 'BAD_USER_INPUT', field: 'body', message: expect.stringMatching(/^the request body could not be read: /) }]);
    }
    for (const [text, says] of [[12345, 'a number'], [['hello'], 'a list'], [{ a: 1 }, 'an object']] as const) {
      const typed = await rest(`/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
      expect(typed.status).toBe(400);
      expect(((await typed.json()) as any).errors[0]).toEqual({ code: 'BAD_USER_INPUT', field: 'text', message: `text: must be a string, not ${says}` });
    }
  });
});
