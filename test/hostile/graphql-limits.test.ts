/**
 * The same GraphQL limits over HTTP and over the websocket —
 * tokens, depth (the standard introspection query allowed), aliased or repeated fields,
 * cost — at most 20 subscriptions per connection, websocket messages ≤ 1 MiB, and a flow
 * gate that only the pong answering our ping reopens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import { startTestApp, bearer, type GraphQLResult, type TestApp } from '../support/app.js';
import { openRawWs, type ProtocolMessage, type RawWs } from '../support/raw-ws.js';
import { waitFor } from '../support/wait.js';
import { hostileTally } from './tally.js';
import { attachFlowGate } from '../../src/http/ws-flow.js';

const tally = hostileTally('graphql-limits');

let app: TestApp;
let db: pg.Client;
let clientAuth: string;
let agentAuth: string;

/** `levels` selection levels through single objects (ticket → parent → …), so that only the depth counts */
const nested = (levels: number) => `{ ticket(id: "1") { ${'parent { '.repeat(levels - 2)}id${' }'.repeat(levels - 2)} } }`;
const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ');
/** the standard introspection query's __schema selection, aliased `n` times in one operation */
const introspectedTimes = (n: number) => {
  const q = getIntrospectionQuery();
  const fragments = q.indexOf('fragment ');
  const schema = q.slice(q.indexOf('__schema'), fragments).trim().replace(/}\s*$/, '');
  return `{ ${repeat(n, (i) => `s${i}: ${schema}`)} } ${q.slice(fragments)}`;
};

/** a ticket's selection costing 231 objects: 1 + 50 posts × 2 + 50 posts + 20 sub-tickets × 4 (nothing bounds a ticket's posts or sub-tickets) */
const PER_TICKET_231 = 'posts { author { id } } replies: posts { id } children { requester { id } assignee { id } parent { id } }';

const LIMIT = {
  tokens: /token limit is 10,000/,
  depth: /depth limit is 12/,
  root: /aliased or repeated root-level fields; the limit is 100/,
  document: /aliased or repeated fields in the document; the limit is 100/,
  cost: /cost limit is 10,000/,
  schema: /selects __schema \d+ times; the limit is once per operation/,
  subscriptions: /subscription limit is 20/,
};

