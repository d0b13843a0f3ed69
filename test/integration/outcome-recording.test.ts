/**
 * Recording a batch of delivery outcomes (src/delivery/store.ts recordBatch) on a migrated
 * database of its own, without an app: what the attempts, the deliveries' states and the
 * live feed's notifications hold afterwards.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelWebhookDeliveries, DELIVERY_EVENTS_CHANNEL, feedMessages, recordBatch, type OutcomeRows } from '../../src/delivery/store.js';
import { buildOutcome } from '../../src/delivery/outcome.js';
import { recordOutcomes } from '../../src/delivery/recorder.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, LOCK_WAITERS, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** Open deliveries without webhook or ticket, claimed (in flight). */
async function inFlight(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await pool.query(
    `insert into deliveries (id, webhook_name, request, notes, processing, status, next_attempt_at, locked_until, created_at)
     select id, 'hook', '{}', '[]', '{}', 'PENDING', now(), now() + interval '1 minute', now() from unnest($1::uuid[]) as id`,
    [ids],
  );
  return ids;
}

/** The feed messages notified while `fn` runs, in the order they arrive (commit order), read up to a marker. */
async function feedDuring(fn: () => Promise<void>): Promise<{ payloads: number; messages: unknown[] }> {
  const listener = new pg.Client({ connectionString: database.url });
  await listener.connect();
  try {
    const payloads: string[] = [];
    let marked = false;
    listener.on('notification', (n) => (n.channel === DELIVERY_EVENTS_CHANNEL ? payloads.push(n.payload!) : (marked = true)));
    await listener.query(`listen ${DELIVERY_EVENTS_CHANNEL}; listen deskhooks_test_mark`);
    await fn();
    await pool.query(`select pg_notify('deskhooks_test_mark', '')`);
    await waitFor(() => marked, { what: 'the marker notification' });
    return { payloads: payloads.length, messages: payloads.flatMap((p) => JSON.parse(p) as unknown[]) };
  } finally {
    await listener.end();
  }
}

const succeeded = (id: string, at: Date): OutcomeRows => ({
  attempt: { deliveryId: id, number: 1, startedAt: at, durationMs: 5, statusCode: 200, error: null, responseBody: `ok ${id}` },
  update: { id, status: 'SUCCEEDED', attemptCount: 1, nextAttemptAt: null, firstAttemptAt: at, lastError: null, completedAt: at },
  events: feedMessages({ id, webhookId: null, ticketId: null }, { kind: 'attempted', attempt: 1, status: 'SUCCEEDED' }, at),
});

