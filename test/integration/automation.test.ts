/**
 * Changes made over GraphQL by the receiver of a delivery being attempted
 * (X-Deskhooks-Delivery) raise no events; an event recorded while no dispatcher runs is
 * processed after a restart (the outbox).
 */
import { describe, expect } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { comments, createRule, createTicket, createWebhook, jsonHook, settled, test, testWebhook, type TestApp } from '../support/fixtures.js';
import { AuCreateUrgentTicketDocument } from '../generated/graphql.js';

const texts = async (app: TestApp, id: string) => (await comments(app, id)).map((p) => p.text);
const pendingEvents = async (app: TestApp) =>
  Number((await app.services.orm.em.fork().getConnection().execute('select count(*)::int as n from ticket_events where processed_at is null'))[0].n);
const noteUrgent = (app: TestApp) =>
  createRule(app, {
    name: 'note urgent',
    events: ['TICKET_CREATED', 'TICKET_UPDATED'],
    conditions: [{ field: 'priority', operator: 'EQUALS', value: 'URGENT' }],
    actions: [{ type: 'ADD_COMMENT', value: 'rule ran for {{ event.type }}' }],
  });

describe.concurrent('automated changes', () => {
  test('a GraphQL mutation from the receiver of a delivery being attempted raises no event; the same without the header, or with a made-up one, does', async ({ app, startReceiver }) => {
    await noteUrgent(app);
    const create = (title: string, headers: Record<string, string> = {}) => app.gql(AuCreateUrgentTicketDocument, { title }, app.adminAuth, headers);
    // the receiver calls back while its request is open, with the delivery's own header
    let fromReceiver: ReturnType<typeof create> | undefined;
    const receiver = await startReceiver((r) => {
      fromReceiver = create('from a webhook', { 'X-Deskhooks-Delivery': String(r.headers['x-deskhooks-delivery']) });
      return fromReceiver.then(() => ({ status: 200 }));
    });
    await testWebhook(app, await createWebhook(app, jsonHook('calls back', `${receiver.url}/hook`)), await createTicket(app));
    await receiver.waitForRequests(1);
    const auto = (await waitFor(() => fromReceiver)).data!.createTicket.id;
    const human = (await app.ok(AuCreateUrgentTicketDocument, { title: 'by a person' })).createTicket.id;
    const madeUp = (await create('made-up header', { 'X-Deskhooks-Delivery': '7d1f9e52-0000-4000-8000-000000000000' })).data!.createTicket.id;
    await settled(app);
    expect(await texts(app, auto)).toEqual([]);
    expect(await texts(app, human)).toEqual(['rule ran for TICKET_CREATED']);
    expect(await texts(app, madeUp)).toEqual(['rule ran for TICKET_CREATED']);
  });
});

describe('the outbox', () => {
  test('an event recorded while no dispatcher runs is processed after a restart', async ({ startApp }) => {
    const database = await createTestDatabase();
    try {
      const before = await startApp({}, { databaseUrl: database.url });
      await noteUrgent(before);
      await before.dispatcher!.stop();
      const t = (await before.ok(AuCreateUrgentTicketDocument, { title: 'while down' })).createTicket.id;
      expect(await pendingEvents(before)).toBe(1);
      expect(await texts(before, t)).toEqual([]);
      await before.stop();

      const after = await startApp({}, { databaseUrl: database.url });
      await waitFor(async () => (await texts(after, t)).length === 1, { what: 'the event to be processed after the restart' });
      expect(await texts(after, t)).toEqual(['rule ran for TICKET_CREATED']);
      expect(await pendingEvents(after)).toBe(0);
      await after.stop();
    } finally {
      await database.drop();
    }
  });
});
