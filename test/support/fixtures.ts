/**
 * What integration tests are built from.
 *
 * - `test` / `it`: vitest's test with per-test fixtures. `app` is a deskhooks that serves
 *   this test alone, on a database no other test sees (AppPool below); `startApp` gives
 *   more (another config, a clock, an existing database), `startReceiver` real HTTP
 *   receivers, `clock` a clock that moves when the test moves it. Nothing is shared
 *   between tests, so they may run concurrently.
 * - Builders: one GraphQL call each, through the typed documents of
 *   test/operations/fixtures.graphql, returning what tests use next (mostly an id).
 */
import { test as base } from 'vitest';
import pg from 'pg';
import { ADMIN_EMAIL, bearer, startTestApp, type TestApp, type TestAppOptions } from './app.js';
import { startReceiver as startHttpReceiver, type ReceivedRequest, type Receiver, type Reply } from './receiver.js';
import { testClock, type TestClock } from './clock.js';
import { waitFor } from './wait.js';
import {
  FxAddCommentDocument, FxAddReplyDocument, FxCreateCustomFieldDocument, FxCreateRuleDocument, FxCreateTicketDocument,
  FxCreateUserDocument, FxCreateWebhookDocument, FxDeliveryDocument, FxTestWebhookDocument, FxTicketDocument, FxUpdateTicketDocument,
  type CreateTicketInput, type CreateUserInput, type CustomFieldInput, type RuleInput, type UpdateTicketInput, type WebhookInput,
} from '../generated/graphql.js';

export type { TestApp } from './app.js';
export type { Receiver } from './receiver.js';

// ---------------------------------------------------------------- per-test fixtures

export interface Fixtures {
  /** a deskhooks of this test's own, with the defaults of startTestApp but retries by the clock (CLOCK_DRIVEN), and the test's `clock` */
  app: TestApp;
  /**
   * Another deskhooks of this test's own (another config, a clock). With `databaseUrl` a new
   * one on that database, stopped when the test ends; otherwise as `app`.
   */
  startApp: (env?: Record<string, string>, opts?: TestAppOptions) => Promise<TestApp>;
  /** a real HTTP receiver on 127.0.0.1 (test/support/receiver.ts), closed when the test ends */
  startReceiver: (handler?: (req: ReceivedRequest) => Reply | undefined | Promise<Reply | undefined>) => Promise<Receiver>;
  /** the clock of `app`: real time until the test moves it */
  clock: TestClock;
}

export const test = base.extend<Fixtures & { appPool: AppPool; keptApps: KeptApps }>({
  // stops, when the worker ends, the apps its files handed on (also for each test.extend of this test: one store)
  keptApps: [async ({}, use) => {
    await use(keptApps);
    await keptApps.close();
  }, { scope: 'worker' }],
  appPool: [async ({ keptApps }, use) => {
    const pool = new AppPool(keptApps);
    await use(pool);
    await pool.close();
  }, { scope: 'file' }],
  startApp: async ({ appPool, task }, use) => {
    const taken: { app: TestApp; release: (failed: boolean) => Promise<void> }[] = [];
    await use(async (env = {}, opts = {}) => {
      const t = await appPool.take({ ...CLOCK_DRIVEN, ...env }, opts);
      taken.push(t);
      return t.app;
    });
    // the test's result is known here: an app a failed test used is not reused
    const failed = task.result?.state === 'fail';
    await Promise.all(taken.map((t) => t.release(failed)));
  },
  // closed before the apps are released (set up after them): a request left open ends at once
  startReceiver: async ({ startApp: _apps }, use) => {
    const receivers: Receiver[] = [];
    await use(async (handler) => {
      const r = await startHttpReceiver(handler);
      receivers.push(r);
      return r;
    });
    await Promise.all(receivers.map((r) => r.close()));
  },
  clock: async ({}, use) => use(testClock()),
  app: async ({ startApp, clock }, use) => use(await startApp({}, { clock: clock.now })),
});

export const it = test;

/**
 * Retries a minute apart in a four-minute window: a retry is attempted when the test moves
 * the clock to it (retryUntilFinal), never because real time passed; the job engine then
 * polls every 5 s rather than every 250 ms, which keeps an idle app cheap.
 */
