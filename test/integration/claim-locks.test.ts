/**
 * The claims of both work queues (src/queue/claim.ts, src/delivery/scheduling.ts) take a
 * ready row even while another transaction writes a row referencing it (a foreign-key check
 * holds KEY SHARE on it until that transaction ends: the search-text indexer writes
 * delivery_texts for new deliveries), and never a row another claim holds. A claim reads
 * the deliveries of the webhooks it claims for through their indexes, not the table.
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { createClaimer } from '../../src/delivery/scheduling.js';
import { outboxStore } from '../../src/dispatcher/index.js';
import { addReply, createTicket, createWebhook, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';

const SCHEDULING = { probeIntervalMs: 30_000, retryWindowMs: 3_600_000, startDeadlineMs: 3_605_000 };

/** a transaction of its own holding a row lock: KEY SHARE as a foreign-key check does, NO KEY UPDATE as a claim does */
async function rowLock(app: TestApp, table: string, id: string, mode: 'key share' | 'no key update' = 'key share'): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: app.databaseUrl });
  await c.connect();
  await c.query('begin');
  await c.query(`select 1 from ${table} where id = $1 for ${mode}`, [id]);
  return c;
}

describe('claims and the locks of referencing rows', () => {
  test('a due delivery whose row a referencing insert holds is claimed; one that another claim holds is not', async ({ startApp, startReceiver }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0); // the test claims
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('r', `${receiver.url}/r`));
    const ticketId = await createTicket(app, 't');
    const id = await testWebhook(app, webhookId, ticketId);
    const held = await testWebhook(app, webhookId, ticketId);
    const lock = await rowLock(app, 'deliveries', id);
    const claimLock = await rowLock(app, 'deliveries', held, 'no key update');
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
    try {
      const claim = createClaimer(pool, SCHEDULING);
      const first = await claim(10, new Date(), 60_000);
      expect(first.deliveries.map((d) => d.id)).toEqual([id]);
    } finally {
      for (const c of [lock, claimLock]) {
        await c.query('rollback');
        await c.end();
      }
      await pool.end();
    }
  });

  test('a ticket event whose row another transaction holds KEY SHARE is claimed by the dispatcher', async ({ startApp }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.dispatcher!.stop(); // the test claims
    await createTicket(app, 't');
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
    const [event] = (await pool.query(`select id::text as id from ticket_events where processed_at is null`)).rows;
    const lock = await rowLock(app, 'ticket_events', event.id);
    try {
      const claimed = await outboxStore(pool).claim(10, new Date(), 60_000);
      expect(claimed.map((e) => e.id)).toEqual([event.id]);
    } finally {
      await lock.query('rollback');
      await lock.end();
      await pool.end();
    }
  });

  test('the dispatcher’s claim passes over an event behind an earlier one of its ticket that another lane of the process holds; behind one held elsewhere, or free, it takes it', async ({ startApp }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.dispatcher!.stop(); // the test claims
    const ticket = await createTicket(app, 't');
    await addReply(app, ticket, 'behind');
    const other = await createTicket(app, 'other');
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
    const outbox = outboxStore(pool);
    const ids = async (where: string) => (await pool.query(`select id::text as id from ticket_events where ${where} order by id`)).rows.map((r) => r.id as string);
    const free = () => pool.query(`update ticket_events set locked_until = null`);
    try {
      const [created, reply] = await ids(`ticket_id = ${Number(ticket)}`);
      const [otherCreated] = await ids(`ticket_id = ${Number(other)}`);
      const now = new Date();
      // free: both, in order
      expect((await outbox.claim(10, now, 60_000, [])).map((e) => e.id)).toEqual([created, reply, otherCreated]);
      await free();
      // the first held by another lane here: the one behind it is passed over, the other ticket's is not
      expect((await outbox.claim(1, now, 60_000)).map((e) => e.id)).toEqual([created]);
      expect((await outbox.claim(10, now, 60_000, [created])).map((e) => e.id)).toEqual([otherCreated]);
      // …and likewise in the claim that rides with a batch's commit
      await free();
      await outbox.claim(1, now, 60_000);
      const next = outbox.nextClaim!(10, 60_000, () => now, () => [created]);
      const statement = next.statement()!;
      expect(next.read((await pool.query(statement.text, statement.values)).rows).map((e) => e.id)).toEqual([otherCreated]);
      // held by another process (its lease, not named): taken (its batch's mark makes it wait, batch.ts)
      await free();
      await outbox.claim(1, now, 60_000);
      expect((await outbox.claim(10, now, 60_000)).map((e) => e.id)).toEqual([reply, otherCreated]);
    } finally {
      await pool.end();
    }
  });

  test("a connection plans the claim's statements once: the claims after its first reuse that plan", async ({ startApp, startReceiver }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0); // the test claims
    const receiver = await startReceiver();
    const webhookId = await createWebhook(app, jsonHook('r', `${receiver.url}/r`));
    const ticketId = await createTicket(app, 't');
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 1 });
    try {
      const claim = createClaimer(pool, SCHEDULING);
      const claimed: string[] = [];
      for (let i = 0; i < 8; i++) {
        const id = await testWebhook(app, webhookId, ticketId);
        claimed.push(...(await claim(10, new Date(), 60_000)).deliveries.map((d) => d.id));
        expect(claimed).toContain(id);
      }
      // every claim ran the plan its connection made once (generic), none a plan made for its values (custom)
      const { rows } = await pool.query(`select name, generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name like 'deskhooks_claim%' order by name`);
      // (no breaker open, no rate limit: the claim without the worker's decisions, in the lock's round trip)
      expect(rows).toEqual([
        { name: 'deskhooks_claim', generic: 0, custom: 0 },
        { name: 'deskhooks_claim_closed', generic: 8, custom: 0 },
        { name: 'deskhooks_claim_lock', generic: 8, custom: 0 },
      ]);
    } finally {
      await pool.end();
    }
  });

  test('a claim that fails in its first round trip (the lock timed out) leaves no connection that cannot claim again', async ({ startApp }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0); // the test claims
    const webhookId = await createWebhook(app, jsonHook('r', 'http://127.0.0.1:9/r'));
    const ticketId = await createTicket(app, 't');
    const id = await testWebhook(app, webhookId, ticketId);
    // the webhook's state row held, as a claim or a recording elsewhere holds it
    const holder = new pg.Client({ connectionString: app.databaseUrl });
    await holder.connect();
    await holder.query('begin');
    await holder.query('select 1 from webhook_states where webhook_id = $1 for update', [webhookId]);
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 1, options: '-c lock_timeout=200' });
    try {
      const claim = createClaimer(pool, SCHEDULING);
      await expect(claim(10, new Date(), 60_000)).rejects.toThrow(/lock timeout/);
      await holder.query('rollback');
      // the first claim prepared its statements in the session it failed in
      expect((await claim(10, new Date(), 60_000)).deliveries.map((d) => d.id)).toEqual([id]);
    } finally {
      await holder.end();
      await pool.end();
    }
  });

  test('a probe claim reads its webhook’s due deliveries only, not every delivery: the check for held ones past their window goes through the due index', async ({ startApp }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0); // the test claims
    const heldId = await createWebhook(app, jsonHook('held', 'http://127.0.0.1:9/h'));
    const otherId = await createWebhook(app, jsonHook('other', 'http://127.0.0.1:9/o'));
    const ticketId = await createTicket(app, 't');
    const held = await testWebhook(app, heldId, ticketId);
    const other = await testWebhook(app, otherId, ticketId);
    const { pool, statement } = capturingPool(app);
    try {
      // the held webhook: one delivery retrying behind an open breaker whose probe is due, and 5,000 final ones;
      // another webhook: 5,000 due; the probe claim has no business with any of those 10,000
      await pool.query(
        `insert into deliveries (id, webhook_id, webhook_name, ticket_id, event, status, request, next_attempt_at, first_attempt_at, attempt_count, notes, processing, created_at, completed_at)
         select gen_random_uuid(), webhook_id, webhook_name, ticket_id, event, $3, request, $4::timestamptz, now(), 1, '[]'::jsonb, processing, now(), $5::timestamptz
           from deliveries, generate_series(1, $2::int) where id = $1`,
        [held, 5_000, 'SUCCEEDED', null, new Date()],
      );
      await pool.query(`update deliveries set next_attempt_at = now() - interval '1 minute' where id = any($1::uuid[])`, [[held, other]]);
      await pool.query(
        `insert into deliveries (id, webhook_id, webhook_name, ticket_id, event, status, request, next_attempt_at, notes, processing, created_at)
         select gen_random_uuid(), webhook_id, webhook_name, ticket_id, event, 'PENDING', request, now() - interval '1 minute', '[]'::jsonb, processing, now()
           from deliveries, generate_series(1, $2::int) where id = $1`,
        [other, 5_000],
      );
      await pool.query(`update deliveries set status = 'RETRYING', attempt_count = 1, first_attempt_at = now() - interval '2 minutes' where id = $1`, [held]);
      await pool.query('analyze deliveries');
      const breakerOpen = `update webhook_states set breaker = 'OPEN', opened_at = now() - interval '1 minute', next_probe_at = now() - interval '1 second', probe_delivery_id = null where webhook_id = $1`;
      await pool.query(breakerOpen, [heldId]);
      const claim = createClaimer(pool, SCHEDULING);
      const now = new Date();
      expect((await claim(1, now, 60_000)).deliveries.map((d) => d.id)).toEqual([held]);

      // the same claim again, its plan measured (and undone)
      await pool.query(`update deliveries set locked_until = null where locked_until is not null`);
      await pool.query(breakerOpen, [heldId]);
      expect(await deliveriesLookedAt(pool, statement())).toBeLessThan(100);
    } finally {
      await pool.end();
    }
  });

  test('a PER_TICKET claim reads the webhook’s attempts in flight once, not the history of each ticket it considers', async ({ startApp }) => {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0); // the test claims
    const webhookId = await createWebhook(app, { ...jsonHook('ordered', 'http://127.0.0.1:9/o'), ordering: 'PER_TICKET' });
    const ticketId = await createTicket(app, 'long history');
    const sample = await testWebhook(app, webhookId, ticketId);
    const { pool, statement } = capturingPool(app);
    try {
      const copies = (n: number, ticket: string, status: string) =>
        pool.query(
          `insert into deliveries (id, webhook_id, webhook_name, ticket_id, event, status, request, next_attempt_at, locked_until, notes, processing, created_at, completed_at)
           select gen_random_uuid(), webhook_id, webhook_name, ${ticket}, event, $3, request, now(), case when $3 = 'PENDING' then now() + interval '1 hour' end,
                  '[]'::jsonb, processing, now(), case when $3 = 'PENDING' then null else now() end
             from deliveries, generate_series(1, $2::int) g where id = $1`,
          [sample, n, status],
        );
      // this ticket's 4,000 sent deliveries; 800 other tickets, with 5 each and 3 in flight
      await pool.query(`update deliveries set status = 'SUCCEEDED', next_attempt_at = null, completed_at = now() where id = $1`, [sample]);
      await copies(4_000, String(ticketId), 'SUCCEEDED');
      const { rows: others } = await pool.query(
        `insert into tickets (title, description, requester_id, custom_fields, created_at, updated_at)
         select title, description, requester_id, custom_fields, now(), now() from tickets, generate_series(1, 800) where id = $1 returning id::text`,
        [ticketId],
      );
      const first = Number(others[0].id);
      await copies(4_000, `${first} + g % 800`, 'SUCCEEDED');
      await copies(3, `${first} + g`, 'PENDING');
      await pool.query('analyze deliveries');
      const next = await testWebhook(app, webhookId, ticketId);
      const claim = createClaimer(pool, SCHEDULING);
      expect((await claim(10, new Date(), 60_000)).deliveries.map((d) => d.id)).toEqual([next]);

      await pool.query(`update deliveries set locked_until = null where id = $1`, [next]);
      expect(await deliveriesLookedAt(pool, statement())).toBeLessThan(100);
    } finally {
      await pool.end();
    }
  });
});

