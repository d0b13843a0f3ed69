/**
 * Per-webhook isolation across worker processes (RUNTIME.md "delivery-policy"): at most
 * `maxConcurrency` attempts of a webhook in flight and at most `rateLimitPerSecond` started,
 * whichever worker claims them (two deskhooks instances on one database, each with its
 * own pool and worker), and a webhook whose receiver hangs keeps no slot of another's.
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { createClaimer } from '../../src/delivery/scheduling.js';
import { createTicket, createWebhook, deliveryReaches, drainWorker, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';
import type { Reply } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';

const it = test;

async function openCount(app: TestApp, webhookId: string): Promise<{ pending: number; inFlight: number }> {
  const [row]: any[] = await app.services.orm.em.fork().getConnection().execute(
    `select count(*) filter (where status = 'PENDING' and attempt_count = 0 and locked_until is null)::int as pending,
            count(*) filter (where locked_until > now())::int as "inFlight"
       from deliveries where webhook_id = ?`,
    [webhookId],
  );
  return row;
}

/**
 * The deliveries claimed for a webhook, once the successors claimed for its attempts in
 * flight (worker.ts) were given back: an attempt still in flight after SUCCESSOR_WAIT_MS
 * keeps none.
 */
async function settledCount(app: TestApp, webhookId: string, expected: { pending: number; inFlight: number }): Promise<void> {
  let last: { pending: number; inFlight: number } | undefined;
  const settled = async () => {
    last = await openCount(app, webhookId);
    return last.pending === expected.pending && last.inFlight === expected.inFlight;
  };
  await waitFor(settled, { what: JSON.stringify(expected) }).catch((err: Error) => {
    throw new Error(`${err.message}; last seen ${JSON.stringify(last)}`);
  });
}

