/**
 * A variable whose value graphql-js refuses before any resolver runs (an enum value that
 * does not exist, a missing required field, an unknown field, a null for a non-null
 * type) is BAD_USER_INPUT with `extensions.field` naming the input, as the resolvers'
 * own refusals name it: `priority`, `headers[0].name`, `filter.status`, over HTTP and over
 * the websocket alike. Nothing is written.
 */
import { expect } from 'vitest';
import { test } from '../support/fixtures.js';
import { collect, wsClient } from '../support/ws.js';
import { waitFor } from '../support/wait.js';
import { hostileTally } from './tally.js';

const tally = hostileTally('variable-errors');

const CREATE_TICKET = `mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }`;
const cases: [what: string, query: string, variables: Record<string, unknown>, field: string][] = [
  ['an enum value that does not exist', CREATE_TICKET, { i: { title: 't', description: 'd', priority: 'SUPER' } }, 'priority'],
  ['a missing required field', CREATE_TICKET, { i: { description: 'd' } }, 'title'],
  ['an unknown field', CREATE_TICKET, { i: { title: 't', description: 'd', bogus: 1 } }, 'bogus'],
  ['a number for a string, passed inside an input written in the operation', `mutation($t: String!) { createTicket(input: { title: $t, description: "d" }) { id } }`, { t: 5 }, 'title'],
  [
    'a missing field in a list item',
    `mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`,
    { i: { name: 'w', method: 'POST', url: 'http://127.0.0.1:9/x', format: 'JSON', headers: [{ name: 'X-A', value: 'a' }, { value: 'b' }] } },
    'headers[1].name',
  ],
  ['a nested input', `mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`, { i: { name: 'w', method: 'POST', url: 'http://127.0.0.1:9/x', format: 'JSON', successRule: { onFailure: 'MAYBE' } } }, 'successRule.onFailure'],
  ['a filter argument', `query($f: DeliveryFilter) { deliveries(filter: $f) { totalCount } }`, { f: { status: 'NOPE' } }, 'filter.status'],
  ['a null for a non-null argument', `query($id: ID!) { ticket(id: $id) { id } }`, { id: null }, 'id'],
  ['a variable not given', `query($id: ID!) { ticket(id: $id) { id } }`, {}, 'id'],
];

test('a refused variable names its field', async ({ app }) => {
  const tickets = async () => (await app.services.orm.em.fork().getConnection().execute(`select count(*)::int as n from tickets`))[0].n;
  for (const [what, query, variables, field] of cases) {
    await tally.unchanged(tickets, async () => {
      const r = await app.gql(query, variables);
      expect(r.errors?.[0]?.extensions, what).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }, what);
  }
});

test('over the websocket too: BAD_USER_INPUT naming the field, for a subscription and a query', async ({ app }) => {
  const client = wsClient(app.url, app.adminAuth);
  const ops: [query: string, variables: Record<string, unknown>, field: string][] = [
    [`subscription($f: DeliveryFilter) { deliveryEvents(filter: $f) { type } }`, { f: { status: 'NOPE' } }, 'filter.status'],
    [`subscription($f: DeliveryFilter) { deliveryEvents(filter: $f) { type } }`, { f: { since: 'yesterday' } }, 'filter.since'],
    [`query($id: ID!) { ticket(id: $id) { id } }`, {}, 'id'],
  ];
  for (const [query, variables, field] of ops) {
    const feed = collect(client, query, variables);
    await waitFor(() => feed.errors.length > 0 || feed.completed, { what: `the refusal of ${JSON.stringify(variables)}` });
    expect(feed.errors, query).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field } }]);
    tally.tried();
  }
  await client.dispose();
});

test('over the websocket, a document graphql-js refuses has the code it has over HTTP', async ({ app }) => {
  const client = wsClient(app.url, app.adminAuth);
  const ops: [query: string, code: string][] = [
    [`subscription { deliveryEvents { bogus } }`, 'GRAPHQL_VALIDATION_FAILED'],
    [`query { tickets(status: NOPE) { id } }`, 'GRAPHQL_VALIDATION_FAILED'],
    [`subscription { deliveryEvents {`, 'GRAPHQL_PARSE_FAILED'],
  ];
  for (const [query, code] of ops) {
    const overHttp = await app.gql(query, {});
    expect(overHttp.errors?.[0]?.extensions?.code, `${query} over HTTP`).toBe(code);
    const feed = collect(client, query, {});
    await waitFor(() => feed.errors.length > 0 || feed.completed, { what: `the refusal of ${query}` });
    // refused at subscribe: the error message carries the list of errors
    expect(feed.errors.flat(), query).toMatchObject([{ extensions: { code } }]);
    tally.tried();
  }
  await client.dispose();
});

test('a value written in the operation that does not fit its type keeps the code GRAPHQL_VALIDATION_FAILED and names its field, over HTTP and the websocket', async ({ app }) => {
  const literal: [query: string, field: string][] = [
    [`mutation { createTicket(input: { title: "t", description: "d", priority: SUPER }) { id } }`, 'priority'],
    [`mutation { createTicket(input: { description: "d" }) { id } }`, 'title'],
    [`mutation { createTicket(input: { title: "t", description: "d", bogus: 1 }) { id } }`, 'bogus'],
    [`mutation { createTicket(input: { title: 5, description: "d" }) { id } }`, 'title'],
    [`mutation { createTicket(input: { title: { text: "t" }, description: "d" }) { id } }`, 'title'],
    [`query { deliveries(filter: { status: { is: FAILED } }) { totalCount } }`, 'filter.status'],
    [`mutation { createWebhook(input: { name: "w", method: POST, url: "http://127.0.0.1:9/x", format: JSON, headers: [{ name: "X-A", value: "a" }, { value: "b" }] }) { id } }`, 'headers[1].name'],
    [`mutation { createWebhook(input: { name: "w", method: POST, url: "http://127.0.0.1:9/x", format: JSON, successRule: { onFailure: MAYBE } }) { id } }`, 'successRule.onFailure'],
    [`query { deliveries(filter: { since: "yesterday" }) { totalCount } }`, 'filter.since'],
    [`query { tickets(status: NOPE) { id } }`, 'status'],
    [`query { tickets(first: 99999999999) { id } }`, 'first'],
    [`query { ticket { id } }`, 'id'],
    [`query { tickets(bogus: 1) { id } }`, 'bogus'],
  ];
  const tickets = async () => (await app.services.orm.em.fork().getConnection().execute(`select count(*)::int as n from tickets`))[0].n;
  for (const [query, field] of literal) {
    await tally.unchanged(tickets, async () => {
      const r = await app.gql(query, {});
      expect(r.errors?.[0]?.extensions, query).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', field });
    }, query);
  }
  // an error about anything but a value names no field
  expect((await app.gql(`query { tickets { bogus } }`, {})).errors?.[0]?.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
  const client = wsClient(app.url, app.adminAuth);
  const feed = collect(client, `subscription { deliveryEvents(filter: { status: NOPE }) { type } }`, {});
  await waitFor(() => feed.errors.length > 0 || feed.completed, { what: 'the refusal over the websocket' });
  expect(feed.errors.flat()).toMatchObject([{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED', field: 'filter.status' } }]);
  tally.tried(literal.length + 2);
  await client.dispose();
});
