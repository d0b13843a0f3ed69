/**
 * Webhook.health and Webhook.stats through the GraphQL API. Most figures are read from
 * rows written straight into the app's database at known times, with the app's clock
 * standing at a fixed time (NOW), so that every count, percentile and bucket is known;
 * one test records real attempts through the worker and a receiver, which is how
 * attempts get their webhook and whether they succeeded.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions } from '../../src/db/index.js';
import type { TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createTicket, createUser, createWebhook, jsonHook, retryUntilFinal, test, testWebhook } from '../support/fixtures.js';
import { WsDeliveryWebhookStatsDocument, WsHealthDocument, WsStatsDefaultDocument, WsStatsDocument } from '../generated/graphql.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** the app's clock in the tests that seed rows: half past ten */
const NOW = Date.UTC(2031, 2, 1, 10, 30);
const at = (iso: string) => new Date(`2031-03-01T${iso}Z`);
const iso = (ms: number) => new Date(ms).toISOString();

interface Seeded {
  app: TestApp;
  /** the app's clock, in ms; the test may move it */
  clock: { now: number };
  sql(query: string, params?: unknown[]): Promise<any[]>;
  webhook(name?: string): Promise<string>;
  delivery(webhookId: string, createdAt: Date, status: string): Promise<string>;
  /** attempts of webhookId (on a delivery of its own made long before), each [started, durationMs, succeeded] */
  attempts(webhookId: string, rows: [Date, number, boolean][]): Promise<void>;
}

const it = test.extend<{ seeded: Seeded }>({
  seeded: async ({ startApp }, use) => {
    const clock = { now: NOW };
    const app = await startApp({}, { clock: () => new Date(clock.now) });
    const sql = async (query: string, params: unknown[] = []) => app.services.orm.em.fork().getConnection().execute(query, params);
    const delivery = async (webhookId: string, createdAt: Date, status: string) => {
      const id = randomUUID();
      await sql(
        `insert into deliveries (id, webhook_id, webhook_name, status, request, processing, notes, created_at)
         values (?, ?, 'hook', ?, '{"method":"POST","url":"http://127.0.0.1:9/","headers":{},"body":null}', '{"responseMappings":[],"successComment":"","context":{}}', '[]', ?)`,
        [id, webhookId, status, createdAt],
      );
      return id;
    };
    await use({
      app,
      clock,
      sql,
      webhook: (name = 'hook') => createWebhook(app, jsonHook(name, 'http://127.0.0.1:9/hook')),
      delivery,
      attempts: async (webhookId, rows) => {
        const carrier = await delivery(webhookId, new Date(NOW - 60 * 24 * HOUR), 'SUCCEEDED');
        for (const [n, [started, duration, succeeded]] of rows.entries()) {
          await sql(`insert into delivery_attempts (delivery_id, number, started_at, duration_ms, status_code, webhook_id, succeeded) values (?, ?, ?, ?, 200, ?, ?)`, [
            carrier, n + 1, started, duration, webhookId, succeeded,
          ]);
        }
      },
    });
  },
});

const stats = async (app: TestApp, id: string, hours?: number | null) => {
  const r = await app.gql(WsStatsDocument, { id, hours });
  if (r.errors?.length) throw new Error(JSON.stringify(r.errors));
  return r.data!.webhook!.stats;
};
const health = async (app: TestApp, id: string) => (await app.ok(WsHealthDocument, { id })).webhook!.health;

