/**
 * An XML body nested deeper than the XML parser goes (100 levels) passed the validator and
 * then made the parser throw inside the save: createWebhook and updateWebhook answered
 * INTERNAL_SERVER_ERROR. It is BAD_USER_INPUT naming `body` and the depth; nothing is
 * written; 100 levels are accepted.
 */
import { describe } from 'vitest';
import { test } from '../support/fixtures.js';

const it = test;
const nested = (depth: number) => `${'<a>'.repeat(depth - 1)}<t>{{ ticket.id }}</t>${'</a>'.repeat(depth - 1)}`;
const input = (body: string) => ({ name: 'Deep', method: 'POST', url: 'https://hooks.example.com/in', format: 'XML', body });
const SAVE = `mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`;

describe('XML bodies nested deep', () => {
  it('over 100 levels: BAD_USER_INPUT naming body and the depth, on create and update; nothing written; 100 levels saved', async ({ app, expect }) => {
    for (const depth of [12_000, 101]) {
      const r = await app.gql(SAVE, { i: input(nested(depth)) });
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message]), `${depth}`).toEqual([
        ['BAD_USER_INPUT', 'body', 'body: the XML body is not valid with sample values: elements are nested more than 100 levels deep'],
      ]);
    }
    expect((await app.ok(`{ webhooks { id } }`)).webhooks).toEqual([]);

    const { createWebhook } = await app.ok(SAVE, { i: input(nested(100)) });
    const update = await app.gql(`mutation($id: ID!, $i: WebhookInput!) { updateWebhook(id: $id, input: $i) { id } }`, { id: createWebhook.id, i: input(nested(101)) });
    expect(update.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'body']]);
    expect((await app.ok(`query($id: ID!) { webhook(id: $id) { body } }`, { id: createWebhook.id })).webhook.body).toBe(nested(100));
  });
});
