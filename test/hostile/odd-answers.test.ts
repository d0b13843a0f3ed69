/**
 * Odd answers from receivers, end to end (testWebhook → worker → recorded outcome → ticket):
 * - an interim 100 Continue before the answer, or a 101 not asked for (undici drops the
 *   connection: a known deviation from RFC 9110), is a failed attempt whose error says so,
 *   not "connection closed by the server";
 * - a 204 or 304 whose Content-Length names a body it does not carry (RFC 9110 lets a 304
 *   give its representation's length) is a success like any 2xx/3xx, not a failed attempt;
 * - an answer that declared JSON or XML but did not parse says so in the notes of every
 *   mapping it could not serve, instead of calling itself plain text;
 * - white space or a UTF-8 BOM before an XML answer's declaration is no part of it: the answer
 *   parses (in the encoding its declaration names), its values are written back;
 * - a mapped value the ticket would refuse (a text over its 100,000 characters) is skipped
 *   with a note naming the field and the limit; the other mappings are written;
 * - an answer undici's strict parser refuses (bare LF line endings, a folded header,
 *   Content-Length beside chunked) is read leniently: its status decides, a note says what
 *   was malformed; one with no status line fails saying the receiver got the request.
 *
 * Each test has an app of its own (test/support/fixtures.ts); receivers listen on 127.0.0.1.
 */
