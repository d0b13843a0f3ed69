/**
 * Issue 9 item 12: rotateApiKey. The old key stops working at once (HTTP, REST, new
 * websockets), and open websocket connections made with it are closed with 4403 — in
 * every api process on the database, not only the one that rotated (PostgreSQL NOTIFY).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestApp, basic, bearer, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { openRawWs } from '../support/raw-ws.js';

let a: TestApp;
let b: TestApp;
let db: pg.Client;
const users: Record<'agent' | 'client', { id: string; email: string; key: string }> = {} as never;

const ROTATE = `mutation($u: ID) { rotateApiKey(userId: $u) { apiKey user { id email role } } }`;
const ME = `{ me { id } }`;

async function keyHashes() {
  return (await db.query(`select id, api_key_hash from users order by id`)).rows;
}

/** with a 5 s bound, so that a connection left open fails the test instead of hanging it */
function closedWithin(closed: Promise<{ code: number }>, ms = 5_000) {
  return Promise.race([closed.then((c) => c.code), new Promise<string>((r) => setTimeout(() => r('still open'), ms))]);
}

beforeAll(async () => {
  const url = await createTestDatabase();
  a = await startTestApp({}, url);
  // a second api process on the same PostgreSQL
  b = await startTestApp({}, url);
  db = new pg.Client({ connectionString: url });
  await db.connect();
  for (const role of ['agent', 'client'] as const) {
    const email = `${role}@example.com`;
    const r = await a.ok(`mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey user { id } } }`, { i: { name: role, email, role: role.toUpperCase() } });
    users[role] = { id: r.createUser.user.id, email, key: r.createUser.apiKey };
  }
}, 60_000);

afterAll(async () => {
  await db?.end();
  await b?.stop();
  await a?.stop();
});

describe('rotateApiKey', () => {
  it('a user rotates its own key: the old one is refused at once, over HTTP and REST and in the other process; the new one works', async () => {
    const old = users.agent.key;
    const r = (await a.ok(ROTATE, {}, bearer(old))).rotateApiKey;
    expect(r.user).toEqual({ id: users.agent.id, email: users.agent.email, role: 'AGENT' });
    expect(r.apiKey).toMatch(/^dk_/);
    expect(r.apiKey).not.toBe(old);

    for (const app of [a, b]) {
      expect((await app.gql(ME, {}, bearer(old))).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await app.gql(ME, {}, basic(users.agent.email, old))).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await fetch(`${app.url}/api/v2/tickets/1/`, { headers: { authorization: basic(users.agent.email, old) } })).status).toBe(401);
      expect((await app.ok(ME, {}, bearer(r.apiKey))).me.id).toBe(users.agent.id);
    }
    // a websocket cannot be opened with the old key
    const ws = await openRawWs(b.url);
    ws.send({ type: 'connection_init', payload: { authorization: bearer(old) } });
    expect(await closedWithin(ws.closed)).toBe(4403);
    users.agent.key = r.apiKey;
  });

  it("an ADMIN rotates another user's key: that user's open websockets are closed with 4403 in every process, others stay open", async () => {
    const old = users.client.key;
    const onA = await openRawWs(a.url);
    await onA.init(bearer(old));
    const onB = await openRawWs(b.url);
    await onB.init(basic(users.client.email, old));
    const agentOnB = await openRawWs(b.url);
    await agentOnB.init(bearer(users.agent.key));

    const r = (await a.ok(ROTATE, { u: users.client.id })).rotateApiKey;
    expect(r.user.id).toBe(users.client.id);

    expect(await closedWithin(onA.closed)).toBe(4403);
    expect(await closedWithin(onB.closed)).toBe(4403);
    // another user's connection is untouched
    agentOnB.send({ id: 'me', type: 'subscribe', payload: { query: ME } });
    expect((await agentOnB.next((m) => m.id === 'me' && m.type === 'next', 'the agent’s result')).payload.data.me.id).toBe(users.agent.id);
    agentOnB.close();

    // the new key opens a websocket and works there
    const fresh = await openRawWs(b.url);
    await fresh.init(bearer(r.apiKey));
    fresh.send({ id: 'me', type: 'subscribe', payload: { query: ME } });
    expect((await fresh.next((m) => m.id === 'me' && m.type === 'next', 'the result with the new key')).payload.data.me.id).toBe(users.client.id);
    fresh.close();
    users.client.key = r.apiKey;
  });

  it("an AGENT or a CLIENT rotating someone else's key is FORBIDDEN, and no key changes", async () => {
    const before = await keyHashes();
    const agent = await a.gql(ROTATE, { u: users.client.id }, bearer(users.agent.key));
    expect(agent.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(agent.data).toBeNull();
    const client = await a.gql(ROTATE, { u: users.agent.id }, bearer(users.client.key));
    expect(client.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await keyHashes()).toEqual(before);
    expect((await a.ok(ME, {}, bearer(users.client.key))).me.id).toBe(users.client.id);
  });

  it('an unknown user is NOT_FOUND; without credentials it is UNAUTHENTICATED', async () => {
    const before = await keyHashes();
    for (const u of ['999999', 'abc']) {
      const r = await a.gql(ROTATE, { u });
      expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(r.errors?.[0]?.extensions?.field).toBe('userId');
    }
    expect((await a.gql(ROTATE, {}, null)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await keyHashes()).toEqual(before);
  });
});
