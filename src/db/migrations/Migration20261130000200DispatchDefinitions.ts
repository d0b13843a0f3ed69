import { Migration } from '@mikro-orm/migrations';

/**
 * What the dispatcher caches — rules, custom fields, webhooks — carries a version: any
 * change to those tables raises it in the changing transaction and notifies
 * `deskhooks_definitions` at commit. The dispatcher reads the version with each batch
 * (a missed notification cannot leave a stale cache) and drops its cache on the
 * notification. The partial index serves the per-ticket order check: an event waits
 * while an earlier event of its ticket is unprocessed.
 */
export class Migration20261130000200DispatchDefinitions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "dispatch_definitions" ("id" int primary key default 1 check ("id" = 1), "version" bigint not null)`);
    this.addSql(`insert into "dispatch_definitions" ("id", "version") values (1, 0)`);
    this.addSql(`create or replace function deskhooks_definitions_changed() returns trigger language plpgsql as $$
begin
  update dispatch_definitions set version = version + 1 where id = 1;
  perform pg_notify('deskhooks_definitions', '');
  return null;
end $$`);
    for (const table of ['rules', 'custom_fields', 'webhooks']) {
      this.addSql(`create trigger "${table}_definitions_changed" after insert or update or delete or truncate on "${table}" for each statement execute function deskhooks_definitions_changed()`);
    }
    this.addSql(`create index "ticket_events_pending_ticket_idx" on "ticket_events" ("ticket_id", "id") where "processed_at" is null`);
  }
}
