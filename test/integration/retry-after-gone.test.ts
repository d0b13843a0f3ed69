/**
 * What a receiver's answer asks of the schedule: Retry-After on 429/503 (seconds or an
 * HTTP date) moves the next attempt, a time past the retry window ends the delivery; 410
 * Gone fails it at once and switches the webhook off — its other open deliveries
 * CANCELLED (published like any cancellation), no new deliveries (a rule's SEND_WEBHOOK
 * says so in a comment and goes on; testWebhook and redeliver are refused) — until
 * enableWebhook switches it back on and closes its breaker.
 */
import { describe, expect } from 'vitest';
import pg from 'pg';
import { comments, createRule, createTicket, deliveryReaches, drainWorker, jsonHook, retryUntilFinal, settled, test, testWebhook, type TestApp } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';
import { DpCreateWebhookDocument, DpDeliveryDocument, DpEnableWebhookDocument, DpRedeliverDocument, DpTestWebhookDocument, DpWebhookDocument, DpWebhookHealthDocument } from '../generated/graphql.js';
import { DELIVERY_EVENTS_CHANNEL } from '../../src/delivery/index.js';

const it = test;

async function delivery(app: TestApp, id: string) {
  const d = (await app.ok(DpDeliveryDocument, { id })).delivery;
  if (!d) throw new Error(`delivery ${id} not found`);
  return d;
}

const query = async (app: TestApp, sql: string, params: unknown[] = []) => app.services.orm.em.fork().getConnection().execute(sql, params);

/** Collects the delivery feed's messages as published (NOTIFY), like every API process hears them. */
async function listenToFeed(app: TestApp) {
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  const messages: { t: string; d: string; s: string }[] = [];
  client.on('notification', (n) => messages.push(...JSON.parse(n.payload ?? '[]')));
  await client.query(`listen ${DELIVERY_EVENTS_CHANNEL}`);
  return { messages, close: () => client.end() };
}

describe.concurrent('Retry-After on 429 and 503', () => {
  it('seconds: the next attempt at the time it names instead of the regular minute; then it succeeds', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.script({ status: 429, headers: { 'retry-after': '5' } });
    const id = await testWebhook(app, (await app.ok(DpCreateWebhookDocument, { input: jsonHook('Throttled', `${receiver.url}/t`) })).createWebhook.id, await createTicket(app, 'throttled'));
    const retrying = await deliveryReaches(app, id, 'RETRYING');
    const [attempt] = (await delivery(app, id)).attempts;
    const wait = Date.parse(retrying.nextAttemptAt!) - Date.parse(attempt!.startedAt);
    expect(wait).toBeGreaterThanOrEqual(5_000);
    expect(wait).toBeLessThan(10_000); // not the regular 60 s
    const final = await retryUntilFinal(app, clock, id);
    expect(final).toMatchObject({ status: 'SUCCEEDED', attemptCount: 2 });
  });

  it('an HTTP date later than the schedule; a date in the past means at least 1 s', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    const later = new Date(clock.now().getTime() + 150_000);
    later.setMilliseconds(0);
    receiver.script({ status: 503, headers: { 'retry-after': later.toUTCString() } }, { status: 503, headers: { 'retry-after': 'Thu, 01 Jan 2015 00:00:00 GMT' } });
    const id = await testWebhook(app, (await app.ok(DpCreateWebhookDocument, { input: jsonHook('Maintenance', `${receiver.url}/m`) })).createWebhook.id, await createTicket(app, 'maintenance'));
    const first = await deliveryReaches(app, id, 'RETRYING');
    expect(first.nextAttemptAt).toBe(later.toISOString());
    clock.set(later);
    await drainWorker(app);
    const second = await waitFor(async () => {
      const d = await delivery(app, id);
      return d.attemptCount === 2 && d;
    }, { what: 'the second attempt' });
    // at least 1 s after the second attempt, which ran at the moved clock's time
    const wait = Date.parse(second.nextAttemptAt!) - later.getTime();
    expect(wait).toBeGreaterThanOrEqual(1_000);
    expect(wait).toBeLessThan(5_000);
  });

  it('a time past the retry window: FAILED after this attempt, the error and the ticket comment say so', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.fallback = { status: 503, headers: { 'retry-after': '600' } }; // the window is 4 minutes
    const ticketId = await createTicket(app, 'too late');
    const id = await testWebhook(app, (await app.ok(DpCreateWebhookDocument, { input: jsonHook('Down for long', `${receiver.url}/d`) })).createWebhook.id, ticketId);
    const d = await deliveryReaches(app, id, 'FAILED', 'RETRYING', 'SUCCEEDED');
    expect(d).toMatchObject({ status: 'FAILED', attemptCount: 1 });
    const [comment] = await comments(app, ticketId);
    expect(comment!.text).toMatch(/^Webhook "Down for long" failed after 1 attempt: Retry-After asks for the next attempt at \S+, past the retry window of 4m \(it ends at \S+\); last error: HTTP 503 Service Unavailable\.$/);
    expect(receiver.requests).toHaveLength(1);
  });
});

