import { Migration } from '@mikro-orm/migrations';

/**
 * One index per set of columns: the unique constraint's (delivery_attempts_delivery_id_number_unique)
 * serves every lookup of a delivery's attempts, so delivery_attempts_delivery_id_number_index,
 * on the same columns, goes (every recorded attempt is written into each index).
 */
export class Migration20261201000000DropDuplicateAttemptIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "delivery_attempts_delivery_id_number_index"`);
  }
}
