/**
 * Scaling out: one api process and two worker processes on one PostgreSQL.
 * 500 tickets created over the API, each sending a webhook by a TICKET_CREATED rule: the
 * 500 deliveries to a healthy receiver are each attempted exactly once, and a subscriber
 * on the api process sees all 500 SUCCEEDED events. With one worker killed (SIGKILL)
 * mid-run, every delivery still ends SUCCEEDED (repeats allowed, none missing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { tempDir, type TempDir } from '../support/temp.js';
import { gqlAt, startChild, startCli, type Child } from '../support/child.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { collect, wsClient } from '../support/ws.js';

const KEY = 'scale-admin-key-0123456789abcdef';
const AUTH = `Bearer ${KEY}`;
const N = 500;

let dataDir: TempDir;
const databases: TestDatabase[] = [];
let receiver: Receiver;
const children: Child[] = [];

/**
 * `requestTimeout`: short where a worker is killed, so that its claims' lease (twice the
 * timeout and 5 s) ends soon; long enough elsewhere that a loaded machine's stall never times
 * out an answer sent at once, which would send that delivery twice.
 */
async function start(role: 'api' | 'worker', databaseUrl: string, requestTimeout: string): Promise<Child> {
  const child = startChild({
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir.path,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DESKHOOKS_ROLE: role,
    DESKHOOKS_SECRET_KEY: 'scale-test-secret-key-0123456789',
    BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
    BOOTSTRAP_ADMIN_API_KEY: KEY,
    DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    DESKHOOKS_REQUEST_TIMEOUT: requestTimeout,
    DESKHOOKS_RETRY_INTERVAL: '1s',
    DESKHOOKS_RETRY_WINDOW: '1m',
    DESKHOOKS_SWEEP_INTERVAL: '1s',
    DESKHOOKS_WORKER_CONCURRENCY: '16',
  });
  children.push(child);
  await child.url();
  return child;
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Creates N tickets, 10 at a time; returns their ids. */
async function createTickets(url: string): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < N) {
        next++;
        ids.push((await gql(url, `mutation($t: String!) { createTicket(input: { title: $t, description: "d" }) { id } }`, { t: `scale ${next}` })).createTicket.id);
      }
    }),
  );
  return ids;
}

beforeAll(async () => {
  dataDir = tempDir('scale');
  receiver = await startReceiver();
});

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
  await Promise.all(children.map((c) => c.exited));
  await receiver?.close();
  await Promise.all(databases.map((d) => d.drop()));
  dataDir?.remove();
});