describe.concurrent('isolation', () => {
  it('two workers keep one webhook to maxConcurrency 2: never 3 attempts in flight at the receiver', async ({ startApp, startReceiver, clock }) => {
    // attempts held by the receiver must not time out meanwhile
    const env = { DESKHOOKS_REQUEST_TIMEOUT: '60s' };
    const app = await startApp(env, { clock: clock.now });
    let inFlight = 0;
    let maxInFlight = 0;
    let hold = true;
    const held: (() => void)[] = [];
    const receiver = await startReceiver(
      () =>
        new Promise<Reply>((resolve) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const answer = () => {
            inFlight--;
            resolve({ status: 200, body: 'ok' });
          };
          if (hold) held.push(answer);
          else setImmediate(answer);
        }),
    );
    const webhookId = await createWebhook(app, { ...jsonHook('Two slots', `${receiver.url}/two`), maxConcurrency: 2 });
    const ticketId = await createTicket(app, 'two slots');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await testWebhook(app, webhookId, ticketId));
    await receiver.waitForRequests(2);

    // a second worker on the same database: its claims see the first one's attempts in flight
    const other = await startApp({ ...env, DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl, clock: clock.now });
    await Promise.race([other.worker!.wake(), receiver.waitForRequests(3)]);
    expect(receiver.requests).toHaveLength(2);
    await settledCount(app, webhookId, { pending: 4, inFlight: 2 });
    expect(receiver.requests).toHaveLength(2);

    // answered from now on; more deliveries while both workers claim
    hold = false;
    for (const answer of held.splice(0)) answer();
    for (let i = 0; i < 6; i++) ids.push(await testWebhook(app, webhookId, ticketId));
    for (const id of ids) await deliveryReaches(app, id, 'SUCCEEDED');
    expect(receiver.requests).toHaveLength(12);
    expect(new Set(receiver.requests.map((r) => r.headers['x-deskhooks-delivery'])).size).toBe(12);
    expect(maxInFlight).toBe(2);
  });

  it('two workers handing slots over to successors keep a busy webhook to maxConcurrency 3 at the receiver; each delivery arrives once', async ({ startApp, startReceiver }) => {
    const app = await startApp();
    let inFlight = 0;
    let maxInFlight = 0;
    let n = 0;
    const receiver = await startReceiver(
      () =>
        new Promise<Reply>((resolve) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          // answers within 0–4 ms, in an order of their own
          setTimeout(() => {
            inFlight--;
            resolve({ status: 200, body: 'ok' });
          }, n++ % 5);
        }),
    );
    const webhookId = await createWebhook(app, { ...jsonHook('Three slots', `${receiver.url}/busy`), maxConcurrency: 3 });
    const other = await startApp({ DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl });
    const ticketId = await createTicket(app, 'busy');
    const ids = await Promise.all(Array.from({ length: 60 }, () => testWebhook(app, webhookId, ticketId)));
    await Promise.all([drainWorker(app), drainWorker(other)]);
    for (const id of ids) await deliveryReaches(app, id, 'SUCCEEDED');
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(receiver.requests).toHaveLength(60);
    expect(new Set(receiver.requests.map((r) => r.headers['x-deskhooks-delivery'])).size).toBe(60);
  });

  it('two workers share one rate limit: with 0.01 per second, one attempt per 100 s of the clock', async ({ app, startApp, startReceiver, clock }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, { ...jsonHook('Slow lane', `${receiver.url}/slow`), rateLimitPerSecond: 0.01 });
    const ticketId = await createTicket(app, 'rate');
    const ids = [await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId)];
    await deliveryReaches(app, ids[0]!, 'SUCCEEDED');
    const other = await startApp({ DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl, clock: clock.now });
    await drainWorker(other);
    await drainWorker(app);
    expect(receiver.requests).toHaveLength(1);
    expect(await openCount(app, webhookId)).toEqual({ pending: 2, inFlight: 0 });

    clock.advance(100_000); // one token
    await drainWorker(other);
    await drainWorker(app);
    await deliveryReaches(app, ids[1]!, 'SUCCEEDED');
    expect(receiver.requests).toHaveLength(2);
    expect(await openCount(app, webhookId)).toEqual({ pending: 1, inFlight: 0 });

    clock.advance(100_000);
    await drainWorker(app);
    await drainWorker(other);
    await deliveryReaches(app, ids[2]!, 'SUCCEEDED');
    expect(receiver.requests.map((r) => r.headers['x-deskhooks-delivery'])).toEqual(ids);
  });

  it('a webhook whose receiver hangs holds at most its maxConcurrency of a worker’s slots: another webhook’s deliveries go', async ({ startApp, startReceiver }) => {
    // 12 slots, attempts that would hang for a minute: without the limit, the hanging webhook's 30 deliveries take every slot
    const app = await startApp({ DESKHOOKS_WORKER_CONCURRENCY: '12', DESKHOOKS_REQUEST_TIMEOUT: '60s' });
    const hanging = await startReceiver();
    hanging.fallback = 'hang';
    const fine = await startReceiver();
    const hangingId = await createWebhook(app, jsonHook('Hangs', `${hanging.url}/h`));
    const fineId = await createWebhook(app, jsonHook('Fine', `${fine.url}/f`));
    const ticketId = await createTicket(app, 'isolation');
    for (let i = 0; i < 30; i++) await testWebhook(app, hangingId, ticketId);
    await hanging.waitForRequests(10);
    const fineIds: string[] = [];
    for (let i = 0; i < 5; i++) fineIds.push(await testWebhook(app, fineId, ticketId));
    for (const id of fineIds) await deliveryReaches(app, id, 'SUCCEEDED');
    expect(hanging.requests).toHaveLength(10);
    await settledCount(app, hangingId, { pending: 20, inFlight: 10 });
    expect(hanging.requests).toHaveLength(10);
    await waitFor(() => app.worker!.busy === 10, { what: 'the worker to hold only the hanging webhook’s 10 attempts' });
  });

  it('a webhook whose maxConcurrency exceeds a worker’s slots, and whose receiver hangs, leaves the reserved slots (an eighth) to the other webhooks', async ({ startApp, startReceiver }) => {
    // 16 slots, 2 of them reserved for webhooks with nothing in flight in the worker
    const app = await startApp({ DESKHOOKS_WORKER_CONCURRENCY: '16', DESKHOOKS_REQUEST_TIMEOUT: '60s' });
    const hanging = await startReceiver();
    hanging.fallback = 'hang';
    const fine = await startReceiver();
    const hangingId = await createWebhook(app, { ...jsonHook('Hangs wide', `${hanging.url}/h`), maxConcurrency: 100 });
    const fineId = await createWebhook(app, jsonHook('Fine', `${fine.url}/f`));
    const ticketId = await createTicket(app, 'isolation');
    for (let i = 0; i < 30; i++) await testWebhook(app, hangingId, ticketId);
    await hanging.waitForRequests(14);
    const fineIds: string[] = [];
    for (let i = 0; i < 3; i++) fineIds.push(await testWebhook(app, fineId, ticketId));
    for (const id of fineIds) await deliveryReaches(app, id, 'SUCCEEDED');
    expect(hanging.requests).toHaveLength(14);
    expect(await openCount(app, hangingId)).toEqual({ pending: 16, inFlight: 14 });
  });

  it('a claim tells that a webhook’s limit held deliveries back only when it did: not when it took every due one', async ({ startApp, startReceiver }) => {
    // held makes the worker claim again as each attempt ends; claims that find nothing cost the database
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0); // the test claims
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, { ...jsonHook('Three slots', `${receiver.url}/three`), maxConcurrency: 3 });
    const ticketId = await createTicket(app, 'held');
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 1 });
    try {
      const claim = createClaimer(pool, { probeIntervalMs: 30_000, retryWindowMs: 3_600_000, startDeadlineMs: 3_605_000 });
      const first = [await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId)];
      const all = await claim(10, new Date(), 60_000);
      expect({ claimed: all.deliveries.map((d) => d.id), held: all.heldByInFlight, handOver: all.handOver }).toEqual({ claimed: first, held: false, handOver: [] });

      // held: the webhook's slots may be handed over (breaker CLOSED, no rate limit, UNORDERED)
      const more = [await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId)];
      const cut = await claim(10, new Date(), 60_000);
      expect({ claimed: cut.deliveries.map((d) => d.id), held: cut.heldByInFlight, handOver: cut.handOver }).toEqual({ claimed: [more[0]], held: true, handOver: [webhookId] });
      const full = await claim(10, new Date(), 60_000);
      expect({ claimed: full.deliveries.map((d) => d.id), held: full.heldByInFlight, handOver: full.handOver }).toEqual({ claimed: [], held: true, handOver: [webhookId] });
      // an attempt counted out (its slot handed over): one more is claimed in its place
      const successor = await claim(10, new Date(), 60_000, [first[0]!]);
      expect(successor.deliveries.map((d) => d.id)).toEqual([more[1]]);

      // held, but a rate limit (tokens are spent at the claim) or PER_TICKET ordering: no hand-over
      const limited = await createWebhook(app, { ...jsonHook('Limited', `${receiver.url}/limited`), maxConcurrency: 1, rateLimitPerSecond: 100 });
      const ordered = await createWebhook(app, { ...jsonHook('Ordered', `${receiver.url}/ordered`), maxConcurrency: 1, ordering: 'PER_TICKET' as never });
      const otherTicket = await createTicket(app, 'held too');
      for (const hook of [limited, ordered]) for (const ticket of [ticketId, otherTicket]) await testWebhook(app, hook, ticket);
      const neither = await claim(10, new Date(), 60_000);
      expect(neither.deliveries.map((d) => d.webhookId).sort()).toEqual([limited, ordered].sort());
      expect({ held: neither.heldByInFlight, handOver: neither.handOver }).toEqual({ held: true, handOver: [] });
    } finally {
      await pool.end();
    }
  });
});
