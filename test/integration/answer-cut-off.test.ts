/**
 * An answer cut off after its status line is no answer: when the receiver sends
 * `200` and its headers and then stalls past the request timeout (2 s in tests), or
 * resets the connection part way through the body, the attempt failed as the transport
 * says (a timeout, a reset) and is retried; the success rule never judges the partial
 * body, even one whose parsed part would satisfy the rule's path check.
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
  it('200 and headers, then a stall past the request timeout: RETRYING, the attempt timed out', async ({ app, onTestFinished }) => {
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
});
