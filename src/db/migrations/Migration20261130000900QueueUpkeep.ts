import { Migration } from '@mikro-orm/migrations';

/**
 * Autovacuum thresholds of the tables deskhooks uses as queues. Their rows change at every
 * claim, attempt and processed event, and the claims walk the dead versions those changes
 * leave in their indexes (and plan from the tables' statistics). PostgreSQL's defaults wait
 * for 20 % of a table to be dead (10 % changed for statistics): 200,000 versions in a log
 * of a million deliveries. Here a table is vacuumed once 200 versions plus 1 % of it are
 * dead, and analysed once 200 rows plus 2 % changed, however large it grows. How often
 * autovacuum looks is the server's `autovacuum_naptime` (src/db/embedded.ts for the
 * embedded server).
 */
const QUEUE_TABLES = ['deliveries', 'delivery_texts', 'ticket_events', 'rule_timers'];

export class Migration20261130000900QueueUpkeep extends Migration {
  override async up(): Promise<void> {
    for (const table of QUEUE_TABLES) {
      this.addSql(`alter table "${table}" set (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 200,
        autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200)`);
    }
  }
}