describe('Webhook.stats', () => {
  it('counts the period’s deliveries by status, its attempts, success rate, percentiles and hourly buckets', async ({ seeded }) => {
    const { app } = seeded;
    const w = await seeded.webhook();
    const other = await seeded.webhook('other');
    // the period of stats(hours: 3) is [07:30, 10:30)
    await seeded.delivery(w, at('07:29:59.999'), 'SUCCEEDED'); // before it
    await seeded.delivery(w, at('07:30:00'), 'PENDING'); // its first instant
    await seeded.delivery(w, at('08:10:00'), 'RETRYING');
    await seeded.delivery(w, at('08:15:00'), 'SUCCEEDED');
    await seeded.delivery(w, at('09:15:00'), 'SUCCEEDED');
    await seeded.delivery(w, at('10:20:00'), 'FAILED');
    await seeded.delivery(w, at('10:29:59.999'), 'CANCELLED');
    await seeded.delivery(w, at('10:30:00'), 'PENDING'); // the clock's instant: after it
    await seeded.delivery(other, at('09:00:00'), 'FAILED');
    await seeded.attempts(w, [
      [at('07:29:59.999'), 5, true], // before the period
      [at('07:30:00'), 500, false],
      [at('07:45:00'), 100, true],
      [at('07:50:00'), 300, false],
      // nothing from 08:00 to 09:00
      [at('09:05:00'), 200, true],
      [at('09:10:00'), 400, true],
      [at('09:20:00'), 1000, false],
      [at('10:29:59.999'), 50, true],
      [at('10:30:00'), 7, true], // the clock's instant
    ]);
    await seeded.attempts(other, [[at('09:30:00'), 9999, false]]);

    expect(await stats(app, w, 3)).toEqual({
      pending: 1,
      retrying: 1,
      succeeded: 2,
      failed: 1,
      cancelled: 1,
      attempts: 7,
      successRate: 4 / 7,
      // percentile_disc over 50 100 200 300 400 500 1000: durations some attempt took
      p50DurationMs: 300,
      p95DurationMs: 1000,
      buckets: [
        { start: at('07:00:00').toISOString(), succeeded: 1, failed: 2 },
        { start: at('08:00:00').toISOString(), succeeded: 0, failed: 0 },
        { start: at('09:00:00').toISOString(), succeeded: 2, failed: 1 },
        { start: at('10:00:00').toISOString(), succeeded: 1, failed: 0 },
      ],
    });
    // the other webhook sees only its own
    expect(await stats(app, other, 3)).toMatchObject({ failed: 1, pending: 0, attempts: 1, successRate: 0, p50DurationMs: 9999 });
  });

  it('has one bucket per clock hour: hours+1 when the period starts inside an hour, hours on the hour; zeros and nulls without attempts', async ({ seeded }) => {
    const { app, clock } = seeded;
    const w = await seeded.webhook();
    const quiet = await stats(app, w, 1);
    expect(quiet).toEqual({
      pending: 0, retrying: 0, succeeded: 0, failed: 0, cancelled: 0,
      attempts: 0, successRate: null, p50DurationMs: null, p95DurationMs: null,
      buckets: [
        { start: at('09:00:00').toISOString(), succeeded: 0, failed: 0 },
        { start: at('10:00:00').toISOString(), succeeded: 0, failed: 0 },
      ],
    });
    expect((await stats(app, w, 720)).buckets).toHaveLength(721);
    expect((await stats(app, w, 720)).buckets[0]!.start).toBe(iso(NOW - 720 * HOUR - 30 * MIN));

    clock.now = Date.UTC(2031, 2, 1, 11, 0);
    const onTheHour = await stats(app, w, 2);
    expect(onTheHour.buckets.map((b) => b.start)).toEqual([at('09:00:00').toISOString(), at('10:00:00').toISOString()]);
  });

  it('covers 24 hours by default (and for hours: null)', async ({ seeded }) => {
    const { app } = seeded;
    const w = await seeded.webhook();
    await seeded.attempts(w, [
      [new Date(NOW - 24 * HOUR - 1), 10, true],
      [new Date(NOW - 24 * HOUR), 10, true],
      [new Date(NOW - 1), 10, false],
    ]);
    const { stats: byDefault } = (await app.ok(WsStatsDefaultDocument, { id: w })).webhook!;
    expect(byDefault.attempts).toBe(2);
    expect(byDefault.buckets).toHaveLength(25);
    expect(byDefault.buckets[0]!.start).toBe(iso(Date.UTC(2031, 1, 28, 10)));
    expect((await stats(app, w, null)).attempts).toBe(2);
  });

  it('refuses hours outside 1–720, naming the argument', async ({ seeded }) => {
    const { app } = seeded;
    const w = await seeded.webhook();
    for (const hours of [0, -1, 721, 100_000]) {
      const r = await app.gql(WsStatsDocument, { id: w, hours });
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field]), `hours: ${hours}`).toEqual([['BAD_USER_INPUT', 'hours']]);
      expect(r.errors![0]!.message).toMatch(/hours.*between 1 and 720/);
    }
    expect((await stats(app, w, 1)).attempts).toBe(0);
    expect((await stats(app, w, 720)).attempts).toBe(0);
  });

  it('counts the attempts the worker records, by the success rule: a 200 whose answer fails the rule is a failed attempt', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    const json = (body: unknown) => ({ status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    receiver.script({ status: 500, body: 'down' }, json({ reply: { result: 'ERROR' } }), json({ reply: { result: 'OK' } }));
    const w = await createWebhook(app, { ...jsonHook('hook', `${receiver.url}/hook`), successRule: { path: 'reply.result', operator: 'EQUALS', value: 'OK', onFailure: 'RETRY' } });
    const id = await testWebhook(app, w, await createTicket(app));
    expect((await retryUntilFinal(app, clock, id)).status).toBe('SUCCEEDED');

    const s = await stats(app, w, 1);
    expect(s).toMatchObject({ succeeded: 1, pending: 0, retrying: 0, failed: 0, attempts: 3, successRate: 1 / 3 });
    expect(s.buckets.reduce((n, b) => n + b.succeeded, 0)).toBe(1);
    expect(s.buckets.reduce((n, b) => n + b.failed, 0)).toBe(2);
    const rows = await app.services.orm.em.fork().getConnection().execute(`select webhook_id::text as w, status_code as code, succeeded from delivery_attempts where delivery_id = ? order by number`, [id]);
    expect(rows).toEqual([{ w, code: 500, succeeded: false }, { w, code: 200, succeeded: false }, { w, code: 200, succeeded: true }]);
  });
});

