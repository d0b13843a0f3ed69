/**
 * deskhooks started as users start it (`node scripts/start.mjs`, i.e. `npm start`): on
 * an empty DATA_DIR with the embedded PostgreSQL it prints the URL and the admin key;
 * data survives a restart; a kill -9 while a delivery waits for its retry loses nothing;
 * SIGTERM exits 0 within 10 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { freePort } from '../../src/db/embedded.js';
import { gqlAt, startChild, type Child } from '../support/child.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

let dataDir: string;
let receiver: Receiver;
let child: Child | undefined;
let env: Record<string, string>;

const gql = gqlAt;

beforeAll(async () => {
  dataDir = tempDir('e2e').path;
  receiver = await startReceiver();
  env = {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    DESKHOOKS_RETRY_INTERVAL: '3s',
    DESKHOOKS_RETRY_WINDOW: '10m',
    DESKHOOKS_SWEEP_INTERVAL: '1s',
  };
}, 30_000);

afterAll(async () => {
  if (child && child.proc.exitCode === null) {
    child.proc.kill('SIGTERM');
    await child.exited;
  }
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  let url: string;
  let key: string;
  let deliveryId: string;
  let ticketId: string;

  it('on an empty DATA_DIR prints the URL and the bootstrap admin key, which works', async () => {
    child = startChild(env);
    url = await child.url();
    key = /API key \(shown once, keep it\): (\S+)/.exec(child.output())?.[1] ?? '';
    expect(key).toMatch(/^dk_/);
    expect(url).toBe(`http://127.0.0.1:${env.PORT}`);
    expect((await gql(url, key, '{ me { email role } }')).me).toEqual({ email: 'admin@localhost', role: 'ADMIN' });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 180_000);

  it('a kill -9 while a delivery waits for its retry loses nothing: after a restart it succeeds', async () => {
    await gql(url, key, `mutation { createUser(input: { name: "Ann", email: "ann@example.com", role: AGENT }) { user { id } } }`);
    ticketId = (await gql(url, key, `mutation { createTicket(input: { title: "kept", description: "d" }) { id } }`)).createTicket.id;
    const webhookId = (
      await gql(url, key, `mutation($input: WebhookInput!) { createWebhook(input: $input) { id } }`, {
        input: { name: 'crm', method: 'POST', url: `${receiver.url}/hook`, format: 'JSON', body: '{"ticket": "{{ ticket.id }}"}' },
      })
    ).createWebhook.id;
    receiver.script({ status: 503 });
    deliveryId = (await gql(url, key, `mutation($id: ID!, $t: ID!) { testWebhook(id: $id, ticketId: $t) { id } }`, { id: webhookId, t: ticketId })).testWebhook.id;
    await receiver.waitForRequests(1);
    await waitFor(async () => (await gql(url, key, `query($id: ID!) { delivery(id: $id) { status } }`, { id: deliveryId })).delivery.status === 'RETRYING', { what: 'RETRYING' });

    child!.proc.kill('SIGKILL');
    expect((await child!.exited).signal).toBe('SIGKILL');
    child = startChild(env);
    url = await child.url();
    await waitFor(async () => (await gql(url, key, `query($id: ID!) { delivery(id: $id) { status } }`, { id: deliveryId })).delivery.status === 'SUCCEEDED', {
      what: 'the delivery to succeed after the restart',
      timeoutMs: 30_000,
    });
    const d = (await gql(url, key, `query($id: ID!) { delivery(id: $id) { attemptCount attempts { number statusCode } } }`, { id: deliveryId })).delivery;
    expect(d.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([503, 200]);
    expect(receiver.requests.map((r) => r.headers['x-deskhooks-delivery'])).toEqual([deliveryId, deliveryId]);
  }, 180_000);

  it('a restart keeps users and tickets (the same key still works)', async () => {
    const users = (await gql(url, key, '{ users { email } }')).users.map((u: { email: string }) => u.email);
    expect(users).toEqual(expect.arrayContaining(['admin@localhost', 'ann@example.com']));
    expect((await gql(url, key, `query($id: ID!) { ticket(id: $id) { title } }`, { id: ticketId })).ticket.title).toBe('kept');
    expect(child!.output()).not.toMatch(/API key \(shown once/);
  });

  it('SIGTERM stops it with exit code 0 within 10 s', async () => {
    const started = Date.now();
    child!.proc.kill('SIGTERM');
    const { code } = await child!.exited;
    const took = Date.now() - started;
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000);
  }, 20_000);

  it('a bad configuration value stops it with one clear line naming the variable', async () => {
    const bad = startChild({ ...env, DESKHOOKS_RETRY_INTERVAL: 'soon' });
    const { code } = await bad.exited;
    expect(code).toBe(2);
    expect(bad.output()).toContain('DESKHOOKS_RETRY_INTERVAL="soon" is not a duration');
  }, 120_000);
});
