import { Migration } from '@mikro-orm/migrations';

/**
 * deliveries_due_idx (next_attempt_at of open deliveries) serves no query: every search
 * for due deliveries names the webhook (deliveries_due_webhook_idx) or its absence
 * (deliveries_due_free_idx). Each delivery wrote two entries into it (queued, claimed).
 */
export class Migration20261130001200DropDueIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "deliveries_due_idx"`);
  }
}