describe('recording a batch of successes', () => {
  it('over several notification chunks, one delivery cancelled while in flight: every message in order, but not the cancelled one’s SUCCEEDED', async () => {
    const ids = await inFlight(120);
    const cancelled = ids[3]!; // in the first chunk: its chunk must not come later than the others
    await pool.query(`update deliveries set status = 'CANCELLED', next_attempt_at = null, completed_at = now() where id = $1`, [cancelled]);
    const at = new Date();
    const outcomes = ids.map((id) => succeeded(id, at));
    const textsQueued = async () => (await pool.query(`select count(*)::int as n from delivery_text_queue where delivery_id = any($1::uuid[])`, [ids])).rows[0].n as number;
    const queuedBefore = await textsQueued();

    const feed = await feedDuring(async () => {
      const client = await pool.connect();
      try {
        await recordBatch(client, outcomes);
      } finally {
        client.release();
      }
    });

    expect(feed.payloads).toBeGreaterThan(2);
    const expected = outcomes.flatMap((o) => o.events).filter((e) => !(e.d === cancelled && e.t === 'SUCCEEDED'));
    expect(feed.messages).toEqual(JSON.parse(JSON.stringify(expected)));

    const { rows } = await pool.query(
      `select d.status, count(*)::int as n, count(a.*)::int as attempts, count(*) filter (where d.locked_until is null)::int as released
         from deliveries d left join delivery_attempts a on a.delivery_id = d.id where d.id = any($1::uuid[]) group by d.status order by d.status`,
      [ids],
    );
    // the cancelled delivery keeps its state; its attempt was made, so it is recorded and counted, and its claim ends
    expect(rows).toEqual([
      { status: 'CANCELLED', n: 1, attempts: 1, released: 1 },
      { status: 'SUCCEEDED', n: 119, attempts: 119, released: 119 },
    ]);
    // every answer is queued for the search texts (text-indexer.ts)
    expect((await textsQueued()) - queuedBefore).toBe(120);
  });

  it('a cancel committed while the recording waits for its row: the attempt is counted and the claim ends', async () => {
    const [id] = await inFlight(1);
    const canceller = new pg.Client({ connectionString: database.url });
    const watcher = new pg.Client({ connectionString: database.url });
    await Promise.all([canceller.connect(), watcher.connect()]);
    try {
      await canceller.query('begin');
      await canceller.query(`update deliveries set status = 'CANCELLED', next_attempt_at = null, completed_at = now() where id = $1`, [id]);
      const client = await pool.connect();
      const recording = recordBatch(client, [succeeded(id!, new Date())]).finally(() => client.release());
      // the recording's update waits for the cancel's row lock; then the cancel commits
      await waitFor(async () => (await watcher.query(`select count(*)::int as n from pg_locks where not granted`)).rows[0].n > 0, { what: 'the recording to wait for the row' });
      await canceller.query('commit');
      await recording;
      const { rows } = await watcher.query(`select status, attempt_count, locked_until from deliveries where id = $1`, [id]);
      expect(rows).toEqual([{ status: 'CANCELLED', attempt_count: 1, locked_until: null }]);
    } finally {
      await Promise.all([canceller.end(), watcher.end()]);
    }
  });
});

/** The outcome of a first attempt of an in-flight delivery without webhook or ticket, answered 200 with `body`. */
function answered(id: string, body: string) {
  const at = new Date();
  const claimed = { id, webhookId: null, webhookName: 'hook', ticketId: null, status: 'PENDING' as const, request: { method: 'POST' as const, url: 'http://127.0.0.1:9/', headers: {}, body: '' }, authSealed: null, attemptCount: 0, firstAttemptAt: null, lastError: null, needsProcessing: false };
  const result = { startedAt: at, durationMs: 3, statusCode: 200, responseBody: body, error: null, headers: {} };
  return buildOutcome(claimed, result as never, { kind: 'succeeded' }, at);
}

/** A logger whose errors are kept in `errors`. */
function keptErrors() {
  const errors: string[] = [];
  return { errors, log: { ...createLogger('error'), error: (m: string) => void errors.push(m) } as never };
}

describe('recording outcomes that meet a transient failure', () => {
  it('a deadlock on the first try: the batch is recorded again as it is, the response kept, and the failure is not logged as the outcomes’ fault', async () => {
    const [id] = await inFlight(1);
    // the attempts' insert fails once with a deadlock, as another transaction's lock order would make it
    await pool.query(`create sequence test_deadlock_once;
      create function test_deadlock_once() returns trigger language plpgsql as $$
      begin
        if nextval('test_deadlock_once') = 1 then raise exception 'deadlock detected' using errcode = '40P01'; end if;
        return new;
      end $$;
      create trigger test_deadlock_once before insert on delivery_attempts for each row execute function test_deadlock_once()`);
    const { errors, log } = keptErrors();
    try {
      expect(await recordOutcomes(pool, [answered(id!, 'the answer')], log)).toHaveLength(1);
      const { rows } = await pool.query(`select d.status, a.response_body from deliveries d join delivery_attempts a on a.delivery_id = d.id where d.id = $1`, [id]);
      expect(rows).toEqual([{ status: 'SUCCEEDED', response_body: 'the answer' }]);
      expect(errors).toEqual([]);
    } finally {
      await pool.query(`drop trigger test_deadlock_once on delivery_attempts; drop function test_deadlock_once(); drop sequence test_deadlock_once`);
    }
  });
});

