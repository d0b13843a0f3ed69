/**
 * Inserting new tickets with their TICKET_CREATED (the outbox): each ticket and its event
 * in one statement, atomic. Concurrent createTicket calls share one statement (coalesced):
 * under a burst, one round trip, one plan, one set of statement triggers and one commit
 * for up to COALESCED_BATCH_MAX tickets instead of one each.
 *
 * A shared statement is all or nothing. When PostgreSQL refuses it (a requester deleted
 * meanwhile, a value out of range), nothing of it was written, so each ticket is inserted
 * again on its own and gets its own answer: one bad ticket fails alone. A failure without
 * PostgreSQL's answer (a lost connection) may have come after the commit, so it is not
 * retried: each caller gets it, as a single insert's caller would.
 */
import { coalesced } from '../db/index.js';
import { isDatabaseError } from '../log-redact.js';
import type { Queryable } from '../queue/index.js';

export interface NewTicketRow {
  title: string;
  description: string;
  status: string;
  priority: string;
  requesterId: string;
  assigneeId: string | null;
  parentId: string | null;
  customFields: Record<string, unknown>;
  /** its TICKET_CREATED's payload (the ticket's id is filled in by the insert); null: no event */
  payload: object | null;
  createdAt: Date;
}

export interface InsertedTicket {
  id: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * `wokenHere`: the events are handed to this process's dispatcher, so they are inserted
 * without the notification (Migration20261130001100EventsWokenHere; the setting lasts as
 * long as the statement's transaction, so `db` must be a pool).
 */
export function ticketInserter(db: Queryable, wokenHere: boolean): (row: NewTicketRow) => Promise<InsertedTicket> {
  const one = (row: NewTicketRow) => insertTicket(db, row, wokenHere);
  return coalesced(async (rows: readonly NewTicketRow[]) => {
    if (rows.length === 1) return [await one(rows[0]!).catch((err: Error) => err)];
    try {
      return await insertTickets(db, rows, wokenHere);
    } catch (err) {
      if (!isDatabaseError(err)) return rows.map(() => err as Error);
      // one after another, in the callers' order, as the shared statement would have
      const each: (InsertedTicket | Error)[] = [];
      for (const row of rows) each.push(await one(row).catch((e: Error) => e));
      return each;
    }
  });
}

const inserted = (row: { id: string | number; created_at: Date; updated_at: Date }): InsertedTicket => ({ id: String(row.id), createdAt: row.created_at, updatedAt: row.updated_at });

/**
 * One ticket and its event, in a plain insert of its own: a lone createTicket has nothing to
 * share, and a refused one's log line shows this statement's columns and placeholders.
 */
export async function insertTicket(db: Queryable, row: NewTicketRow, wokenHere = false): Promise<InsertedTicket> {
  const { rows } = await db.query(
    `with t as (
       insert into tickets (title, description, status, priority, requester_id, assignee_id, parent_id, custom_fields, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9)
       returning id, created_at, updated_at
     ), e as (
       insert into ticket_events (kind, ticket_id, type, payload, created_at)
       select 'EVENT', t.id, 'TICKET_CREATED', jsonb_set($10::jsonb, '{ticket,id}', to_jsonb(t.id::text)), $9
         from t where $10::jsonb is not null and set_config('deskhooks.events_woken_here', $11, true) is not null
     )
     select * from t`,
    [row.title, row.description, row.status, row.priority, row.requesterId, row.assigneeId, row.parentId, JSON.stringify(row.customFields), row.createdAt, row.payload && JSON.stringify(row.payload), wokenHere ? 'on' : 'off'],
  );
  return inserted(rows[0]);
}

/**
 * The tickets and their events, in one statement, results in the rows' order. The tickets'
 * ids are taken first (in the rows' order), so that each event is written with its own
 * ticket's id whatever order the insert returns its rows in.
 */
async function insertTickets(db: Queryable, rows: readonly NewTicketRow[], wokenHere: boolean): Promise<InsertedTicket[]> {
  const { rows: out } = await db.query(
    `with input as materialized (
       select i.*, nextval(pg_get_serial_sequence('tickets', 'id')) as id
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::jsonb[], $9::timestamptz[], $10::jsonb[])
              with ordinality as i(title, description, status, priority, requester_id, assignee_id, parent_id, custom_fields, created_at, payload, n)
     ), t as (
       insert into tickets (id, title, description, status, priority, requester_id, assignee_id, parent_id, custom_fields, created_at, updated_at)
       select id, title, description, status, priority, requester_id, assignee_id, parent_id, custom_fields, created_at, created_at from input order by n
       returning id, created_at, updated_at
     ), e as (
       insert into ticket_events (kind, ticket_id, type, payload, created_at)
       select 'EVENT', i.id, 'TICKET_CREATED', jsonb_set(i.payload, '{ticket,id}', to_jsonb(i.id::text)), i.created_at
         from input i where i.payload is not null and set_config('deskhooks.events_woken_here', $11, true) is not null
         order by i.n
     )
     select i.n, t.* from t join input i using (id) order by i.n`,
    [
      rows.map((r) => r.title),
      rows.map((r) => r.description),
      rows.map((r) => r.status),
      rows.map((r) => r.priority),
      rows.map((r) => r.requesterId),
      rows.map((r) => r.assigneeId),
      rows.map((r) => r.parentId),
      rows.map((r) => JSON.stringify(r.customFields)),
      rows.map((r) => r.createdAt),
      rows.map((r) => r.payload && JSON.stringify(r.payload)),
      wokenHere ? 'on' : 'off',
    ],
  );
  if (out.length !== rows.length) throw new Error(`inserting ${rows.length} tickets returned ${out.length} rows`);
  return out.map(inserted);
}
