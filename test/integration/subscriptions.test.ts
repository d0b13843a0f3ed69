/** Issue 6 acceptance 1–2: the live delivery feed over graphql-ws. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, bearer, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { collect, wsClient } from '../support/ws.js';
import { waitFor } from '../support/wait.js';

let app: TestApp;
let receiver: Receiver;
let ticketId: string;

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

async function createWebhook(name: string, path: string): Promise<string> {
  const r = await app.ok(`mutation($input: WebhookInput!) { createWebhook(input: $input) { id } }`, {
    input: { name, method: 'POST', url: `${receiver.url}${path}`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' },
  });
  return r.createWebhook.id;
}

async function deliveryStatus(id: string): Promise<string> {
  return (await app.ok(`query($id: ID!) { delivery(id: $id) { status } }`, { id })).delivery.status;
}

beforeAll(async () => {
  app = await startTestApp();
  receiver = await startReceiver((req) => (req.url.startsWith('/b') ? { status: 200 } : undefined));
  ticketId = (await app.ok(`mutation { createTicket(input: { title: "feed", description: "d" }) { id } }`)).createTicket.id;
});
afterAll(async () => {
  await app?.stop();
  await receiver?.close();
});

describe('deliveryEvents', () => {
  it('streams QUEUED, ATTEMPTED(500), ATTEMPTED(200), SUCCEEDED in order for the filtered webhook only', async () => {
    const a = await createWebhook('A', '/a');
    const b = await createWebhook('B', '/b');
    const client = wsClient(app.url, app.adminAuth);
    const feed = collect<FeedEvent>(client, SUBSCRIPTION, { filter: { webhookId: a } });
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the subscription to be registered' });

    receiver.script({ status: 500 }, { status: 200 });
    const da = (await app.ok(`mutation($id: ID!, $t: ID!) { testWebhook(id: $id, ticketId: $t) { id } }`, { id: a, t: ticketId })).testWebhook.id;
    const db = (await app.ok(`mutation($id: ID!, $t: ID!) { testWebhook(id: $id, ticketId: $t) { id } }`, { id: b, t: ticketId })).testWebhook.id;

    await waitFor(() => feed.events.some((e) => e.deliveryEvents.type === 'SUCCEEDED'), { what: 'SUCCEEDED on the feed', timeoutMs: 15_000 });
    await waitFor(async () => (await deliveryStatus(db)) === 'SUCCEEDED', { what: 'the other webhook’s delivery to finish' });
    // B's events were published after its success; give the feed a marker that arrives after them
    const marker = (await app.ok(`mutation($id: ID!, $t: ID!) { testWebhook(id: $id, ticketId: $t) { id } }`, { id: a, t: ticketId })).testWebhook.id;
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

  it('without credentials the connection is refused and nothing arrives', async () => {
    const client = wsClient(app.url, null);
    const feed = collect<FeedEvent>(client, SUBSCRIPTION);
    await waitFor(() => feed.errors.length > 0 || feed.completed, { what: 'the refusal' });
    expect(feed.events).toEqual([]);
    const closed = feed.errors[0] as { code?: number; reason?: string };
    expect(closed.code).toBe(4403);
    await client.dispose();
  });

  it('a CLIENT gets FORBIDDEN and no events; an AGENT is allowed', async () => {
    const mk = async (role: string, email: string) =>
      (await app.ok(`mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }`, { input: { name: role, email, role } })).createUser.apiKey as string;
    const clientKey = await mk('CLIENT', 'feed-client@example.com');
    const agentKey = await mk('AGENT', 'feed-agent@example.com');

    const c = wsClient(app.url, bearer(clientKey));
    const forbidden = collect<FeedEvent>(c, SUBSCRIPTION);
    await waitFor(() => forbidden.errors.length > 0, { what: 'the FORBIDDEN error' });
    expect(JSON.stringify(forbidden.errors)).toContain('FORBIDDEN');

    const g = wsClient(app.url, bearer(agentKey));
    const allowed = collect<FeedEvent>(g, SUBSCRIPTION);
    await waitFor(() => app.services.deliveryEvents.subscriberCount >= 1, { what: 'the agent subscription' });
    const a = await createWebhook('C', '/b');
    const d = (await app.ok(`mutation($id: ID!, $t: ID!) { testWebhook(id: $id, ticketId: $t) { id } }`, { id: a, t: ticketId })).testWebhook.id;
    await waitFor(() => allowed.events.some((e) => e.deliveryEvents.delivery.id === d && e.deliveryEvents.type === 'SUCCEEDED'), { what: 'the agent to see the delivery' });
    expect(forbidden.events).toEqual([]);
    allowed.dispose();
    await c.dispose();
    await g.dispose();
  });
});