/** documents refused the same way over HTTP and the websocket, as a CLIENT */
const REFUSED: { name: string; query: string; variables?: Record<string, unknown>; limit: RegExp }[] = [
  { name: 'more than 10,000 tokens', query: `{ me { ${'id '.repeat(10_001)}} }`, limit: LIMIT.tokens },
  { name: '14 levels deep', query: nested(14), limit: LIMIT.depth },
  { name: 'deep through fragments', query: `{ tickets { ...A } } fragment A on Ticket { children { children { ...B } } } fragment B on Ticket { children { children { children { children { children { children { children { children { children { id } } } } } } } } } }`, limit: LIMIT.depth },
  { name: '900 aliases of tickets(first: 500)', query: `{ ${repeat(900, (i) => `t${i}: tickets(first: 500) { id }`)} }`, limit: LIMIT.root },
  { name: '150 repeated root fields', query: `{ ${repeat(150, () => 'me { id }')} }`, limit: LIMIT.root },
  { name: 'root aliases through a fragment spread twice', query: `{ ...Q ...Q } fragment Q on Query { ${repeat(60, (i) => `m${i}: me { id }`)} }`, limit: LIMIT.root },
  { name: '150 aliases of a nested field', query: `{ me { ${repeat(150, (i) => `a${i}: name`)} } }`, limit: LIMIT.document },
  { name: '24 nested selections of 101 repeated fields', query: `{ ${repeat(24, (i) => `a${i}: tickets(first: 1) { ${repeat(101, () => 'requester { id }')} }`)} }`, limit: LIMIT.document },
  { name: '600 fragments each spreading the next twice (2^600 fields)', query: `{ me { ...F0 } } ${repeat(600, (i) => `fragment F${i} on User { id ...F${i + 1} ...F${i + 1} }`)} fragment F600 on User { id }`, limit: LIMIT.document },
  { name: '30 aliases of tickets(first: 500)', query: `{ ${repeat(30, (i) => `t${i}: tickets(first: 500) { id }`)} }`, limit: LIMIT.cost },
  { name: 'nested lists under a page of 500', query: `{ tickets(first: 500) { id children { id children { id } } } }`, limit: LIMIT.cost },
  { name: 'list size from a variable', query: `query($n: Int) { tickets(first: $n) { id posts { author { id } } children { id } } }`, variables: { n: 500 }, limit: LIMIT.cost },
  // a null first is the resolver's default page (50 tickets), not a list of 10: 50 × 231, while 10 × 231 passes
  { name: 'tickets(first: null), counted at its default page of 50', query: `{ tickets(first: null) { ${PER_TICKET_231} } }`, limit: /up to 11,550 objects; the cost limit is 10,000\. .*counted here: .*Query\.tickets 50\b/ },
  { name: 'tickets(first: $n) with n null, counted at its default page of 50', query: `query($n: Int) { tickets(first: $n) { ${PER_TICKET_231} } }`, variables: { n: null }, limit: /up to 11,550 objects; .*counted here: .*Query\.tickets 50\b/ },
  { name: 'tickets without first, counted at its default page of 50', query: `{ tickets { ${PER_TICKET_231} } }`, limit: /up to 11,550 objects; .*counted here: .*Query\.tickets 50\b/ },
  // lists without first count what they can hold: a ticket's posts 100 (nothing bounds them), not 10
  { name: 'a page of 197 tickets with their posts', query: `{ tickets(first: 197) { posts { id } } }`, limit: /up to 10,047 objects; .*counted here: Ticket\.posts 50\b/ },
  { name: 'the posts of sub-tickets of sub-tickets under a page of 10', query: `{ tickets(first: 10) { children { children { posts { id } } } } }`, limit: /counted here: (?=.*Ticket\.children 20\b)(?=.*Ticket\.posts 50\b)/ },
  { name: 'the users, 101 times', query: `{ ${repeat(101, (i) => `u${i}: users { id }`)} }`, limit: LIMIT.root },
  // introspection counts nothing by the cost limit and needs no key: each whole __schema is ~100 KB of work
  { name: '40 aliases of the whole __schema', query: introspectedTimes(40), limit: LIMIT.schema },
  { name: '__schema twice through fragment spreads', query: `{ ...S ...S } fragment S on Query { __schema { types { name } } }`, limit: LIMIT.schema },
];

/** within every limit: must work on both paths */
const ACCEPTED: { name: string; query: string; variables?: Record<string, unknown>; check: (data: any) => void }[] = [
  { name: 'the standard introspection query (13 levels)', query: getIntrospectionQuery(), check: (d) => expect(d.__schema.types.length).toBeGreaterThan(20) },
  // GraphiQL 5's (@graphiql/react's schema store: input-value deprecation, the schema's description)
  { name: "GraphiQL's introspection query", query: getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true }), check: (d) => expect(d.__schema.types.some((t: { name: string }) => t.name === 'Webhook')).toBe(true) },
  { name: 'the introspection query with every option of graphql-js', query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true }), check: (d) => expect(d.__schema.directives.length).toBeGreaterThan(3) },
  { name: '12 levels deep', query: nested(12), check: (d) => expect(d.ticket).toEqual({ parent: null }) },
  { name: '100 repeated root fields', query: `{ ${repeat(101, () => 'me { id }')} }`, check: (d) => expect(d.me.id).toBeTruthy() },
  { name: 'a page of 10 tickets costing 2,310', query: `{ tickets(first: 10) { ${PER_TICKET_231} } }`, check: (d) => expect(Array.isArray(d.tickets)).toBe(true) },
  { name: 'a page of 196 with posts', query: `query($n: Int) { tickets(first: $n) { id posts { id } } }`, variables: { n: 196 }, check: (d) => expect(Array.isArray(d.tickets)).toBe(true) },
];

function expectRefused(r: GraphQLResult<unknown>, limit: RegExp) {
  expect(r.data ?? null).toBeNull();
  expect(r.errors?.[0]?.extensions?.code, JSON.stringify(r.errors)).toBe('BAD_USER_INPUT');
  expect(r.errors?.[0]?.message).toMatch(limit);
}

