import { Migration } from '@mikro-orm/migrations';

/**
 * A delivery given its turn wakes the workers. Nothing polls the delivery queue (a sweep
 * aside): a PER_TICKET delivery that stops waiting (`awaits_turn` true → false) because the
 * earlier one of its ticket was cancelled (cancelDelivery, cancelMany, a deleted or
 * switched-off webhook) or its webhook was made NONE would otherwise be claimed only at the
 * next sweep (DESKHOOKS_SWEEP_INTERVAL). The same wake-up as an insert's
 * (`deskhooks_deliveries`, at commit); PostgreSQL folds the repeats of one transaction
 * into one notification.
 */
export class Migration20261201000400TurnWakesWorkers extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function deskhooks_delivery_turn_wakes() returns trigger language plpgsql as $$
                 begin perform pg_notify('deskhooks_deliveries', ''); return null; end $$`);
    this.addSql(`create trigger "deliveries_turn_wakes" after update of "awaits_turn" on "deliveries" for each row
                   when (old."awaits_turn" and not new."awaits_turn" and new."status" in ('PENDING','RETRYING'))
                   execute function deskhooks_delivery_turn_wakes()`);
  }
}