describe.concurrent('410 Gone', () => {
  it('fails the delivery at once, switches the webhook off with a reason and cancels its other open deliveries, publishing CANCELLED', async ({ app, startReceiver }) => {
    const receiver = await startReceiver((r) => (r.url === '/gone' ? { status: 410 } : { status: 503 }));
    const feed = await listenToFeed(app);
    try {
      const ticketId = await createTicket(app, 'gone');
      const w = (await app.ok(DpCreateWebhookDocument, { input: { ...jsonHook('Gone CRM', `${receiver.url}/later`) } })).createWebhook;
      const other = (await app.ok(DpCreateWebhookDocument, { input: jsonHook('Other CRM', `${receiver.url}/other`) })).createWebhook;
      const open = [await testWebhook(app, w.id, ticketId), await testWebhook(app, w.id, ticketId)];
      const untouched = await testWebhook(app, other.id, ticketId);
      for (const id of [...open, untouched]) await deliveryReaches(app, id, 'RETRYING');
      // the same webhook now points at an endpoint that answers 410
      await query(app, `update webhooks set url = ? where id = ?`, [`${receiver.url}/gone`, w.id]);
      const goneId = await testWebhook(app, w.id, ticketId);

      const gone = await deliveryReaches(app, goneId, 'FAILED', 'RETRYING', 'SUCCEEDED');
      expect(gone).toMatchObject({ status: 'FAILED', attemptCount: 1 });
      const health = await waitFor(async () => {
        const h = (await app.ok(DpWebhookHealthDocument, { id: w.id })).webhook;
        return h && !h.enabled && h;
      }, { what: 'the webhook to be switched off' });
      expect(health.health.disabledReason).toBe('the receiver answered HTTP 410 Gone');
      expect(health.health.disabledAt).not.toBeNull();
      for (const id of open) expect((await deliveryReaches(app, id, 'CANCELLED')).status).toBe('CANCELLED');
      for (const id of open) {
        expect((await app.ok(`query($id: ID!) { delivery(id: $id) { notes } }`, { id })).delivery.notes).toContain(
          'cancelled: its webhook was switched off (the receiver answered HTTP 410 Gone); enableWebhook switches it back on, and redeliver sends this again',
        );
      }
      expect((await delivery(app, untouched)).status).toBe('RETRYING');
      expect((await app.ok(DpWebhookDocument, { id: other.id })).webhook?.enabled).toBe(true);
      await waitFor(() => open.every((id) => feed.messages.some((m) => m.t === 'CANCELLED' && m.d === id && m.s === 'CANCELLED')), { what: 'CANCELLED on the feed' });
      expect(feed.messages.filter((m) => m.d === goneId).map((m) => m.t)).toEqual(['QUEUED', 'ATTEMPTED', 'FAILED']);
      const texts = (await comments(app, ticketId)).map((p) => p.text);
      expect(texts).toEqual([expect.stringMatching(/^Webhook "Gone CRM" failed after 1 attempt: not retried: HTTP 410 Gone; the receiver says the endpoint is gone, so the webhook was switched off\.$/)]);
    } finally {
      await feed.close();
    }
  });

  it('a switched-off webhook gets no new deliveries: SEND_WEBHOOK comments and the rule goes on, testWebhook and redeliver are refused; enableWebhook switches it on and closes its breaker', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.script({ status: 410 });
    const w = (await app.ok(DpCreateWebhookDocument, { input: jsonHook('Moved away', `${receiver.url}/m`) })).createWebhook;
    const first = await createTicket(app, 'first');
    const goneId = await testWebhook(app, w.id, first);
    await deliveryReaches(app, goneId, 'FAILED');
    await waitFor(async () => !(await app.ok(DpWebhookDocument, { id: w.id })).webhook?.enabled, { what: 'the webhook to be switched off' });
    const deliveries = async () => (await query(app, `select count(*)::int as n from deliveries`))[0].n as number;
    const before = await deliveries();

    await createRule(app, { name: 'notify', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: w.id }, { type: 'ADD_COMMENT', value: 'went on' }] });
    const second = await createTicket(app, 'second');
    await settled(app);
    expect((await comments(app, second)).map((p) => p.text)).toEqual([
      'Rule "notify": action 1 (SEND_WEBHOOK) failed: webhook "Moved away" is disabled (switched off by deskhooks: the receiver answered HTTP 410 Gone; enableWebhook switches it back on)',
      'went on',
    ]);
    const test = await app.gql(DpTestWebhookDocument, { id: w.id, ticketId: second });
    expect(test.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(test.errors?.[0]?.message).toMatch(/webhook "Moved away" is disabled/);
    const redeliver = await app.gql(DpRedeliverDocument, { deliveryId: goneId });
    expect(redeliver.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'deliveryId' });
    expect(await deliveries()).toBe(before);
    expect(receiver.requests).toHaveLength(1);

    // an open breaker (webhook_states, src/delivery/scheduling.ts) is closed by enableWebhook
    await query(app, `insert into webhook_states (webhook_id, breaker, opened_at) values (?, 'OPEN', now()) on conflict (webhook_id) do update set breaker = 'OPEN', opened_at = now()`, [w.id]);
    const enabled = (await app.ok(DpEnableWebhookDocument, { id: w.id })).enableWebhook;
    expect(enabled.enabled).toBe(true);
    expect((await app.ok(DpWebhookHealthDocument, { id: w.id })).webhook?.health).toMatchObject({ breaker: 'CLOSED', disabledReason: null, disabledAt: null });
    expect(await query(app, `select breaker, opened_at from webhook_states where webhook_id = ?`, [w.id])).toEqual([{ breaker: 'CLOSED', opened_at: null }]);
    const again = await testWebhook(app, w.id, second);
    expect((await deliveryReaches(app, again, 'SUCCEEDED', 'FAILED', 'RETRYING')).status).toBe('SUCCEEDED');
    expect((await app.ok(DpRedeliverDocument, { deliveryId: goneId })).redeliver.id).toBeTruthy();

    const missing = await app.gql(DpEnableWebhookDocument, { id: '999' });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
  });

  it('a webhook the admin switched off (no system reason) is refused the same way, and says only that it is disabled', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    const w = (await app.ok(DpCreateWebhookDocument, { input: { ...jsonHook('Paused', `${receiver.url}/p`), enabled: false } })).createWebhook;
    const ticketId = await createTicket(app, 'paused');
    const r = await app.gql(DpTestWebhookDocument, { id: w.id, ticketId });
    expect(r.errors?.[0]).toMatchObject({ message: 'id: webhook "Paused" is disabled: it gets no new deliveries', extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
    expect(receiver.requests).toEqual([]);
  });
});