/** What a claim's statement needs to run again: the statement and, before it in its transaction, the lock that sets what it reads. */
interface CapturedClaim {
  statement: string;
  lock: string | null;
}

/**
 * A pool of one connection whose last claim statement (as the claimer sends it, its values
 * written in) is kept: the claim with the worker's decisions (its round trip of its own), or
 * the closed claim with the lock before it (their round trip together).
 */
function capturingPool(app: TestApp): { pool: pg.Pool; statement: () => CapturedClaim } {
  const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 1 });
  let captured: CapturedClaim | null = null;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: typeof query }).query = (...args) => {
      const text = typeof args[0] === 'string' ? args[0] : '';
      const decided = /^(execute deskhooks_claim\(.*\)); commit$/s.exec(text);
      const closed = /(execute deskhooks_claim_lock\([^)]*\)); (execute deskhooks_claim_closed\(.*\)); commit$/s.exec(text);
      if (decided) captured = { statement: decided[1], lock: null };
      else if (closed) captured = { statement: closed[2], lock: closed[1] };
      return query(...args);
    };
  });
  return {
    pool,
    statement: () => {
      expect(captured).not.toBeNull();
      return captured!;
    },
  };
}

/**
 * Runs the claim `statement` again (after its `lock`, when it reads what the lock set) with
 * its generic plan, undone, and counts the rows of
 * deliveries its scans looked at: those they returned and those they passed over, and the
 * entries its bitmap index scans read.
 */
async function deliveriesLookedAt(pool: pg.Pool, { statement, lock }: CapturedClaim): Promise<number> {
  await pool.query(`begin; set local plan_cache_mode = force_generic_plan${lock ? `; ${lock}` : ''}`);
  let plan: PlanNode;
  try {
    plan = (await pool.query(`explain (analyze, format json) ${statement}`)).rows[0]['QUERY PLAN'][0].Plan;
  } finally {
    await pool.query('rollback');
  }
  // a bitmap's index entries count as rows looked at, though its heap scan may fetch none of them
  const scans = (n: PlanNode): boolean =>
    n['Node Type'] === 'Bitmap Index Scan' ? !!n['Index Name']?.startsWith('deliveries_') : n['Relation Name'] === 'deliveries' && n['Node Type'] !== 'ModifyTable';
  const looked = (n: PlanNode): number =>
    (scans(n) ? n['Actual Rows'] * n['Actual Loops'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0) : 0) +
    (n.Plans ?? []).reduce((sum, p) => sum + looked(p), 0);
  return looked(plan);
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}