/** one operation over its own websocket connection; resolves with its result or errors */
async function wsOperation(auth: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLResult<any> & { ws: RawWs }> {
  const ws = await openRawWs(app.url);
  await ws.init(auth);
  ws.send({ id: 'op', type: 'subscribe', payload: { query, variables } });
  const m = await ws.next((x) => x.id === 'op' && (x.type === 'next' || x.type === 'error'), 'the operation’s result');
  return m.type === 'error' ? { errors: m.payload, ws } : { ...m.payload, ws };
}

async function counts() {
  const r = await db.query(`select (select count(*) from tickets)::int as tickets, (select count(*) from posts)::int as posts, (select count(*) from users)::int as users`);
  return r.rows[0];
}

beforeAll(async () => {
  // the default retry policy (30m for 24h): a delivery's attempts count 49
  app = await startTestApp({ DESKHOOKS_RETRY_INTERVAL: '30m', DESKHOOKS_RETRY_WINDOW: '24h' });
  db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
  const mk = async (email: string, role: string) =>
    (await app.ok(`mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey } }`, { i: { name: email, email, role } })).createUser.apiKey as string;
  clientAuth = bearer(await mk('client@example.com', 'CLIENT'));
  agentAuth = bearer(await mk('agent@example.com', 'AGENT'));
  // ticket 1 (a fresh database), the one `nested` reads
  expect((await app.ok(`mutation { createTicket(input: { title: "one", description: "d" }) { id } }`, {}, clientAuth)).createTicket.id).toBe('1');
}, 60_000);

afterAll(async () => {
  await db?.end();
  await app?.stop();
});

describe('over HTTP, as a CLIENT', () => {
  for (const c of REFUSED) {
    it(`refuses ${c.name}`, async () => {
      tally.tried();
      expectRefused(await app.gql(c.query, c.variables, clientAuth), c.limit);
    });
  }
  for (const c of ACCEPTED) {
    it(`accepts ${c.name}`, async () => {
      const r = await app.gql(c.query, c.variables, clientAuth);
      expect(r.errors).toBeUndefined();
      c.check(r.data);
    });
  }

  it('a page of deliveries counts its first for its nodes, and their attempts what the retry policy allows (as ADMIN)', async () => {
    const page = (first: number, nodes: string) => `{ deliveries(first: ${first}) { nodes { ${nodes} } pageInfo { hasNextPage } } }`;
    // 1 + 192 × (1 + 49 attempts + 1 webhook + 1 pageInfo) = 9,985; one more delivery is over the limit
    expect((await app.gql(page(192, 'id attempts { number } webhook { id }'))).errors).toBeUndefined();
    tally.tried();
    expectRefused(await app.gql(page(193, 'id attempts { number } webhook { id }')), /up to 10,037 objects; .*counted here: Delivery\.attempts 49\b/);
    tally.tried();
    expectRefused(await app.gql(page(200, 'id ticket { children { children { id } } }')), LIMIT.cost);
  });

  it("a webhook's stats count a bucket per hour of their period (as ADMIN)", async () => {
    const stats = (hours: number) => `{ ${repeat(13, (i) => `w${i}: webhook(id: "1") { stats(hours: ${hours}) { buckets { start } } }`)} }`;
    // 13 × (1 + 1 + 721) = 9,399 within the limit; over it with 14
    expect((await app.gql(stats(720))).errors).toBeUndefined();
    tally.tried();
    expectRefused(await app.gql(`{ a: webhooks { stats(hours: 720) { buckets { start } } } b: webhooks { stats(hours: 720) { buckets { start } } } }`), /counted here: .*WebhookStats\.buckets 721\b/);
  });

  it('refuses a deep query sent with GET', async () => {
    tally.tried();
    const res = await fetch(`${app.url}/graphql?query=${encodeURIComponent(nested(14))}`, { headers: { authorization: clientAuth } });
    expect(res.status).toBe(400);
    expectRefused((await res.json()) as GraphQLResult<unknown>, LIMIT.depth);
  });

  it('writes nothing for a flood of aliased mutations or a mutation nested too deep', async () => {
    const flood = `mutation { ${repeat(150, (i) => `c${i}: createTicket(input: { title: "flood ${i}", description: "d" }) { id }`)} }`;
    await tally.unchanged(counts, async () => expectRefused(await app.gql(flood, {}, clientAuth), LIMIT.root), 'rows after an alias flood of createTicket');
    const deep = `mutation { createTicket(input: { title: "deep", description: "d" }) { ${'parent { '.repeat(13)}id${' }'.repeat(13)} } }`;
    await tally.unchanged(counts, async () => expectRefused(await app.gql(deep, {}, clientAuth), LIMIT.depth), 'rows after a too deep createTicket');
  });
});

describe('over the websocket, as a CLIENT', () => {
  for (const c of REFUSED) {
    it(`refuses ${c.name}, and the connection stays usable`, async () => {
      tally.tried();
      const r = await wsOperation(clientAuth, c.query, c.variables);
      expectRefused(r, c.limit);
      r.ws.send({ type: 'ping' });
      await r.ws.next((m) => m.type === 'pong', 'pong after the refusal');
      r.ws.close();
    });
  }
  for (const c of ACCEPTED) {
    it(`accepts ${c.name}`, async () => {
      const r = await wsOperation(clientAuth, c.query, c.variables);
      expect(r.errors).toBeUndefined();
      c.check(r.data);
      r.ws.close();
    });
  }

  it('refuses 60,000 aliases in one subscribe message at once, without stalling the server', async () => {
    tally.tried();
    const query = `{ ${repeat(60_000, (i) => `a${i}:me{id}`)} }`;
    expect(Buffer.byteLength(query)).toBeLessThan(1024 * 1024);
    const r = await wsOperation(clientAuth, query);
    expectRefused(r, LIMIT.tokens);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    r.ws.close();
  });

  it('a syntax error is an error message, not a closed connection', async () => {
    tally.tried();
    const r = await wsOperation(clientAuth, '{ me { id ');
    expect(r.errors?.[0]?.message).toMatch(/Syntax Error/);
    r.ws.send({ type: 'ping' });
    await r.ws.next((m) => m.type === 'pong', 'pong after the syntax error');
    r.ws.close();
  });

  it('writes nothing for a flood of aliased mutations', async () => {
    const flood = `mutation { ${repeat(150, (i) => `c${i}: createTicket(input: { title: "ws flood ${i}", description: "d" }) { id }`)} }`;
    await tally.unchanged(counts, async () => {
      const r = await wsOperation(clientAuth, flood);
      expectRefused(r, LIMIT.root);
      r.ws.close();
    }, 'rows after a websocket alias flood of createTicket');
  });
});

describe('a first beyond what a page takes, over HTTP and the websocket (as ADMIN)', () => {
  // the page's own refusal names first; the cost limit (naming the whole query) would not say what to change
  const CASES: [string, string][] = [
    ['{ tickets(first: 100000) { posts { author { id } } } }', 'first: must be between 0 and 500'],
    ['{ deliveries(first: 5000) { nodes { attempts { number } webhook { id } } } }', 'first: must be between 1 and 200'],
  ];
  for (const [query, message] of CASES) {
    it(`${query} is refused naming first`, async () => {
      tally.tried();
      const r = await app.gql(query);
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message])).toEqual([['BAD_USER_INPUT', 'first', message]]);
      const ws = await wsOperation(app.adminAuth, query);
      expect(ws.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message])).toEqual([['BAD_USER_INPUT', 'first', message]]);
      ws.ws.close();
    });
  }
});

