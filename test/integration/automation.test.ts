/**
 * Issue 5: changes made over GraphQL by the receiver of a delivery being attempted
 * (X-Deskhooks-Delivery) raise no events; an event recorded while no dispatcher runs is
 * processed after a restart (the outbox).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { startReceiver } from '../support/receiver.js';
import { createTicket, createWebhook, jsonHook, testWebhook } from '../support/fixtures.js';

let db: string;
let app: TestApp;

const comments = async (a: TestApp, id: string) =>
  ((await a.ok(`query($id: ID!) { ticket(id: $id) { posts { kind text } } }`, { id })).ticket.posts as { kind: string; text: string }[])
    .filter((p) => p.kind === 'COMMENT')
    .map((p) => p.text);
const pendingEvents = async (a: TestApp) =>
  Number((await a.services.orm.em.fork().getConnection().execute('select count(*)::int as n from ticket_events where processed_at is null'))[0].n);

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({}, db);
  await app.ok(`mutation($input: RuleInput!) { createRule(input: $input) { id } }`, {
    input: { name: 'note urgent', events: ['TICKET_CREATED', 'TICKET_UPDATED'], conditions: [{ field: 'priority', operator: 'EQUALS', value: 'URGENT' }], actions: [{ type: 'ADD_COMMENT', value: 'rule ran for {{ event.type }}' }] },
  });
});
afterAll(async () => app?.stop());

describe('automated changes', () => {
  it('a GraphQL mutation from the receiver of a delivery being attempted raises no event; the same without the header, or with a made-up one, does', async () => {
    const create = (title: string, headers: Record<string, string> = {}) =>
      app.gql(`mutation($t: String!) { createTicket(input: { title: $t, description: "d", priority: URGENT }) { id } }`, { t: title }, app.adminAuth, headers);
    // the receiver calls back while its request is open, with the delivery's own header
    let fromReceiver: Promise<Awaited<ReturnType<typeof create>>> | undefined;
    const receiver = await startReceiver((r) => {
      fromReceiver = create('from a webhook', { 'X-Deskhooks-Delivery': String(r.headers['x-deskhooks-delivery']) });
      return fromReceiver.then(() => ({ status: 200 }));
    });
    try {
      await testWebhook(app, await createWebhook(app, jsonHook('calls back', `${receiver.url}/hook`)), await createTicket(app));
      await receiver.waitForRequests(1);
      const auto = await waitFor(() => fromReceiver);
      const human = await app.ok(`mutation { createTicket(input: { title: "by a person", description: "d", priority: URGENT }) { id } }`);
      const madeUp = await create('made-up header', { 'X-Deskhooks-Delivery': '7d1f9e52-0000-4000-8000-000000000000' });
      await waitFor(async () => (await comments(app, human.createTicket.id)).length === 1 && (await comments(app, madeUp.data!.createTicket.id)).length === 1, { what: 'the rule on the human tickets' });
      await waitFor(async () => (await pendingEvents(app)) === 0, { what: 'no pending events' });
      expect(await comments(app, auto.data!.createTicket.id)).toEqual([]);
      expect(await comments(app, human.createTicket.id)).toEqual(['rule ran for TICKET_CREATED']);
      expect(await comments(app, madeUp.data!.createTicket.id)).toEqual(['rule ran for TICKET_CREATED']);
    } finally {
      await receiver.close();
    }
  });
});

describe('the outbox', () => {
  it('an event recorded while no dispatcher runs is processed after a restart', async () => {
    await app.dispatcher!.stop();
    const t = (await app.ok(`mutation { createTicket(input: { title: "while down", description: "d", priority: URGENT }) { id } }`)).createTicket.id;
    expect(await pendingEvents(app)).toBe(1);
    expect(await comments(app, t)).toEqual([]);
    await app.stop();

    app = await startTestApp({}, db);
    await waitFor(async () => (await comments(app, t)).length === 1, { what: 'the event to be processed after the restart' });
    expect(await comments(app, t)).toEqual(['rule ran for TICKET_CREATED']);
    expect(await pendingEvents(app)).toBe(0);
  });
});
