import { Migration } from '@mikro-orm/migrations';

/**
 * A transaction that hands its ticket events to the dispatcher of its own process sets
 * `deskhooks.events_woken_here` to 'on' (transaction-local) and inserts them without the
 * `deskhooks_ticket_events` notification. A NOTIFY is not free: at commit it takes the
 * database's notification lock (concurrent committers queue on it), and every connection
 * that listens on the database — on any channel — is woken to read the queue. Any other
 * writer of ticket events (the setting absent or not 'on') notifies as before.
 */
export class Migration20261130001100EventsWokenHere extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function deskhooks_notify_ticket_events() returns trigger language plpgsql as $fn$
begin
  if current_setting('deskhooks.events_woken_here', true) is distinct from 'on' then
    perform pg_notify('deskhooks_ticket_events', '');
  end if;
  return null;
end $fn$`);
  }
}