describe('subscriptions per connection', () => {
  it('1000 subscriptions on one connection: 20 are served, the others refused, the connection stays', async () => {
    tally.tried();
    const ws = await openRawWs(app.url);
    await ws.init(agentAuth);
    const before = app.services.deliveryEvents.subscriberCount;
    for (let i = 1; i <= 1000; i++) ws.send({ id: String(i), type: 'subscribe', payload: { query: 'subscription { deliveryEvents { type } }' } });
    const refused = () => ws.messages.filter((m: ProtocolMessage) => m.type === 'error');
    await waitFor(() => refused().length >= 980, { what: '980 refusals', timeoutMs: 20_000 });
    await waitFor(() => app.services.deliveryEvents.subscriberCount - before === 20, { what: '20 subscriptions served' });
    expect(refused().length).toBe(980);
    expect(refused()[0]!.payload[0].message).toMatch(LIMIT.subscriptions);
    expect(refused()[0]!.payload[0].extensions.code).toBe('BAD_USER_INPUT');

    // still open: completing one makes room for another
    ws.send({ id: '1', type: 'complete' });
    await waitFor(() => app.services.deliveryEvents.subscriberCount - before === 19, { what: 'one subscription completed' });
    ws.send({ id: 'again', type: 'subscribe', payload: { query: 'subscription { deliveryEvents { type } }' } });
    await waitFor(() => app.services.deliveryEvents.subscriberCount - before === 20, { what: 'the new subscription served' });
    expect(ws.messages.some((m) => m.id === 'again' && m.type === 'error')).toBe(false);
    ws.close();
    await ws.closed;
    await waitFor(() => app.services.deliveryEvents.subscriberCount === before, { what: 'the subscriptions to end with the connection' });
  });
});

