import { Migration } from '@mikro-orm/migrations';

/**
 * Closing a ticket stops its timers and reopening plans them again
 * (src/dispatcher/timers.ts): a row trigger on `tickets` plans a ticket whose status goes
 * into or out of CLOSED, after the status is written (other updates do not fire it). The
 * events' trigger plans too, but an event may be inserted before its ticket's new status
 * in the same transaction, and then saw the old one. The timers that trigger order left
 * unplanned (tickets reopened before this migration) are planned again here.
 */
export class Migration20261201000100TimersOnStatus extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function deskhooks_timers_after_status() returns trigger language plpgsql as $fn$
begin
  if exists (select 1 from timer_rules) then perform deskhooks_plan_timers(null, array[new.id]); end if;
  return null;
end $fn$`);
    this.addSql(`create trigger "tickets_plan_timers" after update of "status" on "tickets" for each row
      when ((old.status = 'CLOSED') is distinct from (new.status = 'CLOSED')) execute function deskhooks_timers_after_status()`);
    this.addSql(`select deskhooks_plan_timers(null, null)`);
  }
}
