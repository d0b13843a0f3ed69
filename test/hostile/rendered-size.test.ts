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
    const send = async (name: string, input: Omit<WebhookInput, 'name'>, ticket = ticketId) => {
      const id = await testWebhook(app, await createWebhook(app, { name, ...input }), ticket);
      // RETRYING too: a first attempt that failed (timed out on a loaded machine) fails the test by its state, not by a wait
      await deliveryReaches(app, id, 'SUCCEEDED', 'FAILED', 'RETRYING');
      return (await app.ok(DELIVERY, { id })).delivery;
    };

    const body = await send('Long body', { method: 'POST', url: `${receiver.url}/body`, format: 'JSON', body: `{"d": "${tags(11)}"}` });
    expect(body).toMatchObject({ status: 'FAILED', attemptCount: 0 });
    // refused before it is built: its length is known from the values and the template's text
    expect(body.notes.join('\n')).toContain('body: the rendered text would be 1,100,009 characters, over the limit of 1,048,576 (1 MiB)');
    expect(body.request.body ?? '').not.toContain('d'.repeat(1000));

    const url = await send('Long URL', { method: 'GET', url: `${receiver.url}/url`, format: 'FORM', body: `a=${tags(11)}` });
    expect(url).toMatchObject({ status: 'FAILED', attemptCount: 0 });
    // a GET's FORM body, its query string, is refused as the body the admin wrote
    expect(url.notes.join('\n')).toMatch(/body: the rendered text would be 1,100,0\d\d characters, over the limit of 1,048,576 \(1 MiB\)/);
    expect(url.request.url).not.toContain('d'.repeat(1000));

    const header = await send('Long header', { method: 'POST', url: `${receiver.url}/header`, format: 'JSON', body: '', headers: [{ name: 'X-Text', value: tags(11, ' ') }] });
    expect(header).toMatchObject({ status: 'FAILED', attemptCount: 0 });
    expect(header.notes.join('\n')).toContain('headers[0].value: the rendered text would be 1,100,010 characters, over the limit of 1,048,576 (1 MiB)');

    // within the limit in characters, over it in UTF-8 bytes (2 a letter): refused once built
    const cyrillic = await createTicket(app, { title: 'long', description: 'д'.repeat(100_000) });
    const wide = await send('Wide body', { method: 'POST', url: `${receiver.url}/wide`, format: 'JSON', body: `{"d": "${tags(6)}"}` }, cyrillic);
    expect(wide).toMatchObject({ status: 'FAILED', attemptCount: 0 });
    expect(wide.notes.join('\n')).toContain('body: the rendered body is 1,200,009 bytes, over the limit of 1,048,576 (1 MiB)');

    const texts = (await comments(app, ticketId)).map((c) => c.text);
    for (const name of ['Long body', 'Long URL', 'Long header']) expect(texts).toContainEqual(expect.stringMatching(new RegExp(`^Webhook "${name}" was not sent: .*over the limit of 1,048,576`)));
    expect(receiver.requests).toHaveLength(0);

    const within = await send('Within', { method: 'POST', url: `${receiver.url}/within`, format: 'JSON', body: `{"d": "${tags(10)}"}` });
    expect(within).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1 });
    expect(receiver.requests.map((r) => [r.url, r.body.length])).toEqual([['/within', 1_000_009]]);
  });
});
