import { Migration } from '@mikro-orm/migrations';

/**
 * What the delivery claim needs to keep every webhook's limits across all workers
 * (src/delivery/scheduling.ts):
 *
 * - `webhook_states`: a webhook's breaker and its rate limit's token bucket. The claim
 *   locks the rows of the webhooks it claims for, in id order, so claims for one webhook
 *   run one after the other in every process. Nothing here changes `webhooks` (its
 *   triggers raise the definitions' version). A row is made with its webhook (trigger);
 *   a missing row reads as CLOSED.
 * - `deliveries.seq`: creation order (a clock may give deliveries the same created_at),
 *   for PER_TICKET ordering and the breaker's oldest held delivery. Rows open at the
 *   migration get theirs in created_at order.
 * - indexes: due deliveries by webhook in claim order, and those without a webhook (it was
 *   deleted); claimed deliveries by webhook (the in-flight count); open deliveries by
 *   ticket and webhook (the earlier one of a ticket).
 */
export class Migration20261130000400WebhookState extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "webhook_states" (
      "webhook_id" bigint primary key references "webhooks" ("id") on delete cascade,
      "breaker" text not null default 'CLOSED' check ("breaker" in ('CLOSED', 'OPEN', 'HALF_OPEN')),
      "opened_at" timestamptz null,
      "window_started_at" timestamptz null,
      "next_probe_at" timestamptz null,
      "probe_delivery_id" uuid null,
      "tokens" double precision null,
      "tokens_at" timestamptz null)`);
    this.addSql(`insert into "webhook_states" ("webhook_id") select "id" from "webhooks"`);
    this.addSql(`create or replace function deskhooks_webhook_state() returns trigger language plpgsql as $$
begin
  insert into webhook_states (webhook_id) values (new.id) on conflict do nothing;
  return null;
end $$`);
    this.addSql(`create trigger "webhooks_state" after insert on "webhooks" for each row execute function deskhooks_webhook_state()`);

    this.addSql(`create sequence "deliveries_seq"`);
    this.addSql(`alter table "deliveries" add column "seq" bigint null`);
    this.addSql(`alter table "deliveries" alter column "seq" set default nextval('deliveries_seq')`);
    this.addSql(`update "deliveries" d set "seq" = o.n from (
      select "id", nextval('deliveries_seq') as n from (select "id" from "deliveries" where "status" in ('PENDING','RETRYING') order by "created_at", "id") x) o
      where d."id" = o."id"`);

    this.addSql(`create index "deliveries_due_webhook_idx" on "deliveries" ("webhook_id", "next_attempt_at", "seq") where "status" in ('PENDING','RETRYING')`);
    this.addSql(`create index "deliveries_due_free_idx" on "deliveries" ("next_attempt_at", "seq") where "status" in ('PENDING','RETRYING') and "webhook_id" is null`);
    this.addSql(`create index "deliveries_claimed_idx" on "deliveries" ("webhook_id", "locked_until") where "locked_until" is not null`);
    this.addSql(`create index "deliveries_open_ticket_idx" on "deliveries" ("ticket_id", "webhook_id", "seq") where "status" in ('PENDING','RETRYING') and "ticket_id" is not null`);
  }
}
