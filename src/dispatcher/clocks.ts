/**
 * The clocks time conditions measure (TicketSnapshot.clocks), loaded for a batch of
 * events in one statement, each as of a moment: a ticket event as of its own time (the
 * post that raised a REPLY_ADDED is the last reply, later posts are not seen), a TIMER
 * as of its handling, yet never before its firing (batch.ts). The same clocks as the timers' plan
 * (src/db/migrations/Migration20261130000600RuleTimers.ts): a clock with no such post yet
 * runs from the ticket's creation; `updated` is the latest event a person raised.
 */
import type { Queryable } from '../queue/index.js';
import type { TicketClocks } from '../domain/index.js';

export interface ClockQuery {
  /** what the result is keyed by (an event id) */
  key: string;
  ticketId: string;
  at: Date;
}

export async function loadClocks(db: Queryable, queries: readonly ClockQuery[]): Promise<Map<string, TicketClocks>> {
  const clocks = new Map<string, TicketClocks>();
  if (!queries.length) return clocks;
  const { rows } = await db.query(
    `select v.key, v.at, t.created_at as created,
            coalesce((select max(e.created_at) from ticket_events e
                       where e.ticket_id = t.id and e.kind = 'EVENT' and e.type <> 'TIMER' and e.created_at <= v.at), t.created_at) as updated,
            coalesce(p.last_reply, t.created_at) as last_reply,
            coalesce(p.last_client_reply, t.created_at) as last_client_reply,
            coalesce(p.last_staff_reply, t.created_at) as last_staff_reply,
            coalesce(p.last_comment, t.created_at) as last_comment
       from unnest($1::text[], $2::bigint[], $3::timestamptz[]) as v(key, ticket_id, at)
       join tickets t on t.id = v.ticket_id
       left join lateral (
         select max(p.created_at) filter (where p.kind = 'REPLY') as last_reply,
                max(p.created_at) filter (where p.kind = 'REPLY' and u.role = 'CLIENT') as last_client_reply,
                max(p.created_at) filter (where p.kind = 'REPLY' and u.role is distinct from 'CLIENT') as last_staff_reply,
                max(p.created_at) filter (where p.kind = 'COMMENT') as last_comment
           from posts p left join users u on u.id = p.author_id
          where p.ticket_id = t.id and p.created_at <= v.at
       ) p on true`,
    [queries.map((q) => q.key), queries.map((q) => q.ticketId), queries.map((q) => q.at)],
  );
  const ms = (v: unknown) => new Date(v as string | Date).getTime();
  for (const r of rows) {
    clocks.set(r.key, {
      now: ms(r.at),
      created: ms(r.created),
      updated: ms(r.updated),
      lastReply: ms(r.last_reply),
      lastClientReply: ms(r.last_client_reply),
      lastStaffReply: ms(r.last_staff_reply),
      lastComment: ms(r.last_comment),
    });
  }
  return clocks;
}
