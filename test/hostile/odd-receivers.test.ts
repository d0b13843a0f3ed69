/**
 * Receivers that answer in odd but real ways, end to end (testWebhook → worker → recorded
 * outcome → ticket), each with an app of its own; receivers listen on 127.0.0.1:
 * - a form answer that repeats one key many times (a list of ids) is read in linear time:
 *   its values are mapped and the worker is not held up by it;
 * - a receiver that closes a kept-alive connection as the next request goes out on it (an
 *   idle timeout shorter than the client's) does not fail that delivery: the request is sent
 *   again on another connection, within the same attempt, and a note says so;
 * - an answer with its Content-Length given twice (a proxy and the application each set it),
 *   which undici refuses, is read leniently whole: its values are written back;
 * - a status line with a status code below 100 ("HTTP/1.1 000") is a failed attempt, retried,
 *   whose error says what was wrong with the answer, not an internal assertion of the client;
 *   one of 600-999 too, whose error says it is not an HTTP status code;
 * - a Content-Type given twice (a proxy adding its own beside the application's) is read as
 *   browsers read it: the last media type wins, so a JSON answer's values are written back.
 */
import { describe } from 'vitest';
import { createCustomFields, createTicket, createWebhook, deliveryReaches, deliveryStatus, getTicket, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';
import { startRawReceiver, startSocketReceiver } from '../support/receiver.js';
import type { WebhookInput } from '../generated/graphql.js';

const it = test;

/**
 * A receiver on 127.0.0.1 that answers the first request of each connection (keeping it open)
 * and closes the connection, unanswered, when another request comes on it: an HTTP server
 * whose idle timeout ends a kept-alive connection just as the client reuses it.
 * `requests`: the X-Deskhooks-Delivery of each request, with whether it was answered.
 */
async function startIdleClosingReceiver() {
  const requests: { delivery: string; answered: boolean }[] = [];
  const receiver = await startSocketReceiver(({ head, onConnection }, socket) => {
    const answered = onConnection === 0;
    requests.push({ delivery: /x-deskhooks-delivery:\s*(\S+)/i.exec(head)?.[1] ?? '', answered });
    if (answered) socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}');
    else socket.destroy();
  });
  return { ...receiver, url: `${receiver.url}/hook`, requests };
}

const DELIVERY = `query($id: ID!) { delivery(id: $id) { status attemptCount notes responseData attempts { statusCode error } } }`;

/** The first outcome of a test send of a webhook made of `input`, waited for up to `waitMs` (waitFor's default bound without). */
async function firstOutcome(app: TestApp, input: WebhookInput, waitMs?: number) {
  const ticketId = await createTicket(app, 'odd receiver');
  const id = await testWebhook(app, await createWebhook(app, input), ticketId);
  if (waitMs === undefined) await deliveryReaches(app, id, 'RETRYING', 'SUCCEEDED', 'FAILED');
  else await waitFor(async () => ['RETRYING', 'SUCCEEDED', 'FAILED'].includes((await deliveryStatus(app, id)).status), { timeoutMs: waitMs, what: `delivery ${id} to have its first outcome` });
  const { delivery } = await app.ok(DELIVERY, { id });
  return { delivery, ticketId };
}

/**
 * The bound on reading the 1 MiB form answer below: read in linear time it takes about a second
 * of one core (parsed for the success rule and again for the mappings), several times that
 * beside a whole suite on two cores; read in quadratic time it would take hours.
 */
const LINEAR_READ_MS = 60_000;

describe.concurrent('answers that are costly to read', () => {
  it('a 1 MiB form answer repeating one key (id=…&id=…) is read in linear time: its values are mapped', async ({ app, startReceiver, expect }) => {
    const pairs = Array.from({ length: 100_000 }, (_, i) => `id=${i}`).join('&');
    const receiver = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${pairs}&status=OK` }));
    const { delivery } = await firstOutcome(app, {
      ...jsonHook('Many ids', `${receiver.url}/hook`),
      responseMappings: [
        { path: 'id[0]', target: 'TEMPORARY', field: 'first' },
        { path: 'id[99999]', target: 'TEMPORARY', field: 'last' },
      ],
      successRule: { statuses: '200', path: 'status', operator: 'EQUALS', value: 'OK', onFailure: 'FAIL' },
    }, LINEAR_READ_MS);
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1, notes: [], responseData: { first: '0', last: '99999' } });
  }, LINEAR_READ_MS + 30_000);
});

describe.concurrent('connections the receiver closes', () => {
  it('a kept-alive connection closed as the next request goes out on it: that request is sent again on another connection, the delivery SUCCEEDED in one attempt with a note', async ({ app, onTestFinished, expect }) => {
    const receiver = await startIdleClosingReceiver();
    onTestFinished(() => receiver.close());
    const webhookId = await createWebhook(app, jsonHook('Idle closing', receiver.url));
    const ticketId = await createTicket(app, 'idle closing receiver');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await testWebhook(app, webhookId, ticketId);
      await deliveryReaches(app, id, 'RETRYING', 'SUCCEEDED', 'FAILED');
      ids.push(id);
    }
    const deliveries = await Promise.all(ids.map(async (id) => (await app.ok(DELIVERY, { id })).delivery));
    for (const d of deliveries) expect(d).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1, attempts: [{ statusCode: 200, error: null }] });
    expect(deliveries[0].notes).toEqual([]);
    for (const d of deliveries.slice(1)) {
      expect(d.notes).toEqual([expect.stringMatching(/^attempt 1: the receiver closed the kept-alive connection the request went out on before answering \((UND_ERR_SOCKET|ECONNRESET|EPIPE)\), so the request was sent again on another connection$/)]);
    }
    // each later delivery: once on the kept-alive connection (closed unanswered), once on a new one
    expect(receiver.requests).toEqual([
      { delivery: ids[0], answered: true },
      { delivery: ids[1], answered: false },
      { delivery: ids[1], answered: true },
      { delivery: ids[2], answered: false },
      { delivery: ids[2], answered: true },
    ]);
  });
});

describe.concurrent('answers undici refuses', () => {
  it('Content-Length given twice with the same value: the answer is read whole, its status decides, its values are written back, a note says what was malformed', async ({ app, onTestFinished, expect }) => {
    await createCustomFields(app, [{ key: 'order_id', name: 'Order id', type: 'TEXT' }]);
    const json = '{"order":{"id":"A-17"}}';
    const receiver = await startRawReceiver(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nContent-Length: ${json.length}\r\n\r\n${json}`);
    onTestFinished(() => receiver.close());
    const { delivery, ticketId } = await firstOutcome(app, { ...jsonHook('Twice the length', `${receiver.url}/hook`), responseMappings: [{ path: 'order.id', target: 'CUSTOM_FIELD', field: 'order_id' }] });
    expect(delivery).toMatchObject({
      status: 'SUCCEEDED',
      attemptCount: 1,
      attempts: [{ statusCode: 200, error: null }],
      responseData: { order_id: 'A-17' },
      notes: ['attempt 1: the answer is not valid HTTP/1.1 (Content-Length is given more than once); it was read leniently'],
    });
    expect((await getTicket(app, ticketId)).customFields).toEqual({ order_id: 'A-17' });
    expect(receiver.requests()).toBe(1);
  });
});