describe('Webhook.health', () => {
  it('counts the attempts of the breaker’s window (the last 5 minutes) by the app’s clock', async ({ seeded }) => {
    const { app, clock } = seeded;
    const w = await seeded.webhook();
    await seeded.attempts(w, [
      [new Date(NOW - 6 * MIN), 10, false],
      [new Date(NOW - 4 * MIN), 10, false],
      [new Date(NOW - 3 * MIN), 10, false],
      [new Date(NOW - 1 * MIN), 10, true],
    ]);
    expect(await health(app, w)).toEqual({ breaker: 'CLOSED', openedAt: null, recentAttempts: 3, recentFailureRate: 2 / 3, disabledReason: null, disabledAt: null });
    clock.now = NOW + 3.5 * MIN;
    expect(await health(app, w)).toMatchObject({ recentAttempts: 1, recentFailureRate: 0 });
    clock.now = NOW + 5 * MIN;
    expect(await health(app, w)).toMatchObject({ recentAttempts: 0, recentFailureRate: 0 });
  });

  it('shows the breaker’s state (CLOSED without a state row), its window since the last close, and why the system switched the webhook off', async ({ seeded }) => {
    const { app, sql } = seeded;
    const w = await seeded.webhook();
    await seeded.attempts(w, [
      [new Date(NOW - 4 * MIN), 10, false],
      [new Date(NOW - 3 * MIN), 10, false],
      [new Date(NOW - 1 * MIN), 10, false],
    ]);
    await sql(`delete from webhook_states where webhook_id = ?`, [w]);
    expect(await health(app, w)).toMatchObject({ breaker: 'CLOSED', openedAt: null, recentAttempts: 3, recentFailureRate: 1 });

    await sql(`insert into webhook_states (webhook_id, breaker, opened_at, window_started_at) values (?, 'OPEN', ?, ?)`, [w, new Date(NOW - 10 * MIN), new Date(NOW - 2 * MIN)]);
    expect(await health(app, w)).toMatchObject({ breaker: 'OPEN', openedAt: iso(NOW - 10 * MIN), recentAttempts: 1, recentFailureRate: 1 });

    await sql(`update webhook_states set breaker = 'HALF_OPEN' where webhook_id = ?`, [w]);
    await sql(`update webhooks set enabled = false, disabled_reason = '410 Gone', disabled_at = ? where id = ?`, [new Date(NOW - MIN), w]);
    expect(await health(app, w)).toMatchObject({ breaker: 'HALF_OPEN', disabledReason: '410 Gone', disabledAt: iso(NOW - MIN) });
  });
});

