/**
 * A rendered request is bounded: a template that repeats a long ticket value (a
 * 100,000-character description eleven times) would make a request of megabytes — stored
 * with the delivery, sent on every attempt (a thousand repeats: 100 MB, and a testWebhook
 * that took 20 s). Over 1 MiB of body (UTF-8 bytes), or as many characters of URL (a GET's
 * FORM body is its query string) or of one header value, the delivery is not sent: FAILED at
 * once naming the part and its size, with the ticket comment every unsendable delivery gets.
 * A request within the limit is sent as before.
 */
import { describe } from 'vitest';
import { comments, createTicket, createWebhook, deliveryReaches, test, testWebhook } from '../support/fixtures.js';
import type { WebhookInput } from '../generated/graphql.js';

const it = test;
const DELIVERY = `query($id: ID!) { delivery(id: $id) { status attemptCount notes request { url body } } }`;

describe('the size of a rendered request', () => {
  it('a body, URL or header value over 1 MiB: FAILED unsent, naming it; 1,000,000 bytes of body are sent', async ({ app, startReceiver, expect }) => {
    const receiver = await startReceiver();
    const ticketId = await createTicket(app, { title: 'long', description: 'd'.repeat(100_000) });
    const tags = (n: number, sep = '') => Array.from({ length: n }, () => '{{ ticket.description }}').join(sep);
    const send = async (name: string, input: Omit<WebhookInput, 'name'>) => {
      const id = await testWebhook(app, await createWebhook(app, { name, ...input }), ticketId);
      await deliveryReaches(app, id, 'SUCCEEDED', 'FAILED');
      return (await app.ok(DELIVERY, { id })).delivery;
    };

    const body = await send('Long body', { method: 'POST', url: `${receiver.url}/body`, format: 'JSON', body: `{"d": "${tags(11)}"}` });
    expect(body).toMatchObject({ status: 'FAILED', attemptCount: 0 });
    expect(body.notes.join('\n')).toContain('body: the rendered body is 1,100,009 bytes, over the limit of 1,048,576 (1 MiB)');
    expect(body.request.body ?? '').not.toContain('d'.repeat(1000));

    const url = await send('Long URL', { method: 'GET', url: `${receiver.url}/url`, format: 'FORM', body: `a=${tags(11)}` });
    expect(url).toMatchObject({ status: 'FAILED', attemptCount: 0 });
    expect(url.notes.join('\n')).toMatch(/url: the rendered URL is 1,100,0\d\d characters, over the limit of 1,048,576 \(1 MiB\)/);
    expect(url.request.url).not.toContain('d'.repeat(1000));

    const header = await send('Long header', { method: 'POST', url: `${receiver.url}/header`, format: 'JSON', body: '', headers: [{ name: 'X-Text', value: tags(11, ' ') }] });
    expect(header).toMatchObject({ status: 'FAILED', attemptCount: 0 });
    expect(header.notes.join('\n')).toContain('headers[0].value: the rendered header value is 1,100,010 characters, over the limit of 1,048,576 (1 MiB)');

    const texts = (await comments(app, ticketId)).map((c) => c.text);
    for (const name of ['Long body', 'Long URL', 'Long header']) expect(texts).toContainEqual(expect.stringMatching(new RegExp(`^Webhook "${name}" was not sent: .*over the limit of 1,048,576`)));
    expect(receiver.requests).toHaveLength(0);

    const within = await send('Within', { method: 'POST', url: `${receiver.url}/within`, format: 'JSON', body: `{"d": "${tags(10)}"}` });
    expect(within).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1 });
    expect(receiver.requests.map((r) => [r.url, r.body.length])).toEqual([['/within', 1_000_009]]);
  });
});
