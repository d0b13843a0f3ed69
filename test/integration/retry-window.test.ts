/**
 * No attempt starts later than the retry window after the first (RUNTIME.md), even when
 * the service was not running at the retry's time: the clock is injected and moved past
 * the window, as after a long outage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { createTicket, createWebhook, deliveryStatus, jsonHook, testWebhook } from '../support/fixtures.js';

let app: TestApp;
let receiver: Receiver;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

beforeAll(async () => {
  // a long interval, so that only the moved clock makes the retry due
  app = await startTestApp({ DESKHOOKS_RETRY_INTERVAL: '1m', DESKHOOKS_RETRY_WINDOW: '5m' }, undefined, { clock });
  receiver = await startReceiver();
});
afterAll(async () => {
  await app?.stop();
  await receiver?.close();
});

describe('retry window after an outage', () => {
  it('a retry found due after its window is FAILED without another attempt, with a comment', async () => {
    receiver.fallback = { status: 503 };
    const ticketId = await createTicket(app, 'outage');
    const webhookId = await createWebhook(app, jsonHook('Outage CRM', `${receiver.url}/o`));
    const id = await testWebhook(app, webhookId, ticketId);
    const status = () => deliveryStatus(app, id);
    await waitFor(async () => (await status()).status === 'RETRYING', { what: 'RETRYING after the first attempt' });

    offsetMs = 6 * 60_000; // as if the service had been down for 6 minutes: past the 5 m window (+5 s grace)
    await app.worker!.wake();
    const d = await waitFor(async () => {
      const s = await status();
      return s.status === 'FAILED' && s;
    }, { what: 'FAILED' });
    expect(d.attemptCount).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    const posts = (await app.ok(`query($id: ID!) { ticket(id: $id) { posts { kind text } } }`, { id: ticketId })).ticket.posts;
    expect(posts.map((p: { text: string }) => p.text).join('\n')).toMatch(/Webhook "Outage CRM" failed after 1 attempt: retry window of 300 s passed/);
  });

  it('within the window the late retry is attempted', async () => {
    offsetMs = 0;
    receiver.requests.length = 0;
    receiver.fallback = { status: 503 };
    const ticketId = await createTicket(app, 'ok');
    const webhookId = await createWebhook(app, jsonHook('Late', `${receiver.url}/l`));
    const id = await testWebhook(app, webhookId, ticketId);
    await receiver.waitForRequests(1);
    await waitFor(async () => (await deliveryStatus(app, id)).status === 'RETRYING', { what: 'RETRYING' });
    receiver.fallback = { status: 200 };
    offsetMs = 70_000; // the slot at +1 m has passed, 70 s is inside the window
    await app.worker!.wake();
    await receiver.waitForRequests(2);
    await waitFor(async () => (await deliveryStatus(app, id)).status === 'SUCCEEDED', { what: 'SUCCEEDED' });
  });
});
