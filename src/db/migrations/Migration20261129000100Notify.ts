import { Migration } from '@mikro-orm/migrations';

/**
 * Wake-ups and the live feed through LISTEN/NOTIFY; PostgreSQL delivers a notification
 * only when its transaction commits. Statement-level triggers, so a batch insert raises
 * one wake-up. QUEUED delivery events carry identifiers and state only (NOTIFY payloads
 * are limited to 8,000 bytes): 40 events of ~170 bytes per notification.
 */
export class Migration20261129000100Notify extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function deskhooks_notify_ticket_events() returns trigger language plpgsql as $$ begin perform pg_notify('deskhooks_ticket_events', ''); return null; end $$`);
    this.addSql(`create trigger ticket_events_notify after insert on "ticket_events" for each statement execute function deskhooks_notify_ticket_events()`);
    this.addSql(`create or replace function deskhooks_notify_deliveries() returns trigger language plpgsql as $$
declare chunk text;
begin
  perform pg_notify('deskhooks_deliveries', '');
  for chunk in
    select json_agg(json_build_object('t', 'QUEUED', 'd', id, 'w', webhook_id::text, 'k', ticket_id::text, 's', status, 'n', null, 'at', created_at))::text
    from (select r.*, (row_number() over () - 1) / 40 as grp from new_rows r) numbered
    group by grp
  loop
    perform pg_notify('deskhooks_delivery_events', chunk);
  end loop;
  return null;
end $$`);
    this.addSql(`create trigger deliveries_notify after insert on "deliveries" referencing new table as new_rows for each statement execute function deskhooks_notify_deliveries()`);
  }
}
