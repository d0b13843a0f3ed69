import { Migration } from '@mikro-orm/migrations';

/**
 * delivery_attempts_delivery_id_number_index repeats the unique constraint's index on the
 * same columns (delivery_attempts_delivery_id_number_unique), which serves every lookup of
 * a delivery's attempts; each recorded attempt wrote both.
 */
export class Migration20261201000000DropDuplicateAttemptIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "delivery_attempts_delivery_id_number_index"`);
  }
}
