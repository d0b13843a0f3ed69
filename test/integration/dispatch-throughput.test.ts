/**
 * Dispatcher throughput: 1,000 tickets created over GraphQL, each matching
 * one SEND_WEBHOOK rule → exactly 1,000 deliveries and 1,000 requests at a real receiver:
 * none lost, none doubled. Prints the time from the first mutation to the last arrival.
 *
 * A separate file (its own database and app), so its load does not disturb other tests.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { settled } from '../support/fixtures.js';
import { RlCreateRuleDocument, RlCreateTicketDocument, RlCreateWebhookDocument } from '../generated/graphql.js';

const TICKETS = 1_000;
const CONCURRENCY = 20;

let app: TestApp;
let receiver: Receiver;

beforeAll(async () => {
  // production timings: a burst of sends to one receiver on a busy machine must not time out
  // at the tests' 2 s and be retried (this test counts requests)
  [app, receiver] = await Promise.all([startTestApp({ DESKHOOKS_REQUEST_TIMEOUT: '30s', DESKHOOKS_RETRY_INTERVAL: '30m', DESKHOOKS_RETRY_WINDOW: '24h' }), startReceiver()]);
});
afterAll(async () => {
  await app?.stop();
  await receiver?.close();
});

it(`${TICKETS} tickets matching one SEND_WEBHOOK rule → ${TICKETS} deliveries and ${TICKETS} requests, none lost or doubled`, async () => {
  const { createWebhook } = await app.ok(RlCreateWebhookDocument, {
    input: { name: 'Bench', method: 'POST', url: `${receiver.url}/in`, format: 'JSON', body: '{"ticket": "{{ ticket.id }}"}' },
  });
  const { createRule } = await app.ok(RlCreateRuleDocument, {
    input: { name: 'Every ticket', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: createWebhook.id }] },
  });

  const created: string[] = [];
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TICKETS) {
        const n = next++;
        const { createTicket } = await app.ok(RlCreateTicketDocument, { input: { title: `bench ${n}`, description: 'load' } });
        created.push(createTicket.id);
      }
    }),
  );
  const mutationsDone = Date.now();
  await receiver.waitForRequests(TICKETS, 110_000);
  const lastArrival = Math.max(...receiver.requests.map((r) => r.at));

  // nothing is left to happen: outbox processed, no delivery open
  await settled(app, 30_000);
  const conn = app.services.orm.em.fork().getConnection();

  const seconds = (lastArrival - started) / 1000;
  const [{ dispatched }] = await conn.execute(`select max(processed_at) as dispatched from ticket_events`);
  const since = (t: number) => `${((t - started) / 1000).toFixed(2)} s`;
  console.log(
    `[dispatch-throughput] ${TICKETS} tickets (concurrency ${CONCURRENCY}): last mutation answered at ${since(mutationsDone)}, ` +
      `last event dispatched at ${since(new Date(dispatched).getTime())}, ` +
      `first mutation → last arrival ${seconds.toFixed(2)} s (${(TICKETS / seconds).toFixed(0)} tickets/s end to end)`,
  );

  expect(new Set(created).size).toBe(TICKETS);
  expect(receiver.requests).toHaveLength(TICKETS);
  const deliveryIds = receiver.requests.map((r) => r.headers['x-deskhooks-delivery']);
  expect(new Set(deliveryIds).size).toBe(TICKETS);
  expect(receiver.requests.every((r) => r.headers['x-deskhooks-attempt'] === '1')).toBe(true);
  const ticketIds = receiver.requests.map((r) => JSON.parse(r.body).ticket as string);
  expect(new Set(ticketIds).size).toBe(TICKETS); // each ticket exactly once...
  expect([...ticketIds].sort()).toEqual([...created].sort()); // ...and exactly the tickets created

  const rows: { status: string; rule_id: string; event: string; n: number }[] = await conn.execute(
    `select status, rule_id::text as rule_id, event, count(*)::int as n from deliveries group by status, rule_id, event`,
  );
  expect(rows).toEqual([{ status: 'SUCCEEDED', rule_id: createRule.id, event: 'TICKET_CREATED', n: TICKETS }]);
  const [ids] = await conn.execute(`select count(distinct id)::int as d, count(distinct ticket_id)::int as t from deliveries`);
  expect(ids).toEqual({ d: TICKETS, t: TICKETS });
  expect(new Set(deliveryIds)).toEqual(new Set(((await conn.execute(`select id from deliveries`)) as { id: string }[]).map((r) => r.id)));
}, 120_000);
