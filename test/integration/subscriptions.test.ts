/** The live delivery feed over graphql-ws: order, filters, authentication and roles. */
import { describe, expect } from 'vitest';
import { bearer } from '../support/app.js';
import { collect, wsClient } from '../support/ws.js';
import { waitFor } from '../support/wait.js';
import { createTicket, createUser, createWebhook, deliveryReaches, retryUntilFinal, test, testWebhook, type Receiver, type TestApp } from '../support/fixtures.js';

const SUBSCRIPTION = `subscription Feed($filter: DeliveryFilter) {
  deliveryEvents(filter: $filter) {
    type at
    delivery { id status webhook { id } }
    attempt { number statusCode }
  }
}`;

interface FeedEvent {
  deliveryEvents: { type: string; delivery: { id: string; status: string; webhook: { id: string } | null }; attempt: { number: number; statusCode: number | null } | null };
}

const hook = (app: TestApp, receiver: Receiver, name: string, path: string) =>
  createWebhook(app, { name, method: 'POST', url: `${receiver.url}${path}`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });

/** a receiver that answers /b… with 200 and everything else by its script */
const it = test.extend<{ receiver: Receiver }>({
  receiver: async ({ startReceiver }, use) => use(await startReceiver((req) => (req.url.startsWith('/b') ? { status: 200 } : undefined))),
});

describe.concurrent('deliveryEvents', () => {
  it('streams QUEUED, ATTEMPTED(500), ATTEMPTED(200), SUCCEEDED in order for the filtered webhook only', async ({ app, clock, receiver }) => {
    const ticketId = await createTicket(app, 'feed');
    const a = await hook(app, receiver, 'A', '/a');
    const b = await hook(app, receiver, 'B', '/b');
    const client = wsClient(app.url, app.adminAuth);
    const feed = collect<FeedEvent>(client, SUBSCRIPTION, { filter: { webhookId: a } });
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the subscription to be registered' });

    receiver.script({ status: 500 }, { status: 200 });
    const da = await testWebhook(app, a, ticketId);
    const db = await testWebhook(app, b, ticketId);
    await retryUntilFinal(app, clock, da); // the clock moves to the retry after the 500

    await waitFor(() => feed.events.some((e) => e.deliveryEvents.type === 'SUCCEEDED'), { what: 'SUCCEEDED on the feed', timeoutMs: 15_000 });
    await deliveryReaches(app, db, 'SUCCEEDED');
    // B's events were published after its success; give the feed a marker that arrives after them
    const marker = await testWebhook(app, a, ticketId);
    await waitFor(() => feed.events.some((e) => e.deliveryEvents.delivery.id === marker && e.deliveryEvents.type === 'SUCCEEDED'), { what: 'the marker delivery on the feed' });
    feed.dispose();
    await client.dispose();

    expect(feed.errors).toEqual([]);
    const forA = feed.events.filter((e) => e.deliveryEvents.delivery.id === da).map((e) => e.deliveryEvents);
    expect(forA.map((e) => e.type)).toEqual(['QUEUED', 'ATTEMPTED', 'ATTEMPTED', 'SUCCEEDED']);
    expect(forA.filter((e) => e.type === 'ATTEMPTED').map((e) => [e.attempt?.number, e.attempt?.statusCode])).toEqual([[1, 500], [2, 200]]);
    expect(feed.events.every((e) => e.deliveryEvents.delivery.webhook?.id === a)).toBe(true);
    expect(feed.events.some((e) => e.deliveryEvents.delivery.id === db)).toBe(false);
  });

  it('without credentials the connection is refused and nothing arrives', async ({ app }) => {
    const client = wsClient(app.url, null);
    const feed = collect<FeedEvent>(client, SUBSCRIPTION);
    await waitFor(() => feed.errors.length > 0 || feed.completed, { what: 'the refusal' });
    expect(feed.events).toEqual([]);
    const closed = feed.errors[0] as { code?: number; reason?: string };
    expect(closed.code).toBe(4403);
    await client.dispose();
  });

  it('a filter id no delivery can have is BAD_USER_INPUT naming the field, as for deliveries; no subscription is left', async ({ app }) => {
    const client = wsClient(app.url, app.adminAuth);
    for (const [filter, field] of [[{ webhookId: 'abc' }, 'filter.webhookId'], [{ ticketId: '05' }, 'filter.ticketId'], [{ webhookId: '1', ticketId: '-1' }, 'filter.ticketId']] as const) {
      const feed = collect<FeedEvent>(client, SUBSCRIPTION, { filter });
      await waitFor(() => feed.errors.length > 0 || feed.completed, { what: `the refusal of ${JSON.stringify(filter)}` });
      expect(feed.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field } }]);
      expect((await app.gql(`query($f: DeliveryFilter) { deliveries(filter: $f) { totalCount } }`, { f: filter })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(app.services.deliveryEvents.subscriberCount).toBe(0);
    await client.dispose();
  });

  it('a CLIENT gets FORBIDDEN and no events; an AGENT is allowed', async ({ app, receiver }) => {
    const ticketId = await createTicket(app, 'feed');
    const clientKey = (await createUser(app, { name: 'CLIENT', email: 'feed-client@example.com', role: 'CLIENT' })).key;
    const agentKey = (await createUser(app, { name: 'AGENT', email: 'feed-agent@example.com', role: 'AGENT' })).key;

    const c = wsClient(app.url, bearer(clientKey));
    const forbidden = collect<FeedEvent>(c, SUBSCRIPTION);
    await waitFor(() => forbidden.errors.length > 0, { what: 'the FORBIDDEN error' });
    expect(JSON.stringify(forbidden.errors)).toContain('FORBIDDEN');

    const g = wsClient(app.url, bearer(agentKey));
    const allowed = collect<FeedEvent>(g, SUBSCRIPTION);
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the agent subscription' });
    const d = await testWebhook(app, await hook(app, receiver, 'C', '/b'), ticketId);
    await waitFor(() => allowed.events.some((e) => e.deliveryEvents.delivery.id === d && e.deliveryEvents.type === 'SUCCEEDED'), { what: 'the agent to see the delivery' });
    expect(forbidden.events).toEqual([]);
    allowed.dispose();
    await c.dispose();
    await g.dispose();
  });
});
