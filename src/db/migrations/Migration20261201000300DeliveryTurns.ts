import { Migration } from '@mikro-orm/migrations';

/**
 * PER_TICKET deliveries wait for their turn out of the claim's way. A delivery inserted
 * while an earlier delivery of its webhook for its ticket is open is born `awaits_turn`:
 * it is out of deliveries_due_webhook_idx, so that a claim never walks a ticket's blocked
 * chain (before, every claim tested each blocked delivery for an earlier open one: a
 * chain of 50,000 behind a retrying one cost ~0.5 s per claim, and claims serve every
 * webhook). The claim still tests the deliveries it takes (scheduling.ts EARLIER_OPEN).
 *
 * - On insert (any path), a trigger marks a delivery of a PER_TICKET webhook for a ticket
 *   `per_ticket`, and `awaits_turn` when an earlier one of the pair (ticket, webhook) is
 *   open, rows inserted before it by the same statement included.
 * - When a `per_ticket` delivery leaves PENDING/RETRYING, a trigger gives the turn to the
 *   earliest open delivery of its pair, if that one waits.
 * - The two cannot miss each other: each takes the pair's advisory lock (the insert
 *   shared, the turn exclusive) before its query, and each query has a snapshot of its
 *   own (the functions are volatile). So either the insert sees the earlier delivery
 *   final, or the turn's query sees the inserted one.
 * - A webhook's ordering changed (webhooks.ts) marks its open deliveries anew; the sweep
 *   gives the turn to any delivery left waiting with no earlier open one (store.ts).
 */
export class Migration20261201000300DeliveryTurns extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "deliveries" add column "per_ticket" boolean not null default false, add column "awaits_turn" boolean not null default false`);
    this.addSql(`update "deliveries" d set "per_ticket" = true from "webhooks" w
                  where w."id" = d."webhook_id" and w."ordering" = 'PER_TICKET' and d."ticket_id" is not null and d."status" in ('PENDING','RETRYING')`);
    this.addSql(`update "deliveries" d set "awaits_turn" = true
                  where d."per_ticket" and d."status" in ('PENDING','RETRYING')
                    and exists (select 1 from "deliveries" e where e."ticket_id" = d."ticket_id" and e."webhook_id" = d."webhook_id"
                                   and e."status" in ('PENDING','RETRYING') and e."seq" < d."seq")`);
    this.addSql(`drop index "deliveries_due_webhook_idx"`);
    this.addSql(`create index "deliveries_due_webhook_idx" on "deliveries" ("webhook_id", "next_attempt_at", "seq") where "status" in ('PENDING','RETRYING') and not "awaits_turn"`);
    this.addSql(`create index "deliveries_awaiting_turn_idx" on "deliveries" ("ticket_id", "webhook_id", "seq") where "awaits_turn" and "status" in ('PENDING','RETRYING')`);
    this.addSql(`create function deskhooks_delivery_turn_key(ticket_id bigint, webhook_id bigint) returns bigint language sql immutable as $$
                   select hashtextextended('deskhooks:delivery-turn:' || ticket_id || ':' || webhook_id, 0)
                 $$`);
    this.addSql(`create function deskhooks_delivery_takes_turn() returns trigger language plpgsql volatile as $$
                 begin
                   if not exists (select 1 from webhooks w where w.id = new.webhook_id and w.ordering = 'PER_TICKET') then
                     return new;
                   end if;
                   new.per_ticket := true;
                   perform pg_advisory_xact_lock_shared(deskhooks_delivery_turn_key(new.ticket_id, new.webhook_id));
                   new.awaits_turn := exists (select 1 from deliveries e
                                               where e.ticket_id = new.ticket_id and e.webhook_id = new.webhook_id
                                                 and e.status in ('PENDING','RETRYING'));
                   return new;
                 end $$`);
    this.addSql(`create trigger "deliveries_take_turn" before insert on "deliveries" for each row
                   when (new."ticket_id" is not null and new."webhook_id" is not null and new."status" in ('PENDING','RETRYING'))
                   execute function deskhooks_delivery_takes_turn()`);
    this.addSql(`create function deskhooks_delivery_passes_turn() returns trigger language plpgsql volatile as $$
                 begin
                   perform pg_advisory_xact_lock(deskhooks_delivery_turn_key(new.ticket_id, new.webhook_id));
                   update deliveries set awaits_turn = false
                    where id = (select e.id from deliveries e
                                 where e.ticket_id = new.ticket_id and e.webhook_id = new.webhook_id and e.status in ('PENDING','RETRYING')
                                 order by e.seq limit 1)
                      and awaits_turn;
                   return null;
                 end $$`);
    this.addSql(`create trigger "deliveries_pass_turn" after update of "status" on "deliveries" for each row
                   when (new."per_ticket" and old."status" in ('PENDING','RETRYING') and new."status" not in ('PENDING','RETRYING'))
                   execute function deskhooks_delivery_passes_turn()`);
  }
}
