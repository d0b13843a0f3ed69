/**
 * Delivery policy (RUNTIME.md "delivery-policy") where the other files stop:
 *
 * - PER_TICKET holds deliveries made by rules too (a ticket's TICKET_CREATED then its
 *   REPLY_ADDED): the later one stays PENDING while the earlier one is open, whether it
 *   ends SUCCEEDED or FAILED; a redelivery is a new delivery of its ticket, queued
 *   behind the ones open when it is made, in creation order.
 * - The rate limit is a token bucket holding max(1, rate) tokens: with 5 per second,
 *   at most 5 attempts start at once (across workers), then one per 200 ms of the clock;
 *   an idle bucket never holds more than 5.
 */
import { describe, expect } from 'vitest';
import { addReply, createRule, createTicket, createWebhook, deliveryReaches, deliveryStatus, drainWorker, jsonHook, retryUntilFinal, test, testWebhook, type TestApp } from '../support/fixtures.js';
import { manualClock } from '../support/clock.js';
import type { ReceivedRequest, Reply } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { DpRedeliverDocument, type WebhookInput } from '../generated/graphql.js';

const it = test;

/** The webhook's deliveries for the ticket, in creation order. */
async function deliveriesOf(app: TestApp, ticketId: string): Promise<{ id: string; event: string | null }[]> {
  return app.services.orm.em.fork().getConnection().execute(`select id::text as id, event from deliveries where ticket_id = ? order by seq`, [ticketId]);
}

const deliveryOf = (r: ReceivedRequest) => r.headers['x-deskhooks-delivery'];

/** A PER_TICKET webhook whose body names the event. */
const orderedHook = (url: string): WebhookInput => ({ ...jsonHook('In order', url), body: '{"t": "{{ ticket.id }}", "e": "{{ event.type }}"}', ordering: 'PER_TICKET' });

describe.concurrent('PER_TICKET with rules and redeliveries', () => {
  it('a rule’s REPLY_ADDED delivery waits while the ticket’s TICKET_CREATED delivery fails (500) until that one is FAILED', async ({ app, startReceiver, clock }) => {
    const receiver = await startReceiver((r) => (JSON.parse(r.body).e === 'TICKET_CREATED' ? { status: 500, body: 'down' } : undefined));
    const webhookId = await createWebhook(app, orderedHook(`${receiver.url}/rules`));
    await createRule(app, { name: 'Every change', events: ['TICKET_CREATED', 'REPLY_ADDED'], actions: [{ type: 'SEND_WEBHOOK', webhookId }] });
    // the reply comes at once: both deliveries may exist before the first attempt
    const ticketId = await createTicket(app, 'ordered by rules');
    await addReply(app, ticketId, 'a reply');
    const [created, replied] = await waitFor(async () => {
      const ds = await deliveriesOf(app, ticketId);
      return ds.length === 2 && ds;
    }, { what: 'the rule’s two deliveries' });
    expect([created!.event, replied!.event]).toEqual(['TICKET_CREATED', 'REPLY_ADDED']);
    await deliveryReaches(app, created!.id, 'RETRYING');
    await drainWorker(app);
    expect(await deliveryStatus(app, replied!.id)).toMatchObject({ status: 'PENDING', attemptCount: 0 });

    // every retry fails; the reply's delivery goes only once the first is final
    const first = await retryUntilFinal(app, clock, created!.id);
    expect(first.status).toBe('FAILED');
    expect(first.attemptCount).toBeGreaterThan(1);
    await drainWorker(app);
    await deliveryReaches(app, replied!.id, 'SUCCEEDED');
    const order = receiver.requests.map(deliveryOf);
    expect(order).toEqual([...Array(first.attemptCount).fill(created!.id), replied!.id]);
  });

  it('a redelivery of a FAILED delivery waits behind the ticket’s open deliveries (RETRYING, PENDING), then goes after them', async ({ app, startReceiver, clock }) => {
    // a Retry-After past the retry window fails the first at once; a bare 503 is retried
    let answer: Reply = { status: 503, headers: { 'retry-after': '3600' }, body: 'gone for an hour' };
    const receiver = await startReceiver(() => answer);
    const webhookId = await createWebhook(app, orderedHook(`${receiver.url}/redeliver`));
    const ticketId = await createTicket(app, 'redelivered in order');

    const failed = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, failed, 'FAILED');
    answer = { status: 503, body: 'busy' };
    const retrying = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, retrying, 'RETRYING');
    const pending = await testWebhook(app, webhookId, ticketId);
    const again = (await app.ok(DpRedeliverDocument, { deliveryId: failed })).redeliver.id;
    await drainWorker(app);
    for (const id of [pending, again]) expect(await deliveryStatus(app, id)).toMatchObject({ status: 'PENDING', attemptCount: 0 });
    expect(receiver.requests.map(deliveryOf)).toEqual([failed, retrying]);

    answer = { status: 200, body: 'ok' };
    expect((await retryUntilFinal(app, clock, retrying)).status).toBe('SUCCEEDED');
    await drainWorker(app);
    await deliveryReaches(app, pending, 'SUCCEEDED');
    await deliveryReaches(app, again, 'SUCCEEDED');
    expect(receiver.requests.map(deliveryOf)).toEqual([failed, retrying, retrying, pending, again]);
  });
});