async function scenario(killOneWorker: boolean) {
  const T0 = Date.now();
  const mark = (m: string) => process.env.SCALE_DEBUG && console.log(`${Date.now() - T0} ms ${m}`);
  receiver.requests.length = 0;
  // empty: the first process migrates it, as on a first deployment
  const database = await createTestDatabase({ empty: true });
  databases.push(database);
  const db = database.url;
  const requestTimeout = killOneWorker ? '2s' : '10s';
  const api = await start('api', db, requestTimeout);
  const apiUrl = await api.url();
  const workers = await Promise.all([start('worker', db, requestTimeout), start('worker', db, requestTimeout)]);
  mark('processes up');
  const ticketId = (await gql(apiUrl, `mutation { createTicket(input: { title: "scale", description: "d" }) { id } }`)).createTicket.id;
  const webhookId = (
    await gql(apiUrl, `mutation($input: WebhookInput!) { createWebhook(input: $input) { id } }`, {
      input: { name: 'scale', method: 'POST', url: `${receiver.url}/hook`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' },
    })
  ).createWebhook.id;

  const client = wsClient(apiUrl, AUTH);
  const feed = collect<{ deliveryEvents: { type: string; delivery: { id: string } } }>(
    client,
    `subscription($f: DeliveryFilter) { deliveryEvents(filter: $f) { type delivery { id } } }`,
    { f: { webhookId, status: 'SUCCEEDED' } },
  );
  // the subscription is live once a marker delivery's SUCCEEDED arrives
  const marker = (await gql(apiUrl, `mutation($w: ID!, $t: ID!) { testWebhook(id: $w, ticketId: $t) { id } }`, { w: webhookId, t: ticketId })).testWebhook.id;
  await waitFor(() => feed.events.some((e) => e.deliveryEvents.delivery.id === marker), { what: 'the feed to be live', timeoutMs: 30_000 });

  mark('feed live');
  await gql(apiUrl, `mutation($input: RuleInput!) { createRule(input: $input) { id } }`, {
    input: { name: 'every new ticket', events: ['TICKET_CREATED'], conditions: [], actions: [{ type: 'SEND_WEBHOOK', webhookId }] },
  });
  let killed = false;
  let arrivedAtKill = 0;
  const creating = createTickets(apiUrl);
  if (killOneWorker) {
    await waitFor(() => receiver.requests.length >= 120, { what: 'the run to be under way', timeoutMs: 60_000, intervalMs: 5 });
    workers[1]!.proc.kill('SIGKILL');
    arrivedAtKill = receiver.requests.length;
    killed = (await workers[1]!.exited).signal === 'SIGKILL';
  }
  const tickets = await creating;
  mark(`created, ${receiver.requests.length} arrived`);
  const succeededIds = () => new Set(feed.events.filter((e) => e.deliveryEvents.type === 'SUCCEEDED' && e.deliveryEvents.delivery.id !== marker).map((e) => e.deliveryEvents.delivery.id));
  await waitFor(() => succeededIds().size >= N, { what: `${N} SUCCEEDED events on the feed`, timeoutMs: 90_000, intervalMs: 100 });
  mark('all succeeded');
  const ids = [...succeededIds()];
  const ticketsReached = new Set(receiver.requests.map((r) => JSON.parse(r.body).t as string));
  feed.dispose();
  await client.dispose();

  const counts = new Map<string, number>();
  for (const r of receiver.requests) {
    const id = String(r.headers['x-deskhooks-delivery']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const page = await gql(apiUrl, `query($f: DeliveryFilter) { deliveries(filter: $f, first: 1) { totalCount } }`, { f: { webhookId, status: 'SUCCEEDED' } });
  for (const c of [api, ...workers]) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
  await Promise.all([api, ...workers].map((c) => c.exited));
  return { ids, counts, killed, arrivedAtKill, allTicketsReached: tickets.length === N && tickets.every((t) => ticketsReached.has(t)), succeededTotal: page.deliveries.totalCount };
}

describe('one api process and two workers on one PostgreSQL', () => {
  it(`${N} deliveries: each attempted exactly once, all ${N} SUCCEEDED events reach the api’s subscriber`, async () => {
    const { ids, counts, allTicketsReached, succeededTotal } = await scenario(false);
    expect(ids).toHaveLength(N);
    expect(allTicketsReached).toBe(true);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
    expect(succeededTotal).toBe(N + 1);
  }, 240_000);

  it('a worker killed with SIGKILL mid-run loses no delivery: all end SUCCEEDED', async () => {
    const { ids, counts, killed, arrivedAtKill, allTicketsReached, succeededTotal } = await scenario(true);
    expect(killed).toBe(true);
    expect(ids).toHaveLength(N);
    expect(allTicketsReached).toBe(true);
    // mid-run: most deliveries were still to come (the marker is one of the requests)
    expect(arrivedAtKill).toBeLessThan(N / 2);
    expect(ids.every((id) => (counts.get(id) ?? 0) >= 1)).toBe(true);
    expect(succeededTotal).toBe(N + 1);
  }, 240_000);

  it('a worker that starts first on an empty database prints the generated key with where to use it, not a /graphql of its own; the api takes the key', async () => {
    const database = await createTestDatabase({ empty: true });
    databases.push(database);
    // no BOOTSTRAP_ADMIN_*: the first start generates the administrator's key
    const env = { DATABASE_URL: database.url, DATA_DIR: dataDir.path, HOST: '127.0.0.1', DESKHOOKS_SECRET_KEY: 'scale-test-secret-key-0123456789' };
    const worker = startCli({ ...env, PORT: String(await freePort()), DESKHOOKS_ROLE: 'worker' });
    children.push(worker);
    const workerUrl = await worker.url();
    const key = /API key \(shown once, keep it\): (\S+)/.exec(worker.output())?.[1] ?? '';
    expect(key).toMatch(/^dk_/);
    expect(worker.output()).not.toContain(`${workerUrl}/graphql`);
    expect(worker.output()).toContain('This worker process serves only /healthz: use the key on an api process');
    const api = startCli({ ...env, PORT: String(await freePort()), DESKHOOKS_ROLE: 'api' });
    children.push(api);
    expect((await gqlAt(await api.url(), key, '{ me { email role } }')).me).toEqual({ email: 'admin@localhost', role: 'ADMIN' });
    for (const c of [worker, api]) c.proc.kill('SIGTERM');
    expect((await Promise.all([worker.exited, api.exited])).map((e) => e.code)).toEqual([0, 0]);
  }, 60_000);
});
