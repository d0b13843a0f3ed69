/**
 * previewWebhook with `input`: the console's editor previews the definition as it is being
 * typed, before it is saved — for a new webhook (no id) and for a stored one (its id).
 */
import { expect } from 'vitest';
import { createCustomFields, createTicket, createWebhook, jsonHook, test } from '../support/fixtures.js';

const PREVIEW = `query ($id: ID, $ticketId: ID!, $input: WebhookInput) {
  previewWebhook(id: $id, ticketId: $ticketId, input: $input) { method url headers body }
}`;

test('an unsaved definition renders for the ticket; a bad template is refused naming its field and position; the stored webhook is unchanged', async ({
  app,
}) => {
  const ticketId = await createTicket(app, 'Printer on fire');
  const draft = {
    name: '',
    method: 'PUT' as const,
    url: 'http://127.0.0.1:9/t/{{ ticket.id }}',
    format: 'JSON' as const,
    body: '{"title": "{{ ticket.title }}"}',
    headers: [{ name: 'X-Token', value: 'hunter2', secret: true }],
    auth: { type: 'BEARER' as const },
  };
  const fresh = await app.ok(PREVIEW, { ticketId, input: draft });
  expect(fresh.previewWebhook).toMatchObject({ method: 'PUT', url: `http://127.0.0.1:9/t/${ticketId}`, body: '{"title": "Printer on fire"}' });
  expect(fresh.previewWebhook.headers).toMatchObject({ Authorization: 'Bearer ***', 'X-Token': '***' });
  expect(JSON.stringify(fresh)).not.toContain('hunter2');

  const id = await createWebhook(app, jsonHook('stored', 'http://127.0.0.1:9/stored'));
  const edited = await app.ok(PREVIEW, { id, ticketId, input: { ...draft, body: '{"id": "{{ ticket.id }}"}' } });
  expect(edited.previewWebhook.body).toBe(`{"id": "${ticketId}"}`);
  expect((await app.ok(PREVIEW, { id, ticketId })).previewWebhook.url).toBe('http://127.0.0.1:9/stored');

  const bad = await app.gql(PREVIEW, { id, ticketId, input: { ...draft, body: '{"a": 1,\n "b": "{{ ticket.nope }}"}' } });
  expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
  expect(bad.errors?.[0]?.message).toMatch(/2:\d+/);

  const neither = await app.gql(PREVIEW, { ticketId });
  expect(neither.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
});

test('an unsaved definition naming a custom field that does not exist is refused as a save refuses it, not previewed with the tag empty', async ({ app }) => {
  await createCustomFields(app, [{ key: 'order_no', name: 'Order no', type: 'TEXT' }]);
  const ticketId = await createTicket(app, { title: 'Order', customFields: { order_no: 'A-7' } });
  const draft = { name: 'orders', method: 'POST' as const, url: 'http://127.0.0.1:9/orders/{{ ticket.custom.order_no }}', format: 'JSON' as const, body: '{"order": "{{ ticket.custom.order_no }}"}' };
  expect((await app.ok(PREVIEW, { ticketId, input: draft })).previewWebhook).toMatchObject({ url: 'http://127.0.0.1:9/orders/A-7', body: '{"order": "A-7"}' });
  const typo = { ...draft, body: '{"order": "{{ ticket.custom.ordr_no }}"}' };
  const previewed = await app.gql(PREVIEW, { ticketId, input: typo });
  const saved = await app.gql(`mutation ($input: WebhookInput!) { createWebhook(input: $input) { id } }`, { input: typo });
  expect(previewed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
  expect(previewed.errors?.[0]?.message).toContain('unknown custom field "ordr_no" in tag "{{ ticket.custom.ordr_no }}" at 1:12 (known: order_no)');
  expect(previewed.errors?.[0]?.message).toBe(saved.errors?.[0]?.message);
});
