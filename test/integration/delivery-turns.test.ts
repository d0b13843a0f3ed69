/**
 * PER_TICKET turns (Migration20261201000300DeliveryTurns): a delivery of a PER_TICKET
 * webhook born behind an open one of its ticket waits for its turn out of the claim's way
 * (awaits_turn), and gets the turn when every earlier one of its ticket and webhook is
 * final — by the insert and finish triggers, by a change of the webhook's ordering, or,
 * for what two transactions at once could not see of each other, by the sweep. The
 * triggers never wait for a lock, whatever the order of the other locks around them.
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { releaseWaitingTurns } from '../../src/delivery/index.js';
import { waitFor } from '../support/wait.js';
import { createTicket, createWebhook, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';

const it = test;

/** the deliveries' awaits_turn, in the order of `ids` */
async function waiting(db: pg.ClientBase | pg.Pool, ids: string[]): Promise<boolean[]> {
  const { rows } = await db.query(`select id::text, awaits_turn from deliveries where id = any($1::uuid[])`, [ids]);
  return ids.map((id) => rows.find((r) => r.id === id)!.awaits_turn as boolean);
}

/** a copy of delivery `of`, queued now: as the dispatcher or a redelivery inserts one */
const INSERT_COPY = `insert into deliveries (id, webhook_id, webhook_name, ticket_id, rule_id, event, status, request, next_attempt_at, notes, processing, created_at)
  select gen_random_uuid(), webhook_id, webhook_name, ticket_id, rule_id, event, 'PENDING', request, now(), '[]'::jsonb, processing, now()
    from deliveries, generate_series(1, $2::int) where id = $1
  returning id::text`;
const FINISH = `update deliveries set status = 'SUCCEEDED', next_attempt_at = null, completed_at = now() where id = $1`;

async function connect(app: TestApp): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: app.databaseUrl });
  await c.connect();
  return c;
}

/** BatchRun.flush's touch of the tickets it posted on; addPost's ticket.updatedAt (write-back.ts) */
const TOUCH_TICKET = `update tickets set updated_at = now() where id = $1`;

/** resolves once `session` waits for a lock */
async function blocked(db: pg.Pool, session: pg.Client): Promise<void> {
  const pid = (session as unknown as { processID: number }).processID;
  await waitFor(async () => (await db.query(`select 1 from pg_locks where not granted and pid = $1`, [pid])).rows.length > 0, { what: `session ${pid} to wait for a lock` });
}

