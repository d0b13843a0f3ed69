import { Migration } from '@mikro-orm/migrations';

/**
 * `deskhooks_timers` is notified only when a statement left some timer due (`due_at` set):
 * what can bring the nearest due time closer. A statement that sets no due time — the timer
 * loop firing (it clears `due_at`), a plan that stops timers, a statement that changed no
 * row — stays silent, so that a timer loop is never woken by its own firing.
 *
 * Transition tables need one trigger per event (insert, update).
 */
export class Migration20261130000800TimerNotifyOnDue extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop trigger "rule_timers_notify" on "rule_timers"`);
    this.addSql(`create or replace function deskhooks_notify_timers() returns trigger language plpgsql as $fn$
begin
  if exists (select 1 from new_rows where due_at is not null) then
    perform pg_notify('deskhooks_timers', '');
  end if;
  return null;
end $fn$`);
    this.addSql(`create trigger "rule_timers_notify_insert" after insert on "rule_timers" referencing new table as new_rows for each statement execute function deskhooks_notify_timers()`);
    this.addSql(`create trigger "rule_timers_notify_update" after update on "rule_timers" referencing new table as new_rows for each statement execute function deskhooks_notify_timers()`);
  }
}
