/**
 * `npm start`'s role all (src/cli.ts): the API on the main thread, the dispatcher and the
 * delivery worker each in a thread of its own. A ticket created through the API reaches
 * its rule's webhook by the wake-ups between the threads alone: the main thread wakes the
 * dispatcher's thread, which wakes the delivery thread. The sweeps that would find the
 * work otherwise run once an hour here, so a lost wake-up shows as a request that never
 * comes. A SIGTERM stops all three.
 */
import { afterAll, expect } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { gqlAt, startCli, type Child } from '../support/child.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { it } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const KEY = 'engine-threads-admin-key-0123456789';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

it('a ticket created through the API reaches its webhook by the threads’ wake-ups alone; SIGTERM stops all three threads', { timeout: 120_000 }, async ({ startReceiver }) => {
  const db: TestDatabase = await createTestDatabase();
  cleanups.push(() => db.drop());
  const receiver = await startReceiver();
  const dataDir = tempDir('engine-threads');
  cleanups.push(async () => dataDir.remove());
  const child: Child = startCli({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir.path,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DESKHOOKS_SECRET_KEY: 'engine-threads-secret-key-0123456789',
    BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
    BOOTSTRAP_ADMIN_API_KEY: KEY,
    DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    DESKHOOKS_SWEEP_INTERVAL: '1h',
  });
  cleanups.push(async () => {
    child.proc.kill('SIGKILL');
    await child.exited;
  });
  const url = await child.url();
  expect(child.output()).toMatch(/role all \(the dispatcher and the deliveries in threads of their own\)/);

  const gql = (query: string, variables: Record<string, unknown> = {}) => gqlAt(url, KEY, query, variables);
  const webhookId = (
    await gql(`mutation($input: WebhookInput!) { createWebhook(input: $input) { id } }`, {
      input: { name: 'crm', method: 'POST', url: `${receiver.url}/crm`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' },
    })
  ).createWebhook.id;
  await gql(`mutation($input: RuleInput!) { createRule(input: $input) { id } }`, {
    input: { name: 'to the crm', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId }] },
  });
  // both threads have started (they start once the main thread listens): a ticket created
  // before would be found by their start's catch-up, not by a wake-up
  const started = () => (child.output().match(/dispatcher's thread started|delivery thread started/g) ?? []).length;
  await waitFor(() => started() === 2, { what: 'both engine threads to start', timeoutMs: 30_000 }).catch((err: Error) => {
    throw new Error(`${err.message}; output: ${child.output()}`);
  });

  const ids: string[] = [];
  for (const title of ['first', 'second']) {
    ids.push((await gql(`mutation { createTicket(input: { title: "${title}", description: "d" }) { id } }`)).createTicket.id);
    const requests = await receiver.waitForRequests(ids.length, 20_000);
    expect(requests.map((r) => [r.url, JSON.parse(r.body).t])).toEqual(ids.map((id) => ['/crm', id]));
  }

  child.proc.kill('SIGTERM');
  const exited = await child.exited;
  expect(exited.code, child.output()).toBe(0);
  expect(child.output()).not.toMatch(/did not stop|failed/);
});
