import { Migration } from '@mikro-orm/migrations';

/**
 * A TIMER rule with ANY fires again only when one of its conditions becomes true again
 * through time, i.e. for a clock that restarted after the firing: after a firing
 * (`fired_start`, the latest clock start it fired for), its due time is the earliest
 * start + duration among the clocks that started since (none: no due time). A condition
 * that was already true does not make it due again, so an ANY rule whose action restarts
 * one of its clocks (ADD_COMMENT and timeSinceLastComment) fires once per duration. With
 * ALL, every condition must hold, so the restarted clock's duration must pass first.
 */
export class Migration20261201000500TimerAnyOnce extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function deskhooks_plan_timers(p_rules bigint[], p_tickets bigint[]) returns void language plpgsql as $fn$
declare
  tickets_in text := case when p_tickets is null then 'true' else 't.id = any($2)' end;
  rules_in text := case when p_rules is null then 'true' else 's.rule_id = any($1)' end;
begin
  execute format($q$
    insert into rule_timers as r (rule_id, ticket_id, due_at, clock_start)
    select s.rule_id, t.id,
           case when s.match = 'ANY'
                then min(c.start + k.ms * interval '1 millisecond') filter (where f.fired_start is null or c.start > f.fired_start)
                else max(c.start + k.ms * interval '1 millisecond') end,
           max(c.start)
      from timer_rules s
      join tickets t on t.status <> 'CLOSED' and %s
      left join rule_timers f on f.rule_id = s.rule_id and f.ticket_id = t.id
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
  }
}