describe.concurrent('PER_TICKET turns', () => {
  /** an app whose worker does not run (the deliveries stay open), a PER_TICKET webhook and a ticket */
  async function setUp(startApp: (env?: Record<string, string>) => Promise<TestApp>) {
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' });
    await app.worker!.stop(0);
    const webhookId = await createWebhook(app, { ...jsonHook('In order', 'http://127.0.0.1:9/t'), ordering: 'PER_TICKET' });
    const ticketId = await createTicket(app, 'ordered');
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 3 });
    return { app, webhookId, ticketId, pool };
  }

  it('deliveries behind an open one of their ticket wait; each gets the turn when the one before is final; other tickets and unordered webhooks never wait', async ({ startApp }) => {
    const { app, webhookId, ticketId, pool } = await setUp(startApp);
    try {
      const chain: string[] = [];
      for (let i = 0; i < 4; i++) chain.push(await testWebhook(app, webhookId, ticketId));
      const elsewhere = await testWebhook(app, webhookId, await createTicket(app, 'another'));
      const unordered = await createWebhook(app, jsonHook('Any order', 'http://127.0.0.1:9/u'));
      const free = [await testWebhook(app, unordered, ticketId), await testWebhook(app, unordered, ticketId)];
      expect(await waiting(pool, [...chain, elsewhere, ...free])).toEqual([false, true, true, true, false, false, false]);

      await pool.query(FINISH, [chain[0]]);
      expect(await waiting(pool, chain)).toEqual([false, false, true, true]);
      // cancelled is final too (the API's cancel)
      await app.ok(`mutation ($id: ID!) { cancelDelivery(id: $id) { id } }`, { id: chain[1] });
      expect(await waiting(pool, chain)).toEqual([false, false, false, true]);
      await pool.query(FINISH, [chain[2]]);
      expect(await waiting(pool, chain)).toEqual([false, false, false, false]);
    } finally {
      await pool.end();
    }
  });

  it('several inserted by one statement behind none: the first has the turn, the others wait', async ({ startApp }) => {
    const { app, webhookId, ticketId, pool } = await setUp(startApp);
    try {
      const head = await testWebhook(app, webhookId, ticketId);
      await pool.query(FINISH, [head]);
      const copies = (await pool.query(INSERT_COPY, [head, 3])).rows.map((r) => r.id as string);
      const bySeq = (await pool.query(`select id::text from deliveries where id = any($1::uuid[]) order by seq`, [copies])).rows.map((r) => r.id as string);
      expect(await waiting(pool, bySeq)).toEqual([false, true, true]);
    } finally {
      await pool.end();
    }
  });

  it('an insert behind an open delivery and that delivery becoming final, at once: neither waits, and the turn is not lost, whichever goes first', async ({ startApp }) => {
    const { app, webhookId, ticketId, pool } = await setUp(startApp);
    const inserter = await connect(app);
    const finisher = await connect(app);
    try {
      // the insert first: its transaction is open when the earlier one becomes final, whose
      // trigger cannot see it; the sweep gives it the turn
      const head = await testWebhook(app, webhookId, ticketId);
      await inserter.query('begin');
      const [first] = (await inserter.query(INSERT_COPY, [head, 1])).rows.map((r) => r.id as string);
      await finisher.query('begin');
      await finisher.query(FINISH, [head]);
      await inserter.query('commit');
      await finisher.query('commit');
      expect(await waiting(pool, [first!])).toEqual([true]);
      expect(await releaseWaitingTurns(pool)).toBe(1);
      expect(await waiting(pool, [first!])).toEqual([false]);

      // the earlier one becomes final first: the insert, meanwhile, finds the turn being passed and is born with it
      await finisher.query('begin');
      await finisher.query(FINISH, [first]);
      await inserter.query('begin');
      const [second] = (await inserter.query(INSERT_COPY, [first, 1])).rows.map((r) => r.id as string);
      await finisher.query('commit');
      await inserter.query('commit');
      expect(await waiting(pool, [second!])).toEqual([false]);
    } finally {
      for (const c of [inserter, finisher]) await c.end();
      await pool.end();
    }
  });

  it('a webhook made NONE (unordered) gives every waiting delivery the turn; made PER_TICKET again, the open ones keep their order', async ({ startApp }) => {
    const { app, webhookId, ticketId, pool } = await setUp(startApp);
    const update = (ordering: string) =>
      app.ok(`mutation ($id: ID!, $input: WebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`, {
        id: webhookId,
        input: { ...jsonHook('In order', 'http://127.0.0.1:9/t'), ordering },
      });
    try {
      const chain: string[] = [];
      for (let i = 0; i < 3; i++) chain.push(await testWebhook(app, webhookId, ticketId));
      expect(await waiting(pool, chain)).toEqual([false, true, true]);
      await update('NONE');
      expect(await waiting(pool, chain)).toEqual([false, false, false]);

      // PER_TICKET again: a new one waits behind the open ones, and gets the turn after the last of them
      await update('PER_TICKET');
      const later = await testWebhook(app, webhookId, ticketId);
      expect(await waiting(pool, [later])).toEqual([true]);
      for (const id of chain.slice(0, 2)) await pool.query(FINISH, [id]);
      expect(await waiting(pool, [later])).toEqual([true]);
      await pool.query(FINISH, [chain[2]]);
      expect(await waiting(pool, [later])).toEqual([false]);
    } finally {
      await pool.end();
    }
  });

  it('the sweep gives the turn to a delivery left waiting with no earlier open one, and to no other', async ({ startApp }) => {
    const { app, webhookId, ticketId, pool } = await setUp(startApp);
    try {
      const chain: string[] = [];
      for (let i = 0; i < 3; i++) chain.push(await testWebhook(app, webhookId, ticketId));
      // the head final with its trigger left out (as a finish the trigger could not see)
      await pool.query(`update deliveries set per_ticket = false where id = $1`, [chain[0]]);
      await pool.query(FINISH, [chain[0]]);
      expect(await waiting(pool, chain)).toEqual([false, true, true]);
      expect(await releaseWaitingTurns(pool)).toBe(1);
      expect(await waiting(pool, chain)).toEqual([false, false, true]);
      expect(await releaseWaitingTurns(pool)).toBe(0);
    } finally {
      await pool.end();
    }
  });

  // The turn triggers never wait for a lock, whatever row locks the dispatcher, the recorder
  // and bulk cancels hold around them, in whatever order.
  it('a dispatcher batch (ticket touched, delivery inserted) and a recorder with ticket work (delivery final, then the ticket) in opposite orders: no deadlock', async ({ startApp }) => {
    const { app, webhookId, ticketId, pool } = await setUp(startApp);
    const dispatcher = await connect(app);
    const recorder = await connect(app);
    try {
      const head = await testWebhook(app, webhookId, ticketId);
      await dispatcher.query('begin');
      await dispatcher.query(TOUCH_TICKET, [ticketId]);
      await recorder.query('begin');
      await recorder.query(FINISH, [head]); // passes the turn: the pair's lock, exclusive
      // the insert finds the turn being passed: it does not wait, and is born with the turn
      const [late] = (await dispatcher.query(INSERT_COPY, [head, 1])).rows.map((r) => r.id as string);
      const commenting = recorder.query(TOUCH_TICKET, [ticketId]);
      await blocked(pool, recorder);
      await dispatcher.query('commit');
      await commenting;
      await recorder.query('commit');
      expect(await waiting(pool, [late!])).toEqual([false]);
    } finally {
      for (const c of [dispatcher, recorder]) await c.end();
      await pool.end();
    }
  });

  it('an insert for tickets 2 then 1 and a recording that finishes the heads of tickets 1 then 2: no deadlock; the turn the recording could not pass goes at the sweep', async ({ startApp }) => {
    const { app, webhookId, pool } = await setUp(startApp);
    const dispatcher = await connect(app);
    const recorder = await connect(app);
    try {
      const [t1, t2] = [await createTicket(app, 'one'), await createTicket(app, 'two')];
      const [a1, a2] = [await testWebhook(app, webhookId, t1), await testWebhook(app, webhookId, t2)];
      await dispatcher.query('begin');
      const [behind2] = (await dispatcher.query(INSERT_COPY, [a2, 1])).rows.map((r) => r.id as string); // waits behind a2
      await recorder.query('begin');
      await recorder.query(FINISH, [a1]);
      await recorder.query(FINISH, [a2]); // an insert of its pair is under way: what it cannot see is the sweep's
      const [behind1] = (await dispatcher.query(INSERT_COPY, [a1, 1])).rows.map((r) => r.id as string); // a1's turn being passed: born with the turn
      await recorder.query('commit');
      await dispatcher.query('commit');
      expect(await waiting(pool, [behind2!, behind1!])).toEqual([true, false]);
      expect(await releaseWaitingTurns(pool)).toBe(1);
      expect(await waiting(pool, [behind2!, behind1!])).toEqual([false, false]);
    } finally {
      for (const c of [dispatcher, recorder]) await c.end();
      await pool.end();
    }
  });

  it('a bulk cancel holding a waiting delivery while the head before it becomes final: no deadlock; the turn neither could see goes at the sweep', async ({ startApp }) => {
    const { app, webhookId, ticketId, pool } = await setUp(startApp);
    const bulk = await connect(app);
    const recorder = await connect(app);
    const holder = await connect(app);
    try {
      const [head, next, last] = [await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId)];
      // another delivery in the cancel's selection, after `next` in its scan, held for a
      // moment by a third session: the cancel has updated `next` and waits
      const other = await testWebhook(app, await createWebhook(app, jsonHook('Any order', 'http://127.0.0.1:9/u')), ticketId);
      await holder.query('begin');
      await holder.query(`select 1 from deliveries where id = $1 for no key update`, [other]);
      await bulk.query('begin');
      // its rows locked in the order given (not the heap's, which a reused database does not keep): next, then other
      const cancelling = bulk.query(
        `update deliveries set status = 'CANCELLED', next_attempt_at = null, completed_at = now()
          where id = any(array(select d.id from deliveries d where d.id = any($1::uuid[]) order by array_position($1::uuid[], d.id) for update))
            and status in ('PENDING','RETRYING')`,
        [[next, other]],
      );
      await blocked(pool, bulk);
      await recorder.query('begin');
      await recorder.query(FINISH, [head]); // `next`, its successor, is the cancel's: skipped, not waited for
      await holder.query('commit');
      await cancelling;
      await bulk.query('commit');
      await recorder.query('commit');
      expect(await waiting(pool, [last!])).toEqual([true]); // the cancel's turn saw the head still open
      expect(await releaseWaitingTurns(pool)).toBe(1);
      expect(await waiting(pool, [last!])).toEqual([false]);
    } finally {
      for (const c of [bulk, recorder, holder]) await c.end();
      await pool.end();
    }
  });

  it('a delivery inserted while its webhook is made NONE: the sweep gives it the turn though the head before it stays open', async ({ startApp }) => {
    const { app, webhookId, ticketId, pool } = await setUp(startApp);
    const inserter = await connect(app);
    try {
      const head = await testWebhook(app, webhookId, ticketId);
      await inserter.query('begin');
      const [late] = (await inserter.query(INSERT_COPY, [head, 1])).rows.map((r) => r.id as string);
      await app.ok(`mutation ($id: ID!, $input: WebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`, {
        id: webhookId,
        input: { ...jsonHook('In order', 'http://127.0.0.1:9/t'), ordering: 'NONE' },
      });
      await inserter.query('commit');
      expect(await waiting(pool, [late!])).toEqual([true]);
      expect(await releaseWaitingTurns(pool)).toBe(1);
      expect(await waiting(pool, [late!])).toEqual([false]);
      expect(await waiting(pool, [head])).toEqual([false]);
    } finally {
      await inserter.end();
      await pool.end();
    }
  });
});