const CLOCK_DRIVEN = { DESKHOOKS_RETRY_INTERVAL: '1m', DESKHOOKS_RETRY_WINDOW: '4m' };

/**
 * The apps of one test file. An app serves one test at a time, on a database of its own (a
 * copy of the run's template). When the test ends, once nothing is in flight, its database
 * is put back as the app found it at start — every row deleted, the admin restored, the
 * sequences restarted, the job engine's retry drains dropped — and the app serves the next
 * test asking for the same config: each test starts on a database as fresh as a new copy,
 * without paying for a new app's start and connections (about a second of CPU). An app
 * whose test failed, that the test stopped, or that cannot be reset, is stopped instead.
 * Apps on a given database (`databaseUrl`) or with their own logger are never reused.
 */
class AppPool {
  private readonly idle = new Map<string, Pooled[]>();
  private readonly all = new Set<TestApp>();

  constructor(private readonly kept: KeptApps) {}

  async take(env: Record<string, string>, opts: TestAppOptions): Promise<{ app: TestApp; release: (failed: boolean) => Promise<void> }> {
    if (opts.databaseUrl) {
      const app = await startTestApp(env, opts);
      return { app, release: () => app.stop() };
    }
    const key = JSON.stringify(Object.entries(env).sort()) + (opts.log ? `#log${Math.random()}` : '');
    const pooled = this.idle.get(key)?.pop() ?? this.adopt(this.kept.take(key)) ?? (await this.start(env, opts));
    pooled.clock = opts.clock ?? realTime;
    return {
      app: pooled.app,
      release: async (failed) => {
        pooled.clock = realTime;
        if (failed || pooled.stopped || opts.log) return this.discard(pooled);
        try {
          await pooled.reset();
        } catch {
          return this.discard(pooled);
        }
        this.idle.set(key, [...(this.idle.get(key) ?? []), pooled]);
      },
    };
  }

  /** Hands the idle apps the next files of this worker may use on to `kept`; stops the others. */
  async close(): Promise<void> {
    for (const [key, apps] of this.idle) for (const pooled of apps) if (this.kept.keep(key, pooled)) this.all.delete(pooled.app);
    this.idle.clear();
    await Promise.all([...this.all].map((a) => a.stop()));
  }

  private adopt(pooled: Pooled | undefined): Pooled | undefined {
    if (pooled) this.all.add(pooled.app);
    return pooled;
  }

  private async discard(pooled: Pooled): Promise<void> {
    this.all.delete(pooled.app);
    await pooled.app.stop();
  }

  private async start(env: Record<string, string>, opts: TestAppOptions): Promise<Pooled> {
    const pooled = { clock: opts.clock ?? realTime, stopped: false } as Pooled;
    const app = await startTestApp(env, { ...opts, clock: () => pooled.clock() });
    const db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
    // every row but the migrations', the job engine's recurring jobs and the definitions' version; the admin as it was at start
    const names = async (sql: string) => (await db.query(sql)).rows.map((r) => r.name as string);
    const tables = await names(`select quote_ident(tablename) as name from pg_tables where schemaname = 'public' and tablename not in ('mikro_orm_migrations', 'agenda_jobs', 'dispatch_definitions')`);
    const sequences = await names(`select quote_literal(quote_ident(sequencename)) as name from pg_sequences where schemaname = 'public' and sequencename not like 'mikro_orm%'`);
    const admin = (await db.query(`select row_to_json(u) as row from users u`)).rows.map((r) => JSON.stringify(r.row));
    const resetSql = [
      'begin',
      // no foreign-key checks while everything goes (superuser only: elsewhere the app is stopped instead)
      'set local session_replication_role = replica',
      ...tables.map((t) => `delete from ${t}`),
      ...sequences.map((q) => `select setval(${q}, 1, false)`),
      ...admin.map((row) => `insert into users select * from json_populate_record(null::users, ${db.escapeLiteral(row)})`),
      `select setval(pg_get_serial_sequence('users', 'id'), (select max(id) from users))`,
      `delete from agenda_jobs where name = 'deliveries.drain'`,
      // the triggers are off in replica mode: the dispatcher's cached definitions are made stale by hand
      'update dispatch_definitions set version = version + 1',
      'commit',
    ].join(';\n');
    const stopApp = app.stop;
    app.stop = async () => {
      pooled.stopped = true;
      await db.end().catch(() => {});
      await stopApp();
    };
    pooled.app = app;
    this.all.add(app);
    pooled.reset = async () => {
      // nothing in flight: the events processed, the sends finished and recorded (bounded:
      // an app still busy after that is stopped instead)
      const quiet = (async () => {
        for (let i = 0; i < 2; i++) {
          await app.dispatcher?.wake();
          await app.worker?.wake();
        }
      })();
      let timer: NodeJS.Timeout | undefined;
      const busy = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the app did not settle')), 10_000)));
      await Promise.race([quiet, busy]).finally(() => clearTimeout(timer));
      try {
        await db.query(resetSql);
      } catch (err) {
        await db.query('rollback').catch(() => {});
        throw err;
      }
    };
    return pooled;
  }
}

