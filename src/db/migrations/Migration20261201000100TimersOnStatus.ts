import { Migration } from '@mikro-orm/migrations';

/**
 * Closing a ticket stops its timers and reopening plans them again
 * (src/dispatcher/timers.ts): the tickets whose status goes into or out of CLOSED are
 * planned by a statement trigger on `tickets`, after the status is written. The events'
 * trigger plans too, but an event may be inserted before its ticket's new status in the
 * same transaction, and then saw the old one.
 */
export class Migration20261201000100TimersOnStatus extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function deskhooks_timers_after_status() returns trigger language plpgsql as $fn$
declare
  ids bigint[];
begin
  if exists (select 1 from timer_rules) then
    ids := array(select n.id from new_rows n join old_rows o on o.id = n.id
                  where (n.status = 'CLOSED') <> (o.status = 'CLOSED') order by n.id);
    if cardinality(ids) > 0 then perform deskhooks_plan_timers(null, ids); end if;
  end if;
  return null;
end $fn$`);
    this.addSql(`create trigger "tickets_plan_timers" after update on "tickets" referencing old table as old_rows new table as new_rows for each statement execute function deskhooks_timers_after_status()`);
  }
}