import { describe } from 'vitest';
import { createCustomFields, createTicket, createWebhook, deliveryReaches, getTicket, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';
import type { WebhookInput } from '../generated/graphql.js';
import { startRawReceiver } from '../support/receiver.js';

const it = test;

const DELIVERY = `query($id: ID!) { delivery(id: $id) { status attemptCount notes responseData attempts { statusCode error responseBody } } }`;

/** Sends the webhook once for a new ticket; the delivery after its first attempt, and the ticket. */
async function firstOutcome(app: TestApp, input: WebhookInput) {
  const ticketId = await createTicket(app, 'odd answer');
  const id = await testWebhook(app, await createWebhook(app, input), ticketId);
  await deliveryReaches(app, id, 'RETRYING', 'SUCCEEDED', 'FAILED');
  const { delivery } = await app.ok(DELIVERY, { id });
  return { delivery, ticketId };
}

describe.concurrent('204 and 304 with a Content-Length', () => {
  for (const [status, head] of [
    ['304', 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n'],
    ['204', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n'],
  ] as const) {
    it(`${status} with a Content-Length and no body: SUCCEEDED at once, the answer empty`, async ({ app, onTestFinished, expect }) => {
      const receiver = await startRawReceiver(head);
      onTestFinished(() => receiver.close());
      const { delivery } = await firstOutcome(app, jsonHook(`Bodiless ${status}`, `${receiver.url}/hook`));
      expect(delivery).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1 });
      expect(delivery.attempts).toEqual([{ statusCode: Number(status), error: null, responseBody: '' }]);
      expect(receiver.requests()).toBe(1);
    });
  }
});

// A known deviation: RFC 9110 has a client read past a 1xx to the final answer; undici drops
// the connection instead. The answer is read from the bytes that had come with the 100
// (below); when the final answer had not come with it, the attempt fails (and is retried)
// with an error that says so.
describe.concurrent('an interim status the HTTP client does not read past', () => {
  for (const [status, head, error] of [
    ['100', 'HTTP/1.1 100 Continue\r\n\r\n', /^the answer began with an interim 100 Continue, which the HTTP client \(undici\) does not read past; the receiver may have acted on the request \(UND_ERR_SOCKET/],
    ['101', 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n', /^the receiver switched protocols \(101\) though no upgrade was asked for \(UND_ERR_SOCKET/],
  ] as const) {
    it(`${status} before (or instead of) the answer: a failed attempt that says so, not "connection closed"`, async ({ app, onTestFinished, expect }) => {
      const receiver = await startRawReceiver(head);
      onTestFinished(() => receiver.close());
      const { delivery } = await firstOutcome(app, jsonHook(`Interim ${status}`, `${receiver.url}/hook`));
      expect(delivery).toMatchObject({ status: 'RETRYING', attemptCount: 1 });
      expect(delivery.attempts).toEqual([{ statusCode: null, error: expect.stringMatching(error), responseBody: null }]);
    });
  }
});

// undici's parser is strict and cannot be made lenient: such an answer is read again from its
// bytes (src/delivery/lenient-answer.ts), so its status decides the attempt, as for any answer
describe.concurrent('an answer that is not strict HTTP/1.1', () => {
  it('bare LF line endings, a folded header, Content-Length beside chunked: read leniently, the status decides, a note says what was malformed; without a status line, a failed attempt saying the receiver got the request', async ({ app, onTestFinished, expect }) => {
    await createCustomFields(app, [{ key: 'sms_id', name: 'SMS id', type: 'TEXT' }]);
    const xml = '<reply><result>OK</result><sms_id>1000001</sms_id></reply>';
    const cases: [name: string, answer: string, status: string, statusCode: number, note: RegExp][] = [
      ['Bare LF', `HTTP/1.1 200 OK\nContent-Type: text/xml\nContent-Length: ${xml.length}\n\n${xml}`, 'SUCCEEDED', 200, /lines end in a bare LF, not CRLF/],
      ['Folded header', `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nX-Gateway: sms\r\n  v2\r\nContent-Length: ${xml.length}\r\n\r\n${xml}`, 'SUCCEEDED', 200, /a header is folded onto the next line \(obs-fold\)/],
      ['Length and chunked', `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${xml.length.toString(16)}\r\n${xml}\r\n0\r\n\r\n`, 'SUCCEEDED', 200, /Content-Length is sent together with Transfer-Encoding: chunked/],
      ['Interim, then bare LF', `HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Type: text/xml\nContent-Length: ${xml.length}\n\n${xml}`, 'SUCCEEDED', 200, /lines end in a bare LF, not CRLF/],
      ['Interim 100, then the answer', `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${xml.length}\r\n\r\n${xml}`, 'SUCCEEDED', 200, /^attempt 1: the answer began with an interim "HTTP\/1\.1 100 Continue", which the HTTP client \(undici\) does not read past; it was read leniently$/],
      ['Bare LF 500', 'HTTP/1.1 500 Internal Server Error\nContent-Length: 4\n\nbusy', 'RETRYING', 500, /lines end in a bare LF, not CRLF/],
    ];
    for (const [name, answer, status, statusCode, note] of cases) {
      const receiver = await startRawReceiver(answer);
      onTestFinished(() => receiver.close());
      const { delivery, ticketId } = await firstOutcome(app, { ...jsonHook(name, `${receiver.url}/hook`), responseMappings: [{ path: 'reply.sms_id', target: 'CUSTOM_FIELD', field: 'sms_id' }] });
      expect(delivery, name).toMatchObject({ status, attemptCount: 1 });
      expect(delivery.attempts[0], name).toMatchObject({ statusCode, error: statusCode === 200 ? null : 'HTTP 500 Internal Server Error' });
      expect(delivery.notes, name).toContainEqual(expect.stringMatching(note));
      expect(delivery.notes, name).toContainEqual(expect.stringMatching(/^attempt 1: (the answer is not valid HTTP\/1\.1 \(.*\)|the answer began with an interim .*); it was read leniently$/));
      if (statusCode === 200) {
        expect(delivery.attempts[0]!.responseBody, name).toBe(xml);
        expect((await getTicket(app, ticketId)).customFields, name).toEqual({ sms_id: '1000001' });
      }
      expect(receiver.requests(), name).toBe(1);
    }
    // the body had not all come when undici gave up: the status decides, but a success rule
    // reading the body cannot judge it, so that attempt is retried (even with onFailure FAIL)
    const unread = await startRawReceiver(`HTTP/1.1 200 OK\nContent-Type: text/xml\nContent-Length: 500\n\n${xml}`);
    onTestFinished(() => unread.close());
    const plain = await firstOutcome(app, jsonHook('Body unread', `${unread.url}/hook`));
    expect(plain.delivery).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1 });
    expect(plain.delivery.notes).toContain('attempt 1: the answer is not valid HTTP/1.1 (lines end in a bare LF, not CRLF); it was read leniently, its status 200 and headers but not its body, which had not all come when the HTTP client gave up');
    const ruled = await firstOutcome(app, { ...jsonHook('Body unread, rule', `${unread.url}/hook`), successRule: { statuses: '200', path: 'reply.result', operator: 'EQUALS', value: 'OK', onFailure: 'FAIL' } });
    expect(ruled.delivery).toMatchObject({ status: 'RETRYING', attemptCount: 1 });
    expect(ruled.delivery.attempts[0]).toMatchObject({ statusCode: 200, error: 'HTTP 200: its body was not read (the HTTP client refused the answer, and not all of it had come), so response path reply.result could not be checked' });

    // a head undici read, and a body it cannot: as a body cut short, no answer (retried)
    const badChunk = await startRawReceiver('HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n<reply/>\r\n0\r\n\r\n');
    onTestFinished(() => badChunk.close());
    const cut = await firstOutcome(app, jsonHook('Bad chunk', `${badChunk.url}/hook`));
    expect(cut.delivery).toMatchObject({ status: 'RETRYING', attemptCount: 1, notes: [] });
    expect(cut.delivery.attempts[0]).toMatchObject({ statusCode: 200, error: expect.stringMatching(/\(Invalid character in chunk size\) while reading the body of the HTTP 200 answer: its status and headers had come, so the receiver may have acted on the request$/) });

    const garbage = await startRawReceiver('OK, sent\r\n\r\n');
    onTestFinished(() => garbage.close());
    const { delivery } = await firstOutcome(app, jsonHook('No status line', `${garbage.url}/hook`));
    expect(delivery).toMatchObject({ status: 'RETRYING', attemptCount: 1 });
    expect(delivery.attempts).toEqual([{
      statusCode: null,
      error: 'the answer is not valid HTTP/1.1 (Expected HTTP/, RTSP/ or ICE/) and no status line could be read from it; the receiver received the request and may have acted on it',
      responseBody: null,
    }]);
  });
});

describe.concurrent('write-back from answers the ticket cannot take whole', () => {
  it('an answer declared JSON or XML that does not parse: each mapping note says so and why', async ({ app, startReceiver, expect }) => {
    const receiver = await startReceiver((req) =>
      req.url.endsWith('/json')
        ? { status: 200, headers: { 'content-type': 'application/json' }, body: '<reply><id>7</id></reply>' }
        : { status: 200, headers: { 'content-type': 'application/xml' }, body: '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r><id>&x;</id></r>' },
    );
    const mappings = [{ path: 'r.id', target: 'TEMPORARY' as const, field: 'id' }];
    const json = await firstOutcome(app, { ...jsonHook('Says JSON', `${receiver.url}/json`), responseMappings: mappings });
    expect(json.delivery.status).toBe('SUCCEEDED');
    expect(json.delivery.notes).toEqual([expect.stringMatching(/^path "r\.id" not found in the response: response declared application\/json but did not parse as JSON \(.*not valid JSON\); kept as text$/)]);
    const xml = await firstOutcome(app, { ...jsonHook('Says XML', `${receiver.url}/xml`), responseMappings: mappings });
    expect(xml.delivery.status).toBe('SUCCEEDED');
    expect(xml.delivery.notes).toEqual(['path "r.id" not found in the response: response declared application/xml but did not parse as XML (External entities are not supported); kept as text']);
  });

  it('XML with a blank line, spaces or a UTF-8 BOM before <?xml …?>: parsed, its values written to the ticket, its success rule read', async ({ app, startReceiver, expect }) => {
    await createCustomFields(app, [
      { key: 'sms_id', name: 'SMS id', type: 'TEXT' },
      { key: 'sms_result', name: 'SMS result', type: 'TEXT' },
    ]);
    const reply = (result: string, id: string) => `<reply><result>${result}</result><sms_id>${id}</sms_id></reply>`;
    // windows-1251 named in the declaration only: read after the blank line too
    const cp1251 = (text: string) => Buffer.from([...text].map((c) => (c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x350 : c.charCodeAt(0))));
    const receiver = await startReceiver((req) =>
      req.url.endsWith('/bom')
        ? { status: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.concat([Buffer.from('\r\n\xEF\xBB\xBF', 'latin1'), Buffer.from(`<?xml version="1.0" encoding="utf-8"?>\n${reply('Доставлено', '1000002')}`)]) }
        : { status: 200, headers: { 'content-type': 'text/xml' }, body: cp1251(`\r\n   <?xml version="1.0" encoding="windows-1251"?>\n${reply('Доставлено', '1000001')}`) },
    );
    const hook = (name: string, path: string): WebhookInput => ({
      ...jsonHook(name, `${receiver.url}${path}`),
      responseMappings: [
        { path: 'reply.sms_id', target: 'CUSTOM_FIELD', field: 'sms_id' },
        { path: 'reply.result', target: 'CUSTOM_FIELD', field: 'sms_result' },
      ],
      successRule: { statuses: '200', path: 'reply.result', operator: 'EQUALS', value: 'Доставлено', onFailure: 'FAIL' },
    });
    for (const [name, path, id] of [['Blank line first', '/blank', '1000001'], ['BOM after a line break', '/bom', '1000002']] as const) {
      const { delivery, ticketId } = await firstOutcome(app, hook(name, path));
      expect(delivery).toMatchObject({ status: 'SUCCEEDED', notes: [], responseData: { sms_id: id, sms_result: 'Доставлено' } });
      expect((await getTicket(app, ticketId)).customFields).toEqual({ sms_id: id, sms_result: 'Доставлено' });
    }
  });

  it('a text over 100,000 characters for a TEXT field is not written and noted; the other mapped fields are written', async ({ app, startReceiver, expect }) => {
    await createCustomFields(app, [
      { key: 'wb_text', name: 'Long text', type: 'TEXT' },
      { key: 'wb_num', name: 'A number', type: 'NUMBER' },
      { key: 'wb_fits', name: 'Text that fits', type: 'TEXT' },
    ]);
    const long = 'y'.repeat(100_001);
    const fits = 'z'.repeat(100_000);
    const receiver = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ long, n: 42, fits }) }));
    const { delivery, ticketId } = await firstOutcome(app, {
      ...jsonHook('Long answer', `${receiver.url}/hook`),
      responseMappings: [
        { path: 'long', target: 'CUSTOM_FIELD', field: 'wb_text' },
        { path: 'n', target: 'CUSTOM_FIELD', field: 'wb_num' },
        { path: 'fits', target: 'CUSTOM_FIELD', field: 'wb_fits' },
      ],
    });
    expect(delivery.status).toBe('SUCCEEDED');
    expect(delivery.notes).toEqual(['path "long": custom field "wb_text" is TEXT: the text is too long: at most 100,000 characters are allowed (got 100,001)']);
    expect((await getTicket(app, ticketId)).customFields).toEqual({ wb_num: 42, wb_fits: fits });
  });
});
