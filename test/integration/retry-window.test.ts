/**
 * No attempt starts later than the retry window after the first, even when the service
 * was not running at the retry's time: the clock is moved past the window, as after a
 * long outage, and the retry found due then fails without being sent.
 */
import { describe, expect } from 'vitest';
import { comments, createTicket, createWebhook, deliveryReaches, drainWorker, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';

// a long interval, so that only the moved clock makes the retry due
const it = test.extend<{ app: TestApp }>({
  app: async ({ startApp, clock }, use) => use(await startApp({ DESKHOOKS_RETRY_INTERVAL: '1m', DESKHOOKS_RETRY_WINDOW: '5m' }, { clock: clock.now })),
});

describe.concurrent('a retry found due after an outage', () => {
  it('after its window: FAILED without another attempt, with a comment', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.fallback = { status: 503 };
    const ticketId = await createTicket(app, 'outage');
    const id = await testWebhook(app, await createWebhook(app, jsonHook('Outage CRM', `${receiver.url}/o`)), ticketId);
    await deliveryReaches(app, id, 'RETRYING');

    clock.advance(6 * 60_000); // as if the service had been down for 6 minutes: past the 5 m window (+5 s grace)
    await drainWorker(app);
    const d = await deliveryReaches(app, id, 'FAILED');
    expect(d.attemptCount).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    expect((await comments(app, ticketId)).map((p) => p.text).join('\n')).toMatch(/Webhook "Outage CRM" failed after 1 attempt: retry window of 300 s passed/);
  });

  it('within its window: attempted late, and SUCCEEDED', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.script({ status: 503 });
    const ticketId = await createTicket(app, 'ok');
    const id = await testWebhook(app, await createWebhook(app, jsonHook('Late', `${receiver.url}/l`)), ticketId);
    await deliveryReaches(app, id, 'RETRYING');

    clock.advance(70_000); // the slot at +1 m has passed, 70 s is inside the window
    await drainWorker(app);
    const d = await deliveryReaches(app, id, 'SUCCEEDED');
    expect(d.attemptCount).toBe(2);
    expect(receiver.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(['1', '2']);
    expect(await comments(app, ticketId)).toEqual([]);
  });
});
