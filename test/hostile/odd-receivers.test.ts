/**
 * Receivers that answer in odd but real ways, end to end (testWebhook → worker → recorded
 * outcome → ticket), each with an app of its own; receivers listen on 127.0.0.1:
 * - a form answer that repeats one key many times (a list of ids) is read in linear time:
 *   its values are mapped and the worker is not held up by it.
 */
import { describe } from 'vitest';
import { createTicket, createWebhook, deliveryReaches, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';
import type { WebhookInput } from '../generated/graphql.js';

const it = test;

const DELIVERY = `query($id: ID!) { delivery(id: $id) { status attemptCount notes responseData attempts { statusCode error } } }`;

/** Sends the webhook once for a new ticket; the delivery after its first attempt, and the ticket. */
async function firstOutcome(app: TestApp, input: WebhookInput) {
  const ticketId = await createTicket(app, 'odd receiver');
  const id = await testWebhook(app, await createWebhook(app, input), ticketId);
  await deliveryReaches(app, id, 'RETRYING', 'SUCCEEDED', 'FAILED');
  const { delivery } = await app.ok(DELIVERY, { id });
  return { delivery, ticketId };
}

describe.concurrent('answers that are costly to read', () => {
  it('a 1 MiB form answer repeating one key (id=…&id=…) is read in linear time: its values are mapped', async ({ app, startReceiver, expect }) => {
    const pairs = Array.from({ length: 100_000 }, (_, i) => `id=${i}`).join('&');
    const receiver = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${pairs}&status=OK` }));
    const started = Date.now();
    const { delivery } = await firstOutcome(app, {
      ...jsonHook('Many ids', `${receiver.url}/hook`),
      responseMappings: [
        { path: 'id[0]', target: 'TEMPORARY', field: 'first' },
        { path: 'id[99999]', target: 'TEMPORARY', field: 'last' },
      ],
      successRule: { statuses: '200', path: 'status', operator: 'EQUALS', value: 'OK', onFailure: 'FAIL' },
    });
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1, notes: [], responseData: { first: '0', last: '99999' } });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