interface Pooled {
  app: TestApp;
  clock: () => Date;
  stopped: boolean;
  reset(): Promise<void>;
}

/**
 * The idle apps of the `app` fixture's config (CLOCK_DRIVEN, no logger of their own) that the
 * test files of this worker hand on to the next: the files of a worker share this module
 * (vitest.config.ts: isolate: false), and an app whose test passed has already been put back
 * as it was at start (AppPool's reset), so a file starts on such an app as on a new one
 * without paying for its start. At most as many as a file runs tests at once (maxConcurrency);
 * all are stopped when the worker ends.
 */
class KeptApps {
  static readonly KEY = JSON.stringify(Object.entries(CLOCK_DRIVEN).sort());
  static readonly MAX = 3;
  private readonly apps: Pooled[] = [];

  take(key: string): Pooled | undefined {
    return key === KeptApps.KEY ? this.apps.pop() : undefined;
  }

  /** whether it keeps `pooled` (the caller then no longer stops it) */
  keep(key: string, pooled: Pooled): boolean {
    if (key !== KeptApps.KEY || pooled.stopped || this.apps.length >= KeptApps.MAX) return false;
    this.apps.push(pooled);
    return true;
  }

  async close(): Promise<void> {
    await Promise.all(this.apps.splice(0).map((p) => p.app.stop()));
  }
}

const keptApps = new KeptApps();

const realTime = () => new Date();

// ---------------------------------------------------------------- builders

export interface TestUser {
  id: string;
  email: string;
  key: string;
  /** the Authorization header value */
  auth: string;
}

export async function createUser(app: TestApp, input: CreateUserInput): Promise<TestUser> {
  const { createUser } = await app.ok(FxCreateUserDocument, { input });
  return { id: createUser.user.id, email: input.email, key: createUser.apiKey, auth: bearer(createUser.apiKey) };
}

export async function createCustomFields(app: TestApp, fields: CustomFieldInput[]): Promise<void> {
  for (const input of fields) await app.ok(FxCreateCustomFieldDocument, { input });
}

/** A ticket by the caller (`auth`, default the admin); a string is its title. Returns its id. */
export async function createTicket(app: TestApp, input: string | (Partial<CreateTicketInput> & { title?: string }) = {}, auth?: string): Promise<string> {
  const given = typeof input === 'string' ? { title: input } : input;
  return (await app.ok(FxCreateTicketDocument, { input: { title: 'a ticket', description: 'd', ...given } }, auth)).createTicket.id;
}

export async function updateTicket(app: TestApp, id: string, input: UpdateTicketInput, auth?: string) {
  return (await app.ok(FxUpdateTicketDocument, { id, input }, auth)).updateTicket;
}

/** Returns the post's id. */
export async function addReply(app: TestApp, ticketId: string, text: string, auth?: string): Promise<string> {
  return (await app.ok(FxAddReplyDocument, { ticketId, text }, auth)).addReply.id;
}

/** Returns the post's id. */
export async function addComment(app: TestApp, ticketId: string, text: string, auth?: string): Promise<string> {
  return (await app.ok(FxAddCommentDocument, { ticketId, text }, auth)).addComment.id;
}

export async function getTicket(app: TestApp, id: string, auth?: string) {
  const { ticket } = await app.ok(FxTicketDocument, { id }, auth);
  if (!ticket) throw new Error(`ticket ${id} not found`);
  return ticket;
}

