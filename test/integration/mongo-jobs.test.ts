/**
 * Agenda's job store in MongoDB (MONGODB_URL). No MongoDB server can be installed on the
 * machines this project is built on, so this runs only where MONGODB_URL is set.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { createTicket, createWebhook, jsonHook, testWebhook } from '../support/fixtures.js';

const mongodbUrl = process.env.MONGODB_URL;
let app: TestApp | undefined;
let receiver: Receiver | undefined;

afterAll(async () => {
  await app?.stop();
  await receiver?.close();
});

describe.skipIf(!mongodbUrl)('job store in MongoDB (skipped: MONGODB_URL is not set, and no MongoDB server can be installed here)', () => {
  it('retries are scheduled through the MongoDB job store and the delivery succeeds', async () => {
    app = await startTestApp({ MONGODB_URL: mongodbUrl! });
    receiver = await startReceiver();
    receiver.script({ status: 500 }, { status: 200 });
    const ticketId = await createTicket(app, 'm');
    const webhookId = await createWebhook(app, jsonHook('m', `${receiver.url}/m`));
    const id = await testWebhook(app, webhookId, ticketId);
    const d = await waitFor(async () => {
      const r = (await app!.ok(`query($id: ID!) { delivery(id: $id) { status attempts { statusCode } } }`, { id })).delivery;
      return r.status === 'SUCCEEDED' && r;
    }, { what: 'SUCCEEDED', timeoutMs: 20_000 });
    expect(d.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 200]);
  }, 60_000);
});
