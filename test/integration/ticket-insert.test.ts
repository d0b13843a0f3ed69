/**
 * New tickets and their TICKET_CREATED: concurrent inserts share one statement, each
 * ticket keeps its own event, a ticket PostgreSQL refuses fails alone, and a failure
 * without PostgreSQL's answer (it may have come after the commit) is not retried.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertTicket, ticketInserter, type NewTicketRow } from '../../src/helpdesk/ticket-insert.js';
import type { Queryable } from '../../src/queue/index.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let pool: pg.Pool;
let requesterId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const { rows } = await pool.query(`insert into users (name, email, role, api_key_hash, created_at) values ('R', 'r@example.com', 'CLIENT', 'x', now()) returning id`);
  requesterId = String(rows[0].id);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** `db` with its statements counted. */
function counted(inner: Queryable): Queryable & { statements: number } {
  const out = {
    statements: 0,
    query: (text: string, values?: unknown[]) => {
      out.statements++;
      return inner.query(text, values);
    },
  };
  return out as Queryable & { statements: number };
}

const row = (title: string, over: Partial<NewTicketRow> = {}): NewTicketRow => ({
  title,
  description: `about ${title}`,
  status: 'OPEN',
  priority: 'NORMAL',
  requesterId,
  assigneeId: null,
  parentId: null,
  customFields: { ref: title },
  payload: { ticket: { id: '', title }, actor: null },
  createdAt: new Date(Date.UTC(2026, 11, 2, 12, 0, Number(title.replace(/\D/g, '')) || 0)),
  ...over,
});

async function eventsOf(ids: string[]) {
  const { rows } = await pool.query(`select ticket_id::text as ticket, type, payload, created_at from ticket_events where ticket_id = any($1::bigint[]) order by ticket_events.ticket_id`, [ids]);
  return rows as { ticket: string; type: string; payload: { ticket: { id: string; title: string } }; created_at: Date }[];
}

describe('ticket inserts', () => {
  it('concurrent inserts share one statement; each ticket has its own event, in the callers’ order', async () => {
    const sql = counted(pool);
    const insert = ticketInserter(sql, false);
    const rows = Array.from({ length: 20 }, (_, i) => row(`t${i + 1}`));
    const out = await Promise.all(rows.map((r) => insert(r)));
    expect(sql.statements).toBe(1);
    const ids = out.map((t) => t.id);
    expect(new Set(ids).size).toBe(20);
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => a - b));
    const { rows: tickets } = await pool.query(`select id::text as id, title, custom_fields, created_at from tickets where id = any($1::bigint[]) order by tickets.id`, [ids]);
    expect(tickets.map((t) => t.title)).toEqual(rows.map((r) => r.title));
    expect(tickets.map((t) => t.custom_fields.ref)).toEqual(rows.map((r) => r.title));
    expect(tickets.map((t) => t.created_at.toISOString())).toEqual(rows.map((r) => r.createdAt.toISOString()));
    expect(out.map((t) => t.createdAt.toISOString())).toEqual(rows.map((r) => r.createdAt.toISOString()));
    const events = await eventsOf(ids);
    expect(events.map((e) => [e.ticket, e.type, e.payload.ticket.id, e.payload.ticket.title, e.created_at.toISOString()])).toEqual(
      out.map((t, i) => [t.id, 'TICKET_CREATED', t.id, rows[i].title, rows[i].createdAt.toISOString()]),
    );
  });

  it('a ticket without a payload is inserted without an event, next to others with theirs', async () => {
    const insert = ticketInserter(pool, false);
    const [a, b, c] = await Promise.all([insert(row('p1')), insert(row('p2', { payload: null })), insert(row('p3'))]);
    expect((await eventsOf([a.id, b.id, c.id])).map((e) => e.ticket)).toEqual([a.id, c.id]);
  });

  it('a ticket PostgreSQL refuses fails alone; the others of its statement are inserted once', async () => {
    const sql = counted(pool);
    const insert = ticketInserter(sql, false);
    const before = Number((await pool.query(`select count(*) from tickets`)).rows[0].count);
    const settled = await Promise.allSettled([insert(row('r1')), insert(row('r2')), insert(row('r3', { requesterId: '987654321' })), insert(row('r4'))]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((settled[2] as PromiseRejectedResult).reason as { code: string }).code).toBe('23503'); // the requester's foreign key
    expect(sql.statements).toBe(1 + 4); // the shared one, refused, then each on its own
    const after = Number((await pool.query(`select count(*) from tickets`)).rows[0].count);
    expect(after - before).toBe(3);
    const ids = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.id] : []));
    expect((await eventsOf(ids)).map((e) => e.payload.ticket.title)).toEqual(['r1', 'r2', 'r4']);
  });

  it('a failure without PostgreSQL’s answer is given to every caller, not retried', async () => {
    const lost = new Error('Connection terminated unexpectedly');
    const sql = counted({ query: () => Promise.reject(lost) } as unknown as Queryable);
    const insert = ticketInserter(sql, false);
    const settled = await Promise.allSettled([insert(row('l1')), insert(row('l2')), insert(row('l3'))]);
    expect(settled.map((s) => (s.status === 'rejected' ? s.reason : null))).toEqual([lost, lost, lost]);
    expect(sql.statements).toBe(1);
  });

  it('woken here, a shared statement’s events are inserted without the notification; otherwise they notify', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.channel));
    await listener.query('listen deskhooks_ticket_events; listen deskhooks_test_mark');
    const markAfter = async (mark: string) => {
      await pool.query(`select pg_notify('deskhooks_test_mark', $1)`, [mark]);
      await waitFor(() => heard.includes('deskhooks_test_mark'), { what: mark });
      const got = heard.splice(0);
      return got.filter((c) => c === 'deskhooks_ticket_events').length;
    };
    try {
      const here = ticketInserter(pool, true);
      await Promise.all([here(row('w1')), here(row('w2')), here(row('w3'))]);
      expect(await markAfter('here')).toBe(0);
      const elsewhere = ticketInserter(pool, false);
      await Promise.all([elsewhere(row('n1')), elsewhere(row('n2'))]);
      expect(await markAfter('elsewhere')).toBeGreaterThan(0);
    } finally {
      await listener.end();
    }
  });

  it('text that array literals treat specially reaches each ticket as written, in a shared statement', async () => {
    const awkward = ['NULL', 'a "quoted", {braced} \\ back\\slash', 'line\nbreak\ttab', '', 'مرحبا 👋 zero\u200bwidth'];
    const insert = ticketInserter(pool, false);
    const out = await Promise.all(
      awkward.map((text, i) => insert(row(`x${i}`, { title: text || 'empty description', description: text, customFields: { note: text, n: null, nested: { list: [text, 1] } } }))),
    );
    const { rows } = await pool.query(`select title, description, custom_fields from tickets where id = any($1::bigint[]) order by tickets.id`, [out.map((t) => t.id)]);
    expect(rows.map((r) => r.description)).toEqual(awkward);
    expect(rows.map((r) => r.custom_fields)).toEqual(awkward.map((text) => ({ note: text, n: null, nested: { list: [text, 1] } })));
    expect(rows[0].title).toBe('NULL');
  });

  it('one ticket on its own takes the single statement', async () => {
    const t = await insertTicket(pool, row('s1'));
    expect((await eventsOf([t.id])).map((e) => e.payload.ticket.id)).toEqual([t.id]);
  });
});