describe('who sees health and stats', () => {
  it('ADMIN only, like every webhook definition: AGENT and CLIENT cannot reach them', async ({ seeded }) => {
    const { app } = seeded;
    const w = await seeded.webhook();
    const d = await seeded.delivery(w, new Date(NOW - MIN), 'SUCCEEDED');
    const agent = await createUser(app, { name: 'Agent', email: 'agent@example.com', role: 'AGENT' });
    const client = await createUser(app, { name: 'Client', email: 'client@example.com', role: 'CLIENT' });

    for (const user of [agent, client]) {
      for (const r of [await app.gql(WsHealthDocument, { id: w }, user.auth), await app.gql(WsStatsDocument, { id: w, hours: 1 }, user.auth)]) {
        expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
        expect(r.data?.webhook ?? null).toBeNull();
      }
    }
    // a delivery shows AGENT no webhook, so neither its health nor its stats
    const seen = await app.gql(WsDeliveryWebhookStatsDocument, { id: d }, agent.auth);
    expect(seen.errors).toBeUndefined();
    expect(seen.data!.delivery).toEqual({ id: d, webhook: null });
    const admin = await app.ok(WsDeliveryWebhookStatsDocument, { id: d });
    expect(admin.delivery!.webhook).toEqual({ id: w, health: { breaker: 'CLOSED' }, stats: { attempts: 0 } });
  });
});

describe('Migration20261130000500WebhookStats', () => {
  it('gives existing attempts their webhook and whether they succeeded: the last attempt of a SUCCEEDED delivery', async () => {
    const database = await createTestDatabase({ empty: true });
    const orm = await MikroORM.init(ormOptions(database.url));
    try {
      await orm.getMigrator().up({ to: 'Migration20261130000400WebhookState' });
      const conn = orm.em.fork().getConnection();
      const sql = (query: string, params: unknown[] = []) => conn.execute(query, params);
      await sql(`insert into webhooks (id, name, method, url, format, headers, response_mappings, created_at, updated_at) values (7, 'w', 'POST', 'http://x', 'JSON', '[]', '[]', now(), now())`);
      const rows: [string, number | null, string, number][] = [
        [randomUUID(), 7, 'SUCCEEDED', 3], // failed, failed, succeeded
        [randomUUID(), 7, 'FAILED', 2],
        [randomUUID(), 7, 'RETRYING', 1],
        [randomUUID(), null, 'SUCCEEDED', 1], // its webhook deleted
      ];
      for (const [id, webhookId, status, n] of rows) {
        await sql(`insert into deliveries (id, webhook_id, webhook_name, status, request, processing, notes, attempt_count, created_at) values (?, ?, 'w', ?, '{}', '{}', '[]', ?, now())`, [id, webhookId, status, n]);
        for (let k = 1; k <= n; k++) await sql(`insert into delivery_attempts (delivery_id, number, started_at, duration_ms) values (?, ?, now(), 5)`, [id, k]);
      }
      await orm.getMigrator().up();
      const got = await sql(`select d.status, a.number, a.webhook_id::text as w, a.succeeded from delivery_attempts a join deliveries d on d.id = a.delivery_id order by d.status, a.number, a.succeeded`);
      expect(got).toEqual([
        { status: 'FAILED', number: 1, w: '7', succeeded: false },
        { status: 'FAILED', number: 2, w: '7', succeeded: false },
        { status: 'RETRYING', number: 1, w: '7', succeeded: false },
        { status: 'SUCCEEDED', number: 1, w: '7', succeeded: false },
        { status: 'SUCCEEDED', number: 1, w: null, succeeded: true },
        { status: 'SUCCEEDED', number: 2, w: '7', succeeded: false },
        { status: 'SUCCEEDED', number: 3, w: '7', succeeded: true },
      ]);
    } finally {
      await orm.close();
      await database.drop();
    }
  });
});