describe('recording a failed attempt while its webhook is deleted', () => {
  it('the recording takes the lock order of a webhook\'s delete and claims (its state row, then its deliveries): a delete cancelling the webhook\'s deliveries meanwhile meets no deadlock', async () => {
    await pool.query(`insert into webhooks (id, name, method, url, format, headers, response_mappings, created_at, updated_at) values (71, 'deleted while recording', 'POST', 'http://x', 'JSON', '[]', '[]', now(), now())`);
    const [id] = await inFlight(1);
    await pool.query(`update deliveries set webhook_id = 71 where id = $1`, [id]);
    const at = new Date();
    const failed: OutcomeRows = {
      attempt: { deliveryId: id!, number: 1, startedAt: at, durationMs: 5, statusCode: 500, error: null, responseBody: 'down' },
      update: { id: id!, status: 'RETRYING', attemptCount: 1, nextAttemptAt: new Date(at.getTime() + 60_000), firstAttemptAt: at, lastError: 'HTTP 500', completedAt: null },
      events: feedMessages({ id: id!, webhookId: '71', ticketId: null }, { kind: 'attempted', attempt: 1, status: 'RETRYING' }, at),
    };
    // the delete's first step (src/delivery/webhooks.ts deleteWebhook): the webhook's state row
    const deleting = new pg.Client({ connectionString: database.url });
    await deleting.connect();
    const recorder = await pool.connect();
    try {
      await deleting.query(`begin; select 1 from webhook_states where webhook_id = 71 for update`);
      const recording = recordBatch(recorder, [failed]).then(() => null, (err: Error) => err);
      await waitFor(async () => (await pool.query(LOCK_WAITERS)).rows[0].n > 0, { what: 'the recording to wait for a lock' });
      // then its cancel of the webhook's open deliveries: it must not wait on the recording's row locks
      expect(await cancelWebhookDeliveries(deleting, '71', new Date(), { note: 'deleted' })).toBe(1);
      await deleting.query('commit');
      expect(await recording).toBeNull();
      const { rows } = await pool.query(`select d.status, d.attempt_count, (select count(*)::int from delivery_attempts a where a.delivery_id = d.id) as attempts from deliveries d where d.id = $1`, [id]);
      expect(rows).toEqual([{ status: 'CANCELLED', attempt_count: 1, attempts: 1 }]);
    } finally {
      recorder.release();
      await deleting.end();
    }
  });
});

describe('recording outcomes whose after-step fails', () => {
  it('counting the attempt of a delivery cancelled while it ran fails after the outcomes were committed: they are not recorded again (no second ATTEMPTED), and the recording says so', async () => {
    const [id] = await inFlight(1);
    await pool.query(`update deliveries set status = 'CANCELLED', next_attempt_at = null, completed_at = now() where id = $1`, [id]);
    // the count's update of the cancelled delivery fails once with a deadlock
    await pool.query(`create sequence test_count_once;
      create function test_count_once() returns trigger language plpgsql as $$
      begin
        if old.status = 'CANCELLED' and old.locked_until is not null and new.locked_until is null and nextval('test_count_once') = 1 then
          raise exception 'deadlock detected' using errcode = '40P01';
        end if;
        return new;
      end $$;
      create trigger test_count_once before update on deliveries for each row execute function test_count_once()`);
    const { errors, log } = keptErrors();
    try {
      let recorded: unknown[] = [];
      const feed = await feedDuring(async () => {
        recorded = await recordOutcomes(pool, [answered(id!, 'late')], log);
      });
      expect(recorded).toHaveLength(1);
      expect(feed.messages.filter((m) => (m as { t: string }).t === 'ATTEMPTED')).toHaveLength(1);
      expect(errors).toEqual([expect.stringContaining('the outcomes were recorded, but counting the attempts of deliveries cancelled meanwhile failed')]);
    } finally {
      await pool.query(`drop trigger test_count_once on deliveries; drop function test_count_once(); drop sequence test_count_once`);
    }
  });
});
