/**
 * Ordering PER_TICKET (RUNTIME.md "delivery-policy"): a webhook's deliveries for one
 * ticket are attempted one at a time in creation order; a later one stays PENDING until
 * the earlier one is final — a RETRYING earlier one holds it too — whichever worker
 * claims (two deskhooks instances on one database). Other tickets are not held.
 */
import { describe, expect } from 'vitest';
import { createTicket, createWebhook, deliveryReaches, deliveryStatus, drainWorker, jsonHook, retryUntilFinal, test, testWebhook } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';

const it = test;

describe.concurrent('ordering PER_TICKET', () => {
  it('a failing first delivery holds the second of its ticket, across workers, until it is final; another ticket is not held', async ({ app, startApp, startReceiver, clock }) => {
    const receiver = await startReceiver();
    receiver.script({ status: 503 }); // the first attempt fails: RETRYING, next attempt a minute later by the clock
    const webhookId = await createWebhook(app, { ...jsonHook('In order', `${receiver.url}/o`), ordering: 'PER_TICKET' });
    const other = await startApp({ DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl, clock: clock.now });
    const ticketId = await createTicket(app, 'ordered');
    const first = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, first, 'RETRYING');
    const second = await testWebhook(app, webhookId, ticketId);
    const third = await testWebhook(app, webhookId, ticketId);
    const elsewhere = await testWebhook(app, webhookId, await createTicket(app, 'another ticket'));
    await deliveryReaches(app, elsewhere, 'SUCCEEDED');

    await drainWorker(app);
    await drainWorker(other);
    for (const id of [second, third]) expect(await deliveryStatus(app, id)).toMatchObject({ status: 'PENDING', attemptCount: 0 });
    expect(receiver.requests.map((r) => r.headers['x-deskhooks-delivery'])).toEqual([first, elsewhere]);

    // the first one's retry succeeds; then the second and third go, one after the other
    expect((await retryUntilFinal(app, clock, first)).status).toBe('SUCCEEDED');
    await drainWorker(other);
    await deliveryReaches(app, second, 'SUCCEEDED');
    await deliveryReaches(app, third, 'SUCCEEDED');
    expect(receiver.requests.map((r) => r.headers['x-deskhooks-delivery'])).toEqual([first, elsewhere, first, second, third]);
  });

  it('the waiting one goes at once when the earlier one is cancelled or the webhook is made NONE, not at the next sweep', async ({ startApp, startReceiver }) => {
    // no sweep and no retry comes due while the test waits: only a wake-up can send the waiting delivery
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '60s', DESKHOOKS_RETRY_INTERVAL: '60s', DESKHOOKS_RETRY_WINDOW: '10m' });
    const receiver = await startReceiver();
    const soon = { timeoutMs: 3_000 };
    for (const release of ['cancel', 'NONE'] as const) {
      const input = { ...jsonHook(`In order ${release}`, `${receiver.url}/t`), ordering: 'PER_TICKET' as const };
      const webhookId = await createWebhook(app, input);
      const ticketId = await createTicket(app, `turns ${release}`);
      receiver.script({ status: 503 }); // the first attempt fails: RETRYING, its retry a minute away
      const first = await testWebhook(app, webhookId, ticketId);
      const second = await testWebhook(app, webhookId, ticketId);
      await deliveryReaches(app, first, 'RETRYING');
      expect(await deliveryStatus(app, second)).toMatchObject({ status: 'PENDING', attemptCount: 0 });
      if (release === 'cancel') await app.ok(`mutation { cancelDelivery(id: "${first}") { id } }`);
      else await app.ok(`mutation ($id: ID!, $input: WebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`, { id: webhookId, input: { ...input, ordering: 'NONE' } });
      await waitFor(async () => (await deliveryStatus(app, second)).status === 'SUCCEEDED', { ...soon, what: `the waiting delivery to go after ${release}` });
    }
  });

  it('a later delivery waits while the earlier one is in flight: never two of one ticket at once', async ({ startApp, startReceiver }) => {
    const env = { DESKHOOKS_REQUEST_TIMEOUT: '60s' }; // held attempts do not time out
    const app = await startApp(env);
    const held: (() => void)[] = [];
    const receiver = await startReceiver(() => new Promise((resolve) => held.push(() => resolve({ status: 200, body: 'ok' }))));
    const webhookId = await createWebhook(app, { ...jsonHook('One at a time', `${receiver.url}/s`), ordering: 'PER_TICKET' });
    const ticketId = await createTicket(app, 'serial');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await testWebhook(app, webhookId, ticketId));
    // a second worker: its drain ends at once when it claims nothing; when a turn's wake-up
    // made it claim the one in flight, its drain lasts as long as that attempt: then a second
    // of the receiver's time shows that no other one of the ticket was sent meanwhile
    const other = await startApp({ ...env, DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl });
    for (let n = 1; n <= 3; n++) {
      await receiver.waitForRequests(n);
      await Promise.race([other.worker!.wake(), receiver.waitForRequests(n + 1, 1_000).catch(() => undefined)]);
      expect(receiver.requests).toHaveLength(n);
      for (const id of ids.slice(n)) expect(await deliveryStatus(app, id)).toMatchObject({ status: 'PENDING', attemptCount: 0 });
      held.shift()!();
    }
    for (const id of ids) await deliveryReaches(app, id, 'SUCCEEDED');
    expect(receiver.requests.map((r) => r.headers['x-deskhooks-delivery'])).toEqual(ids);
  });

  it('an earlier delivery cancelled while its attempt is in flight holds the next one until that attempt has ended: never two of one ticket at once', async ({ startApp, startReceiver }) => {
    const env = { DESKHOOKS_REQUEST_TIMEOUT: '60s' }; // held attempts do not time out
    const app = await startApp(env);
    const held: (() => void)[] = [];
    const receiver = await startReceiver(() => new Promise((resolve) => held.push(() => resolve({ status: 200, body: 'ok' }))));
    const webhookId = await createWebhook(app, { ...jsonHook('Create, then update', `${receiver.url}/deal`), ordering: 'PER_TICKET' });
    const ticketId = await createTicket(app, 'cancelled in flight');
    const first = await testWebhook(app, webhookId, ticketId);
    const second = await testWebhook(app, webhookId, ticketId);
    await receiver.waitForRequests(1);
    // the admin cancels the slow one: its request is already with the receiver
    await app.ok(`mutation { cancelDelivery(id: "${first}") { id } }`);
    const other = await startApp({ ...env, DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl });
    // both workers claim; the other's drain ends once its claim took nothing (a delivery it took would be a request more)
    void app.worker!.wake();
    await Promise.race([other.worker!.wake(), receiver.waitForRequests(2).catch(() => undefined)]);
    expect(receiver.requests).toHaveLength(1);
    expect(await deliveryStatus(app, second)).toMatchObject({ status: 'PENDING', attemptCount: 0 });

    // the cancelled attempt's answer comes back: its claim ends, and the next one goes
    held.shift()!();
    await receiver.waitForRequests(2);
    held.shift()!();
    await deliveryReaches(app, second, 'SUCCEEDED');
    expect(await deliveryStatus(app, first)).toMatchObject({ status: 'CANCELLED', attemptCount: 1 });
    expect(receiver.requests.map((r) => r.headers['x-deskhooks-delivery'])).toEqual([first, second]);
  });
});
