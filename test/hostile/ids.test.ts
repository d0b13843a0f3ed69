/**
 * Ids that are no ids: an argument naming a row by an id that is not a bigint the tables
 * could hold ("abc", one past the bigint range, a huge number) names no row. It is answered
 * like any id that names nothing (NOT_FOUND or BAD_USER_INPUT naming the argument), never
 * as an internal error from PostgreSQL refusing the query, and nothing is written.
 */
import { describe } from 'vitest';
import { createTicket, createWebhook, jsonHook, test } from '../support/fixtures.js';

const it = test;
const NOT_IDS = ['abc', '9223372036854775808', '99999999999999999999999', '1.5', '0x10'];

describe('ids that are not ids', () => {
  it('testWebhook with such a ticketId is BAD_USER_INPUT naming ticketId; no delivery is made', async ({ app, startReceiver, expect }) => {
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('Any', `${receiver.url}/hook`));
    await createTicket(app, 'a real ticket');
    for (const ticketId of NOT_IDS) {
      const r = await app.gql(`mutation($id: ID!, $ticketId: ID!) { testWebhook(id: $id, ticketId: $ticketId) { id } }`, { id: webhookId, ticketId });
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message]), ticketId).toEqual([['BAD_USER_INPUT', 'ticketId', `ticketId: ticket ${ticketId} not found`]]);
    }
    const { deliveries } = await app.ok(`{ deliveries(first: 10) { totalCount } }`);
    expect(deliveries.totalCount).toBe(0);
  });
});
