/**
 * No attempt starts later than the retry window after the first, even when the service
 * was not running at the retry's time: the clock is moved past the window, as after a
 * long outage, and the retry found due then fails without being sent.
 */
import { describe, expect } from 'vitest';
import { comments, createTicket, createWebhook, deliveryReaches, drainWorker, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';

// a long interval, so that only the moved clock makes the retry due; a 2 s request timeout,
// so that a claim's lease is 2 × 2 s + 5 s (src/main.ts)
const it = test.extend<{ app: TestApp }>({
  app: async ({ startApp, clock }, use) => use(await startApp({ DESKHOOKS_RETRY_INTERVAL: '1m', DESKHOOKS_RETRY_WINDOW: '5m', DESKHOOKS_REQUEST_TIMEOUT: '2s' }, { clock: clock.now })),
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

  it('a retry whose worker stopped during it, found after its window: FAILED, that attempt on the record with an unknown outcome', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.fallback = { status: 503 };
    const ticketId = await createTicket(app, 'lost retry');
    const id = await testWebhook(app, await createWebhook(app, jsonHook('Lost retry', `${receiver.url}/r`)), ticketId);
    await deliveryReaches(app, id, 'RETRYING');
    // as a worker leaves it that claimed attempt 2 at its slot and was killed while sending it:
    // claimed (its lease of 2 × 2 s + 5 s), neither recorded nor released
    const sql = (q: string, params: unknown[]) => app.services.orm.em.fork().getConnection().execute(q, params);
    const [{ slot }] = await sql(`update deliveries set locked_until = next_attempt_at + interval '9 seconds' where id = ? returning next_attempt_at as slot`, [id]);

    clock.advance(6 * 60_000); // past the 5 m window (+5 s grace): the claim is taken over too late to send again
    await drainWorker(app);
    const d = await deliveryReaches(app, id, 'FAILED');
    expect(receiver.requests).toHaveLength(1);
    const unknown = `outcome unknown: the worker that claimed this attempt at ${new Date(slot).toISOString()} stopped before recording its outcome, so the request may have reached the receiver`;
    const { delivery } = await app.ok(`query($id: ID!) { delivery(id: $id) { attemptCount attempts { number statusCode error startedAt } } }`, { id });
    expect(delivery.attemptCount).toBe(2);
    expect(delivery.attempts[1]).toEqual({ number: 2, statusCode: null, error: unknown, startedAt: new Date(slot).toISOString() });
    const reason = `retry window of 300 s passed before attempt 3 could start; attempt 2's ${unknown}; last error before it: HTTP 503 Service Unavailable`;
    expect((await sql('select last_error from deliveries where id = ?', [id]))[0].last_error).toBe(reason);
    expect(d.attemptCount).toBe(2);
    expect((await comments(app, ticketId)).map((p) => p.text)).toEqual([`Webhook "Lost retry" failed after 2 attempts: ${reason}.`]);
  });

  it('a retry whose worker stopped during it, taken over within its window: sent again, with a note that the receiver may have had it twice', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.script({ status: 503 });
    const ticketId = await createTicket(app, 'lost retry, in time');
    const id = await testWebhook(app, await createWebhook(app, jsonHook('Lost in time', `${receiver.url}/t`)), ticketId);
    await deliveryReaches(app, id, 'RETRYING');
    // a worker claimed attempt 2 at its slot and was killed while sending it (lease 2 × 2 s + 5 s)
    const sql = (q: string, params: unknown[]) => app.services.orm.em.fork().getConnection().execute(q, params);
    const [{ slot }] = await sql(`update deliveries set locked_until = next_attempt_at + interval '9 seconds' where id = ? returning next_attempt_at as slot`, [id]);

    clock.advance(70_000); // the lease ran out at +69 s, inside the 5 m window
    await drainWorker(app);
    await deliveryReaches(app, id, 'SUCCEEDED');
    const { delivery } = await app.ok(`query($id: ID!) { delivery(id: $id) { attemptCount notes } }`, { id });
    expect(delivery).toEqual({
      attemptCount: 2,
      notes: [`attempt 2 was claimed at ${new Date(slot).toISOString()} by a worker that stopped before recording its outcome, and was sent again: the receiver may have had it twice (the same X-Deskhooks-Delivery)`],
    });
    expect(receiver.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(['1', '2']);
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
