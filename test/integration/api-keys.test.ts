/**
 * rotateApiKey. The old key stops working at once (HTTP, REST, new websockets), and open
 * websocket connections made with it are closed with 4403 — in every api process on the
 * database, not only the one that rotated (PostgreSQL NOTIFY). The tests across processes
 * have two api processes of their own on a database of their own.
 */
import { describe, expect } from 'vitest';
import { print } from 'graphql';
import { basic, bearer, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createUser, test, type TestUser } from '../support/fixtures.js';
import { openRawWs } from '../support/raw-ws.js';
import { AkMeDocument as ME, AkRotateApiKeyDocument as ROTATE } from '../generated/graphql.js';

interface Users {
  agent: TestUser;
  client: TestUser;
  keyHashes(): Promise<{ id: string; api_key_hash: string }[]>;
}

interface TwoProcesses extends Users {
  a: TestApp;
  /** a second api process on the same PostgreSQL */
  b: TestApp;
}

async function users(app: TestApp): Promise<Users> {
  return {
    agent: await createUser(app, { name: 'agent', email: 'agent@example.com', role: 'AGENT' }),
    client: await createUser(app, { name: 'client', email: 'client@example.com', role: 'CLIENT' }),
    keyHashes: async () => app.services.orm.em.fork().getConnection().execute(`select id, api_key_hash from users order by id`),
  };
}

const it = test.extend<{ one: Users & { a: TestApp }; two: TwoProcesses }>({
  one: async ({ app }, use) => use({ a: app, ...(await users(app)) }),
  two: async ({ startApp }, use) => {
    const database = await createTestDatabase();
    try {
      const a = await startApp({}, { databaseUrl: database.url });
      const b = await startApp({}, { databaseUrl: database.url });
      await use({ a, b, ...(await users(a)) });
      await Promise.all([a.stop(), b.stop()]);
    } finally {
      await database.drop();
    }
  },
});

/** with a 5 s bound, so that a connection left open fails the test instead of hanging it */
function closedWithin(closed: Promise<{ code: number }>, ms = 5_000) {
  return Promise.race([closed.then((c) => c.code), new Promise<string>((r) => setTimeout(() => r('still open'), ms))]);
}

describe.concurrent('rotateApiKey', () => {
  it('a user rotates its own key: the old one is refused at once, over HTTP and REST and in the other process; the new one works', async ({ two: { a, b, agent } }) => {
    const old = agent.key;
    const r = (await a.ok(ROTATE, {}, bearer(old))).rotateApiKey;
    expect(r.user).toEqual({ id: agent.id, email: agent.email, role: 'AGENT' });
    expect(r.apiKey).toMatch(/^dk_/);
    expect(r.apiKey).not.toBe(old);

    for (const app of [a, b]) {
      expect((await app.gql(ME, {}, bearer(old))).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await app.gql(ME, {}, basic(agent.email, old))).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await fetch(`${app.url}/api/v2/tickets/1/`, { headers: { authorization: basic(agent.email, old) } })).status).toBe(401);
      expect((await app.ok(ME, {}, bearer(r.apiKey))).me.id).toBe(agent.id);
    }
    // a websocket cannot be opened with the old key
    const ws = await openRawWs(b.url);
    ws.send({ type: 'connection_init', payload: { authorization: bearer(old) } });
    expect(await closedWithin(ws.closed)).toBe(4403);
  });

  it("an ADMIN rotates another user's key: that user's open websockets are closed with 4403 in every process, others stay open", async ({ two: { a, b, agent, client } }) => {
    const old = client.key;
    const onA = await openRawWs(a.url);
    await onA.init(bearer(old));
    const onB = await openRawWs(b.url);
    await onB.init(basic(client.email, old));
    const agentOnB = await openRawWs(b.url);
    await agentOnB.init(bearer(agent.key));

    const r = (await a.ok(ROTATE, { userId: client.id })).rotateApiKey;
    expect(r.user.id).toBe(client.id);

    expect(await closedWithin(onA.closed)).toBe(4403);
    expect(await closedWithin(onB.closed)).toBe(4403);
    // another user's connection is untouched
    agentOnB.send({ id: 'me', type: 'subscribe', payload: { query: print(ME) } });
    expect((await agentOnB.next((m) => m.id === 'me' && m.type === 'next', 'the agent’s result')).payload.data.me.id).toBe(agent.id);
    agentOnB.close();

    // the new key opens a websocket and works there
    const fresh = await openRawWs(b.url);
    await fresh.init(bearer(r.apiKey));
    fresh.send({ id: 'me', type: 'subscribe', payload: { query: print(ME) } });
    expect((await fresh.next((m) => m.id === 'me' && m.type === 'next', 'the result with the new key')).payload.data.me.id).toBe(client.id);
    fresh.close();
  });

  it("an AGENT or a CLIENT rotating someone else's key is FORBIDDEN, and no key changes", async ({ one: { a, agent, client, keyHashes } }) => {
    const before = await keyHashes();
    const byAgent = await a.gql(ROTATE, { userId: client.id }, bearer(agent.key));
    expect(byAgent.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(byAgent.data).toBeNull();
    const byClient = await a.gql(ROTATE, { userId: agent.id }, bearer(client.key));
    expect(byClient.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await keyHashes()).toEqual(before);
    expect((await a.ok(ME, {}, bearer(client.key))).me.id).toBe(client.id);
  });

  it('an unknown user is NOT_FOUND; without credentials it is UNAUTHENTICATED', async ({ one: { a, keyHashes } }) => {
    const before = await keyHashes();
    for (const u of ['999999', 'abc']) {
      const r = await a.gql(ROTATE, { userId: u });
      expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(r.errors?.[0]?.extensions?.field).toBe('userId');
    }
    expect((await a.gql(ROTATE, {}, null)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await keyHashes()).toEqual(before);
  });
});