describe.concurrent('the rate limit above 1 per second', () => {
  it('rateLimitPerSecond 5: a burst of 5 at once across two workers, then one per 200 ms of the clock; an idle bucket holds 5', async ({ startApp, startReceiver }) => {
    // a clock that stands still: tokens come only when the test moves it
    const clock = manualClock(Date.now());
    const env = { DESKHOOKS_REQUEST_TIMEOUT: '60s' }; // the burst is held at the receiver
    const app = await startApp(env, { clock: clock.now });
    let hold = true;
    let inFlight = 0;
    let maxInFlight = 0;
    const held: (() => void)[] = [];
    const receiver = await startReceiver(
      () =>
        new Promise<Reply | undefined>((resolve) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const answer = () => {
            inFlight--;
            resolve(undefined);
          };
          if (hold) held.push(answer);
          else answer();
        }),
    );
    const webhookId = await createWebhook(app, { ...jsonHook('Five a second', `${receiver.url}/five`), rateLimitPerSecond: 5 });
    const ticketId = await createTicket(app, 'rate 5');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await testWebhook(app, webhookId, ticketId));
    const other = await startApp({ ...env, DESKHOOKS_ROLE: 'worker' }, { databaseUrl: app.databaseUrl, clock: clock.now });

    /** wakes both workers until `n` attempts have started; then no more start at this time of the clock */
    const started = async (n: number) => {
      await drainWorker(other);
      await drainWorker(app);
      await receiver.waitForRequests(n);
      await drainWorker(other);
      await drainWorker(app);
      expect(receiver.requests).toHaveLength(n);
    };

    // the burst: five in flight at once, neither worker starts a sixth
    await receiver.waitForRequests(5);
    await Promise.race([other.worker!.wake(), receiver.waitForRequests(6, 5_000)]);
    expect(receiver.requests).toHaveLength(5);
    expect(maxInFlight).toBe(5);
    hold = false;
    for (const answer of held.splice(0)) answer();
    await started(5);

    clock.advance(100); // half a token
    await started(5);
    clock.advance(100);
    await started(6);
    clock.advance(1_000); // five tokens
    await started(11);
    clock.advance(1_000); // five, one of them spent
    await started(12);
    for (const id of ids) await deliveryReaches(app, id, 'SUCCEEDED');
    expect(receiver.requests.map(deliveryOf)).toEqual(ids);

    // a minute idle fills the bucket to 5, not more
    clock.advance(60_000);
    for (let i = 0; i < 8; i++) ids.push(await testWebhook(app, webhookId, ticketId));
    await started(17);
    clock.advance(400);
    await started(19);
    clock.advance(200);
    await started(20);
    for (const id of ids) await deliveryReaches(app, id, 'SUCCEEDED');
    expect(maxInFlight).toBe(5);
  });
});
