import { Migration } from '@mikro-orm/migrations';

/**
 * A new ticket's timers are planned by the insert of the ticket itself (a statement
 * trigger on `tickets`), whoever created it: a ticket created by an automated call (the
 * receiver of a delivery being attempted, X-Deskhooks-Delivery) raises no TICKET_CREATED,
 * yet its clocks run from its creation like any ticket's. The events' trigger leaves
 * TICKET_CREATED to it: that event is written with its ticket, at the ticket's time, so it
 * restarts no clock. Open tickets created without an event before this migration are
 * planned here.
 */
export class Migration20261202000100TimersOnNewTickets extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function deskhooks_timers_after_new_tickets() returns trigger language plpgsql as $fn$
begin
  if exists (select 1 from timer_rules) then
    perform deskhooks_plan_timers(null, array(select id from new_rows where status <> 'CLOSED' order by id));
  end if;
  return null;
end $fn$`);
    this.addSql(`create trigger "tickets_plan_new_timers" after insert on "tickets" referencing new table as new_rows for each statement execute function deskhooks_timers_after_new_tickets()`);
    this.addSql(`create or replace function deskhooks_timers_after_events() returns trigger language plpgsql as $fn$
declare
  ids bigint[];
begin
  if exists (select 1 from timer_rules) then
    ids := array(select distinct ticket_id from new_rows where kind = 'EVENT' and type not in ('TIMER', 'TICKET_CREATED') order by ticket_id);
    if cardinality(ids) > 0 then perform deskhooks_plan_timers(null, ids); end if;
  end if;
  return null;
end $fn$`);
    this.addSql(`select deskhooks_plan_timers(null, null)`);
  }
}