describe.concurrent('answers whose body cannot be delimited', () => {
  it('Content-Length given twice with different values: its status decides, and the note says the body\'s end cannot be told (not that it had not all come)', async ({ app, onTestFinished, expect }) => {
    const json = '{"order":{"id":"A-17"}}';
    const receiver = await startRawReceiver(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nContent-Length: ${json.length + 5}\r\n\r\n${json}`);
    onTestFinished(() => receiver.close());
    const { delivery } = await firstOutcome(app, jsonHook('Two lengths', `${receiver.url}/hook`));
    expect(delivery).toMatchObject({
      status: 'SUCCEEDED',
      attempts: [{ statusCode: 200, error: null }],
      notes: ['attempt 1: the answer is not valid HTTP/1.1 (Content-Length is given more than once); it was read leniently, its status 200 and headers but not its body, whose end cannot be told: its Content-Length names no single length'],
    });
  });
});

describe.concurrent('status codes outside 100-599', () => {
  it('a status below 100: a failed attempt, retried, whose error says the status code is below 100', async ({ app, onTestFinished, expect }) => {
    for (const status of ['000', '099']) {
      const receiver = await startRawReceiver(`HTTP/1.1 ${status} OK\r\nContent-Length: 2\r\n\r\nok`);
      onTestFinished(() => receiver.close());
      const { delivery } = await firstOutcome(app, jsonHook(`Status ${status}`, `${receiver.url}/hook`));
      expect(delivery, status).toMatchObject({ status: 'RETRYING', attemptCount: 1 });
      expect(delivery.attempts, status).toEqual([{
        statusCode: null,
        error: 'the answer is not valid HTTP/1.1 (its status code is below 100) and no status line could be read from it; the receiver received the request and may have acted on it',
      }]);
    }
  });

  it('a status of 600-999: a failed attempt, retried, whose error says it is not an HTTP status code; a success rule naming statuses says so too', async ({ app, onTestFinished, expect }) => {
    for (const [status, successRule, error] of [
      ['600', null, 'HTTP 600 (not an HTTP status code: those are 100–599)'],
      ['999', null, 'HTTP 999 (not an HTTP status code: those are 100–599)'],
      ['700', { statuses: '200-299' }, 'HTTP 700 (not an HTTP status code: those are 100–599) (expected status 200-299)'],
    ] as const) {
      const receiver = await startRawReceiver(`HTTP/1.1 ${status} Odd\r\nContent-Length: 2\r\n\r\nok`);
      onTestFinished(() => receiver.close());
      const { delivery } = await firstOutcome(app, { ...jsonHook(`Status ${status}`, `${receiver.url}/hook`), ...(successRule ? { successRule } : {}) });
      expect(delivery, status).toMatchObject({ status: 'RETRYING', attemptCount: 1 });
      expect(delivery.attempts, status).toEqual([{ statusCode: Number(status), error }]);
    }
  });
});

describe.concurrent('a Content-Type given more than once', () => {
  it('two Content-Type headers, or one listing two types: the last wins, as browsers read it, and the JSON answer is mapped', async ({ app, onTestFinished, expect }) => {
    const json = '{"order":{"id":"A-17"}}';
    for (const [name, types] of [
      ['Two headers', 'Content-Type: text/html\r\nContent-Type: application/json; charset=utf-8\r\n'],
      ['One joined', 'Content-Type: text/html; charset="a,b", application/json\r\n'],
    ] as const) {
      const receiver = await startRawReceiver(`HTTP/1.1 200 OK\r\n${types}Content-Length: ${json.length}\r\n\r\n${json}`);
      onTestFinished(() => receiver.close());
      const { delivery } = await firstOutcome(app, { ...jsonHook(name, `${receiver.url}/hook`), responseMappings: [{ path: 'order.id', target: 'TEMPORARY', field: 'order_id' }] });
      expect(delivery, name).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1, notes: [], responseData: { order_id: 'A-17' } });
    }
  });
});