/** The ticket's internal comments, oldest first. */
export async function comments(app: TestApp, ticketId: string) {
  return (await getTicket(app, ticketId)).posts.filter((p) => p.kind === 'COMMENT');
}

export async function createWebhook(app: TestApp, input: WebhookInput): Promise<string> {
  return (await app.ok(FxCreateWebhookDocument, { input })).createWebhook.id;
}

/** A JSON POST webhook to `url` whose body names the ticket. */
export const jsonHook = (name: string, url: string): WebhookInput => ({ name, method: 'POST', url, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' });

export async function createRule(app: TestApp, input: RuleInput) {
  return (await app.ok(FxCreateRuleDocument, { input })).createRule;
}

/** Sends the webhook for the ticket now (testWebhook); returns the delivery id. */
export async function testWebhook(app: TestApp, webhookId: string, ticketId: string): Promise<string> {
  return (await app.ok(FxTestWebhookDocument, { id: webhookId, ticketId })).testWebhook.id;
}

export async function deliveryStatus(app: TestApp, id: string) {
  const { delivery } = await app.ok(FxDeliveryDocument, { id });
  if (!delivery) throw new Error(`delivery ${id} not found`);
  return delivery;
}

/** Waits until the delivery's status is one of `statuses`; returns its status. */
export async function deliveryReaches(app: TestApp, id: string, ...statuses: string[]) {
  return waitFor(async () => {
    const d = await deliveryStatus(app, id);
    return statuses.includes(d.status) && d;
  }, { what: `delivery ${id} to be ${statuses.join(' or ')}` });
}

/**
 * Outbox, delivery queue and search text queue empty, seen in one snapshot: everything the test caused
 * has been processed. Proves "nothing happened" without sleeping. On a timeout the error names what
 * was left (the events, deliveries and queued texts, with their leases and times).
 */
export async function settled(app: TestApp, timeoutMs = 20_000): Promise<void> {
  const conn = app.services.orm.em.fork().getConnection();
  try {
    await waitFor(async () => {
      const [row] = await conn.execute(
        `select (select count(*) from ticket_events where processed_at is null)::int as events,
                (select count(*) from deliveries where status in ('PENDING', 'RETRYING'))::int as deliveries,
                (select count(*) from delivery_text_queue)::int as texts`,
      );
      return row.events === 0 && row.deliveries === 0 && row.texts === 0;
    }, { timeoutMs, what: 'the dispatcher, the delivery worker and the search text indexer to be idle' });
  } catch (err) {
    const [left] = await conn.execute(
      `select now() as now,
              (select json_agg(json_build_object('id', id, 'kind', kind, 'type', type, 'ticket', ticket_id, 'created', created_at, 'lockedUntil', locked_until, 'tries', tries) order by id)
                 from ticket_events where processed_at is null) as events,
              (select json_agg(json_build_object('id', id, 'status', status, 'attempts', attempt_count, 'next', next_attempt_at, 'lockedUntil', locked_until, 'lastError', last_error))
                 from deliveries where status in ('PENDING', 'RETRYING')) as deliveries,
              (select json_agg(delivery_id) from delivery_text_queue) as texts`,
    ).catch((e: Error) => [`not read: ${e.message}`]);
    throw new Error(`${(err as Error).message}; left: ${JSON.stringify(left)}`);
  }
}

/** Wakes the app's worker until a drain has claimed with the clock as it is now. */
export async function drainWorker(app: TestApp): Promise<void> {
  // a wake-up during the end of a running drain joins it; the second one starts its own
  await app.worker!.wake();
  await app.worker!.wake();
}

/**
 * Serves a delivery's retries by the clock: each time it is RETRYING, moves `clock` to the
 * announced next attempt and wakes the worker, until the delivery is final. Returns it
 * then, with the announced times it moved the clock to (ms).
 */
export async function retryUntilFinal(app: TestApp, clock: TestClock, id: string) {
  const slots: number[] = [];
  for (;;) {
    const d = await deliveryReaches(app, id, 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELLED');
    if (d.status !== 'RETRYING') return { ...d, slots };
    const at = Date.parse(d.nextAttemptAt!);
    if (slots.at(-1) !== at) slots.push(at);
    clock.set(at);
    await drainWorker(app);
  }
}
