import { Migration } from '@mikro-orm/migrations';

/**
 * The timers of TIMER rules (src/dispatcher/timers.ts):
 *
 * - `timer_rules`: what the plan needs of each enabled TIMER rule — ALL or ANY, and the
 *   clocks and durations (ms) of its GREATER_THAN time conditions — written when the rule
 *   is saved. A table of its own: the rules' triggers raise the dispatcher's definitions
 *   version, and nothing that changes often may live there.
 * - `rule_timers`: per (rule, ticket) the due time, the start of the clocks it measures
 *   (`clock_start`, the latest of them) and the start it last fired for (`fired_start`):
 *   a timer is due while `due_at` is set, and is never set again for the start it fired
 *   for, so it fires once per rule, ticket and clock start.
 * - `deskhooks_plan_timers(rules, tickets)`: the plan, one set-based statement for the
 *   given rules (null: every TIMER rule) over the given tickets (null: every ticket not
 *   CLOSED); CLOSED tickets have no due time. Run at a rule's save for that rule, and by
 *   the triggers below for the tickets a statement touched, in its transaction: a new
 *   post (any author: it restarts the reply and comment clocks) and an event raised by
 *   a person (it restarts `updated`, and may close or reopen the ticket).
 * - a deleted rule's or ticket's timers are deleted with it (statement triggers).
 * - every change to `rule_timers` notifies `deskhooks_timers` at commit: the timer loops
 *   re-read the nearest due time.
 */
export class Migration20261130000600RuleTimers extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "timer_rules" ("rule_id" bigint primary key references "rules" ("id") on delete cascade, "match" text not null, "clocks" text[] not null, "millis" bigint[] not null)`);
    // no foreign keys: their per-row checks were most of a plan's time (100,000 rows); the
    // timers of a deleted rule or ticket go with it through the statement triggers below
    this.addSql(`create table "rule_timers" (
      "rule_id" bigint not null, "ticket_id" bigint not null,
      "due_at" timestamptz null, "clock_start" timestamptz not null, "fired_start" timestamptz null,
      constraint "rule_timers_pkey" primary key ("rule_id", "ticket_id"))`);
    this.addSql(`create or replace function deskhooks_timers_of_deleted_rules() returns trigger language plpgsql as $fn$
begin
  delete from rule_timers where rule_id in (select id from old_rows);
  return null;
end $fn$`);
    this.addSql(`create trigger "rules_delete_timers" after delete on "rules" referencing old table as old_rows for each statement execute function deskhooks_timers_of_deleted_rules()`);
    this.addSql(`create or replace function deskhooks_timers_of_deleted_tickets() returns trigger language plpgsql as $fn$
begin
  delete from rule_timers where ticket_id in (select id from old_rows);
  return null;
end $fn$`);
    this.addSql(`create trigger "tickets_delete_timers" after delete on "tickets" referencing old table as old_rows for each statement execute function deskhooks_timers_of_deleted_tickets()`);
    this.addSql(`create index "rule_timers_due_idx" on "rule_timers" ("due_at") where "due_at" is not null`);
    this.addSql(`create index "rule_timers_ticket_idx" on "rule_timers" ("ticket_id")`);
    // the latest change a person made to a ticket (the `updated` clock)
    this.addSql(`create index "ticket_events_people_idx" on "ticket_events" ("ticket_id", "created_at") where "kind" = 'EVENT' and "type" <> 'TIMER'`);
    this.addSql(`create or replace function deskhooks_plan_timers(p_rules bigint[], p_tickets bigint[]) returns void language plpgsql as $fn$
declare
  tickets_in text := case when p_tickets is null then 'true' else 't.id = any($2)' end;
  rules_in text := case when p_rules is null then 'true' else 's.rule_id = any($1)' end;
begin
  execute format($q$
    insert into rule_timers as r (rule_id, ticket_id, due_at, clock_start)
    select s.rule_id, t.id,
           case when s.match = 'ANY' then min(c.start + k.ms * interval '1 millisecond') else max(c.start + k.ms * interval '1 millisecond') end,
           max(c.start)
      from timer_rules s
      join tickets t on t.status <> 'CLOSED' and %s
      cross join lateral unnest(s.clocks, s.millis) as k(clock, ms)
      cross join lateral (select case k.clock
          when 'created' then t.created_at
          when 'updated' then coalesce((select max(e.created_at) from ticket_events e where e.ticket_id = t.id and e.kind = 'EVENT' and e.type <> 'TIMER'), t.created_at)
          when 'lastReply' then coalesce((select max(p.created_at) from posts p where p.ticket_id = t.id and p.kind = 'REPLY'), t.created_at)
          when 'lastClientReply' then coalesce((select max(p.created_at) from posts p join users u on u.id = p.author_id where p.ticket_id = t.id and p.kind = 'REPLY' and u.role = 'CLIENT'), t.created_at)
          when 'lastStaffReply' then coalesce((select max(p.created_at) from posts p left join users u on u.id = p.author_id where p.ticket_id = t.id and p.kind = 'REPLY' and u.role is distinct from 'CLIENT'), t.created_at)
          when 'lastComment' then coalesce((select max(p.created_at) from posts p where p.ticket_id = t.id and p.kind = 'COMMENT'), t.created_at)
        end as start) c
     where %s
     group by s.rule_id, s.match, t.id
     order by s.rule_id, t.id
    on conflict (rule_id, ticket_id) do update
       set due_at = case when r.fired_start = excluded.clock_start then null else excluded.due_at end,
           clock_start = excluded.clock_start
     where r.clock_start is distinct from excluded.clock_start
        or r.due_at is distinct from (case when r.fired_start = excluded.clock_start then null else excluded.due_at end)
  $q$, tickets_in, rules_in) using p_rules, p_tickets;
  execute format($q$
    update rule_timers r set due_at = null from tickets t
     where t.id = r.ticket_id and t.status = 'CLOSED' and r.due_at is not null and %s and %s
  $q$, replace(tickets_in, 't.id', 'r.ticket_id'), replace(rules_in, 's.rule_id', 'r.rule_id')) using p_rules, p_tickets;
end $fn$`);
    this.addSql(`create or replace function deskhooks_timers_after_posts() returns trigger language plpgsql as $fn$
begin
  if exists (select 1 from timer_rules) then
    perform deskhooks_plan_timers(null, array(select distinct ticket_id from new_rows order by ticket_id));
  end if;
  return null;
end $fn$`);
    this.addSql(`create trigger "posts_plan_timers" after insert on "posts" referencing new table as new_rows for each statement execute function deskhooks_timers_after_posts()`);
    this.addSql(`create or replace function deskhooks_timers_after_events() returns trigger language plpgsql as $fn$
declare
  ids bigint[];
begin
  if exists (select 1 from timer_rules) then
    ids := array(select distinct ticket_id from new_rows where kind = 'EVENT' and type <> 'TIMER' order by ticket_id);
    if cardinality(ids) > 0 then perform deskhooks_plan_timers(null, ids); end if;
  end if;
  return null;
end $fn$`);
    this.addSql(`create trigger "ticket_events_plan_timers" after insert on "ticket_events" referencing new table as new_rows for each statement execute function deskhooks_timers_after_events()`);
    this.addSql(`create or replace function deskhooks_notify_timers() returns trigger language plpgsql as $fn$ begin perform pg_notify('deskhooks_timers', ''); return null; end $fn$`);
    this.addSql(`create trigger "rule_timers_notify" after insert or update on "rule_timers" for each statement execute function deskhooks_notify_timers()`);
  }
}