describe('websocket message size', () => {
  it('a message over 1 MiB before authentication closes the socket with 1009', async () => {
    tally.tried();
    const ws = await openRawWs(app.url);
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'x', pad: 'x'.repeat(1024 * 1024 + 1) } }));
    expect((await ws.closed).code).toBe(1009);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it('a subscribe message over 1 MiB after authentication closes the socket with 1009', async () => {
    tally.tried();
    const ws = await openRawWs(app.url);
    await ws.init(clientAuth);
    ws.send({ id: 'big', type: 'subscribe', payload: { query: `{ me { id } }`, variables: { pad: 'x'.repeat(1024 * 1024) } } });
    expect((await ws.closed).code).toBe(1009);
  });

  it('a message of almost 1 MiB is still read', async () => {
    const ws = await openRawWs(app.url);
    await ws.init(clientAuth);
    ws.send({ id: 'fits', type: 'subscribe', payload: { query: `{ me { id } }`, variables: { pad: 'x'.repeat(1000 * 1000) } } });
    const m = await ws.next((x) => x.id === 'fits' && x.type === 'next', 'the result');
    expect(m.payload.data.me.id).toBeTruthy();
    ws.close();
  });
});

describe('flow gate (src/ws-flow.ts)', () => {
  /** a server socket with a gate of `budget` bytes and a client that answers no ping by itself */
  async function gatedPair(budget: number) {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const serverSide = new Promise<WebSocket>((r) => wss.once('connection', r));
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { autoPong: false });
    const pings: Buffer[] = [];
    client.on('ping', (data) => pings.push(data));
    await new Promise((r) => client.once('open', r));
    const socket = await serverSide;
    const gate = attachFlowGate(socket, budget);
    let pongs = 0;
    socket.on('pong', () => (pongs += 1));
    const pong = async (data?: Buffer) => {
      const seen = pongs;
      client.pong(data);
      await waitFor(() => pongs > seen, { what: 'the server to receive the pong' });
    };
    const close = async () => {
      client.terminate();
      wss.close();
      await new Promise((r) => http.close(r));
    };
    return { socket, gate, pings, pong, close };
  }

  it('an unsolicited pong does not reopen a closed gate; the pong answering the ping does', async () => {
    const p = await gatedPair(1024);
    p.socket.send('x'.repeat(2048));
    expect(p.gate.open).toBe(false);
    await waitFor(() => p.pings.length === 1, { what: 'the server’s ping' });

    for (const unsolicited of [undefined, Buffer.from('guess'), Buffer.alloc(8)]) {
      tally.tried();
      await p.pong(unsolicited);
      expect(p.gate.open).toBe(false);
    }
    // the ping carries a payload the pong must echo
    expect(p.pings[0]!.length).toBeGreaterThan(0);
    let reopened = false;
    void p.gate.wait().then(() => (reopened = true));
    await p.pong(p.pings[0]);
    await waitFor(() => reopened, { what: 'the gate to reopen' });
    expect(p.gate.open).toBe(true);
    await p.close();
  });

  it('a pong answering an earlier ping does not reopen the gate for what was sent after it', async () => {
    tally.tried();
    const p = await gatedPair(1024);
    p.socket.send('x'.repeat(2048));
    await waitFor(() => p.pings.length === 1, { what: 'the first ping' });
    await p.pong(p.pings[0]);
    expect(p.gate.open).toBe(true);
    p.socket.send('y'.repeat(2048));
    await waitFor(() => p.pings.length === 2, { what: 'the second ping' });
    await p.pong(p.pings[0]); // replayed
    expect(p.gate.open).toBe(false);
    await p.pong(p.pings[1]);
    expect(p.gate.open).toBe(true);
    await p.close();
  });
});
