/**
 * An answer cut off after its status line is no answer: when the receiver sends
 * `200` and its headers and then stalls past the request timeout (2 s in tests), or
 * resets the connection part way through the body, the attempt failed as the transport
 * says (a timeout, a reset) and is retried; the success rule never judges the partial
 * body, even one whose parsed part would satisfy the rule's path check.
 * An answer longer than the 1 MiB read is judged on its first 1 MiB: when that does not
 * parse, the errors and notes say it was cut, not that the receiver sent a broken document.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect } from 'vitest';
import { createTicket, deliveryReaches, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';
import { DpCreateWebhookDocument, DpDeliveryDocument, type WebhookInput } from '../generated/graphql.js';

const it = test;

/** A raw receiver on 127.0.0.1 that answers every request with `answer`; closed with `close`. */
async function rawReceiver(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      answer(req, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function delivery(app: TestApp, id: string) {
  const d = (await app.ok(DpDeliveryDocument, { id })).delivery;
  if (!d) throw new Error(`delivery ${id} not found`);
  return d;
}

/** Sends the webhook once and waits for the first attempt's outcome (retries wait for the test's clock). */
async function firstOutcome(app: TestApp, input: WebhookInput) {
  const webhookId = (await app.ok(DpCreateWebhookDocument, { input })).createWebhook.id;
  const id = await testWebhook(app, webhookId, await createTicket(app, 'cut off'));
  await deliveryReaches(app, id, 'RETRYING', 'SUCCEEDED', 'FAILED');
  return delivery(app, id);
}

describe.concurrent('an answer cut off mid-body', () => {
  it('200 and headers, then a stall past the request timeout: RETRYING, the attempt timed out', async ({ startApp, clock, onTestFinished }) => {
    const app = await startApp({ DESKHOOKS_REQUEST_TIMEOUT: '2s' }, { clock: clock.now });
    const receiver = await rawReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '64' });
      res.write('{"ok":'); // ...and never the rest
    });
    onTestFinished(() => receiver.close());
    const d = await firstOutcome(app, jsonHook('Stalls', `${receiver.url}/stall`));
    expect(d).toMatchObject({ status: 'RETRYING', attemptCount: 1 });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]!.error).toMatch(/timed out after 2000 ms/);
    expect(receiver.requests()).toBe(1);
  });

  it('200 and part of a body the rule would accept, then a reset connection: RETRYING, the attempt names the reset', async ({ app, onTestFinished }) => {
    const receiver = await rawReceiver((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '64' });
      // a form answer whose first part already reads result=OK
      res.write('result=OK&id=', () => setTimeout(() => req.socket.resetAndDestroy(), 50));
    });
    onTestFinished(() => receiver.close());
    const d = await firstOutcome(app, {
      ...jsonHook('Resets', `${receiver.url}/reset`),
      successRule: { statuses: '200', path: 'result', operator: 'EQUALS', value: 'OK', onFailure: 'FAIL' },
    });
    expect(d).toMatchObject({ status: 'RETRYING', attemptCount: 1 });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]!.error).toMatch(/connection reset \(ECONNRESET/);
    expect(receiver.requests()).toBe(1);
  });

  it('a whole JSON answer longer than the 1 MiB read: the failed path check and the skipped mapping say it was cut there, not that the receiver sent broken JSON', async ({ app, onTestFinished }) => {
    // valid JSON of about 2 MB whose first bytes satisfy the rule: only its first 1 MiB is read
    const big = JSON.stringify({ ok: true, id: 7, items: Array.from({ length: 40_000 }, (_, i) => ({ i, pad: 'x'.repeat(30) })) });
    const receiver = await rawReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(big);
    });
    onTestFinished(() => receiver.close());
    const d = await firstOutcome(app, {
      ...jsonHook('Big answer', `${receiver.url}/big`),
      responseMappings: [{ path: 'id', target: 'TEMPORARY', field: 'id' }],
      successRule: { statuses: '200', path: 'ok', operator: 'EQUALS', value: 'true', onFailure: 'FAIL' },
    });
    expect(d).toMatchObject({ status: 'FAILED', attemptCount: 1 });
    const cut = 'the answer is longer than the 1 MiB deskhooks reads of it, and its first 1 MiB is not a whole document';
    expect(d.attempts[0]!.error).toBe(`HTTP 200: response path ok not found in the answer (response declared application/json but did not parse as JSON (${cut}); kept as text), expected EQUALS "true"`);

    // the same answer without the rule: a success, and the mapping's note says the same
    const ok = await firstOutcome(app, { ...jsonHook('Big answer, mapped', `${receiver.url}/big`), responseMappings: [{ path: 'id', target: 'TEMPORARY', field: 'id' }] });
    expect(ok.status).toBe('SUCCEEDED');
    const { notes } = (await app.ok(`query ($id: ID!) { delivery(id: $id) { notes } }`, { id: ok.id })).delivery;
    expect(notes).toEqual([`path "id" not found in the response: response declared application/json but did not parse as JSON (${cut}); kept as text`]);
  });
});
