import { Migration } from '@mikro-orm/migrations';

/**
 * PER_TICKET deliveries wait for their turn out of the claim's way. A delivery inserted
 * while an earlier delivery of its webhook for its ticket is open is born `awaits_turn`:
 * it is out of deliveries_due_webhook_idx, so that a claim never walks a ticket's blocked
 * chain (a claim serves every webhook: what one webhook's chain costs it, all of them
 * wait). The claim still tests the deliveries it takes (scheduling.ts EARLIER_OPEN), so the
 * flag only ever decides what a claim looks at, never the order.
 *
 * - On insert (any path), a trigger marks a delivery of a PER_TICKET webhook for a ticket
 *   `per_ticket`, and `awaits_turn` when an earlier one of the pair (ticket, webhook) is
 *   open, rows inserted before it by the same statement included (the sequence gives the
 *   inserted row the highest seq, so any open one is earlier).
 * - When a `per_ticket` delivery leaves PENDING/RETRYING, a trigger gives the turn to the
 *   earliest open delivery of its pair, if that one waits.
 * - Neither trigger ever waits for a lock: the dispatcher, the recorder and bulk cancels
 *   hold row locks taken in their own orders around them, so a wait here could close a
 *   cycle. They meet on the pair's advisory lock, taken with a try: the insert's shared,
 *   the turn's exclusive.
 *   An insert that finds the turn being passed (not yet committed) is born with the turn;
 *   the claim keeps the order. A turn that finds an insert under way, or the next
 *   delivery's row locked (a bulk cancel, which passes the turn itself), gives what it
 *   can see; the sweep (store.ts releaseWaitingTurns) gives the rest within its interval,
 *   as it does for deliveries of a webhook whose ordering changed under an insert.
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
    this.addSql(`create index "deliveries_awaiting_turn_idx" on "deliveries" ("webhook_id", "ticket_id", "seq") where "awaits_turn" and "status" in ('PENDING','RETRYING')`);
    this.addSql(`create function deskhooks_delivery_turn_key(ticket_id bigint, webhook_id bigint) returns bigint language sql immutable as $$
                   select hashtextextended('deskhooks:delivery-turn:' || ticket_id || ':' || webhook_id, 0)
                 $$`);
    this.addSql(`create function deskhooks_delivery_takes_turn() returns trigger language plpgsql volatile as $$
                 begin
                   if not exists (select 1 from webhooks w where w.id = new.webhook_id and w.ordering = 'PER_TICKET') then
                     return new;
                   end if;
                   new.per_ticket := true;
                   if not pg_try_advisory_xact_lock_shared(deskhooks_delivery_turn_key(new.ticket_id, new.webhook_id)) then
                     return new; -- the pair's turn is being passed: born with the turn
                   end if;
                   new.awaits_turn := exists (select 1 from deliveries e
                                               where e.ticket_id = new.ticket_id and e.webhook_id = new.webhook_id
                                                 and e.status in ('PENDING','RETRYING'));
                   return new;
                 end $$`);
    this.addSql(`create trigger "deliveries_take_turn" before insert on "deliveries" for each row
                   when (new."ticket_id" is not null and new."webhook_id" is not null and new."status" in ('PENDING','RETRYING'))
                   execute function deskhooks_delivery_takes_turn()`);
    this.addSql(`create function deskhooks_delivery_passes_turn() returns trigger language plpgsql volatile as $$
                 declare
                   next_id uuid;
                 begin
                   perform pg_try_advisory_xact_lock(deskhooks_delivery_turn_key(new.ticket_id, new.webhook_id));
                   select e.id into next_id from deliveries e
                    where e.ticket_id = new.ticket_id and e.webhook_id = new.webhook_id and e.status in ('PENDING','RETRYING')
                    order by e.seq limit 1;
                   if next_id is not null then
                     update deliveries set awaits_turn = false
                      where id = (select w.id from deliveries w where w.id = next_id and w.awaits_turn for no key update skip locked);
                   end if;
                   return null;
                 end $$`);
    this.addSql(`create trigger "deliveries_pass_turn" after update of "status" on "deliveries" for each row
                   when (new."per_ticket" and old."status" in ('PENDING','RETRYING') and new."status" not in ('PENDING','RETRYING'))
                   execute function deskhooks_delivery_passes_turn()`);
  }
}
