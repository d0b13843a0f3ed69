/**
 * Issue 5: changes carrying X-Deskhooks-Delivery over GraphQL raise no events; an event
 * recorded while no dispatcher runs is processed after a restart (the outbox).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

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
  it('a GraphQL mutation carrying X-Deskhooks-Delivery raises no event; the same without it does', async () => {
    const auto = await app.gql(`mutation { createTicket(input: { title: "from a webhook", description: "d", priority: URGENT }) { id } }`, {}, app.adminAuth, { 'X-Deskhooks-Delivery': '7d1f9e52-0000-4000-8000-000000000000' });
    const human = await app.ok(`mutation { createTicket(input: { title: "by a person", description: "d", priority: URGENT }) { id } }`);
    await waitFor(async () => (await comments(app, human.createTicket.id)).length === 1, { what: 'the rule on the human ticket' });
    await waitFor(async () => (await pendingEvents(app)) === 0, { what: 'no pending events' });
    expect(await comments(app, auto.data!.createTicket.id)).toEqual([]);
    expect(await comments(app, human.createTicket.id)).toEqual(['rule ran for TICKET_CREATED']);
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
